// Internal to fetch/: one libcurl easy handle kept configured across requests, and the request
// policy every strategy shares (options, header capture, size limit, retry decision, error
// mapping). The strategies only decide when an attempt runs and where its result goes.
#pragma once

#include "fetch/fetch.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::fetch::detail {

// Initializes libcurl once per process (thread-safe); every fetcher calls it before it creates
// a handle. Never cleaned up: curl_global_cleanup at exit buys nothing and races other users.
void ensure_curl_global();

// Policy settings derived once and shared read-only by every handle of one fetcher.
class SharedPolicy {
public:
    explicit SharedPolicy(Policy policy);
    ~SharedPolicy();
    SharedPolicy(const SharedPolicy&) = delete;
    SharedPolicy& operator=(const SharedPolicy&) = delete;

    const Policy& policy() const { return m_policy; }
    // The header lines every request sends (the policy's, and when direct(), the User-Agent and
    // Accept-Encoding lines libcurl would otherwise format anew for every request), as a list
    // for CURLOPT_HTTPHEADER; null when there are none.
    curl_slist* headers() const { return m_headers; }
    const std::vector<std::string>& header_lines() const { return m_header_lines; }
    const std::string& user_agent() const { return m_user_agent; }
    // What to send as Accept-Encoding (only encodings this libcurl decodes); empty = none.
    const std::string& accept_encoding() const { return m_accept_encoding; }
    // No proxy given and none of the proxy variables libcurl reads (http_proxy, https_proxy,
    // all_proxy, either case) set when the policy was made: every request goes direct.
    bool direct() const { return m_direct; }

private:
    Policy m_policy;
    std::vector<std::string> m_header_lines;
    curl_slist* m_headers = nullptr;
    std::string m_user_agent;
    std::string m_accept_encoding;
    bool m_direct = false;
};

// Decision after an attempt.
struct Verdict {
    bool retry = false;
    Millis delay{0}; // wait before the next attempt
};

// One reusable easy handle and the state of the request it currently carries. Not thread-safe:
// used by one thread at a time (a worker, or the loop thread). Lifecycle per request:
// begin() → { before_attempt() → transfer → after_attempt() }+ → finish() or interrupted().
class Transfer {
public:
    explicit Transfer(const SharedPolicy& policy);
    ~Transfer();
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    CURL* easy() const { return m_easy; }
    // Stored as CURLOPT_PRIVATE: strategies map an easy handle back to their own state.
    void set_private(void* owner);

    void begin(Request&& request, Clock::time_point now);
    // Resets what the previous attempt collected (body, sink, headers) and counts the attempt.
    void before_attempt();
    // Reads the attempt's outcome into the response. `may_retry` false (stopping) forbids a
    // retry. `rng` draws the backoff jitter.
    Verdict after_attempt(CURLcode code, bool may_retry, std::minstd_rand& rng);
    // The response of the last attempt; the transfer is then free for another request.
    Response finish(Clock::time_point now);
    // The response of a request cut short by stop(abort) (in an attempt or between attempts).
    Response interrupted(Clock::time_point now);

private:
    static std::size_t on_write(char* data, std::size_t size, std::size_t count,
                                void* self) noexcept;
    static std::size_t on_header(char* data, std::size_t size, std::size_t count,
                                 void* self) noexcept;
    static int on_prereq(void* self, char* conn_primary_ip, char* conn_local_ip,
                         int conn_primary_port, int conn_local_port) noexcept;
    // Installed only while the request carries a WireCapture (CURLOPT_VERBOSE on).
    static int on_debug(CURL* easy, curl_infotype type, char* data, std::size_t size,
                        void* self) noexcept;
    void set_capturing(bool on);
    // HEAD (true) or GET, and the size limit that goes with it (none for HEAD and headers-only).
    void set_method(bool nobody, bool headers_only);
    void set_request_headers(const std::vector<std::string>& lines);
    // False aborts the attempt (a redirect loop).
    bool header_line(std::string_view line);
    bool end_of_headers();
    bool body_too_large(std::size_t more);
    void reserve_body(std::size_t first_write);
    void reset_headers();
    Error make_error(CURLcode code) const;
    std::string limit_message() const;
    Response take(Clock::time_point now);

    const SharedPolicy& m_shared;
    CURL* m_easy = nullptr;
    // The current request's header list when it has lines of its own (else the policy's is set).
    curl_slist* m_request_headers = nullptr;
    char m_error_buffer[CURL_ERROR_SIZE] = {};

    // The current request.
    Response m_response;
    bool m_follow = true;
    Millis m_resend_wait_min{0}; // Request::resend_wait_min
    // Request::head: the current attempt is a HEAD (`m_nobody`), or a GET ended after its
    // headers (`m_headers_only` without m_nobody).
    bool m_headers_only = false;
    bool m_nobody = false;
    bool m_capturing = false; // the handle is set up for m_response.capture
    Clock::time_point m_started{};

    // The current attempt.
    enum class Limit {
        none,
        body,         // max_body_bytes, as sent (no Content-Encoding)
        decoded_body, // max_body_bytes, once decoded
        decoded_cap,  // max_decoded_bytes
        ratio,        // max_decoded_ratio
    };
    struct Attempt {
        Limit limit = Limit::none;    // the body limit that cut it short, if any
        std::uint64_t wire_bytes = 0; // Limit::ratio: body bytes received when it tripped
        bool sink_failed = false;
        bool redirect_loop = false; // a redirect led back into the chain (m_chain)
        bool connected = false;     // a connection was ready for a request (CURLOPT_PREREQFUNCTION)
        bool encoded = false;       // the current response has a Content-Encoding
        bool body_started = false;  // the sink's begin() was called (or there is no sink)
        bool headers_read = false;  // a headers-only GET ended at its first body byte
        int status = 0;             // of the last status line received; 0: none yet
        std::string location;       // the current response's Location header
    };
    Attempt m_attempt;
    bool m_capture_failed = false;
    std::string m_remote_ip; // of the connection of the hop being sent (capturing only)
    // Following redirects: the URLs requested in this attempt, normalized without fragment;
    // empty until its first redirect (end_of_headers() starts it with the requested URL).
    std::vector<std::string> m_chain;
};

// Retry-After value: delay-seconds or an HTTP-date (relative to `now`); nullopt if malformed.
std::optional<Millis> parse_retry_after(std::string_view value,
                                        std::chrono::system_clock::time_point now);
// Full-jitter exponential backoff before attempt `attempt + 1` (attempt >= 1).
Millis backoff_delay(const Policy& policy, int attempt, std::minstd_rand& rng);
// Statuses worth another attempt: 408, 429, 5xx.
bool retryable_status(int status);
// A HEAD answered with this status is asked again with GET (Request::head).
bool head_refused(int status);

} // namespace flagcrawl::fetch::detail
