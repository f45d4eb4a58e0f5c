// HTML link extraction with gumbo-parser: every URL-bearing attribute a crawler follows or
// needs as a page requisite, and the page facts (title, meta robots, base href, canonical).
// URLs are returned raw; the caller resolves them against the page URL or base_href.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

enum class LinkKind : std::uint8_t {
    anchor,     // <a href>, <area href>
    frame,      // <iframe src>, <frame src>
    refresh,    // <meta http-equiv=refresh content="5; url=...">
    canonical,  // <link rel=canonical>
    alternate,  // <link rel=alternate> (translations, feeds)
    other_link, // <link> with another or no rel (next, prev, author, manifest, ...)
    stylesheet, // <link rel=stylesheet>
    icon,       // <link rel=icon | apple-touch-icon | mask-icon ...>
    preload,    // <link rel=preload | prefetch | modulepreload>
    image,      // <img src|srcset>, <source srcset>, <video poster>, <input type=image src>
    script,     // <script src>
    media,      // <video|audio|source|track src>
    embed,      // <embed src>
    object,     // <object data>
};
std::string_view to_string(LinkKind kind);

// One URL found in a page. The views point into memory owned by the LinkExtractor that
// produced them (see LinkExtractor for their lifetime).
struct Link {
    // The attribute value as the HTML parser decoded it (character references resolved),
    // with leading/trailing ASCII whitespace stripped ("valid URL potentially surrounded by
    // spaces"); never empty. One srcset candidate, or the URL part of a refresh, per Link.
    std::string_view url;
    // The rel attribute as written (<a>, <area>, <link>); empty otherwise.
    std::string_view rel;
    LinkKind kind = LinkKind::anchor;
    // True for page requisites (assets the page needs: stylesheet, icon, preload, image,
    // script, media, embed, object, manifest); false for pages to follow (anchor, frame,
    // refresh, canonical, alternate, other links).
    bool requisite = false;
    // rel contains the token "nofollow" (ASCII case-insensitive). The page-level flag is
    // PageLinks::nofollow: a crawler honours either.
    bool nofollow = false;
};

// What one extract() call found, in document order.
struct PageLinks {
    std::vector<Link> links; // empty after extract_facts()
    // Text of the first HTML <title> (not SVG's): whitespace runs collapsed to one space,
    // trimmed, cut to the extractor's max_title_bytes on a UTF-8 boundary.
    std::string_view title;
    std::string_view base_href; // first <base href>, trimmed; empty when there is none
    std::string_view canonical; // first <link rel=canonical href>, trimmed; empty if none
    bool has_base = false;      // a <base href> was present (its value may be empty)
    // <meta name=robots|AGENT content=...>: "noindex", "nofollow" or "none" (both), tokens
    // separated by commas or whitespace, case-insensitive; the union over all such metas.
    bool noindex = false;
    bool nofollow = false;
};

struct ExtractorOptions {
    // Product token for <meta name=TOKEN> (compared case-insensitively), like robots.txt.
    std::string agent_token = "flagcrawl";
    std::size_t max_title_bytes = 1024;
    // Parser tuning, exposed for the benchmark that measures what each step buys. The
    // defaults are the fast ones; keep them.
    bool record_parse_errors = false; // false: GumboOptions::max_errors = 0
    bool arena = true;                // false: gumbo's malloc/free and gumbo_destroy_output
    bool facts_scan = true;           // false: extract_facts() parses the whole page
};

// Parses HTML pages one at a time with gumbo and extracts links and page facts.
//
// Threads: one extractor is used by one thread at a time; give each parser thread its own.
// Memory: the extractor owns a bump arena that gumbo allocates from (reset per page, chunks
// kept for the next page, blocks over 64 KiB taken from malloc and freed at the reset).
// Lifetime: the PageLinks returned and every string_view in it stay valid until the next
// extract()/extract_facts() call on the same extractor or its destruction. Copy what must
// outlive that (the crawler resolves URLs into its own strings right away).
// Input: any bytes. gumbo assumes UTF-8 (invalid sequences become U+FFFD); no charset
// sniffing is done. Never throws on bad HTML; only std::bad_alloc can escape.
class LinkExtractor {
public:
    explicit LinkExtractor(ExtractorOptions options = {});
    ~LinkExtractor();
    LinkExtractor(const LinkExtractor&) = delete;
    LinkExtractor& operator=(const LinkExtractor&) = delete;

    // Full parse: links and page facts.
    const PageLinks& extract(std::string_view html);

    // Page facts only (title, meta robots, base, canonical), no links: for pages at the
    // depth limit. A targeted scan finds the <title>, <meta>, <link> and <base> tags the way
    // the HTML tokenizer would and gumbo parses just those, so the results equal extract()'s
    // on real pages at ~1/60 of the cost (measured ~9 us instead of ~550 us for a 14 KB
    // page); links.cpp lists the exotic markup where they may differ.
    const PageLinks& extract_facts(std::string_view html);

    // Bytes the arena handed out for the last page (diagnostics and the benchmark).
    std::size_t last_arena_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Helpers the extractor uses, exposed for tests. All return views into their argument.

// Splits a srcset attribute into its candidate URLs following the HTML "parse a srcset
// attribute" algorithm: candidates whose descriptors are invalid are dropped, as browsers
// do; URLs may contain commas except at their end.
void parse_srcset(std::string_view srcset, std::vector<std::string_view>& urls);

// The URL of a <meta http-equiv=refresh> content value, per the HTML "shared declarative
// refresh steps" ("5; url='x'", "0;URL=x", "3, x", quotes, spaces); empty when there is
// none (a refresh of the page itself) or the value is invalid.
std::string_view parse_refresh_url(std::string_view content);

// Robots directives of a <meta name=robots> content or an X-Robots-Tag part: for each token
// (separated by ASCII whitespace or commas), "noindex" sets noindex, "nofollow" nofollow and
// "none" both, case-insensitively; other tokens are ignored.
void apply_robots_directives(std::string_view tokens, bool& noindex, bool& nofollow) noexcept;

} // namespace flagcrawl::crawler
