// ASCII text helpers: case conversion, case-insensitive comparison and whitespace trimming, as
// the web's specifications define them (byte-wise, locale-independent; bytes >= 0x80 are never
// letters or whitespace).
#pragma once

#include <string>
#include <string_view>

namespace flagcrawl::util {

// The WHATWG "ASCII whitespace": tab, LF, FF, CR and space.
inline constexpr std::string_view k_ascii_whitespace = " \t\n\f\r";

constexpr bool is_ascii_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

constexpr bool is_ascii_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

constexpr bool is_ascii_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr bool is_ascii_alnum(char c) noexcept {
    return is_ascii_alpha(c) || is_ascii_digit(c);
}

constexpr char to_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr char to_upper(char c) noexcept {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

inline std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = to_lower(c);
    }
    return out;
}

inline std::string to_upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = to_upper(c);
    }
    return out;
}

// ASCII case-insensitive equality.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) {
            return false;
        }
    }
    return true;
}

// iequals() on the first prefix.size() bytes of `text`.
constexpr bool iequals_prefix(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// `s` without its leading and trailing ASCII whitespace; a view into `s`.
constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ascii_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ascii_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// `s` without its leading and trailing bytes that are in `chars` (a format with its own idea
// of whitespace, e.g. robots.txt's); a view into `s`.
constexpr std::string_view trim(std::string_view s, std::string_view chars) noexcept {
    const std::size_t first = s.find_first_not_of(chars);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

} // namespace flagcrawl::util
