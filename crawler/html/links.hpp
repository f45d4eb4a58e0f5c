// HTML link extraction: every URL-bearing attribute a crawler follows or needs as a page
// requisite, and the page facts (title, meta robots, base href, canonical). Two parsers give
// the same results: the scanner (default: the HTML tokenizer run over the page without
// building a tree, linear in the page size) and gumbo-parser's full HTML5 parse (the oracle).
// URLs are returned raw; the caller resolves them against the page URL or base_href.
#pragma once

#include "crawler/html/charset.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
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
    css_url,    // url(...) in a <style> element or a style attribute (with ExtractorOptions::css)
};
std::string_view to_string(LinkKind kind);

enum class HtmlParser : std::uint8_t {
    fast, // the scanner
    full, // gumbo's full parse: a tree of the whole page, then a walk over it
};
std::string_view to_string(HtmlParser parser);
// "fast" or "full" (the `--html-parser` values); nullopt for anything else.
std::optional<HtmlParser> html_parser_from_string(std::string_view name);

// Byte offsets [begin, end) into the text given to extract().
struct SourceSpan {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    friend bool operator==(const SourceSpan&, const SourceSpan&) = default;
};

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
    // script, media, embed, object, manifest, css_url); false for pages to follow (anchor, frame,
    // refresh, canonical, alternate, other links).
    bool requisite = false;
    // rel contains the token "nofollow" (ASCII case-insensitive). The page-level flag is
    // PageLinks::nofollow: a crawler honours either.
    bool nofollow = false;
    // source_exact: the attribute value is written in the source exactly as `url` reads (no
    // character reference, CR, NUL or invalid UTF-8 in it) and `source` holds the bytes of
    // `url` itself (the trimmed value, one srcset candidate, the URL part of a refresh).
    // Otherwise `source` is the whole raw attribute value (without its quotes), to be
    // rewritten whole (--convert-links).
    SourceSpan source;
    bool source_exact = false;
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
    // The full parser refused the page: its estimated tree-building work (see
    // ExtractorOptions::max_full_parse_work) was over the bound. Nothing else is set.
    bool too_complex = false;
    // The page's encoding and how it was found (UTF-8, "bom" for extract(html) without a
    // Content-Type, which takes the text as UTF-8). URLs, rel, title and base are UTF-8 in
    // every case; a crawler encodes the queries of the page's links in this encoding.
    Encoding encoding = Encoding::utf8;
    EncodingSource encoding_source = EncodingSource::bom;
    // Non-empty when the page had to be converted to UTF-8 as a whole before it was parsed
    // (UTF-16, ISO-2022-JP, or any non-UTF-8 page under the full parser): Link::source spans
    // then index this text, not the input. Empty when they index the input.
    std::string_view decoded_text;
};

struct ExtractorOptions {
    // Product token for <meta name=TOKEN> (compared case-insensitively), like robots.txt.
    std::string agent_token = "flagcrawl";
    std::size_t max_title_bytes = 1024;
    HtmlParser parser = HtmlParser::fast;
    // Also report the URLs of CSS in <style> elements and style attributes: url(...) as
    // css_url, @import as stylesheet (both page requisites). Costs the scanner a look at
    // every tag's attributes; the crawl asks for it with --page-requisites.
    bool css = false;
    // The full parser's bound: gumbo's cost grows with the page size times the depth of open
    // elements (its scope checks walk the stack), so a page of 200,000 nested <div> would take
    // minutes. Before parsing, a linear pass estimates that work as the sum, over start tags,
    // of the number of elements open at that tag; above this bound the page is not parsed
    // and PageLinks::too_complex is set. The default admits ordinary pages many times over
    // (a 1 MB page nested 200 deep is ~2e7) and stops what would take gumbo more than a few
    // seconds (~7 ns per unit measured on 200,000 nested <div>: 2e10 units, 140 s).
    std::uint64_t max_full_parse_work = 500'000'000;
    // Full-parser tuning, exposed for the benchmark that measures what it buys. The default is
    // the fast one; keep it. (gumbo's parse errors are always recorded: with max_errors = 0,
    // gumbo 0.10 skips clearing its name buffer after a duplicate attribute without a
    // value, so in <a hidden hidden href=/p> the next name reads "hiddenhref" and the link is
    // lost.)
    bool arena = true; // false: gumbo's malloc/free and gumbo_destroy_output
};

// Reads HTML pages one at a time and extracts links and page facts.
//
// Threads: one extractor is used by one thread at a time; give each parser thread its own.
// Memory: the scanner keeps only decoded attribute values (those with references) and its
// SVG/MathML stack. The full parser owns a bump arena that gumbo allocates from (reset per
// page, chunks kept for the next page, blocks over 64 KiB taken from malloc and freed at the
// reset).
// Lifetime: the PageLinks returned and every string_view in it stay valid until the next
// extract()/extract_facts() call on the same extractor or its destruction. Copy what must
// outlive that (the crawler resolves URLs into its own strings right away).
// Input: any bytes, read as UTF-8 (invalid sequences become U+FFFD); at most 4 GiB (offsets
// are 32-bit; larger input is cut). Never throws on bad HTML; only std::bad_alloc can escape.
class LinkExtractor {
public:
    explicit LinkExtractor(ExtractorOptions options = {});
    ~LinkExtractor();
    LinkExtractor(const LinkExtractor&) = delete;
    LinkExtractor& operator=(const LinkExtractor&) = delete;

    // Links and page facts of a page known to be UTF-8.
    const PageLinks& extract(std::string_view html);
    // Links and page facts of a page as served: its encoding is determined as browsers do
    // (sniff_encoding(): BOM, the Content-Type charset, <meta>, windows-1252), attribute
    // values and the title are decoded from it.
    const PageLinks& extract(std::string_view html, std::string_view content_type);

    // Page facts only (title, meta robots, base, canonical), no links: for pages at the
    // depth limit.
    const PageLinks& extract_facts(std::string_view html);
    const PageLinks& extract_facts(std::string_view html, std::string_view content_type);

    // The URLs of a stylesheet (text/css): @import as stylesheet, url(...) as css_url, both
    // page requisites, to resolve against the stylesheet's URL (CSS URLs are UTF-8).
    const PageLinks& extract_css(std::string_view css);

    // Bytes gumbo's arena handed out for the last page (full parser; diagnostics and the
    // benchmark).
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
