// How a finished response is judged by every job (ok, not found or error, with a reason and a
// kind), and the one vocabulary of failure kinds that jobs record and report.
#pragma once

#include "fetch/fetch.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::fetch {

enum class Outcome { ok, not_found, error };
std::string_view to_string(Outcome outcome);

// Why an item did not end ok: the engine's ErrorKind (same names), a response whose status is a
// failure, and what the jobs decide without a usable response. Every job records it in the
// error_kind column of `downloads` and `pages` as its code (storage/README.md lists them):
// codes are stored, so a code is never renamed or reused.
enum class FailureKind : std::uint8_t {
    // The engine's (ErrorKind).
    dns,
    connect,
    timeout,
    too_large,
    too_large_decoded,
    too_many_redirects,
    redirect_loop,
    disallowed_scheme,
    reset,
    partial_body,
    protocol,
    not_http,
    empty_reply,
    tls,
    write_failed,
    invalid_url,
    interrupted,
    other,
    // A response.
    http_status, // a status that is a failure (4xx, 5xx, a 3xx without Location)
    throttled,   // 429 or 503 still, after the crawl's deferrals
    // Decided by a job, before or instead of a fetch.
    robots,             // disallowed by robots.txt (the site's choice: not counted as an error)
    robots_unreachable, // the host's robots.txt could not be fetched: its URLs were given up
    nofollow,           // a link marked nofollow, not followed
    out_of_scope,       // outside the crawl's scope or filters
    limit_reached,      // not fetched: a limit (pages, bytes, depth, time) was reached
    too_complex,        // the page exceeded the bounds of parsing
    given_up, // a shared crawl's URL handed to workers 3 times without a result: not fetched again
};

// The stored code: "dns", "too_large_decoded", "http_status", ...
std::string_view code(FailureKind kind);
// The kind of a stored code; nullopt for anything else.
std::optional<FailureKind> parse_failure_kind(std::string_view code);
// The engine's kinds are failure kinds of the same name.
FailureKind failure_kind(ErrorKind kind);
// True when the failure is the target's (a broken link): no answer or a bad one, a failure
// status, a redirect that goes wrong, a host given up. False for what the crawler decided or
// limited itself (robots.txt, nofollow, scope, limits, its size caps, bounds of parsing, its own
// disk, Ctrl-C), which says nothing about the target.
bool is_target_failure(FailureKind kind);
// The name a failure is counted under by `stats` and `crawl --json` (errors_by_kind): its code,
// except a failed status, counted by status ("http_404").
std::string count_name(FailureKind kind, int http_status);

// The judgement of one response.
struct Verdict {
    Outcome outcome = Outcome::ok;
    std::optional<FailureKind> kind; // set unless ok
    std::string reason;              // readable, one line; empty when ok
};

// ok: a 2xx response, complete. not_found: 404 or 410 (kind http_status). error: anything else
// (no response: the engine's kind; other statuses: http_status).
Verdict classify(const Response& response);

} // namespace flagcrawl::fetch
