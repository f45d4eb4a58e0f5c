// The WHATWG basic URL parser (https://url.spec.whatwg.org/#concept-basic-url-parser), without
// state override (no setters); a query encoding other than UTF-8 comes from the caller
// (QueryEncoding). The state names below
// are the spec's; where a state scans ahead instead of taking one code point at a time, the
// comment says why it is equivalent.
#include "crawler/url/url.hpp"

#include "crawler/url/url_host.hpp"
#include "util/ascii.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace flagcrawl::crawler {

std::string_view to_string(UrlError error) noexcept {
    switch (error) {
    case UrlError::no_base:
        return "relative URL without a usable base";
    case UrlError::missing_host:
        return "missing host";
    case UrlError::invalid_host:
        return "invalid host";
    case UrlError::invalid_idna:
        return "invalid internationalized domain name";
    case UrlError::invalid_ipv4:
        return "invalid IPv4 address";
    case UrlError::invalid_ipv6:
        return "invalid IPv6 address";
    case UrlError::invalid_port:
        return "invalid port";
    case UrlError::too_long:
        return "URL too long";
    }
    return "invalid URL";
}

void throw_exception_from_error(UrlError error, const boost::source_location&) {
    throw std::invalid_argument("flagcrawl: value() of a failed URL parse: " +
                                std::string(to_string(error)));
}

std::string_view Url::password() const noexcept {
    return m_pass_end > m_user_end ? slice(m_user_end + 1, m_pass_end) : std::string_view{};
}

std::string_view Url::port() const noexcept {
    return m_port >= 0 ? slice(m_host_end + 1, m_path_begin) : std::string_view{};
}

std::uint32_t Url::path_end() const noexcept {
    if (m_query_begin != k_none) {
        return m_query_begin;
    }
    if (m_fragment_begin != k_none) {
        return m_fragment_begin;
    }
    return static_cast<std::uint32_t>(m_href.size());
}

std::string_view Url::query() const noexcept {
    if (m_query_begin == k_none) {
        return {};
    }
    const std::uint32_t end =
        m_fragment_begin != k_none ? m_fragment_begin : static_cast<std::uint32_t>(m_href.size());
    return slice(m_query_begin + 1, end);
}

std::string_view Url::fragment() const noexcept {
    return m_fragment_begin == k_none
               ? std::string_view{}
               : slice(m_fragment_begin + 1, static_cast<std::uint32_t>(m_href.size()));
}

namespace {

constexpr int k_eof = -1;
constexpr std::size_t k_max_input = std::size_t{1} << 30;

enum class SchemeKind : std::uint8_t { other, http, https, ws, wss, ftp, file };

SchemeKind classify_scheme(std::string_view scheme) noexcept {
    if (scheme == "http") {
        return SchemeKind::http;
    }
    if (scheme == "https") {
        return SchemeKind::https;
    }
    if (scheme == "file") {
        return SchemeKind::file;
    }
    if (scheme == "ws") {
        return SchemeKind::ws;
    }
    if (scheme == "wss") {
        return SchemeKind::wss;
    }
    if (scheme == "ftp") {
        return SchemeKind::ftp;
    }
    return SchemeKind::other;
}

int default_port(SchemeKind kind) noexcept {
    switch (kind) {
    case SchemeKind::http:
    case SchemeKind::ws:
        return 80;
    case SchemeKind::https:
    case SchemeKind::wss:
        return 443;
    case SchemeKind::ftp:
        return 21;
    case SchemeKind::file:
    case SchemeKind::other:
        break;
    }
    return -1;
}

// The spec's percent-encode sets, one bit each; every byte >= 0x80 is in all of them (a
// non-ASCII code point is percent-encoded as its UTF-8 bytes).
enum EncodeSet : std::uint8_t {
    k_c0_set = 1,
    k_fragment_set = 2,
    k_query_set = 4,
    k_special_query_set = 8,
    k_path_set = 16,
    k_userinfo_set = 32,
    // Not encode sets: the bytes that end a path segment ('/', '?', '#'; '\\' too in a special
    // URL), so that parse_path finds a segment's end and its bytes to encode in one pass.
    k_segment_end = 64,
    k_backslash = 128,
};

constexpr std::array<std::uint8_t, 256> make_encode_sets() {
    std::array<std::uint8_t, 256> sets{};
    for (int b = 0; b < 256; ++b) {
        const bool c0 = b < 0x20 || b > 0x7e;
        bool fragment = c0 || b == ' ' || b == '"' || b == '<' || b == '>' || b == '`';
        bool query = c0 || b == ' ' || b == '"' || b == '#' || b == '<' || b == '>';
        bool special_query = query || b == '\'';
        bool path = query || b == '?' || b == '^' || b == '`' || b == '{' || b == '}';
        bool userinfo = path || b == '/' || b == ':' || b == ';' || b == '=' || b == '@' ||
                        (b >= '[' && b <= '^') || b == '|';
        sets[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(
            (c0 ? k_c0_set : 0) | (fragment ? k_fragment_set : 0) | (query ? k_query_set : 0) |
            (special_query ? k_special_query_set : 0) | (path ? k_path_set : 0) |
            (userinfo ? k_userinfo_set : 0) |
            (b == '/' || b == '?' || b == '#' ? k_segment_end : 0) | (b == '\\' ? k_backslash : 0));
    }
    return sets;
}

constexpr std::array<std::uint8_t, 256> k_encode_sets = make_encode_sets();
constexpr char k_hex_upper[] = "0123456789ABCDEF";

// Appends `in` to `out`, percent-encoding the bytes in `set`; runs of plain bytes in one append.
void append_encoded(std::string& out, std::string_view in, std::uint8_t set) {
    const char* p = in.data();
    const char* const end = p + in.size();
    while (p < end) {
        const char* run = p;
        while (p < end && (k_encode_sets[static_cast<unsigned char>(*p)] & set) == 0) {
            ++p;
        }
        out.append(run, static_cast<std::size_t>(p - run));
        if (p == end) {
            break;
        }
        const auto byte = static_cast<unsigned char>(*p++);
        const char escaped[3] = {'%', k_hex_upper[byte >> 4], k_hex_upper[byte & 15]};
        out.append(escaped, 3);
    }
}

bool is_single_dot(std::string_view s) noexcept {
    return s == "." || util::iequals(s, "%2e");
}

bool is_double_dot(std::string_view s) noexcept {
    return s == ".." || util::iequals(s, ".%2e") || util::iequals(s, "%2e.") ||
           util::iequals(s, "%2e%2e");
}

// "C:" or "C|".
bool is_drive_letter(std::string_view s) noexcept {
    return s.size() == 2 && util::is_ascii_alpha(static_cast<unsigned char>(s[0])) &&
           (s[1] == ':' || s[1] == '|');
}

// The spec's "starts with a Windows drive letter", for the rest of the input from `i`.
bool starts_with_drive_letter(std::string_view in, std::size_t i) noexcept {
    if (in.size() < i + 2 || !is_drive_letter(in.substr(i, 2))) {
        return false;
    }
    if (in.size() == i + 2) {
        return true;
    }
    const char c = in[i + 2];
    return c == '/' || c == '\\' || c == '?' || c == '#';
}

// A path with "/X:" as its only segment (the normalized Windows drive letter of a file URL).
bool is_drive_letter_only_path(std::string_view path) noexcept {
    return path.size() == 3 && path[0] == '/' &&
           util::is_ascii_alpha(static_cast<unsigned char>(path[1])) && path[2] == ':';
}

// Per-thread scratch: the parser's component buffers keep their capacity between calls, so a
// warmed-up parse allocates only the result's href.
struct Scratch {
    std::string input;
    std::string scheme;
    std::string username;
    std::string password;
    std::string host;
    std::string path;
    std::string query;
    std::string fragment;
};

// What try_splice() needs to know of a reference before it looks closer, in one pass: whether
// every byte is one it takes as it is (printable ASCII that no component percent-encodes: outside
// the union of the path, special-query and fragment sets, and not the backslash, which a special
// URL reads as '/'), and whether there is a '?' or '#' to look for.
struct SpliceScan {
    bool plain = false;
    bool query_or_fragment = false;
};

enum : std::uint8_t { k_splice_not_plain = 1, k_splice_mark = 2 };

constexpr std::array<std::uint8_t, 256> make_splice_classes() {
    std::array<std::uint8_t, 256> classes{};
    for (int b = 0; b < 256; ++b) {
        const bool plain = b > 0x20 && b < 0x7f && b != '"' && b != '<' && b != '>' && b != '`' &&
                           b != '^' && b != '{' && b != '}' && b != '\\' && b != '\'';
        classes[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(
            (plain ? 0 : k_splice_not_plain) | (b == '?' || b == '#' ? k_splice_mark : 0));
    }
    return classes;
}

constexpr std::array<std::uint8_t, 256> k_splice_classes = make_splice_classes();

// Sixteen bytes at a time where SSE2 is there (every x86-64): a table lookup per byte costs
// several times as many instructions on hrefs of a few dozen bytes.
SpliceScan scan_for_splice(std::string_view in) noexcept {
#if defined(__SSE2__)
    if (in.size() >= 16) {
        __m128i not_plain = _mm_setzero_si128();
        __m128i marks = _mm_setzero_si128();
        const auto check = [&](const char* at) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
            const auto is = [&](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
            // As signed bytes, everything outside 0x21..0x7e is below 0x21 or is 0x7f.
            __m128i out = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)), is(0x7f));
            for (const char c : {'"', '<', '>', '`', '^', '{', '}', '\\', '\''}) {
                out = _mm_or_si128(out, is(c));
            }
            not_plain = _mm_or_si128(not_plain, out);
            marks = _mm_or_si128(marks, _mm_or_si128(is('?'), is('#')));
        };
        std::size_t i = 0;
        for (; i + 16 <= in.size(); i += 16) {
            check(in.data() + i);
        }
        if (i < in.size()) {
            check(in.data() + in.size() - 16); // the tail, overlapping bytes already checked
        }
        return {_mm_movemask_epi8(not_plain) == 0, _mm_movemask_epi8(marks) != 0};
    }
#endif
    std::uint8_t classes = 0;
    for (const char c : in) {
        classes |= k_splice_classes[static_cast<unsigned char>(c)];
    }
    return {(classes & k_splice_not_plain) == 0, (classes & k_splice_mark) != 0};
}

// What a path segment is to the path state: 1 for ".", 2 for "..", both also percent-encoded.
int dot_segment(std::string_view segment) noexcept {
    if (segment.empty() || segment.size() > 6 || (segment[0] != '.' && segment[0] != '%')) {
        return 0;
    }
    return is_double_dot(segment) ? 2 : is_single_dot(segment) ? 1 : 0;
}

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

// Steps 1-2 of the parser: strip leading and trailing C0 controls and spaces, remove every
// tab, LF and CR. Copies into `buffer` only when there is something to remove inside.
std::string_view clean_input(std::string_view in, std::string& buffer) {
    std::size_t begin = 0;
    std::size_t end = in.size();
    while (begin < end && static_cast<unsigned char>(in[begin]) <= 0x20) {
        ++begin;
    }
    while (end > begin && static_cast<unsigned char>(in[end - 1]) <= 0x20) {
        --end;
    }
    in = in.substr(begin, end - begin);
    // Bitwise, not short-circuit, so that the compiler vectorizes the scan (every link's
    // href goes through it, and almost none has a tab or newline).
    unsigned char has_tab_or_newline = 0;
    for (const char c : in) {
        has_tab_or_newline |= static_cast<unsigned char>((c == '\t') | (c == '\n') | (c == '\r'));
    }
    if (has_tab_or_newline == 0) {
        return in;
    }
    buffer.clear();
    for (const char c : in) {
        if (c != '\t' && c != '\n' && c != '\r') {
            buffer.push_back(c);
        }
    }
    return buffer;
}

} // namespace

// Runs the state machine; a friend of Url to fill its offsets.
class UrlBuilder {
public:
    // Parses `raw` into `out` (its href's storage reused); on an error `out` is left empty.
    static std::optional<UrlError> run(Url& out, std::string_view raw, const Url* base,
                                       QueryEncoding encoding = {});
    static UrlResult run(std::string_view raw, const Url* base, QueryEncoding encoding = {});
    // run() without the splice fast path: the state machine for every input.
    static std::optional<UrlError> run_full(Url& out, std::string_view raw, const Url* base,
                                            QueryEncoding encoding);

private:
    enum class State : std::uint8_t {
        scheme_start,
        scheme,
        no_scheme,
        special_relative_or_authority,
        path_or_authority,
        relative,
        relative_slash,
        special_authority_slashes,
        special_authority_ignore_slashes,
        authority,
        file,
        file_slash,
        file_host,
        path_start,
        path,
        opaque_path,
        query,
        fragment,
    };

    UrlBuilder(Scratch& s, QueryEncoding encoding)
        : m_s(s)
        , m_encoding(encoding) {}

    std::optional<UrlError> parse(std::string_view in, const Url* base);
    std::optional<UrlError> parse_authority(std::string_view in, std::size_t& p);
    void parse_path(std::string_view in, std::size_t& p, State& state, bool& done);
    void shorten_path();
    void set_scheme_from(const Url& base);
    void copy_authority_from(const Url& base);
    // Writes the parsed URL into `url` (its href cleared first, keeping its capacity).
    void serialize(Url& url) const;
    // The fast path of run() (see its definition); false: `out` is untouched, use run_full().
    static bool try_splice(Url& out, std::string_view in, const Url& base);
    // Leaves `url` empty (as default-constructed) and returns its href's buffer, cleared, with
    // its capacity: what parse_into() reuses from link to link.
    static std::string emptied(Url& url);

    Scratch& m_s;
    QueryEncoding m_encoding;
    SchemeKind m_kind = SchemeKind::other;
    bool m_has_host = false;
    bool m_opaque_path = false;
    bool m_has_query = false;
    bool m_has_fragment = false;
    std::int32_t m_port = -1;
};

std::optional<UrlError> UrlBuilder::run(Url& out, std::string_view raw, const Url* base,
                                        QueryEncoding encoding) {
    if (base != nullptr && base != &out && try_splice(out, raw, *base)) {
        return std::nullopt;
    }
    return run_full(out, raw, base, encoding);
}

std::optional<UrlError> UrlBuilder::run_full(Url& out, std::string_view raw, const Url* base,
                                             QueryEncoding encoding) {
    if (raw.size() > k_max_input) {
        out.m_href = emptied(out);
        return UrlError::too_long;
    }
    Scratch& s = scratch();
    s.scheme.clear();
    s.username.clear();
    s.password.clear();
    s.host.clear();
    s.path.clear();
    s.query.clear();
    s.fragment.clear();
    UrlBuilder builder(s, encoding);
    // `base` is read only here, so it may be `out` itself.
    if (auto error = builder.parse(clean_input(raw, s.input), base)) {
        out.m_href = emptied(out);
        return error;
    }
    builder.serialize(out);
    return std::nullopt;
}

std::string UrlBuilder::emptied(Url& url) {
    std::string href = std::move(url.m_href);
    href.clear();
    url = Url();
    return href;
}

UrlResult UrlBuilder::run(std::string_view raw, const Url* base, QueryEncoding encoding) {
    Url url;
    if (auto error = run(url, raw, base, encoding)) {
        return *error;
    }
    return url;
}

void UrlBuilder::set_scheme_from(const Url& base) {
    m_s.scheme.assign(base.scheme());
    m_kind = static_cast<SchemeKind>(base.m_scheme_kind);
}

void UrlBuilder::copy_authority_from(const Url& base) {
    m_s.username.assign(base.username());
    m_s.password.assign(base.password());
    m_has_host = base.has_host();
    m_s.host.assign(base.host());
    m_port = base.m_port;
}

// The spec's "shorten a path": drop the last segment, except a file URL's lone drive letter.
void UrlBuilder::shorten_path() {
    std::string& path = m_s.path;
    if (m_kind == SchemeKind::file && is_drive_letter_only_path(path)) {
        return;
    }
    const std::size_t slash = path.rfind('/');
    path.resize(slash == std::string::npos ? 0 : slash);
}

// The fast path for the links of a web page: against an http(s) base, a reference that is a
// path ("x", "./x", "../x", "/x"), a query ("?q"), a fragment ("#f"), any of these followed by a
// query and/or a fragment, or an absolute URL that starts with exactly the base's serialized
// scheme and authority and then '/'. When every byte is one that the state machine copies as
// is (scan_for_splice: nothing to strip, remove or percent-encode) and no ':' comes before the
// first '/' (it could end a scheme), the result is the base's scheme and authority followed by
// the path, query and fragment that the relative, path, query and fragment states would build:
// this splices them into the base's serialization instead of parsing and serializing every
// component again. The same-origin case relies on a serialized URL being a fixed point of the
// parser. Anything else (and the empty reference, and "//host") returns false, `out` untouched.
// `out` must not be `base`.
bool UrlBuilder::try_splice(Url& out, std::string_view in, const Url& base) {
    const auto kind = static_cast<SchemeKind>(base.m_scheme_kind);
    if ((kind != SchemeKind::http && kind != SchemeKind::https) || in.empty() ||
        in.size() > k_max_input) {
        return false;
    }
    const SpliceScan scan = scan_for_splice(in);
    if (!scan.plain) {
        return false;
    }
    constexpr std::size_t npos = std::string_view::npos;
    const std::size_t fragment_at = scan.query_or_fragment ? in.find('#') : npos;
    const std::size_t query_at =
        scan.query_or_fragment ? in.substr(0, fragment_at).find('?') : npos;
    const std::string_view path = in.substr(0, std::min(query_at, fragment_at));

    const std::string_view base_href = base.m_href;
    const std::string_view origin = base_href.substr(0, base.m_path_begin);
    // What comes before the reference's own path segments (from `segments` on), from the base.
    enum class From : std::uint8_t { base_path_and_query, base_path, base_directory, root };
    From from = From::base_directory;
    std::size_t segments = 0;
    if (path.empty()) {
        if (query_at == npos && fragment_at == npos) {
            return false;
        }
        from = query_at == npos ? From::base_path_and_query : From::base_path;
    } else if (path[0] == '/') {
        if (path.size() > 1 && path[1] == '/') {
            return false; // scheme-relative: a new authority
        }
        from = From::root;
        segments = 1;
    } else if (util::is_ascii_alpha(static_cast<unsigned char>(path[0]))) {
        // A scheme ends at a ':' in the first segment (only a reference starting with a letter
        // can have one); of those, only the base's own scheme and authority are spliced.
        if (path.substr(0, path.find('/')).find(':') != npos) {
            if (!path.starts_with(origin) || path.size() == origin.size() ||
                path[origin.size()] != '/') {
                return false;
            }
            from = From::root;
            segments = origin.size() + 1;
        }
    }

    std::string& href = out.m_href;
    href.clear();
    href.reserve(base_href.size() + in.size() + 1);
    switch (from) {
    case From::base_path_and_query:
        href.append(base.href_without_fragment());
        break;
    case From::base_path:
        href.append(base_href.substr(0, base.path_end()));
        break;
    case From::base_directory: {
        // The spec's "shorten a path" of the base's path (an http path always starts with '/').
        const std::string_view base_path = base_href.substr(0, base.path_end());
        href.append(base_path.substr(0, base_path.rfind('/')));
        break;
    }
    case From::root:
        href.append(origin);
        break;
    }
    if (from == From::base_directory || from == From::root) {
        // The path state (see parse_path), which here only drops dot segments: each segment
        // is '/' and its bytes, so runs of other segments are appended whole, slashes and all.
        const std::size_t path_begin = origin.size();
        std::size_t pending = segments; // path[pending, segment) is still to append
        std::size_t segment = segments;
        while (true) {
            std::size_t end = path.find('/', segment);
            const bool slash = end != npos;
            if (!slash) {
                end = path.size();
            }
            if (const int dots = dot_segment(path.substr(segment, end - segment))) {
                if (segment > pending) {
                    href.push_back('/');
                    href.append(path.substr(pending, segment - 1 - pending));
                }
                if (dots == 2) { // the spec's "shorten a path"
                    const std::size_t last = href.rfind('/');
                    href.resize(last == std::string::npos || last < path_begin ? path_begin : last);
                }
                if (!slash) {
                    href.push_back('/');
                }
                pending = end + 1;
            }
            if (!slash) {
                break;
            }
            segment = end + 1;
        }
        if (pending <= path.size()) {
            href.push_back('/');
            href.append(path.substr(pending));
        }
    }

    out.m_scheme_end = base.m_scheme_end;
    out.m_user_begin = base.m_user_begin;
    out.m_user_end = base.m_user_end;
    out.m_pass_end = base.m_pass_end;
    out.m_host_begin = base.m_host_begin;
    out.m_host_end = base.m_host_end;
    out.m_path_begin = base.m_path_begin;
    out.m_query_begin = Url::k_none;
    out.m_fragment_begin = Url::k_none;
    out.m_port = base.m_port;
    out.m_scheme_kind = base.m_scheme_kind;
    out.m_has_host = base.m_has_host;
    out.m_opaque_path = false;
    if (from == From::base_path_and_query) {
        out.m_query_begin = base.m_query_begin;
    } else if (query_at != npos) {
        out.m_query_begin = static_cast<std::uint32_t>(href.size());
        href.append(in.substr(query_at, fragment_at - query_at));
    }
    if (fragment_at != npos) {
        out.m_fragment_begin = static_cast<std::uint32_t>(href.size());
        href.append(in.substr(fragment_at));
    }
    return true;
}

std::optional<UrlError> UrlBuilder::parse(std::string_view in, const Url* base) {
    const std::size_t n = in.size();
    const auto at = [&](std::size_t i) -> int {
        return i < n ? static_cast<unsigned char>(in[i]) : k_eof;
    };
    const auto special = [&] { return m_kind != SchemeKind::other; };
    const auto base_is_file = [&] {
        return base != nullptr && static_cast<SchemeKind>(base->m_scheme_kind) == SchemeKind::file;
    };

    State state = State::scheme_start;
    std::size_t p = 0;
    bool done = false;
    while (!done) {
        const int c = at(p);
        switch (state) {
        case State::scheme_start:
            if (util::is_ascii_alpha(c)) {
                m_s.scheme.push_back(util::to_lower(c));
                state = State::scheme;
                ++p;
            } else {
                state = State::no_scheme;
            }
            break;

        case State::scheme:
            if (util::is_ascii_alpha(c) || util::is_ascii_digit(c) || c == '+' || c == '-' ||
                c == '.') {
                m_s.scheme.push_back(util::to_lower(c));
                ++p;
            } else if (c == ':') {
                m_kind = classify_scheme(m_s.scheme);
                if (m_kind == SchemeKind::file) {
                    state = State::file;
                    ++p;
                } else if (special() && base != nullptr && base->scheme() == m_s.scheme) {
                    state = State::special_relative_or_authority;
                    ++p;
                } else if (special()) {
                    state = State::special_authority_slashes;
                    ++p;
                } else if (at(p + 1) == '/') {
                    state = State::path_or_authority;
                    p += 2;
                } else {
                    m_opaque_path = true;
                    state = State::opaque_path;
                    ++p;
                }
            } else {
                m_s.scheme.clear();
                state = State::no_scheme;
                p = 0;
            }
            break;

        case State::no_scheme:
            if (base == nullptr || (base->has_opaque_path() && c != '#')) {
                return UrlError::no_base;
            }
            if (base->has_opaque_path()) {
                set_scheme_from(*base);
                m_s.path.assign(base->path());
                m_opaque_path = true;
                m_has_query = base->has_query();
                m_s.query.assign(base->query());
                m_has_fragment = true;
                state = State::fragment;
                ++p;
            } else {
                state = base_is_file() ? State::file : State::relative;
            }
            break;

        case State::special_relative_or_authority:
            if (c == '/' && at(p + 1) == '/') {
                state = State::special_authority_ignore_slashes;
                p += 2;
            } else {
                state = State::relative;
            }
            break;

        case State::path_or_authority:
            if (c == '/') {
                state = State::authority;
                ++p;
            } else {
                state = State::path;
            }
            break;

        case State::relative:
            set_scheme_from(*base);
            if (c == '/' || (special() && c == '\\')) {
                state = State::relative_slash;
                ++p;
                break;
            }
            copy_authority_from(*base);
            m_s.path.assign(base->path());
            m_has_query = base->has_query();
            m_s.query.assign(base->query());
            if (c == '?') {
                m_has_query = true;
                m_s.query.clear();
                state = State::query;
                ++p;
            } else if (c == '#') {
                m_has_fragment = true;
                state = State::fragment;
                ++p;
            } else if (c != k_eof) {
                m_has_query = false;
                m_s.query.clear();
                shorten_path();
                state = State::path;
            } else {
                done = true;
            }
            break;

        case State::relative_slash:
            if (special() && (c == '/' || c == '\\')) {
                state = State::special_authority_ignore_slashes;
                ++p;
            } else if (c == '/') {
                state = State::authority;
                ++p;
            } else {
                copy_authority_from(*base);
                state = State::path;
            }
            break;

        case State::special_authority_slashes:
            state = State::special_authority_ignore_slashes;
            if (c == '/' && at(p + 1) == '/') {
                p += 2;
            }
            break;

        case State::special_authority_ignore_slashes:
            if (c != '/' && c != '\\') {
                state = State::authority;
            } else {
                ++p;
            }
            break;

        case State::authority:
            if (auto error = parse_authority(in, p)) {
                return *error;
            }
            state = State::path_start;
            break;

        case State::file:
            m_s.scheme.assign("file");
            m_kind = SchemeKind::file;
            m_has_host = true;
            m_s.host.clear();
            if (c == '/' || c == '\\') {
                state = State::file_slash;
                ++p;
            } else if (base_is_file()) {
                m_has_host = base->has_host();
                m_s.host.assign(base->host());
                m_s.path.assign(base->path());
                m_has_query = base->has_query();
                m_s.query.assign(base->query());
                if (c == '?') {
                    m_has_query = true;
                    m_s.query.clear();
                    state = State::query;
                    ++p;
                } else if (c == '#') {
                    m_has_fragment = true;
                    state = State::fragment;
                    ++p;
                } else if (c != k_eof) {
                    m_has_query = false;
                    m_s.query.clear();
                    if (!starts_with_drive_letter(in, p)) {
                        shorten_path();
                    } else {
                        m_s.path.clear();
                    }
                    state = State::path;
                } else {
                    done = true;
                }
            } else {
                state = State::path;
            }
            break;

        case State::file_slash:
            if (c == '/' || c == '\\') {
                state = State::file_host;
                ++p;
            } else {
                if (base_is_file()) {
                    m_has_host = base->has_host();
                    m_s.host.assign(base->host());
                    const std::string_view base_path = base->path();
                    if (!starts_with_drive_letter(in, p) && base_path.size() >= 3 &&
                        is_drive_letter_only_path(base_path.substr(0, 3)) &&
                        (base_path.size() == 3 || base_path[3] == '/')) {
                        m_s.path.assign(base_path.substr(0, 3));
                    }
                }
                state = State::path;
            }
            break;

        case State::file_host: {
            // Scans the whole host at once: the spec buffers code points up to the same
            // terminators and then looks at the buffer as a whole.
            std::size_t end = p;
            while (end < n && in[end] != '/' && in[end] != '\\' && in[end] != '?' &&
                   in[end] != '#') {
                ++end;
            }
            const std::string_view buffer = in.substr(p, end - p);
            if (is_drive_letter(buffer)) {
                // The spec keeps the buffer for the path state: reading it again there is the
                // same, as a drive letter holds nothing the path percent-encodes.
                state = State::path;
                break;
            }
            if (!buffer.empty()) {
                if (auto error = url_detail::parse_host(buffer, true, m_s.host)) {
                    return *error;
                }
                if (m_s.host == "localhost") {
                    m_s.host.clear();
                }
            }
            state = State::path_start;
            p = end;
            break;
        }

        case State::path_start:
            if (special()) {
                state = State::path;
                if (c == '/' || c == '\\') {
                    ++p;
                }
            } else if (c == '?') {
                m_has_query = true;
                state = State::query;
                ++p;
            } else if (c == '#') {
                m_has_fragment = true;
                state = State::fragment;
                ++p;
            } else if (c != k_eof) {
                state = State::path;
                if (c == '/') {
                    ++p;
                }
            } else {
                done = true;
            }
            break;

        case State::path:
            parse_path(in, p, state, done);
            break;

        case State::opaque_path: {
            std::size_t end = p;
            while (end < n && in[end] != '?' && in[end] != '#') {
                ++end;
            }
            append_encoded(m_s.path, in.substr(p, end - p), k_c0_set);
            // A space right before '?' or '#' becomes %20, so that the serialization
            // round-trips (a trailing space would otherwise be stripped on reparse).
            if (end < n && end > p && in[end - 1] == ' ') {
                m_s.path.pop_back();
                m_s.path.append("%20");
            }
            p = end;
            if (p == n) {
                done = true;
            } else if (in[p] == '?') {
                m_has_query = true;
                state = State::query;
                ++p;
            } else {
                m_has_fragment = true;
                state = State::fragment;
                ++p;
            }
            break;
        }

        case State::query: {
            std::size_t end = in.find('#', p);
            if (end == std::string_view::npos) {
                end = n;
            }
            m_has_query = true;
            std::string_view text = in.substr(p, end - p);
            // "If encoding is not UTF-8 and url is not special or its scheme is ws or wss,
            // set encoding to UTF-8"; ASCII reads the same in every such encoding.
            thread_local std::string encoded;
            if (m_encoding.encode != nullptr && special() && m_kind != SchemeKind::ws &&
                m_kind != SchemeKind::wss && std::any_of(text.begin(), text.end(), [](char ch) {
                    return static_cast<unsigned char>(ch) >= 0x80;
                })) {
                encoded.clear();
                m_encoding.encode(m_encoding.context, text, encoded);
                text = encoded;
            }
            append_encoded(m_s.query, text, special() ? k_special_query_set : k_query_set);
            if (end == n) {
                done = true;
            } else {
                m_has_fragment = true;
                state = State::fragment;
                p = end + 1;
            }
            break;
        }

        case State::fragment:
            m_has_fragment = true;
            append_encoded(m_s.fragment, in.substr(p), k_fragment_set);
            done = true;
            break;
        }
    }
    return std::nullopt;
}

// Authority, host and port states. The spec buffers the authority up to its end ('/', '?',
// '#', '\' for special schemes, or the end of input); every '@' seen moves what was buffered
// into the userinfo. Equivalently: the userinfo is everything before the last '@' of the
// authority, split at its first ':', and every '@' inside it ends up percent-encoded.
std::optional<UrlError> UrlBuilder::parse_authority(std::string_view in, std::size_t& p) {
    const bool special = m_kind != SchemeKind::other;
    const std::size_t n = in.size();
    std::size_t end = p;
    std::size_t last_at = std::string_view::npos;
    for (; end < n; ++end) {
        const char c = in[end];
        if (c == '/' || c == '?' || c == '#' || (special && c == '\\')) {
            break;
        }
        if (c == '@') {
            last_at = end;
        }
    }
    std::size_t host_begin = p;
    if (last_at != std::string_view::npos) {
        const std::string_view userinfo = in.substr(p, last_at - p);
        const std::size_t colon = userinfo.find(':');
        append_encoded(m_s.username, userinfo.substr(0, colon), k_userinfo_set);
        if (colon != std::string_view::npos) {
            append_encoded(m_s.password, userinfo.substr(colon + 1), k_userinfo_set);
        }
        host_begin = last_at + 1;
        if (host_begin == end) {
            return UrlError::missing_host;
        }
    }
    // Host state: a ':' outside "[...]" starts the port.
    std::size_t host_end = host_begin;
    bool inside_brackets = false;
    for (; host_end < end; ++host_end) {
        const char c = in[host_end];
        if (c == '[') {
            inside_brackets = true;
        } else if (c == ']') {
            inside_brackets = false;
        } else if (c == ':' && !inside_brackets) {
            break;
        }
    }
    if (host_end == host_begin && (special || host_end < end)) {
        return UrlError::missing_host;
    }
    if (auto error = url_detail::parse_host(in.substr(host_begin, host_end - host_begin), special,
                                            m_s.host)) {
        return error;
    }
    m_has_host = true;
    // Port state.
    if (host_end < end) {
        std::uint32_t port = 0;
        const std::size_t digits_begin = host_end + 1;
        for (std::size_t i = digits_begin; i < end; ++i) {
            const int c = static_cast<unsigned char>(in[i]);
            if (!util::is_ascii_digit(c)) {
                return UrlError::invalid_port;
            }
            port = port * 10 + static_cast<std::uint32_t>(c - '0');
            if (port > 65535) {
                return UrlError::invalid_port;
            }
        }
        if (digits_begin < end) {
            m_port = static_cast<int>(port) == default_port(m_kind) ? -1 : static_cast<int>(port);
        }
    }
    p = end;
    return std::nullopt;
}

// Path state, one segment per iteration: a segment is percent-encoded straight into the path
// and then checked for "." / ".." (the spec compares its buffer after encoding too).
void UrlBuilder::parse_path(std::string_view in, std::size_t& p, State& state, bool& done) {
    const bool special = m_kind != SchemeKind::other;
    const std::size_t n = in.size();
    std::string& path = m_s.path;
    const std::uint8_t ends = special ? k_segment_end | k_backslash : k_segment_end;
    while (true) {
        // One pass over the segment: runs of plain bytes appended whole, the bytes of the path
        // percent-encode set escaped, up to the byte that ends the segment (or the input).
        const std::size_t mark = path.size();
        path.push_back('/');
        std::size_t end = p;
        std::size_t run = p;
        while (end < n) {
            const std::uint8_t bits = k_encode_sets[static_cast<unsigned char>(in[end])];
            if ((bits & (ends | k_path_set)) == 0) {
                ++end;
                continue;
            }
            if ((bits & ends) != 0) {
                break;
            }
            path.append(in.data() + run, end - run);
            const auto byte = static_cast<unsigned char>(in[end]);
            const char escaped[3] = {'%', k_hex_upper[byte >> 4], k_hex_upper[byte & 15]};
            path.append(escaped, 3);
            run = ++end;
        }
        path.append(in.data() + run, end - run);
        const std::string_view segment = std::string_view(path).substr(mark + 1);
        const int c = end < n ? static_cast<unsigned char>(in[end]) : k_eof;
        const bool slash = c == '/' || (special && c == '\\');
        if (is_double_dot(segment)) {
            path.resize(mark);
            shorten_path();
            if (!slash) {
                path.push_back('/');
            }
        } else if (is_single_dot(segment)) {
            path.resize(mark);
            if (!slash) {
                path.push_back('/');
            }
        } else if (m_kind == SchemeKind::file && mark == 0 && is_drive_letter(segment)) {
            path[2] = ':';
        }
        p = end + 1;
        if (slash) {
            continue;
        }
        if (c == '?') {
            m_has_query = true;
            state = State::query;
        } else if (c == '#') {
            m_has_fragment = true;
            state = State::fragment;
        } else {
            done = true;
        }
        return;
    }
}

void UrlBuilder::serialize(Url& url) const {
    std::string href = emptied(url);
    const bool userinfo = !m_s.username.empty() || !m_s.password.empty();
    const bool dot_prefix = !m_has_host && !m_opaque_path && m_s.path.size() > 1 &&
                            m_s.path[0] == '/' && m_s.path[1] == '/';
    href.reserve(m_s.scheme.size() + 3 + m_s.username.size() + m_s.password.size() + 2 +
                 m_s.host.size() + 6 + 2 + m_s.path.size() + 1 + m_s.query.size() + 1 +
                 m_s.fragment.size());
    const auto pos = [&] { return static_cast<std::uint32_t>(href.size()); };
    href.append(m_s.scheme);
    url.m_scheme_end = pos();
    href.push_back(':');
    if (m_has_host) {
        href.append("//");
        url.m_user_begin = pos();
        href.append(m_s.username);
        url.m_user_end = pos();
        if (!m_s.password.empty()) {
            href.push_back(':');
            href.append(m_s.password);
        }
        url.m_pass_end = pos();
        if (userinfo) {
            href.push_back('@');
        }
        url.m_host_begin = pos();
        href.append(m_s.host);
        url.m_host_end = pos();
        if (m_port >= 0) {
            href.push_back(':');
            href.append(std::to_string(m_port));
        }
    } else {
        url.m_user_begin = url.m_user_end = url.m_pass_end = pos();
        url.m_host_begin = url.m_host_end = pos();
        if (dot_prefix) {
            href.append("/.");
        }
    }
    url.m_path_begin = pos();
    href.append(m_s.path);
    if (m_has_query) {
        url.m_query_begin = pos();
        href.push_back('?');
        href.append(m_s.query);
    }
    if (m_has_fragment) {
        url.m_fragment_begin = pos();
        href.push_back('#');
        href.append(m_s.fragment);
    }
    url.m_href = std::move(href);
    url.m_port = m_port;
    url.m_scheme_kind = static_cast<std::uint8_t>(m_kind);
    url.m_has_host = m_has_host;
    url.m_opaque_path = m_opaque_path;
}

bool Url::is_http() const noexcept {
    const auto kind = static_cast<SchemeKind>(m_scheme_kind);
    return kind == SchemeKind::http || kind == SchemeKind::https;
}

std::optional<std::uint16_t> Url::port_or_default() const noexcept {
    if (m_port >= 0) {
        return static_cast<std::uint16_t>(m_port);
    }
    const int port = default_port(static_cast<SchemeKind>(m_scheme_kind));
    if (port < 0) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(port);
}

UrlResult parse(std::string_view input, const Url* base) {
    return UrlBuilder::run(input, base);
}

UrlResult parse(std::string_view input, const Url* base, QueryEncoding encoding) {
    return UrlBuilder::run(input, base, encoding);
}

UrlResult parse(std::string_view input, std::string_view base) {
    UrlResult parsed_base = UrlBuilder::run(base, nullptr);
    if (!parsed_base) {
        return parsed_base.error();
    }
    return UrlBuilder::run(input, &*parsed_base);
}

boost::system::result<void, UrlError> parse_into(Url& url, std::string_view input, const Url* base,
                                                 QueryEncoding encoding) {
    if (auto error = UrlBuilder::run(url, input, base, encoding)) {
        return *error;
    }
    return {};
}

UrlResult url_detail::parse_full(std::string_view input, const Url* base, QueryEncoding encoding) {
    Url url;
    if (auto error = UrlBuilder::run_full(url, input, base, encoding)) {
        return *error;
    }
    return url;
}

} // namespace flagcrawl::crawler
