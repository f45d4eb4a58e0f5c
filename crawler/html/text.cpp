#include "crawler/html/text.hpp"

#include "crawler/html/char_refs_table.hpp"
#include "util/ascii.hpp"
#include "util/percent.hpp"
#include "util/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace flagcrawl::crawler::html_detail {
namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 sequence at s[i] (1-4), or 0 when s[i] starts an invalid
// one; `bad` is then the length of its maximal invalid subpart (what one U+FFFD replaces).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& bad) noexcept {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t needed = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        needed = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        needed = 2;
        lower = b == 0xE0 ? 0xA0 : 0x80;
        upper = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
        needed = 3;
        lower = b == 0xF0 ? 0x90 : 0x80;
        upper = b == 0xF4 ? 0x8F : 0xBF;
    } else {
        bad = 1;
        return 0;
    }
    for (std::size_t k = 1; k <= needed; ++k) {
        if (i + k >= s.size()) {
            bad = k;
            return 0;
        }
        const auto c = static_cast<unsigned char>(s[i + k]);
        if (c < lower || c > upper) {
            bad = k;
            return 0;
        }
        lower = 0x80;
        upper = 0xBF;
    }
    return needed + 1;
}

// Appends the non-ASCII sequence at raw[i], or U+FFFD for its maximal invalid subpart;
// returns the index after it.
std::size_t append_sequence(std::string_view raw, std::size_t i, std::string& out) {
    std::size_t bad = 0;
    const std::size_t len = utf8_sequence(raw, i, bad);
    if (len == 0) {
        out.append(k_replacement);
        return i + bad;
    }
    out.append(raw.substr(i, len));
    return i + len;
}

// The HTML replacements for numeric references to 0x80-0x9F (windows-1252's characters).
constexpr char16_t k_c1_replacements[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// A numeric reference at raw[i] == '&', raw[i + 1] == '#'. Returns the index after it, or i
// when there are no digits (then the text is kept as written).
std::size_t numeric_ref(std::string_view raw, std::size_t i, std::string& out) {
    std::size_t p = i + 2;
    const bool hex = p < raw.size() && (raw[p] == 'x' || raw[p] == 'X');
    if (hex) {
        ++p;
    }
    const std::size_t digits_start = p;
    std::uint32_t value = 0;
    bool overflow = false;
    while (p < raw.size() && (hex ? util::hex_value(raw[p]) >= 0 : util::is_ascii_digit(raw[p]))) {
        value = value * (hex ? 16 : 10) + static_cast<std::uint32_t>(util::hex_value(raw[p]));
        overflow = overflow || value > 0x10FFFF;
        if (overflow) {
            value = 0x110000; // keep it from wrapping
        }
        ++p;
    }
    if (p == digits_start) {
        return i;
    }
    if (p < raw.size() && raw[p] == ';') {
        ++p;
    }
    char32_t cp = value;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        cp = 0xFFFD;
    } else if (cp >= 0x80 && cp <= 0x9F) {
        cp = k_c1_replacements[cp - 0x80];
    }
    util::append_utf8(out, cp);
    return p;
}

// A named reference at raw[i] == '&': the longest name of the table that the text starts
// with. Returns the index after it, or i when none matches or the attribute rule keeps it.
std::size_t named_ref(std::string_view raw, std::size_t i, bool in_attribute, std::string& out) {
    std::size_t end = i + 1;
    while (end < raw.size() && end - (i + 1) < k_longest_char_ref_name &&
           util::is_ascii_alnum(raw[end])) {
        ++end;
    }
    if (end < raw.size() && raw[end] == ';' && end - (i + 1) < k_longest_char_ref_name) {
        ++end;
    }
    const auto* table_end = std::end(k_named_char_refs);
    for (std::size_t len = end - (i + 1); len > 0; --len) {
        const std::string_view name = raw.substr(i + 1, len);
        const auto* it = std::lower_bound(
            std::begin(k_named_char_refs), table_end, name,
            [](const NamedCharRef& ref, std::string_view n) { return ref.name() < n; });
        if (it == table_end || it->name() != name) {
            continue;
        }
        const std::size_t after = i + 1 + len;
        if (in_attribute && name.back() != ';' && after < raw.size() &&
            (raw[after] == '=' || util::is_ascii_alnum(raw[after]))) {
            return i;
        }
        out.append(it->utf8());
        return after;
    }
    return i;
}

} // namespace

bool is_plain_text(std::string_view raw) noexcept {
    // Eight bytes at a time (every attribute value of a page passes here): a byte >= 0x80, or one
    // equal to '&', '\r' or NUL (a zero byte of the word XORed with it), stops the fast loop.
    constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
    constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
    const auto has_zero = [](std::uint64_t x) { return ((x - k_ones) & ~x & k_highs) != 0; };
    std::size_t i = 0;
    for (; i + 8 <= raw.size(); i += 8) {
        std::uint64_t v;
        std::memcpy(&v, raw.data() + i, sizeof v);
        if ((v & k_highs) != 0 || has_zero(v) || has_zero(v ^ (k_ones * '&')) ||
            has_zero(v ^ (k_ones * '\r'))) {
            break;
        }
    }
    for (const char c : raw.substr(i)) {
        if (c == '&' || c == '\r' || c == '\0' || static_cast<unsigned char>(c) >= 0x80) {
            return false;
        }
    }
    return true;
}

void append_utf8_repaired(std::string_view raw, std::string& out) {
    std::size_t i = 0;
    while (i < raw.size()) {
        if (static_cast<unsigned char>(raw[i]) < 0x80) {
            out.push_back(raw[i]);
            ++i;
        } else {
            i = append_sequence(raw, i, out);
        }
    }
}

void decode_text(std::string_view raw, bool in_attribute, std::string& out) {
    std::size_t i = 0;
    while (i < raw.size()) {
        const char c = raw[i];
        if (c == '&') {
            std::size_t next = i;
            if (i + 1 < raw.size() && raw[i + 1] == '#') {
                next = numeric_ref(raw, i, out);
            } else if (i + 1 < raw.size() && util::is_ascii_alnum(raw[i + 1])) {
                next = named_ref(raw, i, in_attribute, out);
            }
            if (next == i) {
                out.push_back('&');
                ++i;
            } else {
                i = next;
            }
        } else if (c == '\r') {
            out.push_back('\n');
            i += i + 1 < raw.size() && raw[i + 1] == '\n' ? 2 : 1;
        } else if (c == '\0') {
            out.append(k_replacement);
            ++i;
        } else if (static_cast<unsigned char>(c) >= 0x80) {
            i = append_sequence(raw, i, out);
        } else {
            out.push_back(c);
            ++i;
        }
    }
}

} // namespace flagcrawl::crawler::html_detail
