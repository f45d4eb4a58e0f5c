#include "fetch/transfer.hpp"

#include "fetch/cookies.hpp"
#include "util/ascii.hpp"
#include "util/elide.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dlfcn.h>
#include <iterator>
#include <mutex>
#include <stdexcept>

#ifndef FLAGCRAWL_VERSION
#define FLAGCRAWL_VERSION "0"
#endif

namespace flagcrawl::fetch::detail {

namespace {

double micros_to_ms(CURL* easy, CURLINFO info) {
    curl_off_t us = 0;
    curl_easy_getinfo(easy, info, &us);
    return static_cast<double>(us) / 1000.0;
}

// "host:port" of a URL, for messages about connections; the URL itself when it does not parse. A
// URL without a scheme ("proxy:3128") is read as http.
std::string host_port(const std::string& url) {
    std::string out = url;
    CURLU* u = curl_url();
    if (!u) {
        return out;
    }
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_GUESS_SCHEME) == CURLUE_OK) {
        char* host = nullptr;
        char* port = nullptr;
        if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
            out = std::string(host) + ":" + port;
        }
        curl_free(host);
        curl_free(port);
    }
    curl_url_cleanup(u);
    return out;
}

// `location` resolved against `base` and normalized as libcurl requests it, without fragment;
// nullopt when it does not parse.
std::optional<std::string> resolve_url(const char* base, const std::string& location) {
    CURLU* u = curl_url();
    if (!u) {
        return std::nullopt;
    }
    std::optional<std::string> out;
    char* text = nullptr;
    if ((base == nullptr || curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK) &&
        curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_FRAGMENT, nullptr, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &text, 0) == CURLUE_OK) {
        out = text;
    }
    curl_free(text);
    curl_url_cleanup(u);
    return out;
}

bool is_redirect_status(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Decoded bytes past which the ratio guard applies: small bodies of repeated bytes compress
// far better than any guard would allow.
constexpr std::uint64_t k_ratio_floor = 1 << 20;

// At most this much of a body kept in memory is reserved from its Content-Length up front.
constexpr std::uint64_t k_max_body_reserve = 8 << 20;

// A URL longer than this that libcurl fails with "Out of memory" did not fit in its request
// buffer (1 MiB for the whole head): reported as too long. No server takes one this long anyway.
constexpr std::size_t k_long_url_bytes = 64 * 1024;

bool is_tls_error(CURLcode code) {
    switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

// Failures of an established connection that another attempt may well not meet: the peer
// reset or closed it (mid-body or before any reply), or an HTTP/2 stream was refused.
bool is_retryable(ErrorKind kind, CURLcode code) {
    switch (kind) {
    case ErrorKind::connect:
    case ErrorKind::reset:
    case ErrorKind::partial_body:
    case ErrorKind::empty_reply:
        return true;
    case ErrorKind::protocol:
        return code == CURLE_HTTP2 || code == CURLE_HTTP2_STREAM;
    default:
        return false;
    }
}

// libcurl's global init also initialises libssh2, whose first libssh2_init() initialises
// OpenSSL's whole libcrypto (config, engines, every algorithm): pages every run would keep
// resident for nothing, since transfers are limited to http and https (ARCHITECTURE.md,
// "Memory"). libssh2_init counts its callers and only the first one decides, so calling it first
// with LIBSSH2_INIT_NO_CRYPTO (1, part of libssh2's ABI) leaves OpenSSL alone. Looked up at run
// time: a libcurl built without libssh2 has no such symbol, and then there is nothing to skip.
void skip_libssh2_crypto_init() {
    using Init = int (*)(int);
    constexpr int libssh2_init_no_crypto = 0x0001;
    if (auto* init = reinterpret_cast<Init>(dlsym(RTLD_DEFAULT, "libssh2_init"))) {
        init(libssh2_init_no_crypto);
    }
}

// The name of a "Name: value" header line.
std::string_view header_name(std::string_view line) {
    return line.substr(0, line.find(':'));
}

// Whether one of `lines` is a header line named `name` (names compare case-insensitively).
bool names_header(const std::vector<std::string>& lines, std::string_view name) {
    return std::any_of(lines.begin(), lines.end(), [name](const std::string& line) {
        return util::iequals(header_name(line), name);
    });
}

// The environment variables libcurl looks a request's proxy up in (HTTP_PROXY included, which
// it ignores, so that setting it never makes a difference here).
constexpr const char* k_proxy_variables[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                             "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};

} // namespace

void ensure_curl_global() {
    static std::once_flag once;
    std::call_once(once, [] {
        skip_libssh2_crypto_init();
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("libcurl initialization failed");
        }
    });
}

SharedPolicy::SharedPolicy(Policy policy)
    : m_policy(std::move(policy)) {
    ensure_curl_global();
    m_direct = m_policy.proxy.empty() &&
               std::none_of(std::begin(k_proxy_variables), std::end(k_proxy_variables),
                            [](const char* name) { return std::getenv(name) != nullptr; });
    m_user_agent =
        m_policy.user_agent.empty() ? "flagcrawl/" FLAGCRAWL_VERSION : m_policy.user_agent;
    if (m_policy.compressed) {
        const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
        auto add = [this](const char* name) {
            if (!m_accept_encoding.empty()) {
                m_accept_encoding += ", ";
            }
            m_accept_encoding += name;
        };
        if (info->features & CURL_VERSION_LIBZ) {
            add("gzip");
        }
        if (info->features & CURL_VERSION_BROTLI) {
            add("br");
        }
        if (info->features & CURL_VERSION_ZSTD) {
            add("zstd");
        }
    }
    m_header_lines = m_policy.headers;
    // libcurl formats CURLOPT_USERAGENT and CURLOPT_ACCEPT_ENCODING into a header line of their
    // own for every request (with its printf, a byte at a time), then copies that into the
    // request; a line of the list is copied once. A line the user gave (-H) keeps precedence, as
    // it did over the options. Only without a proxy for the User-Agent: CONNECT requests to a
    // proxy carry CURLOPT_USERAGENT, never the list. CURLOPT_ACCEPT_ENCODING stays set either
    // way: it is what makes libcurl decode the bodies.
    if (m_direct && !names_header(m_policy.headers, "User-Agent")) {
        m_header_lines.push_back("User-Agent: " + m_user_agent);
    }
    if (!m_accept_encoding.empty() && !names_header(m_policy.headers, "Accept-Encoding")) {
        m_header_lines.push_back("Accept-Encoding: " + m_accept_encoding);
    }
    for (const auto& line : m_header_lines) {
        curl_slist* next = curl_slist_append(m_headers, line.c_str());
        if (!next) {
            curl_slist_free_all(m_headers);
            throw std::bad_alloc();
        }
        m_headers = next;
    }
}

SharedPolicy::~SharedPolicy() {
    curl_slist_free_all(m_headers);
}

Transfer::Transfer(const SharedPolicy& shared)
    : m_shared(shared) {
    m_easy = curl_easy_init();
    if (!m_easy) {
        throw std::bad_alloc();
    }
    const Policy& p = shared.policy();
    CURL* e = m_easy;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); // worker threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, m_error_buffer);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &Transfer::on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, this);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(p.max_redirects));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(p.connect_timeout.count()));
    // A body announced (Content-Length) larger than the limit is refused before it is read.
    if (p.max_body_bytes > 0) {
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(p.max_body_bytes));
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(p.total_timeout.count()));
    if (p.low_speed_window.count() > 0 && p.low_speed_bytes_per_s > 0) {
        // libcurl counts the window in whole seconds.
        const long seconds = static_cast<long>((p.low_speed_window.count() + 999) / 1000);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, p.low_speed_bytes_per_s);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, seconds);
    }
    if (!shared.accept_encoding().empty()) {
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, shared.accept_encoding().c_str());
    }
    if (!shared.direct()) {
        curl_easy_setopt(e, CURLOPT_USERAGENT, shared.user_agent().c_str()); // else a list line
    }
    if (shared.headers()) {
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, shared.headers());
    }
    if (!p.verify_tls) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!p.proxy.empty()) {
        curl_easy_setopt(e, CURLOPT_PROXY, p.proxy.c_str());
        // A proxy given explicitly takes every request: the environment's no_proxy (which often
        // lists localhost) does not send some around it.
        curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    } else if (shared.direct()) {
        // Said once here, so that libcurl does not look the proxy variables and no_proxy up in
        // the environment again for every request (up to six getenv scans of it and copies).
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    }
    if (p.cookies) {
        curl_easy_setopt(e, CURLOPT_SHARE, p.cookies->share());
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); // the cookie engine on, no file of its own
    }
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    // curl's default 16 KiB: 64 KiB measured no CPU gain on 1-16 KiB files and cost ~1 MiB of
    // RSS at 64 connections.
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 16L * 1024);
}

Transfer::~Transfer() {
    curl_easy_cleanup(m_easy);
    curl_slist_free_all(m_request_headers);
}

void Transfer::set_private(void* owner) {
    curl_easy_setopt(m_easy, CURLOPT_PRIVATE, owner);
}

void Transfer::begin(Request&& request, Clock::time_point now) {
    m_response = Response{};
    m_response.id = request.id;
    m_response.url = std::move(request.url);
    m_response.sink = std::move(request.sink);
    m_response.capture = std::move(request.capture);
    m_resend_wait_min = request.resend_wait_min;
    if ((m_response.capture != nullptr) != m_capturing) {
        set_capturing(m_response.capture != nullptr);
    }
    if (request.follow_redirects != m_follow) {
        m_follow = request.follow_redirects;
        curl_easy_setopt(m_easy, CURLOPT_FOLLOWLOCATION, m_follow ? 1L : 0L);
    }
    if (request.head || m_headers_only) {
        set_method(request.head, request.head);
    }
    curl_easy_setopt(m_easy, CURLOPT_URL, m_response.url.c_str());
    set_request_headers(request.headers);
    m_started = now;
}

void Transfer::set_method(bool nobody, bool headers_only) {
    if (nobody) {
        curl_easy_setopt(m_easy, CURLOPT_NOBODY, 1L);
    } else if (m_nobody) {
        curl_easy_setopt(m_easy, CURLOPT_HTTPGET, 1L); // back from HEAD to GET
    }
    if (headers_only != m_headers_only) {
        const std::uint64_t max = m_shared.policy().max_body_bytes;
        curl_easy_setopt(m_easy, CURLOPT_MAXFILESIZE_LARGE,
                         static_cast<curl_off_t>(headers_only ? 0 : max));
    }
    m_nobody = nobody;
    m_headers_only = headers_only;
}

// The policy's header list, or a copy of it with the request's own lines appended. libcurl would
// send two lines of one name, so a request's line replaces the policy's line of that name.
void Transfer::set_request_headers(const std::vector<std::string>& lines) {
    if (lines.empty() && m_request_headers == nullptr) {
        return;
    }
    curl_slist_free_all(m_request_headers);
    m_request_headers = nullptr;
    if (lines.empty()) {
        curl_easy_setopt(m_easy, CURLOPT_HTTPHEADER, m_shared.headers());
        return;
    }
    auto append = [this](const std::string& line) {
        curl_slist* next = curl_slist_append(m_request_headers, line.c_str());
        if (next == nullptr) {
            throw std::bad_alloc();
        }
        m_request_headers = next;
    };
    for (const std::string& line : m_shared.header_lines()) {
        if (!names_header(lines, header_name(line))) { // a request's own line replaces it
            append(line);
        }
    }
    for (const std::string& line : lines) {
        append(line);
    }
    curl_easy_setopt(m_easy, CURLOPT_HTTPHEADER, m_request_headers);
}

// Capturing needs the raw bytes, which only the debug callback sees (before chunked and content
// decoding), and HTTP/1.1, whose header blocks are what goes over the wire. Switched per request
// so that requests without a capture pay nothing.
void Transfer::set_capturing(bool on) {
    m_capturing = on;
    curl_easy_setopt(m_easy, CURLOPT_DEBUGFUNCTION,
                     on ? &Transfer::on_debug : static_cast<curl_debug_callback>(nullptr));
    curl_easy_setopt(m_easy, CURLOPT_DEBUGDATA, on ? this : nullptr);
    curl_easy_setopt(m_easy, CURLOPT_VERBOSE, on ? 1L : 0L);
    curl_easy_setopt(m_easy, CURLOPT_HTTP_VERSION,
                     on ? static_cast<long>(CURL_HTTP_VERSION_1_1)
                        : static_cast<long>(CURL_HTTP_VERSION_NONE));
}

void Transfer::before_attempt() {
    if (++m_response.attempts > 1) {
        if (m_response.sink) {
            m_response.sink->reset();
        }
        if (m_response.capture) {
            m_response.capture->reset();
        }
        m_response.body.clear();
    }
    m_response.bytes = 0;
    m_response.http_status = 0;
    m_response.error.reset();
    m_response.location.clear();
    m_capture_failed = false;
    m_attempt = Attempt{};
    m_chain.clear();
    m_error_buffer[0] = '\0';
    reset_headers();
}

void Transfer::reset_headers() {
    m_response.content_type.clear();
    m_response.x_robots_tag.clear();
    m_response.content_disposition.clear();
    m_response.etag.clear();
    m_response.last_modified.clear();
    m_response.content_range.clear();
    m_response.content_encoding.clear();
    m_response.retry_after.reset();
}

std::size_t Transfer::on_write(char* data, std::size_t size, std::size_t count,
                               void* self) noexcept {
    auto& t = *static_cast<Transfer*>(self);
    const std::size_t n = size * count;
    if (t.m_capture_failed) { // the debug callback cannot abort: the next write does
        return CURL_WRITEFUNC_ERROR;
    }
    if (t.m_headers_only) { // the status and headers are in: the body is not wanted
        t.m_attempt.headers_read = true;
        return CURL_WRITEFUNC_ERROR;
    }
    // Counted after decoding: the chunk that would cross a limit is refused, which also stops
    // the decompression (a gzip bomb is never inflated past it).
    if (t.body_too_large(n)) {
        return CURL_WRITEFUNC_ERROR;
    }
    try {
        if (!t.m_attempt.body_started) {
            t.m_attempt.body_started = true;
            t.m_response.http_status = t.m_attempt.status;
            if (t.m_response.sink && !t.m_response.sink->begin(t.m_response)) {
                t.m_attempt.sink_failed = true;
                return CURL_WRITEFUNC_ERROR;
            }
            if (!t.m_response.sink) {
                t.reserve_body(n);
            }
        }
        if (t.m_response.sink) {
            if (!t.m_response.sink->write({data, n})) {
                t.m_attempt.sink_failed = true;
                return CURL_WRITEFUNC_ERROR;
            }
        } else {
            t.m_response.body.append(data, n);
        }
    } catch (...) {
        t.m_attempt.sink_failed = true;
        return CURL_WRITEFUNC_ERROR;
    }
    t.m_response.bytes += n;
    return n;
}

// A body kept in memory grows once, to the announced Content-Length (a lower bound for an encoded
// one), instead of by doubling: each doubling copied what had come so far. What is reserved
// is bounded by the body limit and by k_max_body_reserve, so that a lying header costs no
// more memory than the body could.
void Transfer::reserve_body(std::size_t first_write) {
    curl_off_t announced = -1;
    if (curl_easy_getinfo(m_easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) != CURLE_OK ||
        announced <= 0) {
        return;
    }
    auto want = static_cast<std::uint64_t>(announced);
    const std::uint64_t limit = m_shared.policy().max_body_bytes;
    if (limit != 0) {
        want = std::min(want, limit);
    }
    want = std::min<std::uint64_t>(want, k_max_body_reserve);
    if (want > first_write) {
        m_response.body.reserve(static_cast<std::size_t>(want));
    }
}

bool Transfer::body_too_large(std::size_t more) {
    const Policy& p = m_shared.policy();
    const std::uint64_t decoded = m_response.bytes + more;
    if (p.max_body_bytes != 0 && decoded > p.max_body_bytes) {
        m_attempt.limit = m_attempt.encoded ? Limit::decoded_body : Limit::body;
        return true;
    }
    if (!m_attempt.encoded) {
        return false;
    }
    if (p.max_decoded_bytes != 0 && decoded > p.max_decoded_bytes) {
        m_attempt.limit = Limit::decoded_cap;
        return true;
    }
    if (p.max_decoded_ratio > 0 && decoded > k_ratio_floor) {
        curl_off_t wire = 0;
        curl_easy_getinfo(m_easy, CURLINFO_SIZE_DOWNLOAD_T, &wire);
        if (static_cast<double>(decoded) >
            p.max_decoded_ratio * static_cast<double>(std::max<curl_off_t>(wire, 1))) {
            m_attempt.limit = Limit::ratio;
            m_attempt.wire_bytes = static_cast<std::uint64_t>(wire);
            return true;
        }
    }
    return false;
}

std::size_t Transfer::on_header(char* data, std::size_t size, std::size_t count,
                                void* self) noexcept {
    const std::size_t n = size * count;
    try {
        auto& t = *static_cast<Transfer*>(self);
        if (t.m_response.capture) {
            t.m_response.capture->response_head({data, n});
        }
        if (!t.header_line({data, n})) {
            return 0;
        }
    } catch (...) {
        return 0; // out of memory: fail the attempt rather than throw through libcurl
    }
    return n;
}

int Transfer::on_prereq(void* self, char* conn_primary_ip, char*, int, int) noexcept {
    auto& t = *static_cast<Transfer*>(self);
    t.m_attempt.connected = true;
    ++t.m_response.requests; // called once per request sent, re-sends and redirect hops included
    if (t.m_capturing) {
        try {
            t.m_remote_ip = conn_primary_ip ? conn_primary_ip : "";
        } catch (...) {
            return CURL_PREREQFUNC_ABORT;
        }
    }
    return CURL_PREREQFUNC_OK;
}

int Transfer::on_debug(CURL* easy, curl_infotype type, char* data, std::size_t size,
                       void* self) noexcept {
    auto& t = *static_cast<Transfer*>(self);
    if (!t.m_response.capture || t.m_capture_failed) {
        return 0;
    }
    try {
        if (type == CURLINFO_HEADER_OUT) {
            const char* url = nullptr;
            curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
            t.m_response.capture->request_head(url ? url : t.m_response.url, t.m_remote_ip,
                                               {data, size});
        } else if (type == CURLINFO_DATA_IN) {
            if (!t.m_response.capture->response_body({data, size})) {
                t.m_capture_failed = true;
            }
        }
    } catch (...) {
        t.m_capture_failed = true;
    }
    return 0;
}

bool Transfer::header_line(std::string_view line) {
    line = util::trim(line);
    if (line.empty()) {
        return end_of_headers();
    }
    if (line.starts_with("HTTP/")) {
        // A new response (redirect hop, 1xx, or the final one): forget the previous one's.
        reset_headers();
        m_attempt.encoded = false;
        m_attempt.location.clear();
        const auto space = line.find(' ');
        int status = 0;
        if (space != std::string_view::npos) {
            std::from_chars(line.data() + space + 1, line.data() + line.size(), status);
        }
        m_attempt.status = status;
        if (m_follow && status >= 300 && status < 400) {
            m_attempt.connected = false; // the next hop may connect elsewhere
        }
        return true;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        return true;
    }
    const std::string_view name = util::trim(line.substr(0, colon));
    const std::string_view value = util::trim(line.substr(colon + 1));
    if (util::iequals(name, "content-type")) {
        m_response.content_type = value;
    } else if (util::iequals(name, "x-robots-tag")) {
        if (!m_response.x_robots_tag.empty()) {
            m_response.x_robots_tag += ", ";
        }
        m_response.x_robots_tag += value;
    } else if (util::iequals(name, "content-disposition")) {
        m_response.content_disposition = value;
    } else if (util::iequals(name, "retry-after")) {
        m_response.retry_after = parse_retry_after(value, std::chrono::system_clock::now());
    } else if (util::iequals(name, "content-encoding")) {
        m_attempt.encoded = !value.empty() && !util::iequals(value, "identity");
        m_response.content_encoding = value;
    } else if (util::iequals(name, "etag")) {
        m_response.etag = value;
    } else if (util::iequals(name, "last-modified")) {
        m_response.last_modified = value;
    } else if (util::iequals(name, "content-range")) {
        m_response.content_range = value;
    } else if (util::iequals(name, "location")) {
        m_attempt.location = value;
    }
    return true;
}

bool Transfer::end_of_headers() {
    if (!m_follow || !is_redirect_status(m_attempt.status) || m_attempt.location.empty()) {
        return true;
    }
    // libcurl follows this redirect next: a URL already requested in this chain is a loop,
    // ended here rather than after max_redirects requests.
    if (m_chain.empty()) {
        // The attempt's first redirect: the chain starts at the requested URL, normalized as the
        // targets are. Only now, not before every attempt: most requests are never redirected,
        // and libcurl's URL API costs ~15 k instructions a URL.
        if (auto normalized = resolve_url(nullptr, m_response.url)) {
            m_chain.push_back(std::move(*normalized));
        }
    }
    const char* current = nullptr;
    curl_easy_getinfo(m_easy, CURLINFO_EFFECTIVE_URL, &current);
    auto target = resolve_url(current, m_attempt.location);
    if (!target) {
        return true; // libcurl reports it
    }
    if (std::find(m_chain.begin(), m_chain.end(), *target) != m_chain.end()) {
        m_attempt.redirect_loop = true;
        m_response.location = *target;
        return false;
    }
    m_chain.push_back(std::move(*target));
    return true;
}

Verdict Transfer::after_attempt(CURLcode code, bool may_retry, std::minstd_rand& rng) {
    CURL* e = m_easy;
    if (code == CURLE_OK && m_capture_failed) { // failed after the last body write (or without one)
        code = CURLE_WRITE_ERROR;
    }
    if (code == CURLE_WRITE_ERROR && m_attempt.headers_read && !m_capture_failed) {
        code = CURLE_OK; // ended on purpose after the headers
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    m_response.http_status = static_cast<int>(status);
    const char* effective = nullptr;
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective);
    m_response.final_url = effective ? effective : m_response.url;
    if (status >= 300 && status < 400) {
        const char* location = nullptr;
        curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &location);
        if (location) {
            m_response.location = location;
        }
    }
    Timings& t = m_response.timings;
    t.dns_ms = micros_to_ms(e, CURLINFO_NAMELOOKUP_TIME_T);
    t.connect_ms = micros_to_ms(e, CURLINFO_CONNECT_TIME_T);
    t.ttfb_ms = micros_to_ms(e, CURLINFO_STARTTRANSFER_TIME_T);
    t.total_ms = micros_to_ms(e, CURLINFO_TOTAL_TIME_T);

    const Policy& p = m_shared.policy();
    if (m_nobody && code == CURLE_OK && head_refused(m_response.http_status) && may_retry) {
        set_method(false, true);
        return {true, m_resend_wait_min};
    }
    bool retryable = false;
    std::optional<Millis> delay;
    if (code != CURLE_OK) {
        m_response.error = make_error(code);
        retryable = is_retryable(m_response.error->kind, code);
    } else if (retryable_status(m_response.http_status)) {
        const bool throttled = m_response.http_status == 429 || m_response.http_status == 503;
        retryable = p.retry_throttled || !throttled;
        if (m_response.retry_after) {
            if (*m_response.retry_after > p.retry_after_max) {
                retryable = false; // the server asks for longer than we are willing to wait
            } else {
                delay = *m_response.retry_after;
            }
        }
    }
    if (!retryable || !may_retry || m_response.attempts > p.retries) {
        return {};
    }
    return {true, std::max(delay ? *delay : backoff_delay(p, m_response.attempts, rng),
                           m_resend_wait_min)};
}

Error Transfer::make_error(CURLcode code) const {
    const std::string& where_url =
        m_response.final_url.empty() ? m_response.url : m_response.final_url;
    const std::string detail = m_error_buffer[0] ? m_error_buffer : curl_easy_strerror(code);
    auto error = [](ErrorKind kind, std::string what, const std::string& where) {
        std::string message = what + " (" + util::elide(where) + ")";
        std::replace_if(
            message.begin(), message.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
        return Error{kind, std::move(message)};
    };
    const Policy& p = m_shared.policy();
    // Through a proxy, connections are made to the proxy: their failures name it.
    const bool proxied = !p.proxy.empty();
    const std::string where_connect =
        proxied ? "proxy " + host_port(p.proxy) : host_port(where_url);
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return error(ErrorKind::dns, "cannot resolve host", host_port(where_url));
    case CURLE_COULDNT_RESOLVE_PROXY:
        return error(ErrorKind::dns, "cannot resolve proxy", where_connect);
    case CURLE_PROXY:
        return error(ErrorKind::connect, "proxy failed: " + detail, where_connect);
    case CURLE_COULDNT_CONNECT: {
        long os_errno = 0;
        curl_easy_getinfo(m_easy, CURLINFO_OS_ERRNO, &os_errno);
        std::string what =
            os_errno == ECONNREFUSED ? std::string("connection refused")
            : os_errno != 0
                ? "cannot connect: " + std::string(std::strerror(static_cast<int>(os_errno)))
                : "cannot connect";
        return error(ErrorKind::connect, std::move(what), where_connect);
    }
    case CURLE_OPERATION_TIMEDOUT:
        if (!m_attempt.connected) {
            return error(ErrorKind::connect, "connect timed out", where_connect);
        }
        if (std::string_view(detail).starts_with("Operation too slow")) {
            return error(ErrorKind::timeout,
                         "transfer stalled: under " + std::to_string(p.low_speed_bytes_per_s) +
                             " B/s for " + std::to_string(p.low_speed_window.count()) + " ms",
                         where_url);
        }
        return error(ErrorKind::timeout,
                     "timed out after " + std::to_string(p.total_timeout.count()) + " ms",
                     where_url);
    case CURLE_WRITE_ERROR:
        if (m_attempt.redirect_loop) {
            return error(ErrorKind::redirect_loop, "redirect loop back to " + m_response.location,
                         m_response.url);
        }
        if (m_attempt.limit != Limit::none) {
            return error(m_attempt.limit == Limit::body ? ErrorKind::too_large
                                                        : ErrorKind::too_large_decoded,
                         limit_message(), where_url);
        }
        if (m_attempt.sink_failed) {
            return error(ErrorKind::write_failed, "cannot store the body", where_url);
        }
        if (m_capture_failed) {
            return error(ErrorKind::write_failed, "cannot capture the exchange", where_url);
        }
        return error(ErrorKind::other, detail, where_url);
    case CURLE_FILESIZE_EXCEEDED:
        return error(ErrorKind::too_large,
                     "body larger than " + std::to_string(p.max_body_bytes) +
                         " bytes (announced by Content-Length, not read)",
                     where_url);
    case CURLE_TOO_MANY_REDIRECTS:
        return error(ErrorKind::too_many_redirects,
                     "more than " + std::to_string(p.max_redirects) + " redirects", where_url);
    case CURLE_UNSUPPORTED_PROTOCOL:
        // No status line on an open connection: an HTTP/0.9 answer, which libcurl refuses.
        if (m_attempt.connected && m_attempt.status == 0) {
            return error(ErrorKind::not_http, "not an HTTP response (no status line)", where_url);
        }
        return error(ErrorKind::disallowed_scheme,
                     m_attempt.status >= 300 && m_attempt.status < 400
                         ? "redirect to a scheme other than http and https"
                         : "a scheme other than http and https",
                     where_url);
    case CURLE_URL_MALFORMAT:
        return error(ErrorKind::invalid_url, detail, where_url);
    case CURLE_OUT_OF_MEMORY:
        // libcurl builds a request head of at most 1 MiB and says "Out of memory" past it.
        if (m_response.url.size() > k_long_url_bytes) {
            return error(ErrorKind::invalid_url,
                         "URL too long (" + std::to_string(m_response.url.size()) + " bytes)",
                         m_response.url);
        }
        return error(ErrorKind::other, detail, where_url);
    case CURLE_ABORTED_BY_CALLBACK:
        return error(ErrorKind::interrupted, "interrupted", where_url);
    case CURLE_GOT_NOTHING:
        return error(ErrorKind::empty_reply, "connection closed without a reply", where_url);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        return error(ErrorKind::reset, detail, where_url);
    case CURLE_PARTIAL_FILE:
        return error(ErrorKind::partial_body, detail, where_url);
    case CURLE_WEIRD_SERVER_REPLY:
        if (m_attempt.connected && m_attempt.status == 0) {
            return error(ErrorKind::not_http, detail, where_url);
        }
        return error(ErrorKind::protocol, detail, where_url);
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
        return error(ErrorKind::protocol, detail, where_url);
    default:
        if (is_tls_error(code)) {
            return error(ErrorKind::tls, "TLS: " + detail, host_port(where_url));
        }
        return error(ErrorKind::other, detail, where_url);
    }
}

std::string Transfer::limit_message() const {
    const Policy& p = m_shared.policy();
    switch (m_attempt.limit) {
    case Limit::body:
        return "body larger than " + std::to_string(p.max_body_bytes) + " bytes";
    case Limit::decoded_body:
        return "decoded body larger than " + std::to_string(p.max_body_bytes) + " bytes";
    case Limit::decoded_cap:
        return "decoded body larger than " + std::to_string(p.max_decoded_bytes) + " bytes";
    case Limit::ratio:
        return "decoded body over " + std::to_string(p.max_decoded_ratio) +
               " times its size on the wire (" + std::to_string(m_response.bytes) + " bytes from " +
               std::to_string(m_attempt.wire_bytes) + ")";
    case Limit::none:
        break;
    }
    return "body too large";
}

Response Transfer::take(Clock::time_point now) {
    m_response.timings.elapsed_ms =
        std::chrono::duration<double, std::milli>(now - m_started).count();
    return std::move(m_response);
}

Response Transfer::finish(Clock::time_point now) {
    return take(now);
}

Response Transfer::interrupted(Clock::time_point now) {
    m_response.error = Error{ErrorKind::interrupted, "interrupted (" + m_response.url + ")"};
    return take(now);
}

std::optional<Millis> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now) {
    value = util::trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        std::int64_t seconds = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec == std::errc::result_out_of_range) {
            return Millis::max();
        }
        if (ec != std::errc() || end != value.data() + value.size()) {
            return std::nullopt;
        }
        if (seconds > Millis::max().count() / 1000) {
            return Millis::max();
        }
        return Millis(seconds * 1000);
    }
    // HTTP-date (IMF-fixdate, or the obsolete RFC 850 / asctime forms: curl_getdate reads all).
    const std::string text(value);
    const time_t when = curl_getdate(text.c_str(), nullptr);
    if (when == -1) {
        return std::nullopt;
    }
    const auto target = std::chrono::system_clock::from_time_t(when);
    if (target <= now) {
        return Millis(0);
    }
    return std::chrono::ceil<Millis>(target - now);
}

Millis backoff_delay(const Policy& policy, int attempt, std::minstd_rand& rng) {
    const int doublings = std::clamp(attempt - 1, 0, 40);
    const auto base = static_cast<long double>(policy.backoff_base.count());
    const long double ceiling =
        std::min(base * static_cast<long double>(std::uint64_t{1} << doublings),
                 static_cast<long double>(policy.backoff_max.count()));
    const auto cap = static_cast<Millis::rep>(std::max<long double>(ceiling, 0));
    if (cap <= 0) {
        return Millis(0);
    }
    std::uniform_int_distribution<Millis::rep> jitter(0, cap);
    return Millis(jitter(rng));
}

bool retryable_status(int status) {
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

bool head_refused(int status) {
    return status >= 400 && status <= 599 && status != 404 && status != 410 && status != 429 &&
           status != 503;
}

} // namespace flagcrawl::fetch::detail
