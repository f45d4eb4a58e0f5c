// UTS #46 ToASCII for the URL Standard's "domain to ASCII", on top of libidn2, and Punycode.
#include "crawler/url_host.hpp"

#include <idn2.h>

#include <cstdint>
#include <cstdlib>

namespace flagcrawl::crawler::url_detail {
namespace {

constexpr std::uint32_t k_base = 36;
constexpr std::uint32_t k_tmin = 1;
constexpr std::uint32_t k_tmax = 26;
constexpr std::uint32_t k_skew = 38;
constexpr std::uint32_t k_damp = 700;
constexpr std::uint32_t k_initial_bias = 72;
constexpr std::uint32_t k_initial_n = 0x80;
constexpr std::uint32_t k_max = 0xffffffffu;

std::uint32_t adapt(std::uint32_t delta, std::uint32_t points, bool first) {
    delta = first ? delta / k_damp : delta / 2;
    delta += delta / points;
    std::uint32_t k = 0;
    while (delta > ((k_base - k_tmin) * k_tmax) / 2) {
        delta /= k_base - k_tmin;
        k += k_base;
    }
    return k + (k_base - k_tmin + 1) * delta / (delta + k_skew);
}

char encode_digit(std::uint32_t d) {
    return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

int decode_digit(char c) {
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '0' && c <= '9')
        return c - '0' + 26;
    return -1;
}

std::uint32_t threshold(std::uint32_t k, std::uint32_t bias) {
    if (k <= bias)
        return k_tmin;
    if (k >= bias + k_tmax)
        return k_tmax;
    return k - bias;
}

} // namespace

bool punycode_encode(std::u32string_view label, std::string& out) {
    std::uint32_t n = k_initial_n;
    std::uint32_t delta = 0;
    std::uint32_t bias = k_initial_bias;
    std::uint32_t basic = 0;
    for (const char32_t c : label) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++basic;
        }
    }
    if (basic > 0)
        out.push_back('-');
    std::uint32_t handled = basic;
    const auto length = static_cast<std::uint32_t>(label.size());
    while (handled < length) {
        std::uint32_t m = k_max;
        for (const char32_t c : label)
            if (c >= n && c < m)
                m = c;
        if ((m - n) > (k_max - delta) / (handled + 1))
            return false;
        delta += (m - n) * (handled + 1);
        n = m;
        for (const char32_t c : label) {
            if (c < n && ++delta == 0)
                return false;
            if (c != n)
                continue;
            std::uint32_t q = delta;
            for (std::uint32_t k = k_base;; k += k_base) {
                const std::uint32_t t = threshold(k, bias);
                if (q < t)
                    break;
                out.push_back(encode_digit(t + (q - t) % (k_base - t)));
                q = (q - t) / (k_base - t);
            }
            out.push_back(encode_digit(q));
            bias = adapt(delta, handled + 1, handled == basic);
            delta = 0;
            ++handled;
        }
        ++delta;
        ++n;
    }
    return true;
}

bool punycode_decode(std::string_view in, std::u32string& out) {
    out.clear();
    std::size_t start = 0;
    const std::size_t delimiter = in.rfind('-');
    if (delimiter != std::string_view::npos) {
        for (std::size_t i = 0; i < delimiter; ++i) {
            if (static_cast<unsigned char>(in[i]) >= 0x80)
                return false;
            out.push_back(static_cast<char32_t>(in[i]));
        }
        start = delimiter + 1;
    }
    std::uint32_t n = k_initial_n;
    std::uint32_t i = 0;
    std::uint32_t bias = k_initial_bias;
    while (start < in.size()) {
        const std::uint32_t old_i = i;
        std::uint32_t w = 1;
        for (std::uint32_t k = k_base;; k += k_base) {
            if (start >= in.size())
                return false;
            const int digit = decode_digit(in[start++]);
            if (digit < 0)
                return false;
            const auto d = static_cast<std::uint32_t>(digit);
            if (d > (k_max - i) / w)
                return false;
            i += d * w;
            const std::uint32_t t = threshold(k, bias);
            if (d < t)
                break;
            if (w > k_max / (k_base - t))
                return false;
            w *= k_base - t;
        }
        const auto points = static_cast<std::uint32_t>(out.size() + 1);
        bias = adapt(i - old_i, points, old_i == 0);
        if (i / points > k_max - n)
            return false;
        n += i / points;
        i %= points;
        if (n < 0x80 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff))
            return false;
        out.insert(out.begin() + i, static_cast<char32_t>(n));
        ++i;
    }
    return true;
}

bool domain_to_ascii_idna(std::string_view domain, std::string& out) {
    thread_local std::string terminated;
    terminated.assign(domain);
    std::uint8_t* result = nullptr;
    const int rc = idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(terminated.c_str()),
                                  &result, IDN2_NONTRANSITIONAL);
    if (rc != IDN2_OK)
        return false;
    out.assign(reinterpret_cast<const char*>(result));
    idn2_free(result);
    return true;
}

} // namespace flagcrawl::crawler::url_detail
