// Host parsing of the WHATWG URL Standard (https://url.spec.whatwg.org/#host-parsing): IPv6,
// opaque hosts, percent-decoding and "domain to ASCII" of domains, IPv4 number forms.
#include "crawler/url/url_host.hpp"

#include "util/ascii.hpp"
#include "util/percent.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace flagcrawl::crawler::url_detail {
namespace {

// Forbidden host code points (opaque hosts), and forbidden domain code points: those plus C0
// controls, '%' and DEL (domains, checked after IDNA).
constexpr bool is_forbidden_host(unsigned char c) noexcept {
    switch (c) {
    case 0x00:
    case '\t':
    case '\n':
    case '\r':
    case ' ':
    case '#':
    case '/':
    case ':':
    case '<':
    case '>':
    case '?':
    case '@':
    case '[':
    case '\\':
    case ']':
    case '^':
    case '|':
        return true;
    default:
        return false;
    }
}

constexpr bool is_forbidden_domain(unsigned char c) noexcept {
    return is_forbidden_host(c) || c <= 0x1f || c == '%' || c == 0x7f;
}

// ---- IPv6 -------------------------------------------------------------------------------

std::optional<UrlError> parse_ipv6(std::string_view in, std::string& out) {
    std::array<std::uint16_t, 8> address{};
    int piece = 0;
    int compress = -1;
    std::size_t p = 0;
    const std::size_t n = in.size();
    const auto at = [&](std::size_t i) -> int {
        return i < n ? static_cast<unsigned char>(in[i]) : -1;
    };
    if (at(p) == ':') {
        if (at(p + 1) != ':') {
            return UrlError::invalid_ipv6;
        }
        p += 2;
        compress = ++piece;
    }
    while (at(p) != -1) {
        if (piece == 8) {
            return UrlError::invalid_ipv6;
        }
        if (at(p) == ':') {
            if (compress != -1) {
                return UrlError::invalid_ipv6;
            }
            ++p;
            compress = ++piece;
            continue;
        }
        unsigned value = 0;
        int length = 0;
        while (length < 4 && p < n && util::hex_value(in[p]) >= 0) {
            value = value * 16 + static_cast<unsigned>(util::hex_value(in[p]));
            ++p;
            ++length;
        }
        if (at(p) == '.') {
            // An embedded IPv4 address in the last 32 bits.
            if (length == 0) {
                return UrlError::invalid_ipv6;
            }
            p -= static_cast<std::size_t>(length);
            if (piece > 6) {
                return UrlError::invalid_ipv6;
            }
            int numbers_seen = 0;
            while (at(p) != -1) {
                int ipv4_piece = -1;
                if (numbers_seen > 0) {
                    if (at(p) == '.' && numbers_seen < 4) {
                        ++p;
                    } else {
                        return UrlError::invalid_ipv6;
                    }
                }
                if (p >= n || !util::is_ascii_digit(in[p])) {
                    return UrlError::invalid_ipv6;
                }
                while (p < n && util::is_ascii_digit(in[p])) {
                    const int number = in[p] - '0';
                    if (ipv4_piece == -1) {
                        ipv4_piece = number;
                    } else if (ipv4_piece == 0) {
                        return UrlError::invalid_ipv6;
                    } else {
                        ipv4_piece = ipv4_piece * 10 + number;
                    }
                    if (ipv4_piece > 255) {
                        return UrlError::invalid_ipv6;
                    }
                    ++p;
                }
                address[static_cast<std::size_t>(piece)] = static_cast<std::uint16_t>(
                    address[static_cast<std::size_t>(piece)] * 0x100 + ipv4_piece);
                ++numbers_seen;
                if (numbers_seen == 2 || numbers_seen == 4) {
                    ++piece;
                }
            }
            if (numbers_seen != 4) {
                return UrlError::invalid_ipv6;
            }
            break;
        }
        if (at(p) == ':') {
            ++p;
            if (at(p) == -1) {
                return UrlError::invalid_ipv6;
            }
        } else if (at(p) != -1) {
            return UrlError::invalid_ipv6;
        }
        address[static_cast<std::size_t>(piece)] = static_cast<std::uint16_t>(value);
        ++piece;
    }
    if (compress != -1) {
        int swaps = piece - compress;
        piece = 7;
        while (piece != 0 && swaps > 0) {
            std::swap(address[static_cast<std::size_t>(piece)],
                      address[static_cast<std::size_t>(compress + swaps - 1)]);
            --piece;
            --swaps;
        }
    } else if (piece != 8) {
        return UrlError::invalid_ipv6;
    }

    // Serialization: the first longest run (length >= 2) of zero pieces becomes "::".
    int best_start = -1;
    int best_length = 1;
    for (int i = 0; i < 8;) {
        if (address[static_cast<std::size_t>(i)] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && address[static_cast<std::size_t>(j)] == 0) {
            ++j;
        }
        if (j - i > best_length) {
            best_start = i;
            best_length = j - i;
        }
        i = j;
    }
    out.push_back('[');
    bool ignore0 = false;
    for (int i = 0; i < 8; ++i) {
        if (ignore0 && address[static_cast<std::size_t>(i)] == 0) {
            continue;
        }
        ignore0 = false;
        if (i == best_start) {
            out.append(i == 0 ? "::" : ":");
            ignore0 = true;
            continue;
        }
        static constexpr char k_hex[] = "0123456789abcdef";
        const unsigned v = address[static_cast<std::size_t>(i)];
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned digit = (v >> shift) & 15;
            if (digit != 0 || started || shift == 0) {
                out.push_back(k_hex[digit]);
                started = true;
            }
        }
        if (i != 7) {
            out.push_back(':');
        }
    }
    out.push_back(']');
    return std::nullopt;
}

// ---- IPv4 -------------------------------------------------------------------------------

// The IPv4 number parser: decimal, "0x"/"0X" hex (possibly empty: "0x" is 0), "0" octal.
// Values saturate at 2^32, which every caller rejects, so overflow cannot wrap.
bool parse_ipv4_number(std::string_view in, std::uint64_t& value) {
    if (in.empty()) {
        return false;
    }
    unsigned radix = 10;
    if (in.size() >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
        in.remove_prefix(2);
        radix = 16;
    } else if (in.size() >= 2 && in[0] == '0') {
        in.remove_prefix(1);
        radix = 8;
    }
    value = 0;
    for (const char c : in) {
        const int digit = util::hex_value(c);
        if (digit < 0 || static_cast<unsigned>(digit) >= radix) {
            return false;
        }
        value = value * radix + static_cast<unsigned>(digit);
        if (value > 0xffffffffull) {
            value = 0x100000000ull;
        }
    }
    return true;
}

// The spec's "ends in a number": the last label (ignoring one trailing dot) is all digits or
// a valid IPv4 number (so "0x", "0x1F" count, "09" too as it is all digits).
bool ends_in_number(std::string_view host) {
    if (!host.empty() && host.back() == '.') {
        if (host.size() == 1) {
            return false;
        }
        host.remove_suffix(1);
    }
    const std::size_t dot = host.rfind('.');
    const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
    if (last.empty()) {
        return false;
    }
    bool all_digits = true;
    for (const char c : last) {
        all_digits = all_digits && util::is_ascii_digit(c);
    }
    if (all_digits) {
        return true;
    }
    std::uint64_t ignored = 0;
    return parse_ipv4_number(last, ignored);
}

std::optional<UrlError> parse_ipv4(std::string_view in, std::string& out) {
    if (!in.empty() && in.back() == '.' && in.size() > 1) {
        in.remove_suffix(1);
    }
    std::array<std::uint64_t, 4> numbers{};
    std::size_t count = 0;
    std::size_t begin = 0;
    while (true) {
        const std::size_t dot = in.find('.', begin);
        const std::string_view part =
            in.substr(begin, dot == std::string_view::npos ? std::string_view::npos : dot - begin);
        if (count == 4) {
            return UrlError::invalid_ipv4;
        }
        if (!parse_ipv4_number(part, numbers[count])) {
            return UrlError::invalid_ipv4;
        }
        ++count;
        if (dot == std::string_view::npos) {
            break;
        }
        begin = dot + 1;
    }
    for (std::size_t i = 0; i + 1 < count; ++i) {
        if (numbers[i] > 255) {
            return UrlError::invalid_ipv4;
        }
    }
    const std::uint64_t last = numbers[count - 1];
    if (last >= (std::uint64_t{1} << (8 * (5 - count)))) {
        return UrlError::invalid_ipv4;
    }
    std::uint64_t address = last;
    for (std::size_t i = 0; i + 1 < count; ++i) {
        address += numbers[i] << (8 * (3 - i));
    }
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.append(std::to_string((address >> shift) & 0xff));
        if (shift != 0) {
            out.push_back('.');
        }
    }
    return std::nullopt;
}

// ---- domains ----------------------------------------------------------------------------

// Well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF). The spec decodes
// with replacement; U+FFFD is disallowed by IDNA, so ill-formed input fails either way.
bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (b >= 0xc2 && b <= 0xdf) {
            len = 2;
            cp = b & 0x1fu;
        } else if (b >= 0xe0 && b <= 0xef) {
            len = 3;
            cp = b & 0x0fu;
        } else if (b >= 0xf0 && b <= 0xf4) {
            len = 4;
            cp = b & 0x07u;
        } else {
            return false;
        }
        if (i + len > n) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const auto cont = static_cast<unsigned char>(s[i + k]);
            if ((cont & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cont & 0x3fu);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
        i += len;
    }
    return true;
}

} // namespace

std::optional<UrlError> parse_host(std::string_view input, bool special, std::string& out) {
    if (!input.empty() && input.front() == '[') {
        if (input.size() < 2 || input.back() != ']') {
            return UrlError::invalid_ipv6;
        }
        return parse_ipv6(input.substr(1, input.size() - 2), out);
    }
    if (!special) {
        // Opaque host: no forbidden host code point; C0 controls and non-ASCII get encoded.
        static constexpr char k_hex[] = "0123456789ABCDEF";
        for (const char ch : input) {
            const auto c = static_cast<unsigned char>(ch);
            if (is_forbidden_host(c)) {
                return UrlError::invalid_host;
            }
            if (c < 0x20 || c > 0x7e) {
                out.push_back('%');
                out.push_back(k_hex[c >> 4]);
                out.push_back(k_hex[c & 15]);
            } else {
                out.push_back(ch);
            }
        }
        return std::nullopt;
    }

    // Fast path, most hosts: ASCII without '%': lower-case straight into `out`.
    bool simple = true;
    for (const char c : input) {
        simple = simple && c != '%' && static_cast<unsigned char>(c) < 0x80;
    }
    if (simple) {
        const std::size_t start = out.size();
        out.resize(start + input.size());
        for (std::size_t i = 0; i < input.size(); ++i) {
            const auto c = static_cast<unsigned char>(input[i]);
            if (is_forbidden_domain(c)) {
                return UrlError::invalid_host;
            }
            out[start + i] = util::to_lower(static_cast<char>(c));
        }
        const std::string_view domain = std::string_view(out).substr(start);
        if (!ends_in_number(domain)) {
            return std::nullopt;
        }
        thread_local std::string number;
        number.assign(domain);
        out.resize(start);
        return parse_ipv4(number, out);
    }

    // Percent-decode, lower-case ASCII on the way (the result is only used if ASCII or after
    // IDNA, which lower-cases too); note whether anything non-ASCII is there.
    thread_local std::string decoded;
    thread_local std::string ascii;
    decoded.clear();
    util::percent_decode_into(input, decoded);
    const bool non_ascii = std::any_of(decoded.begin(), decoded.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 0x80;
    });
    std::string_view domain;
    if (!non_ascii) {
        // UTS #46 maps ASCII to its lower case and, with UseSTD3ASCIIRules=false, leaves every
        // other ASCII code point alone; the URL Standard skips IDNA validation for ASCII-only
        // domains (even "xn--" labels: "http://a.xn--pokxncvks" is accepted by browsers).
        for (char& c : decoded) {
            c = util::to_lower(c);
        }
        domain = decoded;
    } else {
        if (!is_valid_utf8(decoded) || !domain_to_ascii_idna(decoded, ascii)) {
            return UrlError::invalid_idna;
        }
        domain = ascii;
    }
    if (domain.empty()) {
        return UrlError::invalid_idna;
    }
    for (const char c : domain) {
        if (is_forbidden_domain(static_cast<unsigned char>(c))) {
            return UrlError::invalid_host;
        }
    }
    if (ends_in_number(domain)) {
        return parse_ipv4(domain, out);
    }
    out.append(domain);
    return std::nullopt;
}

} // namespace flagcrawl::crawler::url_detail
