// Microsyntaxes of attribute values (internal to crawler/html): rel tokens. The public ones
// (srcset, refresh, robots directives) are declared in links.hpp.
#pragma once

#include "util/ascii.hpp"

#include <string_view>

namespace flagcrawl::crawler::html_detail {

// Calls fn(token) for each token of `s` separated by ASCII whitespace (and commas if asked).
template <typename Fn> void for_each_token(std::string_view s, bool commas, Fn&& fn) {
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (util::is_ascii_space(s[i]) || (commas && s[i] == ','))) {
            ++i;
        }
        const std::size_t start = i;
        while (i < s.size() && !util::is_ascii_space(s[i]) && !(commas && s[i] == ',')) {
            ++i;
        }
        if (i > start) {
            fn(s.substr(start, i - start));
        }
    }
}

// What the tokens of a rel attribute say to a crawler.
struct RelInfo {
    bool stylesheet = false;
    bool icon = false;
    bool preload = false;
    bool manifest = false;
    bool canonical = false;
    bool alternate = false;
    bool hint_only = true; // only preconnect / dns-prefetch tokens (origins, not resources)
    bool nofollow = false;
};

RelInfo parse_rel(std::string_view rel);

} // namespace flagcrawl::crawler::html_detail
