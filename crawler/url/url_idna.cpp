// UTS #46 ToASCII for the URL Standard's "domain to ASCII", on top of libidn2, and Punycode.
// libidn2 2.3.3 with IDN2_NONTRANSITIONAL does the UTS #46 mapping (non-transitional, STD3
// rules off), NFC, CheckJoiners and CheckBidi, but on top of that applies IDNA2008 rules the
// URL Standard does not want: hyphen rules (CheckHyphens=true), NV8/XV8 symbols and emoji
// rejected, DNS lengths enforced, and its Unicode tables are older than Unicode 14. When it
// rejects a domain, a label-by-label fallback below masks what it should have accepted.
#include "crawler/url/url_host.hpp"

#include "crawler/url/url_idna_table.hpp"
#include "util/utf8.hpp"

#include <idn2.h>

#include <algorithm>
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
    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 26;
    }
    return -1;
}

std::uint32_t threshold(std::uint32_t k, std::uint32_t bias) {
    if (k <= bias) {
        return k_tmin;
    }
    if (k >= bias + k_tmax) {
        return k_tmax;
    }
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
    if (basic > 0) {
        out.push_back('-');
    }
    std::uint32_t handled = basic;
    const auto length = static_cast<std::uint32_t>(label.size());
    while (handled < length) {
        std::uint32_t m = k_max;
        for (const char32_t c : label) {
            if (c >= n && c < m) {
                m = c;
            }
        }
        if ((m - n) > (k_max - delta) / (handled + 1)) {
            return false;
        }
        delta += (m - n) * (handled + 1);
        n = m;
        for (const char32_t c : label) {
            if (c < n && ++delta == 0) {
                return false;
            }
            if (c != n) {
                continue;
            }
            std::uint32_t q = delta;
            for (std::uint32_t k = k_base;; k += k_base) {
                const std::uint32_t t = threshold(k, bias);
                if (q < t) {
                    break;
                }
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
            if (static_cast<unsigned char>(in[i]) >= 0x80) {
                return false;
            }
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
            if (start >= in.size()) {
                return false;
            }
            const int digit = decode_digit(in[start++]);
            if (digit < 0) {
                return false;
            }
            const auto d = static_cast<std::uint32_t>(digit);
            if (d > (k_max - i) / w) {
                return false;
            }
            i += d * w;
            const std::uint32_t t = threshold(k, bias);
            if (d < t) {
                break;
            }
            if (w > k_max / (k_base - t)) {
                return false;
            }
            w *= k_base - t;
        }
        const auto points = static_cast<std::uint32_t>(out.size() + 1);
        bias = adapt(i - old_i, points, old_i == 0);
        if (i / points > k_max - n) {
            return false;
        }
        n += i / points;
        i %= points;
        if (n < 0x80 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) {
            return false;
        }
        out.insert(out.begin() + i, static_cast<char32_t>(n));
        ++i;
    }
    return true;
}

namespace {

bool in_ranges(const CodePointRange* begin, const CodePointRange* end, char32_t cp) noexcept {
    const CodePointRange* it = std::upper_bound(
        begin, end, cp, [](char32_t c, const CodePointRange& r) { return c < r.first; });
    return it != begin && cp <= (it - 1)->last;
}

template <std::size_t N> bool in_table(const CodePointRange (&table)[N], char32_t cp) noexcept {
    return in_ranges(table, table + N, cp);
}

constexpr char32_t k_overlay = 0x338; // COMBINING LONG SOLIDUS OVERLAY

// The NFC composite of `base` + U+0338 when `base` is one of the maskable overlay bases, else 0.
char32_t overlay_composite(char32_t base) noexcept {
    const auto* end = std::end(k_idna_overlay_pairs);
    const auto* it =
        std::lower_bound(std::begin(k_idna_overlay_pairs), end, base,
                         [](const OverlayPair& pair, char32_t value) { return pair.base < value; });
    return it != end && it->base == base ? it->composite : 0;
}

// Decodes UTF-8 already known to be well-formed (url_host.cpp checks it first).
void decode_utf8(std::string_view s, std::u32string& out) {
    out.clear();
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        const std::size_t len = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
        char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1fu) : len == 3 ? (b & 0x0fu) : (b & 0x07u);
        for (std::size_t k = 1; k < len && i + k < s.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fu);
        }
        out.push_back(cp);
        i += len;
    }
}

// libidn2's lookup with UTS #46 non-transitional mapping; `text` must be NUL-free.
int idn2_lookup(const std::string& text, std::string& out) {
    std::uint8_t* result = nullptr;
    const int rc = idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(text.c_str()), &result,
                                  IDN2_NONTRANSITIONAL);
    if (rc == IDN2_OK) {
        out.assign(reinterpret_cast<const char*>(result));
        idn2_free(result);
    }
    return rc;
}

// Placeholders: Yi syllables are letters libidn2 accepts (IDNA2008 PVALID, bidi L), with
// combining class 0, no decomposition, and no other code point maps to them.
constexpr char32_t k_placeholder_first = 0xa000;
constexpr char32_t k_placeholder_last = 0xa48c;
constexpr char32_t k_placeholder_skip = 0xa015; // YI SYLLABLE WU is a modifier letter

// One label through libidn2 with the code points it rejects but UTS #46 accepts (hyphens
// anywhere, which CheckHyphens=false allows; symbols, emoji, newer letters: see
// url_idna_table.py) replaced by distinct placeholder letters. libidn2 still maps,
// normalizes and checks the rest (disallowed code points, joiners, leading combining marks);
// the placeholders go back in the result, which is Punycode-encoded again. Appends the ASCII
// label to `out`.
bool label_to_ascii_masked(std::u32string_view label, std::string& out) {
    thread_local std::u32string masked;
    thread_local std::u32string originals; // originals[i] stands behind placeholder first + i
    thread_local std::u32string placeholders;
    thread_local std::string text;
    thread_local std::string mapped;
    thread_local std::u32string decoded;
    masked.clear();
    originals.clear();
    placeholders.clear();
    char32_t next = k_placeholder_first;
    // A U+0338 after a combining mark could be reordered by NFC and compose with an overlay
    // base before that mark: then the overlay bases are left to libidn2. After an overlay
    // base it is composed here; after ASCII or a maskable code point (starters that compose
    // with nothing) it stays as it is.
    bool loose_overlay = false;
    for (std::size_t i = 0; i < label.size(); ++i) {
        if (label[i] != k_overlay) {
            continue;
        }
        const char32_t before = i == 0 ? 0 : label[i - 1];
        if (i == 0 || (before >= 0x80 && overlay_composite(before) == 0 &&
                       !in_table(k_idna_maskable, before))) {
            loose_overlay = true;
        }
    }
    for (std::size_t i = 0; i < label.size(); ++i) {
        char32_t cp = label[i];
        if (const char32_t composite = loose_overlay ? 0 : overlay_composite(cp)) {
            if (i + 1 < label.size() && label[i + 1] == k_overlay) {
                cp = composite;
                ++i;
            }
        }
        if (cp != U'-' && !in_table(k_idna_maskable, cp) &&
            (loose_overlay || overlay_composite(cp) == 0)) {
            masked.push_back(cp);
            continue;
        }
        const std::size_t known = originals.find(cp);
        if (known != std::u32string::npos) {
            masked.push_back(placeholders[known]);
            continue;
        }
        while (next == k_placeholder_skip || label.find(next) != std::u32string_view::npos) {
            ++next;
        }
        if (next > k_placeholder_last) {
            return false;
        }
        originals.push_back(cp);
        placeholders.push_back(next);
        masked.push_back(next++);
    }
    text.clear();
    for (const char32_t cp : masked) {
        util::append_utf8(text, cp);
    }
    if (idn2_lookup(text, mapped) != IDN2_OK) {
        return false;
    }
    if (mapped.size() > 4 && mapped.compare(0, 4, "xn--") == 0) {
        if (!punycode_decode(std::string_view(mapped).substr(4), decoded)) {
            return false;
        }
    } else {
        decoded.assign(mapped.begin(), mapped.end());
    }
    bool ascii = true;
    for (char32_t& cp : decoded) {
        const std::size_t index = placeholders.find(cp);
        if (index != std::u32string::npos) {
            cp = originals[index];
        }
        ascii = ascii && cp < 0x80;
    }
    // UTS #46 validity with CheckHyphens=false: a U-label must not begin with "xn--" (an
    // input label that did was an A-label with non-ASCII in it, which is invalid).
    if (decoded.size() >= 4 && decoded.compare(0, 4, U"xn--") == 0) {
        return false;
    }
    if (ascii) {
        out.append(decoded.begin(), decoded.end());
        return true;
    }
    out.append("xn--");
    return punycode_encode(decoded, out);
}

bool is_label_separator(char32_t cp) noexcept {
    return cp == U'.' || cp == 0x3002 || cp == 0xff0e || cp == 0xff61;
}

// The fallback: label by label, ASCII labels lower-cased, A-labels checked by decoding and
// mapping them again (a valid one maps to itself), other labels through the masked libidn2.
// Bidi domain names are left to libidn2's verdict: their labels are checked together, which
// the masking would break.
bool domain_to_ascii_by_label(std::string_view domain, std::string& out) {
    thread_local std::u32string cps;
    thread_local std::u32string decoded;
    thread_local std::string label_ascii;
    thread_local std::string remapped;
    decode_utf8(domain, cps);
    for (const char32_t cp : cps) {
        if (in_table(k_idna_rtl, cp)) {
            return false;
        }
    }
    out.clear();
    std::size_t begin = 0;
    while (begin <= cps.size()) {
        std::size_t end = begin;
        while (end < cps.size() && !is_label_separator(cps[end])) {
            ++end;
        }
        const std::u32string_view label = std::u32string_view(cps).substr(begin, end - begin);
        if (begin != 0) {
            out.push_back('.');
        }
        bool ascii = true;
        for (const char32_t cp : label) {
            ascii = ascii && cp < 0x80;
        }
        if (!ascii) {
            if (!label_to_ascii_masked(label, out)) {
                return false;
            }
        } else {
            label_ascii.clear();
            for (const char32_t cp : label) {
                label_ascii.push_back(static_cast<char>(cp >= U'A' && cp <= U'Z' ? cp + 32 : cp));
            }
            if (label_ascii.compare(0, 4, "xn--") == 0) {
                if (!punycode_decode(std::string_view(label_ascii).substr(4), decoded)) {
                    return false;
                }
                bool decoded_ascii = true;
                for (const char32_t cp : decoded) {
                    decoded_ascii = decoded_ascii && cp < 0x80;
                }
                remapped.clear();
                if (decoded_ascii || !label_to_ascii_masked(decoded, remapped) ||
                    remapped != label_ascii) {
                    return false;
                }
            }
            out.append(label_ascii);
        }
        begin = end + 1;
    }
    return true;
}

} // namespace

bool domain_to_ascii_idna(std::string_view domain, std::string& out) {
    thread_local std::string terminated;
    terminated.assign(domain);
    if (terminated.find('\0') != std::string::npos) {
        return false;
    }
    if (idn2_lookup(terminated, out) == IDN2_OK) {
        return true;
    }
    return domain_to_ascii_by_label(domain, out);
}

} // namespace flagcrawl::crawler::url_detail
