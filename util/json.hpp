// JSON string literals: the one escaper of every JSON the project writes by hand (the export's
// writer repairs invalid UTF-8 around it; see cli/export_output.cpp).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace flagcrawl::util {

// Whether `c` must be escaped inside a JSON string: '"', '\' and control characters.
constexpr bool json_needs_escape(char c) noexcept {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

// Appends the escape of one character for which json_needs_escape() holds: the short forms
// where JSON has them, \u00XX otherwise.
inline void append_json_escape(std::string& out, char c) {
    static constexpr char k_hex[] = "0123456789abcdef";
    switch (c) {
    case '"':
        out += "\\\"";
        break;
    case '\\':
        out += "\\\\";
        break;
    case '\n':
        out += "\\n";
        break;
    case '\r':
        out += "\\r";
        break;
    case '\t':
        out += "\\t";
        break;
    case '\b':
        out += "\\b";
        break;
    case '\f':
        out += "\\f";
        break;
    default: {
        const auto u = static_cast<unsigned char>(c);
        out += "\\u00";
        out += k_hex[u >> 4];
        out += k_hex[u & 0xf];
    }
    }
}

namespace json_detail {

inline std::uint64_t load8(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Whether one of the 8 bytes of `v` is '"', '\\' or below 0x20 (bit tricks on 64-bit words;
// bytes >= 0x80 never match).
inline bool any_needs_escape(std::uint64_t v) {
    constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
    constexpr std::uint64_t k_highs = 0x8080808080808080ULL;
    const auto zero_byte = [](std::uint64_t x) { return (x - k_ones) & ~x & k_highs; };
    const std::uint64_t below_space = (v - k_ones * 0x20) & ~v & k_highs;
    return (zero_byte(v ^ (k_ones * '"')) | zero_byte(v ^ (k_ones * '\\')) | below_space) != 0;
}

#if defined(__SSE2__)
// The same question for 16 bytes (bytes >= 0x80 never match: the unsigned minimum keeps them).
inline bool any_needs_escape(__m128i v) {
    const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
    const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) != 0;
}
#endif

} // namespace json_detail

// Whether some byte of `text` needs an escape (json_needs_escape()): checked 16 bytes at a time
// (8 without SSE2), the tail by an overlapping last block. Most text (URLs, names) has none.
inline bool json_needs_any_escape(std::string_view text) noexcept {
    const char* p = text.data();
    const std::size_t n = text.size();
#if defined(__SSE2__)
    if (n >= 16) {
        for (std::size_t k = 0; k + 16 <= n; k += 16) {
            if (json_detail::any_needs_escape(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)))) {
                return true;
            }
        }
        return json_detail::any_needs_escape(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16)));
    }
#endif
    if (n >= 8) {
        for (std::size_t k = 0; k + 8 <= n; k += 8) {
            if (json_detail::any_needs_escape(json_detail::load8(p + k))) {
                return true;
            }
        }
        return json_detail::any_needs_escape(json_detail::load8(p + n - 8));
    }
    for (std::size_t k = 0; k < n; ++k) {
        if (json_needs_escape(p[k])) {
            return true;
        }
    }
    return false;
}

// Appends `text` as a JSON string literal (quotes included), every byte that needs no escape as
// it is: UTF-8 passes through, and the caller answers for its validity.
inline void append_json_string(std::string& out, std::string_view text) {
    const std::size_t n = text.size();
    if (!json_needs_any_escape(text)) {
        const std::size_t at = out.size();
        out.resize(at + n + 2);
        char* p = out.data() + at;
        p[0] = '"';
        text.copy(p + 1, n);
        p[n + 1] = '"';
        return;
    }
    out += '"';
    std::size_t start = 0; // first byte not yet appended
    std::size_t i = 0;
    while (i < n) {
        // Eight bytes at a time while none needs escaping.
        if (i + 8 <= n && !json_detail::any_needs_escape(json_detail::load8(&text[i]))) {
            i += 8;
            continue;
        }
        if (json_needs_escape(text[i])) {
            out.append(text, start, i - start);
            append_json_escape(out, text[i]);
            start = i + 1;
        }
        ++i;
    }
    out.append(text, start, n - start);
    out += '"';
}

} // namespace flagcrawl::util
