// WHATWG URL Standard parsing and resolution (the "basic URL parser", as browsers do it), plus
// the crawler's seen-set key: a normalized serialization and its 64-bit hash.
// Spec: https://url.spec.whatwg.org/ ; IDNA through libidn2 (see url_host.hpp).
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::crawler {

// Why an input is not a URL. Bad hrefs are ordinary input for a crawler: these are values.
enum class UrlError : std::uint8_t {
    no_base,      // relative input and no base (or a base with an opaque path, e.g. "mailto:")
    missing_host, // "http://", "http://user@/", "http://:80/"
    invalid_host, // forbidden code point in a host, bad percent-decoded UTF-8
    invalid_idna, // the host fails UTS #46 ToASCII (IDNA) or maps to the empty string
    invalid_ipv4, // the host ends in a number but is not a valid IPv4 address
    invalid_ipv6, // "[...]" that is not a valid IPv6 address
    invalid_port, // non-digit or above 65535
    too_long,     // input above 1 GiB: offsets are 32-bit
};

std::string_view to_string(UrlError error) noexcept;

// Only reached through boost::system::result::value() on a failed parse: a caller bug.
[[noreturn]] void throw_exception_from_error(UrlError error, const boost::source_location& loc);

// A parsed absolute URL: the WHATWG serialization (href) and the offsets of its components.
// Immutable once built, except by parse_into(). Copying copies one string; moving is cheap. Any
// number of threads may read the same Url at once.
class Url {
public:
    // An empty URL (href ""): only something for parse_into() to fill.
    Url() = default;
    // Always a valid serialization: what a browser's URL.href gives for the same input.
    std::string_view href() const noexcept { return m_href; }
    // Lower-case scheme, without the ':' ("https").
    std::string_view scheme() const noexcept { return slice(0, m_scheme_end); }
    // http, https, ws, wss, ftp and file: the schemes with authority and path rules of their own.
    bool is_special() const noexcept { return m_scheme_kind != 0; }
    // http or https: what the fetcher, the crawl and the download take.
    bool is_http() const noexcept;
    std::string_view username() const noexcept { return slice(m_user_begin, m_user_end); }
    std::string_view password() const noexcept;
    // False for URLs such as "mailto:a@b" or "sc:/x"; true (possibly with an empty host) for
    // "file:///x" and every http(s) URL.
    bool has_host() const noexcept { return m_has_host; }
    // Serialized host: lower-case ASCII domain (IDNA applied), dotted IPv4, "[v6]" with its
    // brackets, or an opaque host of a non-special scheme. Empty when there is none.
    std::string_view host() const noexcept { return slice(m_host_begin, m_host_end); }
    // Explicit port digits; empty when absent or equal to the scheme's default port.
    std::string_view port() const noexcept;
    // The explicit port, else the scheme's default (80, 443, 21), else nullopt.
    std::optional<std::uint16_t> port_or_default() const noexcept;
    // "/a/b" for hierarchical URLs (may be empty, e.g. "sc://h"); the whole opaque path otherwise.
    std::string_view path() const noexcept { return slice(m_path_begin, path_end()); }
    // True for "mailto:x", "javascript:...", "data:...": nothing can be resolved against them.
    bool has_opaque_path() const noexcept { return m_opaque_path; }
    // Query without its '?'; has_query() tells "?" (empty query) from no query at all.
    bool has_query() const noexcept { return m_query_begin != k_none; }
    std::string_view query() const noexcept;
    // Fragment without its '#'.
    bool has_fragment() const noexcept { return m_fragment_begin != k_none; }
    std::string_view fragment() const noexcept;
    // href without "#fragment": what an HTTP client sends and what a crawler fetches.
    std::string_view href_without_fragment() const noexcept {
        return std::string_view(m_href).substr(0,
                                               has_fragment() ? m_fragment_begin : m_href.size());
    }

    friend bool operator==(const Url& a, const Url& b) noexcept { return a.m_href == b.m_href; }

private:
    friend class UrlBuilder;
    static constexpr std::uint32_t k_none = 0xffffffffu;

    std::string_view slice(std::uint32_t begin, std::uint32_t end) const noexcept {
        return std::string_view(m_href).substr(begin, end - begin);
    }
    std::uint32_t path_end() const noexcept;

    std::string m_href;
    std::uint32_t m_scheme_end = 0; // index of the ':' after the scheme
    std::uint32_t m_user_begin = 0; // username = [m_user_begin, m_user_end)
    std::uint32_t m_user_end =
        0; // password = (m_user_end, m_pass_end) when m_pass_end > m_user_end
    std::uint32_t m_pass_end = 0;
    std::uint32_t m_host_begin = 0; // host = [m_host_begin, m_host_end)
    std::uint32_t m_host_end = 0;   // port digits follow a ':' at m_host_end when m_port >= 0
    std::uint32_t m_path_begin = 0;
    std::uint32_t m_query_begin = k_none;    // index of '?'
    std::uint32_t m_fragment_begin = k_none; // index of '#'
    std::int32_t m_port = -1;                // explicit non-default port, -1 when none
    std::uint8_t m_scheme_kind = 0;          // url.cpp's SchemeKind; 0 = not a special scheme
    bool m_has_host = false;
    bool m_opaque_path = false;
};

using UrlResult = boost::system::result<Url, UrlError>;

// The encoding of a document's URLs' queries (the URL Standard's parser "encoding"), for
// links of a page that is not UTF-8: `encode(context, text, out)` appends UTF-8 `text` in the
// document's encoding, each character it cannot represent as "%26%23N%3B". The parser then
// percent-encodes the bytes as usual. Applies to special schemes other than ws and wss; null
// `encode` means UTF-8. The URL library knows no encodings: the crawl supplies one (html's
// Transcoder::encode_query).
struct QueryEncoding {
    void (*encode)(const void* context, std::string_view text, std::string& out) = nullptr;
    const void* context = nullptr;
};

// The WHATWG basic URL parser: parses `input` (UTF-8; an href attribute as found, spaces,
// tabs and all) against `base` (nullptr: `input` must be absolute). Never throws for bad
// input. Thread-safe (per-thread scratch buffers: no allocation but the result's own string
// once warmed up). Bytes that are not valid UTF-8 outside the host are percent-encoded as is.
// Query encoding: UTF-8 (see the overload below for other documents' encodings).
UrlResult parse(std::string_view input, const Url* base = nullptr);
// The same with the query encoded in a document's encoding (see QueryEncoding).
UrlResult parse(std::string_view input, const Url* base, QueryEncoding encoding);

// Convenience: parse(input, &base) where base is given as text; base must parse on its own.
UrlResult parse(std::string_view input, std::string_view base);

// parse(input, base, encoding) into `url`, whose href keeps its storage: a loop that resolves a
// page's links one after another into one Url allocates only when an href outgrows all earlier
// ones, instead of once per link. On an error `url` is empty (href ""). `base` may be `url`.
boost::system::result<void, UrlError> parse_into(Url& url, std::string_view input, const Url* base,
                                                 QueryEncoding encoding = {});

// The seen-set key of a URL: its serialization without the fragment. With canonical_query
// (hierarchical URLs only; opaque ones such as mailto: are left alone), query parameters are
// also sorted (stable, bytewise by name then value; "a=2&a=1" and "a=1&a=2" give the same
// key, repeated parameters are kept, empty ones as in "a&&b" dropped), session-id parameters
// are dropped (sid, sessid, sessionid, session_id, phpsessid, jsessionid, aspsessionid*,
// cfid, cftoken, oscsid, zenid; names case-insensitive), and so are path parameters with
// those names (";jsessionid=..."). An empty query ("x?", or one emptied by the removals) is
// dropped with canonical_query and kept without it (the standard keeps "x?" apart from "x").
// Percent-encoding is compared as written ("%7E" and "~" stay different).
std::string normalize_key(const Url& url, bool canonical_query);

// A 64-bit hash of a key for the seen-set (see url_key.cpp for the construction): about
// 1 ns per 8 bytes. Stable across runs, platforms and versions of flagcrawl, so stored hashes
// stay valid. Unkeyed: fine for crawled URLs, not a defence against crafted collisions.
std::uint64_t key_hash(std::string_view key) noexcept;

// The seen-set hash of a URL, key_hash(normalize_key(url, canonical_query)), hashing the href
// in place (no copy) when the key is the href without its fragment.
std::uint64_t url_key_hash(const Url& url, bool canonical_query);

} // namespace flagcrawl::crawler
