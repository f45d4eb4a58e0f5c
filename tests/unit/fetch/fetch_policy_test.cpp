// The request policy's pure pieces, from tables: Retry-After parsing, backoff bounds, which
// statuses are retried, the failure kinds and how a response is classified.
#include "fetch/fetch.hpp"
#include "fetch/outcome.hpp"
#include "fetch/transfer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

namespace {

using namespace flagcrawl::fetch;
using namespace std::chrono_literals;
using detail::backoff_delay;
using detail::parse_retry_after;
using detail::retryable_status;

std::chrono::system_clock::time_point at(const char* http_date) {
    return std::chrono::system_clock::from_time_t(curl_getdate(http_date, nullptr));
}

TEST(RetryAfter, DelaySeconds) {
    const auto now = std::chrono::system_clock::now();
    struct Case {
        const char* value;
        std::optional<Millis> expected;
    };
    const Case cases[] = {
        {"0", 0ms},           {"1", 1000ms},
        {"120", 120'000ms},   {" 7 ", 7000ms},
        {"", std::nullopt},   {"soon", std::nullopt},
        {"-5", std::nullopt}, {"1.5", std::nullopt},
        {"5s", std::nullopt}, {"99999999999999999999999", Millis::max()},
    };
    for (const auto& c : cases)
        EXPECT_EQ(parse_retry_after(c.value, now), c.expected) << '"' << c.value << '"';
}

TEST(RetryAfter, HttpDateInAllThreeForms) {
    const auto now = at("Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), 60'000ms);   // IMF-fixdate
    EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:51:37 GMT", now), 120'000ms); // RFC 850
    EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:47 1994", now), 10'000ms);        // asctime
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), 0ms);        // already past
    EXPECT_EQ(parse_retry_after("Someday, 32 Foo 1994 25:00:00 GMT", now), std::nullopt);
}

TEST(Backoff, FullJitterWithinTheExponentialCap) {
    Policy p;
    p.backoff_base = 100ms;
    p.backoff_max = 1000ms;
    std::minstd_rand rng(42);
    const struct {
        int attempt;
        Millis cap;
    } cases[] = {{1, 100ms},  {2, 200ms},   {3, 400ms},    {4, 800ms},
                 {5, 1000ms}, {64, 1000ms}, {1000, 1000ms}};
    for (const auto& c : cases) {
        Millis lowest = Millis::max();
        Millis highest{0};
        for (int i = 0; i < 2000; ++i) {
            const Millis d = backoff_delay(p, c.attempt, rng);
            lowest = std::min(lowest, d);
            highest = std::max(highest, d);
        }
        EXPECT_GE(lowest, 0ms) << c.attempt;
        EXPECT_LE(highest, c.cap) << c.attempt;
        // Full jitter spreads over the whole range, not around the cap.
        EXPECT_LT(lowest, c.cap / 10) << c.attempt;
        EXPECT_GT(highest, c.cap * 9 / 10) << c.attempt;
    }
    p.backoff_base = 0ms;
    EXPECT_EQ(backoff_delay(p, 3, rng), 0ms);
}

TEST(Retry, StatusesWorthAnotherAttempt) {
    for (int s : {408, 429, 500, 502, 503, 504, 599})
        EXPECT_TRUE(retryable_status(s)) << s;
    for (int s : {0, 200, 204, 301, 304, 400, 401, 403, 404, 410, 418, 451, 600})
        EXPECT_FALSE(retryable_status(s)) << s;
}

// The codes are stored (the error_kind column): a renamed code would split the records of old
// and new runs, so the table is spelled out here once more.
TEST(FailureKinds, StoredCodesStayAsTheyAre) {
    const std::vector<std::pair<FailureKind, std::string_view>> codes = {
        {FailureKind::dns, "dns"},
        {FailureKind::connect, "connect"},
        {FailureKind::timeout, "timeout"},
        {FailureKind::too_large, "too_large"},
        {FailureKind::too_large_decoded, "too_large_decoded"},
        {FailureKind::too_many_redirects, "too_many_redirects"},
        {FailureKind::redirect_loop, "redirect_loop"},
        {FailureKind::disallowed_scheme, "disallowed_scheme"},
        {FailureKind::reset, "reset"},
        {FailureKind::partial_body, "partial_body"},
        {FailureKind::protocol, "protocol"},
        {FailureKind::not_http, "not_http"},
        {FailureKind::empty_reply, "empty_reply"},
        {FailureKind::tls, "tls"},
        {FailureKind::write_failed, "write_failed"},
        {FailureKind::invalid_url, "invalid_url"},
        {FailureKind::interrupted, "interrupted"},
        {FailureKind::other, "other"},
        {FailureKind::http_status, "http_status"},
        {FailureKind::throttled, "throttled"},
        {FailureKind::robots, "robots"},
        {FailureKind::robots_unreachable, "robots_unreachable"},
        {FailureKind::nofollow, "nofollow"},
        {FailureKind::out_of_scope, "out_of_scope"},
        {FailureKind::limit_reached, "limit_reached"},
        {FailureKind::too_complex, "too_complex"},
        {FailureKind::given_up, "given_up"},
    };
    for (const auto& [kind, text] : codes) {
        EXPECT_EQ(code(kind), text);
        EXPECT_EQ(parse_failure_kind(text), kind) << text;
    }
    EXPECT_EQ(parse_failure_kind("bad_url"), std::nullopt);
    EXPECT_EQ(parse_failure_kind(""), std::nullopt);
    EXPECT_EQ(count_name(FailureKind::http_status, 404), "http_404");
    EXPECT_EQ(count_name(FailureKind::reset, 200), "reset");
}

TEST(FailureKinds, EngineKindsAreFailureKindsOfTheSameName) {
    for (ErrorKind kind :
         {ErrorKind::dns, ErrorKind::connect, ErrorKind::timeout, ErrorKind::too_large,
          ErrorKind::too_large_decoded, ErrorKind::too_many_redirects, ErrorKind::redirect_loop,
          ErrorKind::disallowed_scheme, ErrorKind::reset, ErrorKind::partial_body,
          ErrorKind::protocol, ErrorKind::not_http, ErrorKind::empty_reply, ErrorKind::tls,
          ErrorKind::write_failed, ErrorKind::invalid_url, ErrorKind::interrupted,
          ErrorKind::other}) {
        const FailureKind failure = failure_kind(kind);
        EXPECT_EQ(to_string(kind), code(failure));
        EXPECT_EQ(static_cast<int>(failure), static_cast<int>(kind)) << to_string(kind);
    }
}

TEST(Classify, StatusesAndErrors) {
    Response r;
    r.http_status = 200;
    auto v = classify(r);
    EXPECT_EQ(v.outcome, Outcome::ok);
    EXPECT_FALSE(v.kind);
    EXPECT_EQ(v.reason, "");
    r.http_status = 404;
    v = classify(r);
    EXPECT_EQ(v.outcome, Outcome::not_found);
    EXPECT_EQ(v.kind, FailureKind::http_status);
    EXPECT_EQ(v.reason, "HTTP 404 Not Found");
    r.http_status = 999;
    v = classify(r);
    EXPECT_EQ(v.outcome, Outcome::error);
    EXPECT_EQ(v.kind, FailureKind::http_status);
    EXPECT_EQ(v.reason, "HTTP 999");
    r.error = Error{ErrorKind::reset, "Recv failure: Connection reset by peer (http://h/)"};
    v = classify(r);
    EXPECT_EQ(v.outcome, Outcome::error);
    EXPECT_EQ(v.kind, FailureKind::reset);
    EXPECT_EQ(v.reason, r.error->message);
}

TEST(MakeFetcher, RejectsConcurrencyBelowOne) {
    EXPECT_THROW(make_fetcher(Strategy::async, Policy{}, 0), std::invalid_argument);
    EXPECT_NO_THROW(make_fetcher(Strategy::threaded, Policy{}, 1));
}

} // namespace
