// The request policy's pure pieces, from tables: Retry-After parsing, backoff bounds, which
// statuses are retried, error kind names.
#include "fetch/fetch.hpp"
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

TEST(ErrorKindNames, AreDistinct) {
    std::set<std::string_view> names;
    for (auto k :
         {ErrorKind::dns, ErrorKind::connect, ErrorKind::timeout, ErrorKind::too_large,
          ErrorKind::too_many_redirects, ErrorKind::tls, ErrorKind::protocol,
          ErrorKind::write_failed, ErrorKind::bad_url, ErrorKind::interrupted, ErrorKind::other})
        EXPECT_TRUE(names.insert(to_string(k)).second) << to_string(k);
}

TEST(MakeFetcher, RejectsConcurrencyBelowOne) {
    EXPECT_THROW(make_fetcher(Strategy::async, Policy{}, 0), std::invalid_argument);
    EXPECT_NO_THROW(make_fetcher(Strategy::threaded, Policy{}, 1));
}

} // namespace
