// The fetch engine end to end against the in-process loopback server: every case runs once per
// strategy (sequential, threaded, async), so the three are held to the same request policy.
#include "eventually.hpp"
#include "gzip.hpp"

#include "fetch/fetch.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "util/ascii.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fetch = flagcrawl::fetch;
namespace srv = flagcrawl::server;
using namespace std::chrono_literals;
using fetch::Clock;
using fetch::ErrorKind;
using fetch::Millis;
using fetch::Strategy;
using flagcrawl::testing_support::eventually;
using flagcrawl::testing_support::gzip;

// Set on a thread to make the kernel refuse that thread's epoll registrations (as a full
// fs.epoll.max_user_watches would): the executable's epoll_ctl takes precedence over libc's, so
// it covers the async fetcher's reactor (Asio is header-only) and leaves the server threads
// alone.
thread_local bool t_refuse_epoll_add = false;

} // namespace

extern "C" int epoll_ctl(int epfd, int op, int fd, epoll_event* event) noexcept {
    using EpollCtl = int (*)(int, int, int, epoll_event*);
    static const auto real = reinterpret_cast<EpollCtl>(dlsym(RTLD_NEXT, "epoll_ctl"));
    if (t_refuse_epoll_add && op == EPOLL_CTL_ADD) {
        errno = ENOSPC;
        return -1;
    }
    return real(epfd, op, fd, event);
}

namespace {

// Keeps a sink's bytes and counts resets, for assertions after run().
class MemorySink final : public fetch::BodySink {
public:
    bool write(std::span<const char> data) override {
        m_data.append(data.data(), data.size());
        return !m_refuse;
    }
    void reset() override {
        m_data.clear();
        ++m_resets;
    }
    std::string m_data;
    int m_resets = 0;
    bool m_refuse = false;
};

fetch::Request make_request(std::uint64_t id, std::string url, bool follow = true,
                            std::unique_ptr<fetch::BodySink> sink = nullptr) {
    fetch::Request r;
    r.id = id;
    r.url = std::move(url);
    r.follow_redirects = follow;
    r.sink = std::move(sink);
    return r;
}

// Hands out a fixed list, then says finished; counts what it handed out.
class ListSource final : public fetch::WorkSource {
public:
    explicit ListSource(std::vector<fetch::Request> requests)
        : m_requests(std::move(requests)) {}
    Next next(Clock::time_point) override {
        if (m_next == m_requests.size())
            return {};
        Next n;
        n.state = State::ready;
        n.request = std::move(m_requests[m_next++]);
        m_handed.fetch_add(1);
        return n;
    }
    int handed() const { return m_handed.load(); }

private:
    std::vector<fetch::Request> m_requests;
    std::size_t m_next = 0;
    std::atomic<int> m_handed{0};
};

// Keeps every response (called serialized by the engine; read after run()).
class Collector final : public fetch::ResponseHandler {
public:
    void on_response(fetch::Response&& r) override { m_responses.push_back(std::move(r)); }
    std::vector<fetch::Response> take() { return std::move(m_responses); }

private:
    std::vector<fetch::Response> m_responses;
};

// Runs a fetcher to completion; a watchdog aborts it (and fails the test) if it hangs.
void run_guarded(fetch::Fetcher& fetcher, fetch::WorkSource& source,
                 fetch::ResponseHandler& handler, std::chrono::seconds limit = 20s) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    bool fired = false;
    std::thread watchdog([&] {
        std::unique_lock lock(m);
        if (!cv.wait_for(lock, limit, [&] { return done; })) {
            fired = true;
            fetcher.stop(fetch::StopMode::abort);
        }
    });
    fetcher.run(source, handler);
    {
        std::lock_guard lock(m);
        done = true;
    }
    cv.notify_all();
    watchdog.join();
    EXPECT_FALSE(fired) << "run() did not return within " << limit.count() << " s";
}

fetch::Policy test_policy() {
    fetch::Policy p;
    p.connect_timeout = 2000ms;
    p.total_timeout = 5000ms;
    p.retries = 2;
    p.backoff_base = 10ms;
    p.backoff_max = 40ms;
    return p;
}

class FetchEngine : public ::testing::TestWithParam<Strategy> {
protected:
    void SetUp() override {
        m_server = std::make_unique<srv::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        m_base = m_server->base_url();
    }

    std::string url(std::string_view path) const { return m_base + std::string(path); }

    // Fetches `requests` with the strategy under test; responses sorted by id.
    std::vector<fetch::Response> fetch_all(std::vector<fetch::Request> requests,
                                           fetch::Policy policy = test_policy(),
                                           int concurrency = 4) {
        auto fetcher = fetch::make_fetcher(GetParam(), std::move(policy), concurrency);
        ListSource source(std::move(requests));
        Collector collector;
        run_guarded(*fetcher, source, collector);
        auto responses = collector.take();
        EXPECT_EQ(static_cast<int>(responses.size()), source.handed());
        std::sort(responses.begin(), responses.end(),
                  [](const auto& a, const auto& b) { return a.id < b.id; });
        return responses;
    }

    fetch::Response fetch_one(std::string path, fetch::Policy policy = test_policy(),
                              bool follow = true) {
        std::vector<fetch::Request> requests;
        requests.push_back(make_request(1, url(path), follow));
        auto responses = fetch_all(std::move(requests), std::move(policy));
        if (responses.size() != 1) {
            ADD_FAILURE() << "expected one response, got " << responses.size();
            return {};
        }
        return std::move(responses[0]);
    }

    srv::Router m_router;
    std::unique_ptr<srv::Server> m_server;
    std::string m_base;
};

TEST_P(FetchEngine, PlainBodiesInMemoryAndInASink) {
    const std::string big(200'000, 'x');
    m_router.add("/hello", srv::Reply::text(200, "hello\n")
                               .with_header("X-Robots-Tag", "noindex")
                               .with_header("Content-Disposition", "attachment; filename=a.txt"));
    m_router.add("/big", srv::Reply::bytes(200, srv::make_body(big), "application/octet-stream"));

    auto sink = std::make_unique<MemorySink>();
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, url("/hello")));
    requests.push_back(make_request(2, url("/big"), true, std::move(sink)));
    auto r = fetch_all(std::move(requests));
    ASSERT_EQ(r.size(), 2u);

    EXPECT_FALSE(r[0].error);
    EXPECT_EQ(r[0].http_status, 200);
    EXPECT_EQ(r[0].body, "hello\n");
    EXPECT_EQ(r[0].bytes, 6u);
    EXPECT_EQ(r[0].attempts, 1);
    EXPECT_EQ(r[0].url, url("/hello"));
    EXPECT_EQ(r[0].final_url, url("/hello"));
    EXPECT_EQ(r[0].content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(r[0].x_robots_tag, "noindex");
    EXPECT_EQ(r[0].content_disposition, "attachment; filename=a.txt");
    EXPECT_TRUE(r[0].location.empty());
    EXPECT_EQ(r[0].sink, nullptr);
    EXPECT_GT(r[0].timings.total_ms, 0.0);
    EXPECT_GE(r[0].timings.ttfb_ms, r[0].timings.connect_ms);
    EXPECT_GE(r[0].timings.elapsed_ms, r[0].timings.total_ms * 0.5);

    EXPECT_FALSE(r[1].error);
    EXPECT_EQ(r[1].http_status, 200);
    EXPECT_TRUE(r[1].body.empty()); // it went to the sink, handed back here
    EXPECT_EQ(r[1].bytes, big.size());
    ASSERT_NE(r[1].sink, nullptr);
    auto& s = static_cast<MemorySink&>(*r[1].sink);
    EXPECT_EQ(s.m_data, big);
    EXPECT_EQ(s.m_resets, 0);
}

TEST_P(FetchEngine, HostNamesAreResolved) {
    // A name (not an address) goes through libcurl's resolver, whose wakeup socket the async
    // strategy watches like any other.
    m_router.add("/hello", srv::Reply::text(200, "hello\n"));
    const std::string by_name = "http://localhost:" + std::to_string(m_server->port()) + "/hello";
    std::vector<fetch::Request> requests;
    for (int i = 0; i < 3; ++i)
        requests.push_back(make_request(static_cast<std::uint64_t>(i), by_name));
    const auto r = fetch_all(std::move(requests));
    ASSERT_EQ(r.size(), 3u);
    for (const auto& resp : r) {
        EXPECT_FALSE(resp.error) << resp.error->message;
        EXPECT_EQ(resp.body, "hello\n");
    }
}

TEST_P(FetchEngine, NotFoundAndTeapotAreAnsweredNotRetried) {
    m_router.add("/teapot", srv::Reply::text(418, "short and stout\n"));
    auto r = fetch_all([&] {
        std::vector<fetch::Request> v;
        v.push_back(make_request(1, url("/missing")));
        v.push_back(make_request(2, url("/teapot")));
        return v;
    }());
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].http_status, 404);
    EXPECT_FALSE(r[0].error);
    EXPECT_EQ(r[0].attempts, 1);
    EXPECT_EQ(r[1].http_status, 418);
    EXPECT_EQ(r[1].body, "short and stout\n");
    EXPECT_EQ(r[1].attempts, 1);
    EXPECT_EQ(m_router.count("/missing"), 1u);
    EXPECT_EQ(m_router.count("/teapot"), 1u);
}

TEST_P(FetchEngine, ServerErrorIsRetriedAndTheSinkReset) {
    std::atomic<int> calls{0};
    m_router.add("/flaky", [&](const srv::Request&) {
        return calls++ == 0 ? srv::Reply::text(500, "oops\n") : srv::Reply::text(200, "fine\n");
    });
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, url("/flaky"), true, std::make_unique<MemorySink>()));
    auto r = fetch_all(std::move(requests));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].error);
    EXPECT_EQ(r[0].http_status, 200);
    EXPECT_EQ(r[0].attempts, 2);
    EXPECT_EQ(r[0].bytes, 5u);
    auto& s = static_cast<MemorySink&>(*r[0].sink);
    EXPECT_EQ(s.m_data, "fine\n");
    EXPECT_EQ(s.m_resets, 1);
    EXPECT_EQ(m_router.count("/flaky"), 2u);
}

TEST_P(FetchEngine, PersistentServerErrorEndsAfterTheRetries) {
    m_router.add("/down", srv::Reply::text(502, "bad gateway\n"));
    const auto r = fetch_one("/down");
    EXPECT_FALSE(r.error); // a status, not an error: the caller classifies it
    EXPECT_EQ(r.http_status, 502);
    EXPECT_EQ(r.body, "bad gateway\n"); // the last attempt's body only
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(m_router.count("/down"), 3u);
}

TEST_P(FetchEngine, RetryAfterIsHonoured) {
    std::atomic<int> calls{0};
    m_router.add("/busy", [&](const srv::Request&) {
        return calls++ == 0 ? srv::Reply::text(503, "later\n").with_header("Retry-After", "1")
                            : srv::Reply::text(200, "now\n");
    });
    const auto r = fetch_one("/busy");
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.http_status, 200);
    EXPECT_EQ(r.attempts, 2);
    // The backoff alone would be at most 40 ms: the second attempt waited for Retry-After.
    EXPECT_GE(r.timings.elapsed_ms, 1000.0);
}

TEST_P(FetchEngine, ThrottledAnswersAreReturnedAtOnceWhenNotRetryingThem) {
    m_router.add("/busy", srv::Reply::text(503, "later\n").with_header("Retry-After", "1"));
    m_router.add("/slow-down", srv::Reply::text(429, "too many\n"));
    m_router.add("/down", srv::Reply::text(502, "bad gateway\n"));
    auto policy = test_policy();
    policy.retry_throttled = false;
    const auto busy = fetch_one("/busy", policy);
    EXPECT_EQ(busy.http_status, 503);
    EXPECT_EQ(busy.attempts, 1);
    ASSERT_TRUE(busy.retry_after);
    EXPECT_EQ(*busy.retry_after, Millis(1000));
    const auto slow = fetch_one("/slow-down", policy);
    EXPECT_EQ(slow.http_status, 429);
    EXPECT_EQ(slow.attempts, 1);
    // Other retryable statuses still are retried.
    const auto down = fetch_one("/down", policy);
    EXPECT_EQ(down.attempts, 3);
    EXPECT_EQ(m_router.count("/busy"), 1u);
    EXPECT_EQ(m_router.count("/slow-down"), 1u);
}

TEST_P(FetchEngine, TooLongRetryAfterIsNotWaitedFor) {
    m_router.add("/gone-fishing",
                 srv::Reply::text(503, "come back tomorrow\n").with_header("Retry-After", "86400"));
    auto policy = test_policy();
    policy.retry_after_max = 60'000ms;
    const auto r = fetch_one("/gone-fishing", policy);
    EXPECT_EQ(r.http_status, 503);
    EXPECT_EQ(r.attempts, 1);
    ASSERT_TRUE(r.retry_after);
    EXPECT_EQ(*r.retry_after, Millis(86'400'000));
    EXPECT_EQ(m_router.count("/gone-fishing"), 1u);
}

TEST_P(FetchEngine, RedirectsAreFollowedUpToTheLimit) {
    m_router.add("/r1", srv::Reply::redirect(301, "/r2"));
    m_router.add("/r2", srv::Reply::redirect(302, url("/r3")));
    m_router.add("/r3", srv::Reply::redirect(307, "final"));
    m_router.add("/final", srv::Reply::text(200, "landed\n"));
    m_router.add("/loop", srv::Reply::redirect(302, "/loop"));
    m_router.add("/a", srv::Reply::redirect(302, "/b?x#frag"));
    m_router.add("/b", srv::Reply::redirect(302, url("/a")));
    m_router.add_prefix("/hop/", [](const srv::Request& request) {
        const int n = std::stoi(std::string(request.path.substr(5)));
        return srv::Reply::redirect(302, "/hop/" + std::to_string(n + 1));
    });

    auto r = fetch_one("/r1");
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.http_status, 200);
    EXPECT_EQ(r.body, "landed\n");
    EXPECT_EQ(r.url, url("/r1"));
    EXPECT_EQ(r.final_url, url("/final"));
    EXPECT_TRUE(r.location.empty());

    auto policy = test_policy();
    policy.max_redirects = 3;
    r = fetch_one("/hop/1", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::too_many_redirects);
    EXPECT_NE(r.error->message.find("/hop/4"), std::string::npos) << r.error->message;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(m_router.count("/hop/4"), 1u);
    EXPECT_EQ(m_router.count("/hop/5"), 0u);

    // A loop ends as soon as a redirect points back into the chain, before the request.
    r = fetch_one("/loop", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::redirect_loop) << r.error->message;
    EXPECT_NE(r.error->message.find("/loop"), std::string::npos) << r.error->message;
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(m_router.count("/loop"), 1u);
    r = fetch_one("/a", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::redirect_loop) << r.error->message;
    EXPECT_EQ(m_router.count("/a"), 1u);
    EXPECT_EQ(m_router.count("/b"), 1u);
}

TEST_P(FetchEngine, RedirectIsReturnedAsIsWhenNotFollowing) {
    m_router.add("/moved", srv::Reply::redirect(301, "/elsewhere?x=1"));
    const auto r = fetch_one("/moved", test_policy(), false);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.http_status, 301);
    EXPECT_EQ(r.location, url("/elsewhere?x=1")); // resolved against the request URL
    EXPECT_EQ(r.final_url, url("/moved"));
    EXPECT_EQ(m_router.count("/elsewhere"), 0u);
}

TEST_P(FetchEngine, SlowResponseHitsTheTotalTimeout) {
    auto reply = srv::Reply::text(200, "too late\n");
    reply.delay = 3s;
    m_router.add("/slow", reply);
    auto policy = test_policy();
    policy.total_timeout = 300ms;
    const auto r = fetch_one("/slow", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::timeout);
    EXPECT_NE(r.error->message.find(url("/slow")), std::string::npos) << r.error->message;
    EXPECT_EQ(r.attempts, 1); // a total timeout is not retried
    EXPECT_LT(r.timings.elapsed_ms, 2500.0);
}

TEST_P(FetchEngine, OversizedBodyIsRefusedWhenAnnouncedAndCutOffOtherwise) {
    auto big = srv::Reply::bytes(200, srv::make_body(std::string(100'000, 'y')),
                                 "application/octet-stream");
    m_router.add("/big", big);
    big.framing = srv::Framing::chunked; // no Content-Length: only the bytes tell
    m_router.add("/big-chunked", big);
    auto policy = test_policy();
    policy.max_body_bytes = 10'000;

    auto r = fetch_one("/big", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::too_large);
    EXPECT_EQ(r.bytes, 0u) << "the announced size alone refuses it";
    EXPECT_EQ(r.body.size(), 0u);
    EXPECT_NE(r.error->message.find("announced by Content-Length"), std::string::npos)
        << r.error->message;
    EXPECT_EQ(r.attempts, 1);

    r = fetch_one("/big-chunked", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::too_large) << r.error->message;
    EXPECT_LE(r.bytes, 10'000u);
    EXPECT_LE(r.body.size(), 10'000u);
    EXPECT_EQ(r.attempts, 1);
}

TEST_P(FetchEngine, CompressedBodyIsDecodedAndTheLimitAppliesToDecodedBytes) {
    std::string text;
    for (int i = 0; i < 2000; ++i)
        text += "line " + std::to_string(i % 7) + " of a very repetitive text\n";
    const std::string bomb(8 << 20, '\0'); // 8 MiB of zeros: about 8 KiB compressed
    const std::string bomb_gz = gzip(bomb);
    ASSERT_LT(bomb_gz.size(), 64'000u);
    std::atomic<bool> accepted_gzip{false};
    m_router.add("/text.gz", [&, body = srv::make_body(gzip(text))](const srv::Request& req) {
        accepted_gzip = req.header("Accept-Encoding").find("gzip") != std::string_view::npos;
        return srv::Reply::bytes(200, body, "text/plain").with_header("Content-Encoding", "gzip");
    });
    m_router.add("/bomb", srv::Reply::bytes(200, srv::make_body(bomb_gz), "text/plain")
                              .with_header("Content-Encoding", "gzip"));

    auto policy = test_policy();
    policy.max_body_bytes = 1 << 20; // above the text, above the bomb's compressed size
    auto r = fetch_one("/text.gz", policy);
    EXPECT_TRUE(accepted_gzip.load());
    EXPECT_FALSE(r.error) << r.error->message;
    EXPECT_EQ(r.body, text);
    EXPECT_EQ(r.bytes, text.size());

    r = fetch_one("/bomb", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::too_large_decoded) << r.error->message;
    EXPECT_LE(r.bytes, policy.max_body_bytes);
    EXPECT_LE(r.body.size(), policy.max_body_bytes);

    // Without a size limit, the ratio guard stops the bomb once past 1 MiB decoded.
    policy.max_body_bytes = 0;
    ASSERT_GT(bomb.size() / bomb_gz.size(), static_cast<std::size_t>(policy.max_decoded_ratio));
    r = fetch_one("/bomb", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::too_large_decoded) << r.error->message;
    EXPECT_NE(r.error->message.find("times its size on the wire"), std::string::npos)
        << r.error->message;
    EXPECT_GE(r.bytes, 1u << 19);
    EXPECT_LT(r.bytes, 2u << 20);
    // ... and the absolute cap of decoded bodies, when the ratio allows it.
    policy.max_decoded_ratio = 0;
    policy.max_decoded_bytes = 2 << 20;
    r = fetch_one("/bomb", policy);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->kind, ErrorKind::too_large_decoded) << r.error->message;
    EXPECT_LE(r.bytes, 2u << 20);
    // The text, well under 1 MiB decoded, is not judged by its ratio.
    policy.max_decoded_ratio = 100;
    r = fetch_one("/text.gz", policy);
    EXPECT_FALSE(r.error) << r.error->message;
}

// Keeps what a WireCapture is given, one entry per exchange, for assertions after run().
class RecordingCapture final : public fetch::WireCapture {
public:
    struct Exchange {
        std::string url, ip, request, response_head, body;
    };
    void request_head(std::string_view url, std::string_view ip,
                      std::span<const char> data) override {
        if (m_exchanges.empty() || !m_exchanges.back().response_head.empty())
            m_exchanges.push_back({std::string(url), std::string(ip), {}, {}, {}});
        m_exchanges.back().request.append(data.data(), data.size());
    }
    void response_head(std::span<const char> line) override {
        if (!m_exchanges.empty())
            m_exchanges.back().response_head.append(line.data(), line.size());
    }
    bool response_body(std::span<const char> data) override {
        if (!m_exchanges.empty())
            m_exchanges.back().body.append(data.data(), data.size());
        return !m_refuse;
    }
    void reset() override {
        m_exchanges.clear();
        ++m_resets;
    }
    std::vector<Exchange> m_exchanges;
    int m_resets = 0;
    bool m_refuse = false;
};

// What the server sends for a chunked body: chunks of up to 1000 bytes, then the last chunk.
std::string chunked_framing(const std::string& body) {
    std::string out;
    for (std::size_t at = 0; at < body.size(); at += 1000) {
        const std::string piece = body.substr(at, 1000);
        char size[16];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        out += size + piece + "\r\n";
    }
    return out + "0\r\n\r\n";
}

TEST_P(FetchEngine, CaptureKeepsEachHopsBytesAsOnTheWire) {
    std::string text;
    for (int i = 0; i < 3000; ++i)
        text += "line " + std::to_string(i) + "\n";
    const std::string gz = gzip(text);
    auto chunked = srv::Reply::bytes(200, srv::make_body(gz), "text/plain")
                       .with_header("Content-Encoding", "gzip");
    chunked.framing = srv::Framing::chunked;
    m_router.add("/c.gz", chunked);
    m_router.add("/moved", srv::Reply::redirect(302, "/c.gz"));
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, url("/moved")));
    requests[0].capture = std::make_unique<RecordingCapture>();
    auto r = fetch_all(std::move(requests));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].error);
    EXPECT_EQ(r[0].body, text); // decoded for the caller as without a capture
    ASSERT_TRUE(r[0].capture);
    const auto& x = static_cast<RecordingCapture&>(*r[0].capture).m_exchanges;
    ASSERT_EQ(x.size(), 2u);
    EXPECT_EQ(x[0].url, url("/moved"));
    EXPECT_TRUE(x[0].request.starts_with("GET /moved HTTP/1.1\r\n")) << x[0].request;
    EXPECT_TRUE(x[0].request.ends_with("\r\n\r\n"));
    EXPECT_TRUE(x[0].response_head.starts_with("HTTP/1.1 302 ")) << x[0].response_head;
    EXPECT_EQ(x[0].ip, "127.0.0.1");
    EXPECT_EQ(x[1].url, url("/c.gz"));
    EXPECT_TRUE(x[1].request.starts_with("GET /c.gz HTTP/1.1\r\n")) << x[1].request;
    EXPECT_NE(x[1].request.find("Accept-Encoding: "), std::string::npos);
    EXPECT_TRUE(x[1].response_head.starts_with("HTTP/1.1 200 ")) << x[1].response_head;
    EXPECT_NE(x[1].response_head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
    EXPECT_NE(x[1].response_head.find("Content-Encoding: gzip\r\n"), std::string::npos);
    EXPECT_TRUE(x[1].response_head.ends_with("\r\n\r\n"));
    EXPECT_EQ(x[1].body, chunked_framing(gz)); // neither de-chunked nor decompressed
    EXPECT_EQ(x[1].ip, "127.0.0.1");
}

TEST_P(FetchEngine, CaptureHoldsTheLastAttemptAndCanFailTheTransfer) {
    std::atomic<int> calls{0};
    m_router.add("/flaky", [&](const srv::Request&) {
        return calls++ == 0 ? srv::Reply::text(500, "oops\n") : srv::Reply::text(200, "fine\n");
    });
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, url("/flaky")));
    requests[0].capture = std::make_unique<RecordingCapture>();
    requests.push_back(make_request(2, url("/flaky")));
    auto refusing = std::make_unique<RecordingCapture>();
    refusing->m_refuse = true;
    requests[1].capture = std::move(refusing);
    requests.push_back(make_request(3, url("/flaky"))); // no capture: none handed back
    auto r = fetch_all(std::move(requests), test_policy(), 1);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_FALSE(r[0].error);
    const auto& c = static_cast<RecordingCapture&>(*r[0].capture);
    EXPECT_EQ(c.m_resets, 1);
    ASSERT_EQ(c.m_exchanges.size(), 1u);
    EXPECT_TRUE(c.m_exchanges[0].response_head.starts_with("HTTP/1.1 200 "));
    EXPECT_EQ(c.m_exchanges[0].body, "fine\n");
    ASSERT_TRUE(r[1].error);
    EXPECT_EQ(r[1].error->kind, ErrorKind::write_failed);
    EXPECT_FALSE(r[2].capture);
    EXPECT_FALSE(r[2].error);
}

TEST_P(FetchEngine, ResetOrCloseMidTransferIsRetriedThenReported) {
    auto reset = srv::Reply::bytes(200, srv::make_body(std::string(50'000, 'z')), "text/plain");
    reset.fault = srv::Fault::reset_mid_body;
    m_router.add("/reset", reset);
    auto closed = srv::Reply::text(200, "never sent\n");
    closed.fault = srv::Fault::close_without_reply;
    m_router.add("/hangup", closed);

    auto r = fetch_all([&] {
        std::vector<fetch::Request> v;
        v.push_back(make_request(1, url("/reset"), true, std::make_unique<MemorySink>()));
        v.push_back(make_request(2, url("/hangup")));
        return v;
    }());
    ASSERT_EQ(r.size(), 2u);
    ASSERT_TRUE(r[0].error);
    EXPECT_EQ(r[0].error->kind, ErrorKind::reset) << r[0].error->message;
    EXPECT_EQ(r[0].attempts, 3);
    EXPECT_EQ(static_cast<MemorySink&>(*r[0].sink).m_resets, 2);
    EXPECT_EQ(m_router.count("/reset"), 3u);
    ASSERT_TRUE(r[1].error);
    EXPECT_EQ(r[1].error->kind, ErrorKind::empty_reply) << r[1].error->message;
    EXPECT_EQ(r[1].http_status, 0);
    EXPECT_EQ(r[1].attempts, 3);
}

// Response::requests counts what the server saw: attempts, redirect hops, and libcurl's silent
// re-send when a kept-alive connection closes without answering its next request.
TEST_P(FetchEngine, EveryRequestSentIsCounted) {
    m_router.add("/first", srv::Reply::text(200, "first\n"));
    m_router.add("/second", [](const srv::Request& request) {
        srv::Reply reply = srv::Reply::text(200, "second\n");
        if (request.index_on_connection > 0)
            reply.fault = srv::Fault::close_without_reply; // the kept-alive connection "died"
        return reply;
    });
    m_router.add("/hop", srv::Reply::redirect(302, "/first"));
    std::atomic<int> flaky{0};
    m_router.add("/flaky", [&](const srv::Request&) {
        return flaky++ < 2 ? srv::Reply::text(503, "busy\n") : srv::Reply::text(200, "ok\n");
    });
    // One connection, one request after the other: /second goes out on /first's connection.
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, url("/first")));
    requests.push_back(make_request(2, url("/second")));
    requests.push_back(make_request(3, url("/hop")));
    requests.push_back(make_request(4, url("/flaky")));
    auto r = fetch_all(std::move(requests), test_policy(), 1);
    ASSERT_EQ(r.size(), 4u);
    for (const auto& response : r)
        EXPECT_FALSE(response.error) << response.url << ": " << response.error->message;
    EXPECT_EQ(r[0].requests, 1);
    EXPECT_EQ(r[1].attempts, 1);
    EXPECT_EQ(r[1].requests, 2) << "the silent re-send on a new connection";
    EXPECT_EQ(r[2].requests, 2) << "the redirect and its target";
    EXPECT_EQ(r[3].attempts, 3);
    EXPECT_EQ(r[3].requests, 3);
    int sent = 0;
    for (const auto& response : r)
        sent += response.requests;
    EXPECT_EQ(static_cast<std::uint64_t>(sent), m_server->stats().requests);
}

TEST_P(FetchEngine, ClosedPortIsAConnectError) {
    std::uint16_t port = 0;
    {
        boost::asio::io_context io;
        boost::asio::ip::tcp::acceptor acceptor(io,
                                                {boost::asio::ip::make_address("127.0.0.1"), 0});
        port = acceptor.local_endpoint().port();
    } // closed: nothing listens there now
    auto policy = test_policy();
    policy.retries = 1;
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, "http://127.0.0.1:" + std::to_string(port) + "/x"));
    const auto r = fetch_all(std::move(requests), policy);
    ASSERT_EQ(r.size(), 1u);
    ASSERT_TRUE(r[0].error);
    EXPECT_EQ(r[0].error->kind, ErrorKind::connect);
    EXPECT_EQ(r[0].http_status, 0);
    EXPECT_EQ(r[0].attempts, 2); // connection errors are retried
    EXPECT_NE(r[0].error->message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
        << r[0].error->message;
}

TEST_P(FetchEngine, AtMostConcurrencyRequestsReachTheServer) {
    constexpr int k_concurrency = 3;
    constexpr auto k_delay = 150ms;
    std::mutex m;
    std::vector<Clock::time_point> arrivals;
    m_router.add_prefix("/d/", [&](const srv::Request&) {
        {
            std::lock_guard lock(m);
            arrivals.push_back(Clock::now());
        }
        auto reply = srv::Reply::text(200, "ok\n");
        reply.delay = k_delay;
        return reply;
    });
    std::vector<fetch::Request> requests;
    for (int i = 0; i < 12; ++i)
        requests.push_back(make_request(i, url("/d/" + std::to_string(i))));
    const auto r = fetch_all(std::move(requests), test_policy(), k_concurrency);
    ASSERT_EQ(r.size(), 12u);
    for (const auto& resp : r)
        EXPECT_EQ(resp.http_status, 200);
    // A request is at the server from its arrival until its delayed reply: count overlaps.
    std::size_t most = 0;
    for (const auto& t : arrivals) {
        const auto overlapping = std::count_if(arrivals.begin(), arrivals.end(),
                                               [&](auto a) { return a <= t && t < a + k_delay; });
        most = std::max(most, static_cast<std::size_t>(overlapping));
    }
    const std::size_t expected = GetParam() == Strategy::sequential ? 1 : k_concurrency;
    EXPECT_LE(most, expected);
    EXPECT_GE(most, std::min<std::size_t>(expected, 2)); // concurrent at all (a loaded machine
                                                         // may stagger the arrivals)
    // Keep-alive: no more connections than transfers in flight.
    EXPECT_LE(m_server->stats().connections, expected);
}

TEST_P(FetchEngine, UserAgentAndExtraHeadersReachTheServer) {
    std::mutex m;
    std::vector<std::string> agents;
    std::vector<std::string> tests;
    m_router.add("/who", [&](const srv::Request& req) {
        std::lock_guard lock(m);
        agents.emplace_back(req.header("User-Agent"));
        tests.emplace_back(req.header("X-Test"));
        return srv::Reply::text(200, "you\n");
    });
    auto policy = test_policy();
    policy.user_agent = "flagcrawl-test/1.0";
    policy.headers = {"X-Test: yes", "Accept: text/plain"};
    fetch_one("/who", policy);
    fetch_one("/who"); // the default
    ASSERT_EQ(agents.size(), 2u);
    EXPECT_EQ(agents[0], "flagcrawl-test/1.0");
    EXPECT_EQ(tests[0], "yes");
    EXPECT_TRUE(agents[1].starts_with("flagcrawl/")) << agents[1];
    EXPECT_EQ(tests[1], "");
}

// User-Agent and Accept-Encoding are sent once each: the policy's, or a header line of the same
// name given by the user (policy) or by the request, which replaces it.
TEST_P(FetchEngine, OwnUserAgentAndAcceptEncodingLinesReplaceTheDefaults) {
    std::mutex m;
    std::vector<std::vector<std::string>> seen; // per request: its User-Agent, Accept-Encoding
    m_router.add("/who", [&](const srv::Request& req) {
        std::vector<std::string> lines;
        for (const auto& [name, value] : req.headers) {
            if (flagcrawl::util::iequals(name, "User-Agent") ||
                flagcrawl::util::iequals(name, "Accept-Encoding")) {
                lines.push_back(std::string(name) + ": " + std::string(value));
            }
        }
        std::sort(lines.begin(), lines.end());
        std::lock_guard lock(m);
        seen.push_back(std::move(lines));
        return srv::Reply::text(200, "you\n");
    });
    fetch_one("/who");
    auto policy = test_policy();
    policy.headers = {"user-agent: mine/2"};
    fetch_one("/who", policy);
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, url("/who")));
    requests[0].headers = {"Accept-Encoding: identity"};
    fetch_all(std::move(requests));
    ASSERT_EQ(seen.size(), 3u);
    ASSERT_EQ(seen[0].size(), 2u);
    EXPECT_TRUE(seen[0][0].starts_with("Accept-Encoding: gzip")) << seen[0][0];
    EXPECT_TRUE(seen[0][1].starts_with("User-Agent: flagcrawl/")) << seen[0][1];
    ASSERT_EQ(seen[1].size(), 2u);
    EXPECT_EQ(seen[1][1], "user-agent: mine/2");
    ASSERT_EQ(seen[2].size(), 2u);
    EXPECT_EQ(seen[2][0], "Accept-Encoding: identity");
}

TEST_P(FetchEngine, SinkThatRefusesDataIsAWriteFailure) {
    m_router.add("/data", srv::Reply::text(200, "some data\n"));
    auto sink = std::make_unique<MemorySink>();
    sink->m_refuse = true;
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(1, url("/data"), true, std::move(sink)));
    const auto r = fetch_all(std::move(requests));
    ASSERT_EQ(r.size(), 1u);
    ASSERT_TRUE(r[0].error);
    EXPECT_EQ(r[0].error->kind, ErrorKind::write_failed);
    EXPECT_EQ(r[0].attempts, 1);
    EXPECT_NE(r[0].sink, nullptr);
}

// A politeness-style source: one request, then "waiting" until a time, another request, then
// "waiting" with no time until the test feeds it and calls wake(), a last request, finished.
class PoliteSource final : public fetch::WorkSource {
public:
    PoliteSource(std::string url, Millis pause)
        : m_url(std::move(url))
        , m_pause(pause) {}
    Next next(Clock::time_point now) override {
        Next n;
        switch (m_step) {
        case 0:
            m_not_before = now + m_pause;
            return ready(now);
        case 1:
            if (now < m_not_before) {
                n.state = State::waiting;
                n.wake_at = m_not_before;
                return n;
            }
            return ready(now);
        case 2:
            if (!m_fed.load()) {
                m_starved = true;
                n.state = State::waiting;
                return n;
            }
            return ready(now);
        default:
            return n; // finished
        }
    }
    void feed() { m_fed = true; }
    bool starved() const { return m_starved.load(); }
    std::vector<Clock::time_point> m_handed_at;
    Clock::time_point m_not_before{};

private:
    Next ready(Clock::time_point now) {
        Next n;
        n.state = State::ready;
        n.request = make_request(static_cast<std::uint64_t>(m_step), m_url);
        m_handed_at.push_back(now);
        ++m_step;
        return n;
    }
    std::string m_url;
    Millis m_pause;
    int m_step = 0;
    std::atomic<bool> m_fed{false};
    std::atomic<bool> m_starved{false};
};

TEST_P(FetchEngine, WaitingSourceIsAskedAgainAtWakeAtAndOnWake) {
    m_router.add("/page", srv::Reply::text(200, "page\n"));
    auto fetcher = fetch::make_fetcher(GetParam(), test_policy(), 4);
    PoliteSource source(url("/page"), 200ms);
    Collector collector;
    std::thread feeder([&] {
        // Wait until the engine found the source starved, then feed it and wake the engine.
        EXPECT_TRUE(eventually([&] { return source.starved(); }))
            << "the engine never found the source starved";
        std::this_thread::sleep_for(50ms);
        source.feed();
        fetcher->wake();
    });
    run_guarded(*fetcher, source, collector);
    feeder.join();
    const auto r = collector.take();
    ASSERT_EQ(r.size(), 3u);
    for (const auto& resp : r)
        EXPECT_EQ(resp.http_status, 200);
    ASSERT_EQ(source.m_handed_at.size(), 3u);
    EXPECT_GE(source.m_handed_at[1], source.m_not_before); // not before wake_at
    EXPECT_TRUE(source.starved());
}

// A source with many requests whose stop() the test calls mid-run.
std::vector<fetch::Request> numbered(const std::string& url, int n) {
    std::vector<fetch::Request> v;
    for (int i = 0; i < n; ++i)
        v.push_back(make_request(static_cast<std::uint64_t>(i), url));
    return v;
}

void expect_one_response_each(const std::vector<fetch::Response>& r, int handed) {
    EXPECT_EQ(static_cast<int>(r.size()), handed);
    std::set<std::uint64_t> ids;
    for (const auto& resp : r)
        ids.insert(resp.id);
    EXPECT_EQ(ids.size(), r.size()) << "a request got more than one response";
}

TEST_P(FetchEngine, StopDrainLetsTransfersInFlightFinish) {
    auto reply = srv::Reply::text(200, "slowly\n");
    reply.delay = 400ms;
    m_router.add("/slow", reply);
    auto fetcher = fetch::make_fetcher(GetParam(), test_policy(), 4);
    ListSource source(numbered(url("/slow"), 20));
    Collector collector;
    const int in_flight = GetParam() == Strategy::sequential ? 1 : 4;
    std::thread stopper([&] {
        EXPECT_TRUE(
            eventually([&] { return static_cast<int>(m_router.count("/slow")) == in_flight; }));
        fetcher->stop(fetch::StopMode::drain);
    });
    run_guarded(*fetcher, source, collector);
    stopper.join();
    const auto r = collector.take();
    expect_one_response_each(r, source.handed());
    EXPECT_EQ(source.handed(), in_flight);
    for (const auto& resp : r) {
        EXPECT_FALSE(resp.error) << resp.error->message;
        EXPECT_EQ(resp.http_status, 200);
    }
}

TEST_P(FetchEngine, StopAbortInterruptsTransfersAndBackoffWaits) {
    auto reply = srv::Reply::text(200, "much too slowly\n");
    reply.delay = 30s;
    m_router.add("/stuck", reply);
    m_router.add("/busy", srv::Reply::text(503, "later\n").with_header("Retry-After", "30"));
    auto fetcher = fetch::make_fetcher(GetParam(), test_policy(), 4);
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(100, url("/busy")));
    for (auto& r : numbered(url("/stuck"), 10))
        requests.push_back(std::move(r));
    ListSource source(std::move(requests));
    Collector collector;
    const int in_flight = GetParam() == Strategy::sequential ? 1 : 4;
    std::thread stopper([&] {
        // Every slot taken and the first request's 503 answered: it waits out its Retry-After.
        EXPECT_TRUE(eventually([&] {
            return m_router.count("/busy") == 1 &&
                   static_cast<int>(m_router.count("/stuck")) == in_flight - 1;
        }));
        std::this_thread::sleep_for(50ms);
        fetcher->stop(fetch::StopMode::abort);
    });
    const auto start = Clock::now();
    run_guarded(*fetcher, source, collector);
    stopper.join();
    EXPECT_LT(Clock::now() - start, 10s); // not the server's 30 s
    const auto r = collector.take();
    expect_one_response_each(r, source.handed());
    EXPECT_EQ(source.handed(), in_flight);
    for (const auto& resp : r) {
        ASSERT_TRUE(resp.error);
        EXPECT_EQ(resp.error->kind, ErrorKind::interrupted);
    }
    // The first request was waiting out its Retry-After when the abort came.
    ASSERT_FALSE(r.empty());
    const auto busy = std::find_if(r.begin(), r.end(), [](auto& x) { return x.id == 100; });
    ASSERT_NE(busy, r.end());
    EXPECT_EQ(busy->attempts, 1);
}

TEST_P(FetchEngine, StopDrainEndsABackoffWaitWithTheLastOutcome) {
    m_router.add("/busy", srv::Reply::text(503, "later\n").with_header("Retry-After", "30"));
    auto fetcher = fetch::make_fetcher(GetParam(), test_policy(), 2);
    ListSource source(numbered(url("/busy"), 1));
    Collector collector;
    std::thread stopper([&] {
        EXPECT_TRUE(eventually([&] { return m_router.count("/busy") == 1; }));
        std::this_thread::sleep_for(50ms);
        fetcher->stop(fetch::StopMode::drain);
    });
    run_guarded(*fetcher, source, collector);
    stopper.join();
    const auto r = collector.take();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].error);
    EXPECT_EQ(r[0].http_status, 503);
    EXPECT_EQ(r[0].attempts, 1);
}

// A handler may call wake() and stop() itself (a crawler that reached its page limit).
class StoppingCollector final : public fetch::ResponseHandler {
public:
    explicit StoppingCollector(std::size_t stop_after)
        : m_stop_after(stop_after) {}
    void on_response(fetch::Response&& r) override {
        m_responses.push_back(std::move(r));
        m_fetcher->wake();
        if (m_responses.size() == m_stop_after)
            m_fetcher->stop(fetch::StopMode::drain);
    }
    fetch::Fetcher* m_fetcher = nullptr;
    std::size_t m_stop_after;
    std::vector<fetch::Response> m_responses;
};

TEST_P(FetchEngine, HandlerMayWakeAndStopTheEngine) {
    m_router.add("/page", srv::Reply::text(200, "page\n"));
    auto fetcher = fetch::make_fetcher(GetParam(), test_policy(), 2);
    ListSource source(numbered(url("/page"), 50));
    StoppingCollector collector(5);
    collector.m_fetcher = fetcher.get();
    run_guarded(*fetcher, source, collector);
    expect_one_response_each(collector.m_responses, source.handed());
    EXPECT_GE(collector.m_responses.size(), 5u);
    EXPECT_LT(source.handed(), 50);
}

class ThrowingHandler final : public fetch::ResponseHandler {
public:
    void on_response(fetch::Response&&) override {
        ++m_calls;
        throw std::runtime_error("handler bug");
    }
    int m_calls = 0;
};

// An exception from the handler ends run() with it (fetch.hpp): no response is delivered after
// it, no request is taken from the source after it, the requests in flight are dropped when the
// fetcher goes, and the engine works again afterwards.
TEST_P(FetchEngine, HandlerExceptionEndsRun) {
    auto reply = srv::Reply::text(200, "page\n");
    m_router.add("/page", reply);
    reply.delay = 2s; // still in flight when the handler throws
    m_router.add("/slow", reply);
    constexpr int k_concurrency = 3;
    auto fetcher = fetch::make_fetcher(GetParam(), test_policy(), k_concurrency);
    std::vector<fetch::Request> requests;
    requests.push_back(make_request(0, url("/page")));
    for (auto& r : numbered(url("/slow"), 20))
        requests.push_back(std::move(r));
    ListSource source(std::move(requests));
    ThrowingHandler handler;
    EXPECT_THROW(fetcher->run(source, handler), std::runtime_error);
    const int handed = source.handed();
    fetcher.reset(); // drops what was still in flight
    EXPECT_EQ(handler.m_calls, 1);
    EXPECT_EQ(source.handed(), handed);
    EXPECT_LE(handed, k_concurrency + 1) << "the run went on taking requests";

    auto again = fetch_all(numbered(url("/page"), 2), test_policy(), 2);
    ASSERT_EQ(again.size(), 2u);
    for (const auto& r : again)
        EXPECT_EQ(r.body, "page\n");
}

TEST_P(FetchEngine, ManyRequestsOverFewConnections) {
    m_router.add_prefix("/f/", [](const srv::Request& req) {
        return srv::Reply::text(200, std::string(req.path) + "\n");
    });
    std::vector<fetch::Request> requests;
    for (int i = 0; i < 300; ++i) {
        auto sink = i % 2 ? std::make_unique<MemorySink>() : nullptr;
        requests.push_back(make_request(i, url("/f/" + std::to_string(i)), true, std::move(sink)));
    }
    const auto r = fetch_all(std::move(requests), test_policy(), 8);
    ASSERT_EQ(r.size(), 300u);
    for (std::size_t i = 0; i < r.size(); ++i) {
        const std::string expected = "/f/" + std::to_string(i) + "\n";
        EXPECT_EQ(r[i].id, i);
        EXPECT_EQ(r[i].http_status, 200);
        if (i % 2)
            EXPECT_EQ(static_cast<MemorySink&>(*r[i].sink).m_data, expected);
        else
            EXPECT_EQ(r[i].body, expected);
    }
    EXPECT_LE(m_server->stats().connections, 8u);
}

TEST_P(FetchEngine, ConnectionsClosedAmongKeptAliveOnes) {
    // Every third reply closes its connection (Connection: close, or no length and a close after
    // the body), the others keep theirs: the client closes sockets all along and the kernel hands
    // their numbers to new connections while other sockets wait idle in the connection cache
    // (the async strategy keeps those registered with its reactor). A socket watch confused
    // between an old and a new socket of the same number would wait forever (the watchdog
    // fails the test) or deliver another transfer's bytes.
    m_router.add_prefix("/keep/", [](const srv::Request& req) {
        return srv::Reply::text(200, std::string(req.path) + "\n");
    });
    m_router.add_prefix("/close/", [](const srv::Request& req) {
        auto reply = srv::Reply::text(200, std::string(req.path) + "\n");
        reply.close = true;
        return reply;
    });
    m_router.add_prefix("/eof/", [](const srv::Request& req) {
        auto reply = srv::Reply::text(200, std::string(req.path) + "\n");
        reply.framing = srv::Framing::until_close;
        return reply;
    });
    constexpr int k_requests = 1200;
    std::vector<std::string> paths;
    std::vector<fetch::Request> requests;
    for (int i = 0; i < k_requests; ++i) {
        const char* kind = i % 6 == 0 ? "/close/" : i % 6 == 3 ? "/eof/" : "/keep/";
        paths.push_back(kind + std::to_string(i));
        requests.push_back(make_request(static_cast<std::uint64_t>(i), url(paths.back())));
    }
    const auto r = fetch_all(std::move(requests), test_policy(), 8);
    ASSERT_EQ(r.size(), static_cast<std::size_t>(k_requests));
    for (std::size_t i = 0; i < r.size(); ++i) {
        EXPECT_FALSE(r[i].error) << paths[i] << ": " << r[i].error->message;
        EXPECT_EQ(r[i].http_status, 200) << paths[i];
        EXPECT_EQ(r[i].body, paths[i] + "\n");
    }
    // One connection per closing reply at least: closed sockets' numbers were taken again.
    EXPECT_GE(m_server->stats().connections, static_cast<std::uint64_t>(k_requests / 3));
}

// Hands out `batch` requests, then, once all are answered, waits `pause` and hands out `batch`
// more; keeps the responses. Notes the server's connection count when the second batch starts.
class TwoBatches final : public fetch::WorkSource, public fetch::ResponseHandler {
public:
    TwoBatches(const srv::Server& server, int batch, Millis pause)
        : m_server(server)
        , m_batch(batch)
        , m_pause(pause) {}
    Next next(Clock::time_point now) override {
        Next n;
        if (m_handed == 2 * m_batch)
            return n; // finished
        if (m_handed == m_batch) {
            n.state = State::waiting;
            if (static_cast<int>(m_responses.size()) < m_batch)
                return n; // asked again after each response
            if (!m_resume_at)
                m_resume_at = now + m_pause;
            if (now < *m_resume_at) {
                n.wake_at = *m_resume_at;
                return n;
            }
            m_connections_before = m_server.stats().connections;
        }
        n.state = State::ready;
        n.request = make_request(static_cast<std::uint64_t>(m_handed),
                                 m_server.base_url() + "/n/" + std::to_string(m_handed));
        ++m_handed;
        return n;
    }
    void on_response(fetch::Response&& r) override { m_responses.push_back(std::move(r)); }

    const srv::Server& m_server;
    const int m_batch;
    const Millis m_pause;
    int m_handed = 0;
    std::optional<Clock::time_point> m_resume_at;
    std::uint64_t m_connections_before = 0;
    std::vector<fetch::Response> m_responses;
};

TEST_P(FetchEngine, IdleConnectionsClosedByTheServerAreReplaced) {
    // The server closes connections idle for 1 s (its sweep runs every second, so within 2 s);
    // the client pauses longer than that between two batches, so every cached connection is closed
    // under it while idle (the async strategy's registered sockets see the close with no wait
    // outstanding), and the second batch finds them dead and opens new ones, likely under the same
    // socket numbers.
    srv::Router router;
    router.add_prefix("/n/", [](const srv::Request& req) {
        return srv::Reply::text(200, std::string(req.path) + "\n");
    });
    srv::ServerOptions options;
    options.idle_timeout = 1s;
    srv::Server server(router.handler(), options);
    ASSERT_FALSE(server.start());
    constexpr int k_batch = 40;
    auto fetcher = fetch::make_fetcher(GetParam(), test_policy(), 4);
    TwoBatches source(server, k_batch, 2500ms);
    run_guarded(*fetcher, source, source);
    ASSERT_EQ(source.m_responses.size(), 2u * k_batch);
    for (const auto& resp : source.m_responses) {
        EXPECT_FALSE(resp.error) << resp.error->message;
        EXPECT_EQ(resp.http_status, 200);
        EXPECT_EQ(resp.body, "/n/" + std::to_string(resp.id) + "\n");
    }
    EXPECT_GT(server.stats().connections, source.m_connections_before); // new ones were needed
}

INSTANTIATE_TEST_SUITE_P(Strategies, FetchEngine,
                         ::testing::Values(Strategy::sequential, Strategy::threaded,
                                           Strategy::async),
                         [](const auto& param_info) {
                             return std::string(to_string(param_info.param));
                         });

// A socket the async strategy cannot register with its reactor fails the transfers curl then
// gives up on with the registration's own reason, not as "Out of memory".
TEST(FetchEngineAsync, ReactorRegistrationFailureIsReportedWithItsReason) {
    srv::Router router;
    router.add("/a", srv::Reply::text(200, "a\n"));
    srv::Server server(router.handler());
    ASSERT_FALSE(server.start());
    auto fetcher = fetch::make_fetcher(Strategy::async, test_policy(), 2);
    std::vector<fetch::Request> requests;
    for (std::uint64_t id = 1; id <= 3; ++id)
        requests.push_back(make_request(id, server.base_url() + "/a"));
    ListSource source(std::move(requests));
    Collector collector;
    t_refuse_epoll_add = true;
    run_guarded(*fetcher, source, collector);
    t_refuse_epoll_add = false;
    const auto responses = collector.take();
    ASSERT_EQ(responses.size(), 3u);
    for (const auto& resp : responses) {
        ASSERT_TRUE(resp.error);
        EXPECT_EQ(resp.error->kind, ErrorKind::other);
        EXPECT_NE(resp.error->message.find(std::strerror(ENOSPC)), std::string::npos)
            << resp.error->message;
        EXPECT_NE(resp.error->message.find(server.base_url() + "/a"), std::string::npos)
            << resp.error->message;
        EXPECT_EQ(resp.attempts, 1) << resp.error->message; // not retried
    }
    EXPECT_EQ(server.stats().requests, 0u);
}

} // namespace
