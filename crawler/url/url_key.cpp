// The seen-set key of a URL (normalize_key) and its 64-bit hash (key_hash).
#include "crawler/url/url.hpp"

#include "util/ascii.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

namespace flagcrawl::crawler {
namespace {

// Names of parameters that carry a session id (servlets, PHP, ASP, ColdFusion, osCommerce,
// Zen Cart, generic). They make one page look like many to a crawler.
bool is_session_parameter(std::string_view name) noexcept {
    static constexpr std::array<std::string_view, 10> k_names = {
        "sid",        "sessid", "sessionid", "session_id", "phpsessid",
        "jsessionid", "cfid",   "cftoken",   "oscsid",     "zenid"};
    for (const std::string_view candidate : k_names) {
        if (util::iequals(name, candidate)) {
            return true;
        }
    }
    return util::iequals_prefix(name, "aspsessionid"); // ASPSESSIONIDxxxxxxxx
}

// Appends `path` without its ";name=value" parameters that carry a session id (a value ends
// at the next ';' or '/').
void append_path_without_session(std::string& out, std::string_view path) {
    std::size_t i = 0;
    while (i < path.size()) {
        const std::size_t semicolon = path.find(';', i);
        if (semicolon == std::string_view::npos) {
            out.append(path.substr(i));
            return;
        }
        out.append(path.substr(i, semicolon - i));
        std::size_t end = semicolon + 1;
        while (end < path.size() && path[end] != ';' && path[end] != '/') {
            ++end;
        }
        const std::string_view parameter = path.substr(semicolon + 1, end - semicolon - 1);
        const std::string_view name = parameter.substr(0, parameter.find('='));
        if (parameter.find('=') == std::string_view::npos || !is_session_parameter(name)) {
            out.append(path.substr(semicolon, end - semicolon));
        }
        i = end;
    }
}

struct Parameter {
    std::string_view name;
    std::string_view rest; // from the '=' on ("" when there is none): "a" sorts before "a="
};

} // namespace

std::string normalize_key(const Url& url, bool canonical_query) {
    const std::string_view without_fragment = url.href_without_fragment();
    if (!canonical_query || url.has_opaque_path()) {
        return std::string(without_fragment);
    }

    const std::string_view href = url.href();
    const std::string_view path = url.path();
    const auto path_begin = static_cast<std::size_t>(path.data() - href.data());
    std::string key;
    key.reserve(without_fragment.size());
    key.append(href.substr(0, path_begin));
    append_path_without_session(key, path);
    if (!url.has_query()) {
        return key;
    }

    thread_local std::vector<Parameter> parameters;
    parameters.clear();
    const std::string_view query = url.query();
    std::size_t i = 0;
    while (i <= query.size()) {
        std::size_t amp = query.find('&', i);
        if (amp == std::string_view::npos) {
            amp = query.size();
        }
        const std::string_view item = query.substr(i, amp - i);
        i = amp + 1;
        if (item.empty()) {
            continue;
        }
        const std::size_t eq = item.find('=');
        const std::string_view name = item.substr(0, eq);
        if (is_session_parameter(name)) {
            continue;
        }
        parameters.push_back(
            {name, eq == std::string_view::npos ? std::string_view{} : item.substr(eq)});
    }
    if (parameters.empty()) {
        return key;
    }
    std::stable_sort(parameters.begin(), parameters.end(),
                     [](const Parameter& a, const Parameter& b) {
                         return a.name != b.name ? a.name < b.name : a.rest < b.rest;
                     });
    key.push_back('?');
    for (std::size_t k = 0; k < parameters.size(); ++k) {
        if (k != 0) {
            key.push_back('&');
        }
        key.append(parameters[k].name);
        key.append(parameters[k].rest);
    }
    return key;
}

// key_hash: a wyhash-style construction written for flagcrawl. The core step is the
// "folded multiply" m(a, b) = lo64(a*b) XOR hi64(a*b) of a 64x64->128-bit product: every
// output bit depends on every input bit of both operands. The key is consumed in 16-byte
// blocks (two little-endian words, each XORed with an odd constant, the running state mixed
// into the first), the 0-15 byte tail is zero-padded into two more words, and the length is
// folded in at the end, so "a" and "a\0" differ. Not keyed: it is for a seen-set, not for a
// hash table facing adversarial input. Byte order is fixed (little-endian reads), so values
// are the same on every platform.
namespace {

__extension__ typedef unsigned __int128 U128;

// Nothing-up-the-sleeve constants: the golden ratio, then the fractional parts of the square
// roots of 2, 3 and 5 (as in SHA-512's initial values).
constexpr std::uint64_t k_p0 = 0x9e3779b97f4a7c15ull;
constexpr std::uint64_t k_p1 = 0x6a09e667f3bcc908ull;
constexpr std::uint64_t k_p2 = 0xbb67ae8584caa73bull;
constexpr std::uint64_t k_p3 = 0x3c6ef372fe94f82bull;

std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) noexcept {
    const U128 product = static_cast<U128>(a) * b;
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

// Reads n <= 8 bytes as a little-endian word, zero-padded.
std::uint64_t read64(const unsigned char* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    if (n == 0) {
        return 0;
    }
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&v, p, n);
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
        }
    }
    return v;
}

} // namespace

std::uint64_t key_hash(std::string_view key) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(key.data());
    std::size_t n = key.size();
    std::uint64_t state = k_p0;
    while (n >= 16) {
        state = fold_mul(read64(p, 8) ^ k_p1 ^ state, read64(p + 8, 8) ^ k_p2);
        p += 16;
        n -= 16;
    }
    const std::uint64_t a = n > 8 ? read64(p, 8) : read64(p, n);
    const std::uint64_t b = n > 8 ? read64(p + 8, n - 8) : 0;
    state = fold_mul(a ^ k_p1 ^ state, b ^ k_p2);
    return fold_mul(state ^ k_p3, static_cast<std::uint64_t>(key.size()) ^ k_p1);
}

std::uint64_t url_key_hash(const Url& url, bool canonical_query) {
    if (!canonical_query || url.has_opaque_path()) {
        return key_hash(url.href_without_fragment());
    }
    return key_hash(normalize_key(url, true));
}

} // namespace flagcrawl::crawler
