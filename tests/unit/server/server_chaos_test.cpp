// Delay and error injection: option syntax, deterministic draws independent of request order,
// fresh draws on retries, and delays applied through the server's timers.
#include "eventually.hpp"

#include "server/chaos.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "server_test_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

using namespace flagcrawl::server;
using flagcrawl::server::testing::TestClient;
using flagcrawl::testing_support::eventually;
using namespace std::chrono_literals;

namespace {

// The targets answered 418 when `targets` are requested once each, in this order, by `clients`
// concurrent connections taking every clients-th target.
std::set<std::string> teapots(std::uint64_t seed, const std::vector<std::string>& targets,
                              int clients) {
    Router routes;
    routes.add_prefix("/", [](const Request&) { return Reply::text(200, "ok\n"); });
    Server server(with_chaos(routes.handler(), ChaosOptions{.error_rate = 0.3, .seed = seed}),
                  ServerOptions{.threads = 2});
    if (server.start())
        throw std::runtime_error("cannot start");
    std::mutex mutex;
    std::set<std::string> out;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            TestClient client(server.port());
            for (std::size_t i = static_cast<std::size_t>(c); i < targets.size();
                 i += static_cast<std::size_t>(clients)) {
                auto response = client.get(targets[i]);
                if (!response || (response->status != 200 && response->status != 418))
                    throw std::runtime_error("unexpected answer for " + targets[i]);
                if (response->status == 418) {
                    std::lock_guard lock(mutex);
                    out.insert(targets[i]);
                }
            }
        });
    for (auto& thread : threads)
        thread.join();
    return out;
}

} // namespace

TEST(ServerChaos, ParseDelay) {
    EXPECT_EQ(parse_delay("0.5"), (DelayRange{500ms, 500ms}));
    EXPECT_EQ(parse_delay("2"), (DelayRange{2s, 2s}));
    EXPECT_EQ(parse_delay("0"), (DelayRange{0s, 0s}));
    EXPECT_EQ(parse_delay("0.1-0.3"), (DelayRange{100ms, 300ms}));
    EXPECT_EQ(parse_delay("1-1"), (DelayRange{1s, 1s}));
    EXPECT_EQ(parse_delay(".25"), (DelayRange{250ms, 250ms}));
    for (const char* bad : {"", "-1", "+1", "0.3-0.1", "1-", "-", "a", "1s", "1e3", "nan", "inf",
                            "0.1-0.2-0.3", " 1", "1 ", "7200", "0.1--0.2"})
        EXPECT_EQ(parse_delay(bad), std::nullopt) << bad;
}

TEST(ServerChaos, DrawsAreDeterministicAndFreshPerOccurrence) {
    const ChaosOptions options{.delay = {100ms, 300ms}, .error_rate = 0.5, .seed = 42};
    std::set<std::int64_t> delays;
    int errors = 0;
    for (std::uint64_t n = 0; n < 200; ++n) {
        const ChaosDraw draw = chaos_draw(options, "/same?x", n);
        const ChaosDraw again = chaos_draw(options, "/same?x", n);
        EXPECT_EQ(draw.delay, again.delay);
        EXPECT_EQ(draw.error, again.error);
        EXPECT_GE(draw.delay, 100ms);
        EXPECT_LE(draw.delay, 300ms);
        delays.insert(draw.delay.count());
        errors += draw.error;
    }
    // A retry of the same URL is a fresh draw: both answers and many delays occur.
    EXPECT_GT(errors, 60);
    EXPECT_LT(errors, 140);
    EXPECT_GT(delays.size(), 150u);
    // Rates 0 and 1 are exact; a fixed delay is exact.
    for (std::uint64_t n = 0; n < 50; ++n) {
        const std::string target = "/t" + std::to_string(n);
        EXPECT_FALSE(chaos_draw(ChaosOptions{.error_rate = 0.0}, target, 0).error);
        EXPECT_TRUE(chaos_draw(ChaosOptions{.error_rate = 1.0}, target, 0).error);
        EXPECT_EQ(chaos_draw(ChaosOptions{.delay = {1s, 1s}}, target, n).delay, 1s);
    }
}

TEST(ServerChaos, SameSeedSameTeapotsWhateverTheOrder) {
    std::vector<std::string> targets;
    for (int i = 0; i < 200; ++i)
        targets.push_back("/flags/x" + std::to_string(i) + ".gif");
    const auto in_order = teapots(7, targets, 1);
    std::vector<std::string> reversed(targets.rbegin(), targets.rend());
    const auto reversed_concurrent = teapots(7, reversed, 4);
    EXPECT_EQ(in_order, reversed_concurrent);
    EXPECT_GT(in_order.size(), 30u); // about 60 of 200
    EXPECT_LT(in_order.size(), 90u);
    EXPECT_NE(teapots(8, targets, 1), in_order);
}

TEST(ServerChaos, ErrorsReplaceTheReplyAndDelaysUseTimers) {
    Router routes;
    routes.add("/ok", Reply::text(200, "fine\n"));
    Server always(with_chaos(routes.handler(), ChaosOptions{.error_rate = 1.0}));
    ASSERT_FALSE(always.start());
    TestClient client(always.port());
    auto teapot = client.get("/ok");
    ASSERT_TRUE(teapot);
    EXPECT_EQ(teapot->status, 418);
    EXPECT_EQ(teapot->body, "I'm a teapot\n");
    EXPECT_EQ(routes.count("/ok"), 1u); // asked: only what it would have served can fail

    // Delays are timers: thirty delayed replies wait at once (one at a time, the second request
    // would reach the handler only after 30 s), and stopping does not wait for them.
    Server slow(with_chaos(routes.handler(), ChaosOptions{.delay = {30s, 30s}}));
    ASSERT_FALSE(slow.start());
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 30; ++i)
        clients.push_back(std::make_unique<TestClient>(slow.port()));
    for (auto& c : clients)
        ASSERT_TRUE(c->send_request("GET", "/ok"));
    ASSERT_TRUE(eventually([&] { return routes.count("/ok") == 31; }))
        << routes.count("/ok") - 1 << " of 30 delayed requests reached the handler";
    slow.stop();
    for (auto& c : clients)
        EXPECT_EQ(c->read_until_close(), "");
}

TEST(ServerChaos, OnlyWouldBeSuccessesFail) {
    // The server fails a fraction of what it would have served: a 404 (or any non-2xx) of the
    // wrapped handler passes through even at rate 1, with its delay.
    Router routes;
    routes.add("/ok", Reply::text(200, "fine\n"));
    routes.add("/gone", Reply::text(503, "busy\n"));
    Server always(
        with_chaos(routes.handler(), ChaosOptions{.delay = {20ms, 20ms}, .error_rate = 1.0}));
    ASSERT_FALSE(always.start());
    TestClient client(always.port());
    const auto started = std::chrono::steady_clock::now();
    auto missing = client.get("/missing");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_GE(std::chrono::steady_clock::now() - started, 20ms);
    auto busy = client.get("/gone");
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->status, 503);
    auto ok = client.get("/ok");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 418);

    // At a partial rate, over a mix of existing and missing targets: every missing one is a 404,
    // and about that fraction of the existing ones fail.
    Router half;
    for (int i = 0; i < 200; ++i)
        half.add("/f" + std::to_string(i), Reply::text(200, "x\n"));
    Server some(with_chaos(half.handler(), ChaosOptions{.error_rate = 0.25, .seed = 3}));
    ASSERT_FALSE(some.start());
    TestClient c2(some.port());
    int not_found = 0, teapots = 0, served = 0;
    for (int i = 0; i < 400; ++i) {
        auto r = c2.get("/f" + std::to_string(i));
        ASSERT_TRUE(r);
        if (i >= 200) {
            EXPECT_EQ(r->status, 404) << i;
        }
        not_found += r->status == 404;
        teapots += r->status == 418;
        served += r->status == 200;
    }
    EXPECT_EQ(not_found, 200);
    EXPECT_EQ(teapots + served, 200);
    EXPECT_GT(teapots, 25); // about 50
    EXPECT_LT(teapots, 80);
}
