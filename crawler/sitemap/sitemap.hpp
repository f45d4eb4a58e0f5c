// Sitemaps (https://www.sitemaps.org/protocol.html): the URLs a sitemap file lists, or the
// sitemaps a sitemap index lists, read within the protocol's bounds.
// Pure code: no I/O, no threads, no shared state (callable from any thread).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

// The protocol's bounds of one file: 50,000 URLs (or sitemaps, for an index) and 50 MiB
// uncompressed.
inline constexpr std::size_t k_sitemap_max_urls = 50'000;
inline constexpr std::size_t k_sitemap_max_bytes = std::size_t{50} * 1024 * 1024;

struct SitemapLimits {
    std::size_t max_urls = k_sitemap_max_urls;
    std::size_t max_bytes = k_sitemap_max_bytes; // uncompressed
};

enum class SitemapKind {
    urlset,  // <urlset>: pages
    index,   // <sitemapindex>: sitemaps
    text,    // a text file, one URL a line
    unknown, // empty, not XML we know (an RSS or Atom feed), or unreadable
};

struct Sitemap {
    SitemapKind kind = SitemapKind::unknown;
    // The <loc> texts of <url> (urlset) or <sitemap> (index) entries, in document order, with
    // entities and CDATA sections decoded and surrounding whitespace trimmed; empty ones
    // dropped. As written: the caller resolves them (the protocol wants absolute URLs).
    std::vector<std::string> locs;
    // Why part of the file was not read, one line each, e.g. "more than 50000 URLs: the rest
    // ignored (the protocol's limit)", "malformed XML at line 3, column 7: mismatched tag"
    // (the locs read before the fault are kept). Empty when the whole file was read.
    std::vector<std::string> warnings;
};

// Reads a sitemap file as received: gzip-compressed (by its magic bytes, whatever the
// Content-Type says) or not; XML (urlset or sitemapindex, with or without the sitemaps.org
// namespace) or, when the body does not start with '<' (after a BOM and whitespace), text.
// Never fails: what cannot be read is a warning. A DOCTYPE that declares entities is refused
// (no entity expansion, no external entity is ever loaded). Memory: at most
// limits.max_bytes for the decompressed text plus the locs.
Sitemap parse_sitemap(std::string_view body, const SitemapLimits& limits = {});

// True when `body` starts with the gzip magic bytes.
bool is_gzip(std::string_view body);

} // namespace flagcrawl::crawler
