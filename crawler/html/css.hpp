// URLs in CSS (stylesheets, <style> elements, style attributes), as wget and wget2 find them:
// url(...) tokens and url("...") functions anywhere, and the string or url() of @import.
#pragma once

#include "crawler/html/links.hpp"

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

struct CssUrl {
    // The URL with CSS escapes resolved and surrounding whitespace removed; never empty.
    std::string_view url;
    // Where the URL's text is in the CSS (offsets plus the `offset` given to the scan):
    // exactly the URL's bytes when source_exact (no escape in it), else the whole token.
    SourceSpan source;
    bool source_exact = false;
    bool import = false; // @import: a stylesheet, whose own URLs count too
};

// Appends the URLs of `css` to `urls` in source order, following the CSS Syntax tokenizer
// where it matters (comments, strings, escapes, url tokens); a bad url token (quotes or
// parentheses inside an unquoted url()) yields nothing. Escaped URLs are decoded into
// `storage`, whose elements must outlive the views (a deque: they never move).
void extract_css_urls(std::string_view css, std::uint32_t offset, std::vector<CssUrl>& urls,
                      std::deque<std::string>& storage);

} // namespace flagcrawl::crawler
