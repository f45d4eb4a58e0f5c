// The microsyntaxes of link-bearing attributes: srcset candidates, the meta refresh URL, rel
// tokens and robots directives, plus the ASCII helpers they share with the crawl.
#include "crawler/html/microsyntax.hpp"
#include "crawler/html/links.hpp"

#include <algorithm>
#include <array>

namespace flagcrawl::crawler {

using html_detail::for_each_token;

namespace {

// "valid non-negative integer" greater than zero (srcset w and h descriptors).
bool is_positive_integer(std::string_view s) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), util::is_ascii_digit)) {
        return false;
    }
    return std::any_of(s.begin(), s.end(), [](char c) { return c != '0'; });
}

// "valid floating-point number" that is not negative (srcset x descriptor).
bool is_non_negative_float(std::string_view s) {
    std::size_t i = 0;
    bool negative = false;
    if (i < s.size() && s[i] == '-') {
        negative = true;
        ++i;
    }
    std::size_t digits = 0;
    bool non_zero = false;
    while (i < s.size() && util::is_ascii_digit(s[i])) {
        non_zero |= s[i] != '0';
        ++i;
        ++digits;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t fraction = 0;
        while (i < s.size() && util::is_ascii_digit(s[i])) {
            non_zero |= s[i] != '0';
            ++i;
            ++fraction;
        }
        if (fraction == 0) {
            return false;
        }
        digits += fraction;
    }
    if (digits == 0) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
            ++i;
        }
        const std::size_t exponent_start = i;
        while (i < s.size() && util::is_ascii_digit(s[i])) {
            ++i;
        }
        if (i == exponent_start) {
            return false;
        }
    }
    return i == s.size() && !(negative && non_zero);
}

// The HTML "parse a srcset attribute" descriptor rules: true when the candidate is kept.
bool srcset_descriptors_valid(const std::array<std::string_view, 4>& descriptors,
                              std::size_t count) {
    if (count > 3) {
        return false; // at most one each of w, x, h: more is a duplicate or unknown
    }
    bool width = false;
    bool density = false;
    bool height = false;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view d = descriptors[i];
        const std::string_view value = d.substr(0, d.size() - 1);
        switch (d.back()) {
        case 'w':
            if (width || density || !is_positive_integer(value)) {
                return false;
            }
            width = true;
            break;
        case 'x':
            if (width || density || height || !is_non_negative_float(value)) {
                return false;
            }
            density = true;
            break;
        case 'h':
            if (height || density || !is_positive_integer(value)) {
                return false;
            }
            height = true;
            break;
        default:
            return false;
        }
    }
    return !height || width;
}

} // namespace

void parse_srcset(std::string_view srcset, std::vector<std::string_view>& urls) {
    const std::size_t n = srcset.size();
    std::size_t pos = 0;
    for (;;) {
        while (pos < n && (util::is_ascii_space(srcset[pos]) || srcset[pos] == ',')) {
            ++pos;
        }
        if (pos >= n) {
            return;
        }
        const std::size_t url_start = pos;
        while (pos < n && !util::is_ascii_space(srcset[pos])) {
            ++pos;
        }
        std::string_view url = srcset.substr(url_start, pos - url_start);
        std::array<std::string_view, 4> descriptors;
        std::size_t count = 0;
        const auto add = [&](std::size_t start, std::size_t end) {
            if (end > start) {
                if (count < descriptors.size()) {
                    descriptors[count] = srcset.substr(start, end - start);
                }
                ++count;
            }
        };
        if (url.back() == ',') {
            while (!url.empty() && url.back() == ',') {
                url.remove_suffix(1);
            }
        } else {
            // Descriptor tokenizer: a descriptor is a contiguous run, so keep its start.
            enum { in_descriptor, in_parens, after_descriptor } state = in_descriptor;
            while (pos < n && util::is_ascii_space(srcset[pos])) {
                ++pos;
            }
            std::size_t start = pos;
            for (bool done = false; !done;) {
                if (pos >= n) {
                    if (state != after_descriptor) {
                        add(start, pos);
                    }
                    break;
                }
                const char c = srcset[pos];
                switch (state) {
                case in_descriptor:
                    if (util::is_ascii_space(c)) {
                        add(start, pos);
                        state = after_descriptor;
                    } else if (c == ',') {
                        add(start, pos);
                        done = true;
                    } else if (c == '(') {
                        state = in_parens;
                    }
                    ++pos;
                    break;
                case in_parens:
                    if (c == ')') {
                        state = in_descriptor;
                    }
                    ++pos;
                    break;
                case after_descriptor:
                    if (util::is_ascii_space(c)) {
                        ++pos;
                    } else {
                        state = in_descriptor; // reconsume c in the descriptor state
                        start = pos;
                    }
                    break;
                }
            }
        }
        if (!url.empty() && srcset_descriptors_valid(descriptors, count)) {
            urls.push_back(url);
        }
    }
}

std::string_view parse_refresh_url(std::string_view content) {
    const std::size_t n = content.size();
    std::size_t pos = 0;
    const auto skip_spaces = [&] {
        while (pos < n && util::is_ascii_space(content[pos])) {
            ++pos;
        }
    };
    skip_spaces();
    const std::size_t time_start = pos;
    while (pos < n && util::is_ascii_digit(content[pos])) {
        ++pos;
    }
    if (pos == time_start && (pos >= n || content[pos] != '.')) {
        return {};
    }
    while (pos < n && (util::is_ascii_digit(content[pos]) || content[pos] == '.')) {
        ++pos;
    }
    if (pos < n) {
        const char c = content[pos];
        if (c != ';' && c != ',' && !util::is_ascii_space(c)) {
            return {};
        }
        skip_spaces();
        if (pos < n && (content[pos] == ';' || content[pos] == ',')) {
            ++pos;
        }
        skip_spaces();
    }
    if (pos >= n) {
        return {};
    }
    std::string_view url = content.substr(pos);
    bool skip_quotes = false;
    if (util::to_lower(content[pos]) == 'u') {
        ++pos;
        if (pos < n && util::to_lower(content[pos]) == 'r') {
            ++pos;
            if (pos < n && util::to_lower(content[pos]) == 'l') {
                ++pos;
                skip_spaces();
                if (pos < n && content[pos] == '=') {
                    ++pos;
                    skip_spaces();
                    skip_quotes = true;
                }
            }
        }
    } else {
        skip_quotes = true;
    }
    if (skip_quotes) {
        char quote = 0;
        if (pos < n && (content[pos] == '\'' || content[pos] == '"')) {
            quote = content[pos];
            ++pos;
        }
        url = content.substr(pos);
        if (quote != 0) {
            url = url.substr(0, url.find(quote));
        }
    }
    return util::trim(url);
}

void apply_robots_directives(std::string_view tokens, bool& noindex, bool& nofollow) noexcept {
    for_each_token(tokens, true, [&](std::string_view token) {
        if (util::iequals(token, "noindex")) {
            noindex = true;
        } else if (util::iequals(token, "nofollow")) {
            nofollow = true;
        } else if (util::iequals(token, "none")) {
            noindex = nofollow = true;
        }
    });
}

namespace html_detail {

RelInfo parse_rel(std::string_view rel) {
    RelInfo info;
    bool any = false;
    for_each_token(rel, false, [&](std::string_view token) {
        any = true;
        const bool hint =
            util::iequals(token, "preconnect") || util::iequals(token, "dns-prefetch");
        info.hint_only &= hint;
        if (util::iequals(token, "stylesheet")) {
            info.stylesheet = true;
        } else if (util::iequals(token, "icon") || util::iequals(token, "apple-touch-icon") ||
                   util::iequals(token, "apple-touch-icon-precomposed") ||
                   util::iequals(token, "mask-icon")) {
            info.icon = true;
        } else if (util::iequals(token, "preload") || util::iequals(token, "prefetch") ||
                   util::iequals(token, "modulepreload")) {
            info.preload = true;
        } else if (util::iequals(token, "manifest")) {
            info.manifest = true;
        } else if (util::iequals(token, "canonical")) {
            info.canonical = true;
        } else if (util::iequals(token, "alternate")) {
            info.alternate = true;
        } else if (util::iequals(token, "nofollow")) {
            info.nofollow = true;
        }
    });
    info.hint_only &= any;
    return info;
}

} // namespace html_detail

} // namespace flagcrawl::crawler
