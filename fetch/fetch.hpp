// The fetch engine's public contract: what a request and a response are, the policy every
// strategy applies, and the two variable parts a caller plugs in (where URLs come from, what
// happens to a response). The three strategies differ only in how they schedule transfers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::fetch {

class CookieJar; // cookies.hpp
struct Response;

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

enum class Strategy { sequential, threaded, async };

// "sequential" | "threaded" | "async"; nullopt for anything else.
std::optional<Strategy> parse_strategy(std::string_view name);
std::string_view to_string(Strategy strategy);

// Request policy shared by all strategies, so that they are compared on equal terms.
// Durations are per attempt. A zero limit means "no limit" where noted.
struct Policy {
    Millis connect_timeout{10'000};
    Millis total_timeout{60'000}; // whole attempt, redirects included; 0 = none
    // A transfer slower than this (waiting for the response included) ...
    long low_speed_bytes_per_s = 1024;
    // ... for this long ends with ErrorKind::timeout: a server that never answers or drips.
    // Whole seconds, rounded up; 0 = never.
    Millis low_speed_window{30'000};
    // The body, as sent and once decoded; 0 = unlimited. A Content-Length above it is refused
    // before the body is read.
    std::uint64_t max_body_bytes = 0;
    // Content-encoded bodies (gzip, br, zstd) only, against decompression bombs: the decoded
    // size at most (0 = unlimited) ...
    std::uint64_t max_decoded_bytes = std::uint64_t{1} << 30;
    // ... and at most this many times the bytes received, once past 1 MiB decoded (0 = no
    // limit). Text compresses 3 to 20 times; a gzip bomb about 1000 times.
    int max_decoded_ratio = 100;
    int max_redirects = 10;
    // Attempts after the first one. Retried: 408, 429 and 5xx responses; connection failures
    // (refused, connect timeout); a connection reset or closed before or during the response.
    // Not retried: DNS failures, total timeouts and low-speed aborts (another attempt would
    // likely cost as much again), TLS, too large, too many redirects, bad URLs.
    int retries = 2;
    Millis backoff_base{500}; // exponential: base * 2^(attempt-1), full jitter
    Millis backoff_max{30'000};
    // A retryable response's Retry-After (seconds or HTTP-date) replaces the backoff; a longer
    // one than this is not waited for: the response is returned as is.
    Millis retry_after_max{120'000};
    // false: 429 and 503 are returned at once, never retried here (a crawler re-queues the URL
    // and pauses the host itself, without using up the retry budget).
    bool retry_throttled = true;
    bool compressed = true;           // Accept-Encoding: gzip, br, zstd (decoded transparently)
    std::string user_agent;           // empty = "flagcrawl/<version>"
    std::vector<std::string> headers; // extra "Name: value" lines
    bool verify_tls = true;
    // Every request goes through this HTTP proxy ("http://host:port"), whatever the environment's
    // http_proxy and no_proxy say; errors on the way to it name it. Empty: libcurl's default (the
    // environment's variables).
    std::string proxy;
    // Cookies sent and received by every transfer (null: none kept, none sent).
    std::shared_ptr<CookieJar> cookies;
};

// Where a response body goes. One sink per request; the engine calls it from the thread that
// runs the transfer (loop thread or a worker), never from two threads at once.
class BodySink {
public:
    virtual ~BodySink() = default;
    // Appends decoded body bytes. Returns false to abort the transfer (e.g. disk full); the
    // response then carries ErrorKind::write_failed.
    virtual bool write(std::span<const char> data) = 0;
    // Discards everything written so far: the engine is about to retry the request.
    virtual void reset() = 0;
    // Called before the first write() of each attempt's final response (the one whose body the
    // sink gets: not a redirect hop that is followed), with its status and headers filled in
    // (http_status, content_type, etag, last_modified, content_range, content_encoding). Not
    // called for an empty body. Returns false to abort the transfer (ErrorKind::write_failed).
    virtual bool begin(const Response& head) {
        (void)head;
        return true;
    }
};

// Receives the bytes of a request's HTTP exchanges exactly as they crossed the wire, for
// archiving (WARC). One per request; the engine calls it from the thread that runs the transfer,
// never from two threads at once. A request carrying one is sent as HTTP/1.1 (so that what is
// captured is what was on the wire). Each redirect hop that the engine follows is one exchange:
// request_head() for a hop comes before any response bytes of that hop.
class WireCapture {
public:
    virtual ~WireCapture() = default;
    // Header bytes of the request to `url` as sent (request line to the empty line; possibly
    // in several pieces), on a connection to `remote_ip` ("" when unknown).
    virtual void request_head(std::string_view url, std::string_view remote_ip,
                              std::span<const char> data) = 0;
    // One response header line as received, CRLF included (interim 1xx responses too).
    virtual void response_head(std::span<const char> line) = 0;
    // Response body bytes as received: chunked framing and Content-Encoding kept. Returns false
    // to abort the transfer (ErrorKind::write_failed).
    virtual bool response_body(std::span<const char> data) = 0;
    // Discards everything captured so far: the engine is about to retry the request.
    virtual void reset() = 0;
};

struct Request {
    std::uint64_t id = 0;         // caller's tag, echoed in the Response; opaque to the engine
    std::string url;              // absolute http(s) URL
    bool follow_redirects = true; // false: a 3xx is returned as is (a crawler checks scope)
    // Only the status and headers are wanted (a link check): sent as HEAD, with no size limit
    // (nothing is read). A HEAD answered 4xx or 5xx other than 404, 410, 429 and 503 (405 and
    // 501 say HEAD is not supported; some servers answer it 400 or 403 and GET 200) is sent
    // again at once as GET, a request of its own (not a retry), whose transfer is ended after its
    // headers (no body read: Response::body stays empty, bytes 0).
    bool head = false;
    // No retry, and no GET sent again after a refused HEAD, sooner than this after the previous
    // attempt ended, whatever the backoff drew or Retry-After said: each attempt is a request to
    // the same host, and a crawl sets this to the host's politeness delay (--delay, or robots.txt's
    // Crawl-delay where longer) when the frontier hands the URL out.
    Millis resend_wait_min{0};
    // Extra "Name: value" lines for this request only, sent after the policy's (and in their
    // place when named alike): conditional requests, ranges.
    std::vector<std::string> headers;
    std::unique_ptr<BodySink> sink; // null: the body is collected into Response::body
    // null (the default): nothing is captured and capturing costs nothing.
    std::unique_ptr<WireCapture> capture;
};

// Why a request produced no usable response. HTTP statuses are not errors at this level:
// a 404 is a response (the caller classifies it); a 5xx is one after the retries ran out.
// Each is also a fetch::FailureKind of the same name (outcome.hpp), which jobs record.
enum class ErrorKind {
    dns,               // name resolution failed
    connect,           // refused, unreachable, connect timeout
    timeout,           // total timeout, or the transfer stalled (Policy::low_speed_*)
    too_large,         // the body as sent exceeds Policy::max_body_bytes (Content-Length
                       // announced it, or that many bytes arrived)
    too_large_decoded, // decoding (gzip, br, zstd) took the body past max_body_bytes or past
                       // Policy::max_decoded_ratio times its size on the wire
    too_many_redirects,
    redirect_loop,     // a redirect to a URL already visited in the same chain
    disallowed_scheme, // a URL or redirect to a scheme other than http and https (file:, ftp:)
    reset,             // the connection was reset or lost while sending or receiving
    partial_body,      // the connection closed before the announced end of the body
    protocol,          // a malformed response: status line, headers, chunks, encoding, HTTP/2
    not_http,          // an answer without an HTTP status line (HTTP/0.9)
    empty_reply,       // the connection closed without a byte of reply
    tls,
    write_failed, // the BodySink refused the data
    invalid_url,  // a URL libcurl cannot parse
    interrupted,  // Fetcher::stop(abort) cut it short
    other,
};
std::string_view to_string(ErrorKind kind);

struct Error {
    ErrorKind kind = ErrorKind::other;
    std::string message; // readable, one line, e.g. "connection refused (127.0.0.1:9)"
};

// Milliseconds since the start of the final attempt (libcurl's CURLINFO_*_TIME_T):
// dns and connect are 0 on a reused connection.
struct Timings {
    double dns_ms = 0;
    double connect_ms = 0;
    double ttfb_ms = 0;
    double total_ms = 0;   // final attempt
    double elapsed_ms = 0; // first attempt start to completion, backoff waits included
};

struct Response {
    std::uint64_t id = 0;
    std::string url;       // as requested
    std::string final_url; // after redirects (== url when none)
    int http_status = 0;   // 0 = no HTTP response at all
    std::string content_type;
    std::string location;     // Location of a 3xx that was not followed, made absolute
    std::string x_robots_tag; // X-Robots-Tag, if any (crawler honours it)
    std::string content_disposition;
    std::string etag;             // ETag, as sent (quotes and W/ included)
    std::string last_modified;    // Last-Modified, as sent (an HTTP-date)
    std::string content_range;    // Content-Range, as sent ("bytes 100-199/200", "bytes */200")
    std::string content_encoding; // Content-Encoding, as sent (the body is delivered decoded)
    std::optional<Millis> retry_after; // parsed Retry-After of the final response
    std::string body;                  // only when the request had no sink
    std::uint64_t bytes = 0;           // decoded body bytes delivered (to body or sink)
    int attempts = 0;
    // Requests sent for it, as the servers saw them: every attempt, every redirect hop, and
    // libcurl's silent re-send of a request whose reused connection turned out closed. (A
    // request written to a connection the server had already closed is counted too.)
    int requests = 0;
    Timings timings;
    std::optional<Error> error;
    std::unique_ptr<BodySink> sink;       // the request's sink, handed back for finishing
    std::unique_ptr<WireCapture> capture; // the request's capture (last attempt's exchanges)
};

// Where requests come from: a URL list, a crawl frontier. The engine calls next() and
// on_response() serialized (never concurrently with each other), on the thread named by the
// strategy: the caller's thread (sequential), any worker under the engine's lock (threaded),
// the loop thread (async). They must not block for long.
class WorkSource {
public:
    enum class State {
        ready,    // `request` is filled in
        waiting,  // nothing ready now; ask again at `wake_at` (if set), after any response
                  // completes, or after Fetcher::wake()
        finished, // nothing more, ever (the engine still drains what is in flight)
    };
    struct Next {
        State state = State::finished;
        Request request;
        std::optional<Clock::time_point> wake_at;
    };
    virtual ~WorkSource() = default;
    virtual Next next(Clock::time_point now) = 0;
};

// What happens to a response: write a file, record a row, extract links. Called once per
// request handed out, with the same serialization as WorkSource::next().
class ResponseHandler {
public:
    virtual ~ResponseHandler() = default;
    virtual void on_response(Response&& response) = 0;
    // Called after Fetcher::wake(), with the same serialization as on_response() and before the
    // engine asks the source again: where a handler takes back the work it finished on other
    // threads (a parse pool's pages). Wakes that come close together may share one call; none
    // comes after run() returned.
    virtual void on_wake() {}
};

enum class StopMode {
    drain, // hand out nothing new; let transfers in flight finish (no further retry attempts:
           // a request waiting to retry gets its last attempt's outcome)
    abort, // also cut transfers in flight short (ErrorKind::interrupted)
};

// One strategy. run() blocks the calling thread until the source is finished and nothing is in
// flight, or until stop(); it may be called once. An exception thrown by the source or the
// handler ends run() with that exception (requests then in flight get no response).
class Fetcher {
public:
    virtual ~Fetcher() = default;
    virtual void run(WorkSource& source, ResponseHandler& handler) = 0;
    // Thread-safe: new work may be ready (the source was fed from another thread). The engine
    // calls the handler's on_wake() and then the source's next() on its own thread. May also be
    // called from inside the source or the handler.
    virtual void wake() = 0;
    // Thread-safe; not async-signal-safe (call it from a signal-watching thread). May also be
    // called from inside the source or the handler (e.g. a page limit reached).
    virtual void stop(StopMode mode) = 0;
};

// concurrency: requests in flight at most (sequential ignores it: always 1); below 1 throws
// std::invalid_argument.
std::unique_ptr<Fetcher> make_fetcher(Strategy strategy, Policy policy, int concurrency);

} // namespace flagcrawl::fetch
