// The coordinator against a private PostgreSQL cluster, driven through its mailbox as the crawl
// loop drives it, over a small synthetic link graph (no HTTP): defining and joining, two workers
// sharing a crawl to its end with the same verdict, statistics refreshed as the crawl grows, a
// server stopped mid-crawl, a lost lease whose late results are refused, and close() handing
// hosts back with every URL delivered and not done (those the loop never took too).
#include "pg_cluster.hpp"

#include "crawler/pgfrontier/coordinator.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace flagcrawl::pgfrontier;
using flagcrawl::testing_support::PgCluster;
using namespace std::chrono_literals;

namespace {

// Page n of host h links to pages 2n+1 and 2n+2 of the same host (a binary tree of `pages`).
struct Graph {
    int hosts = 2;
    int pages = 60;
    std::string origin(int h) const { return "http://h" + std::to_string(h) + ":80"; }
    static std::uint64_t key(int h, int n) {
        return static_cast<std::uint64_t>(h) * 1000000 + n + 1;
    }
    std::vector<UrlRow> links(int h, int n) const {
        std::vector<UrlRow> out;
        for (int child : {2 * n + 1, 2 * n + 2}) {
            if (child < pages) {
                out.push_back({key(h, child), origin(h), "/" + std::to_string(child), 1, 0, false});
            }
        }
        return out;
    }
    std::vector<UrlRow> seeds() const {
        std::vector<UrlRow> out;
        for (int h = 0; h < hosts; ++h) {
            out.push_back({key(h, 0), origin(h), "/0", 0, 0, false});
        }
        return out;
    }
};

CoordinatorOptions options(const PgCluster& pg, const std::string& name) {
    CoordinatorOptions o;
    o.conninfo = pg.uri();
    o.crawl_name = name;
    o.label = "test";
    o.lease = 2000ms;
    o.batch_delay = 20ms;
    o.connect_timeout = 5s;
    o.outage_limit = 20s;
    return o;
}

CrawlDefinition definition(const std::string& name, const Graph& g) {
    CrawlDefinition d;
    d.name = name;
    d.seeds_json = "[]";
    d.options_json = "{}";
    d.seeds = g.seeds();
    return d;
}

// A crawl of one host of the graph, defined by this coordinator, under a lease that does not
// lapse during a test.
CoordinatorOptions one_host_crawl(const PgCluster& pg, const std::string& name) {
    Graph g;
    g.hosts = 1;
    auto o = options(pg, name);
    o.define = definition(name, g);
    o.lease = 60000ms;
    return o;
}

// Plays the crawl loop: wants URLs for the hosts it holds, "fetches" each delivered URL at once
// (submitting its completion and its links), reports idleness, until the coordinator says the
// crawl is over or `limit` passes. `pause_after`: called once after that many completions.
struct Loop {
    Coordinator& c;
    const Graph& graph;
    std::mutex mutex;
    std::condition_variable cv;
    bool woken = false;
    std::map<std::int32_t, std::int32_t> epochs; // held hosts
    std::uint64_t completed = 0;
    std::uint64_t refused = 0;
    std::optional<Verdict> verdict;
    std::optional<std::string> failure;
    std::chrono::milliseconds fetch_time{0}; // per URL

    explicit Loop(Coordinator& coordinator, const Graph& g)
        : c(coordinator)
        , graph(g) {
        c.set_waker([this] {
            std::lock_guard lock(mutex);
            woken = true;
            cv.notify_one();
        });
    }

    void run(std::chrono::seconds limit, std::uint64_t pause_after = 0,
             const std::function<void()>& pause = {}) {
        const auto give_up = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < give_up) {
            Update u = c.take_updates();
            refused += u.refused;
            for (const Grant& g : u.granted) {
                epochs[g.host] = g.epoch;
            }
            for (std::int32_t lost : u.lost) {
                epochs.erase(lost);
            }
            // Everything delivered is done at once: always 8 short of the read-ahead.
            for (const auto& [host, epoch] : epochs) {
                c.want(host, epoch, 8);
            }
            std::vector<Completion> done;
            std::vector<UrlRow> found;
            std::map<std::int32_t, Release> strays; // delivered for hosts handed back
            for (const Delivered& d : u.delivered) {
                if (!epochs.contains(d.host)) {
                    auto& r = strays[d.host];
                    r.host = d.host;
                    r.epoch = d.epoch;
                    r.returned.push_back(d.url.key);
                    continue;
                }
                std::this_thread::sleep_for(fetch_time);
                const int h = static_cast<int>(d.url.key / 1000000);
                const int n = static_cast<int>(d.url.key % 1000000) - 1;
                done.push_back({d.url.key, d.host, d.epoch, 200, 1000, std::nullopt, true});
                for (UrlRow& link : graph.links(h, n)) {
                    found.push_back(std::move(link));
                }
            }
            if (!done.empty()) {
                completed += done.size();
                c.submit(std::move(done), std::move(found));
                if (pause && pause_after > 0 && completed >= pause_after) {
                    pause();
                    pause_after = 0;
                }
            }
            for (auto& [host, r] : strays) {
                c.release(std::move(r));
            }
            // Hosts beyond the fair share go back (nothing of theirs is in flight: everything
            // delivered was completed above).
            for (std::int64_t n = u.surplus; n > 0 && !epochs.empty(); --n) {
                const auto [host, epoch] = *epochs.begin();
                c.release(Release{host, epoch, 0ms, {}});
                epochs.erase(epochs.begin());
            }
            c.set_idle(u.delivered.empty());
            if (u.failure) {
                failure = u.failure;
                return;
            }
            if (u.verdict) {
                verdict = u.verdict;
                return;
            }
            std::unique_lock lock(mutex);
            cv.wait_for(lock, 200ms, [this] { return woken; });
            woken = false;
        }
    }
};

class CoordinatorTest : public ::testing::Test {
protected:
    void SetUp() override {
        pg = PgCluster::start(why_not);
        if (!pg) {
            GTEST_SKIP() << why_not;
        }
    }
    std::string count(const std::string& where) {
        return pg->value("SELECT count(*) FROM flagcrawl.urls WHERE " + where);
    }
    std::string why_not;
    std::unique_ptr<PgCluster> pg;
};

TEST_F(CoordinatorTest, DefinesJoinsAndSaysWhatIsWrong) {
    Graph g;
    auto o = options(*pg, "spring");
    o.define = definition("spring", g);
    Coordinator first(o);
    auto started = first.start();
    ASSERT_EQ(started.problem, Coordinator::Started::Problem::none) << started.message;
    EXPECT_EQ(started.crawl.name, "spring");

    Coordinator again(o);
    auto taken = again.start();
    EXPECT_EQ(taken.problem, Coordinator::Started::Problem::name_taken);
    EXPECT_NE(taken.message.find("'spring' exists"), std::string::npos) << taken.message;

    Coordinator unknown(options(*pg, "autumn"));
    auto missing = unknown.start();
    EXPECT_EQ(missing.problem, Coordinator::Started::Problem::no_such_crawl);
    EXPECT_NE(missing.message.find("no crawl named 'autumn'"), std::string::npos);

    auto bad = options(*pg, "spring");
    bad.conninfo = "postgresql://u:topsecret@/db?host=" + (pg->folder() / "none").string();
    Coordinator nowhere(bad);
    auto failed = nowhere.start();
    EXPECT_EQ(failed.problem, Coordinator::Started::Problem::failed);
    EXPECT_EQ(failed.message.find("topsecret"), std::string::npos) << failed.message;
    EXPECT_EQ(failed.message.find('\n'), std::string::npos);
    first.close({}, "test over", std::chrono::steady_clock::now() + 5s);
}

TEST_F(CoordinatorTest, TwoWorkersFinishTheCrawlWithOneVerdict) {
    Graph g;
    g.hosts = 4;
    g.pages = 300;
    auto o1 = options(*pg, "pair");
    o1.define = definition("pair", g);
    Coordinator c1(o1);
    ASSERT_EQ(c1.start().problem, Coordinator::Started::Problem::none);
    Coordinator c2(options(*pg, "pair"));
    ASSERT_EQ(c2.start().problem, Coordinator::Started::Problem::none);
    Loop l1(c1, g), l2(c2, g);
    l1.fetch_time = l2.fetch_time = 3ms; // long enough for renewals to rebalance the hosts
    std::thread t2([&] { l2.run(60s); });
    l1.run(60s);
    t2.join();
    ASSERT_TRUE(l1.verdict) << l1.failure.value_or("no verdict");
    ASSERT_TRUE(l2.verdict) << l2.failure.value_or("no verdict");
    EXPECT_EQ(l1.verdict->status, CrawlStatus::finished);
    EXPECT_EQ(l2.verdict->stop_reason, l1.verdict->stop_reason);
    EXPECT_EQ(count("true"), std::to_string(g.hosts * g.pages));
    EXPECT_EQ(count("state = 1"), std::to_string(g.hosts * g.pages));
    EXPECT_EQ(l1.refused + l2.refused, 0u);
    EXPECT_EQ(l1.completed + l2.completed, static_cast<std::uint64_t>(g.hosts * g.pages));
    EXPECT_GT(l1.completed, 0u);
    EXPECT_GT(l2.completed, 0u); // the hosts were shared
    c1.close({}, "finished", std::chrono::steady_clock::now() + 5s);
    c2.close({}, "finished", std::chrono::steady_clock::now() + 5s);
    EXPECT_EQ(pg->value("SELECT count(*) FROM flagcrawl.workers WHERE ended_at IS NOT NULL"), "2");
    EXPECT_EQ(pg->value("SELECT count(*) FROM flagcrawl.hosts WHERE owner IS NOT NULL"), "0");
}

// The planner's statistics of a growing crawl are refreshed by the workers (autovacuum would
// leave a young crawl without any for a minute or more): a worker that added 1,000 URLs has run
// ANALYZE on the URL and host tables.
TEST_F(CoordinatorTest, AGrowingCrawlGetsPlannerStatistics) {
    Graph g;
    g.hosts = 2;
    g.pages = 600;
    auto o = options(*pg, "growing");
    o.define = definition("growing", g);
    Coordinator c(o);
    ASSERT_EQ(c.start().problem, Coordinator::Started::Problem::none);
    const std::string analyzed = "SELECT analyze_count FROM pg_stat_user_tables"
                                 " WHERE schemaname = 'flagcrawl' AND relname = ";
    EXPECT_EQ(pg->value(analyzed + "'urls'"), "0");
    Loop l(c, g);
    l.run(60s);
    ASSERT_TRUE(l.verdict) << l.failure.value_or("no verdict");
    EXPECT_EQ(count("state = 1"), std::to_string(g.hosts * g.pages));
    EXPECT_NE(pg->value(analyzed + "'urls'"), "0");
    EXPECT_NE(pg->value(analyzed + "'hosts'"), "0");
    c.close({}, "finished", std::chrono::steady_clock::now() + 5s);
}

TEST_F(CoordinatorTest, TheServerStoppedMidCrawlIsReconnectedTo) {
    Graph g;
    g.pages = 200;
    auto o = options(*pg, "outage");
    o.define = definition("outage", g);
    Coordinator c(o);
    ASSERT_EQ(c.start().problem, Coordinator::Started::Problem::none);
    Loop loop(c, g);
    loop.run(90s, 100, [&] {
        pg->stop_server();
        std::this_thread::sleep_for(1s);
        pg->start_server();
    });
    ASSERT_TRUE(loop.verdict) << loop.failure.value_or("no verdict");
    EXPECT_EQ(loop.verdict->status, CrawlStatus::finished);
    EXPECT_EQ(count("state = 1"), std::to_string(g.hosts * g.pages));
    EXPECT_EQ(loop.refused, 0u);
    c.close({}, "finished", std::chrono::steady_clock::now() + 5s);
}

TEST_F(CoordinatorTest, ALostLeaseRefusesLateResultsAndCloseHandsHostsBack) {
    Coordinator c(one_host_crawl(*pg, "lost"));
    ASSERT_EQ(c.start().problem, Coordinator::Started::Problem::none);
    // Wait for the grant and the seed.
    std::optional<Grant> grant;
    std::vector<Delivered> delivered;
    for (int i = 0; i < 100 && delivered.empty(); ++i) {
        Update u = c.take_updates();
        for (const Grant& gr : u.granted) {
            grant = gr;
            c.want(gr.host, gr.epoch, 8);
        }
        delivered.insert(delivered.end(), u.delivered.begin(), u.delivered.end());
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(grant);
    ASSERT_EQ(delivered.size(), 1u);
    // Another worker takes the host over (its lease made to lapse).
    pg->sql("UPDATE flagcrawl.hosts SET owner = NULL, epoch = epoch + 1");
    c.submit(
        {{delivered[0].url.key, delivered[0].host, delivered[0].epoch, 200, 1, std::nullopt, true}},
        {});
    std::uint64_t refused = 0;
    for (int i = 0; i < 100 && refused == 0; ++i) {
        refused += c.take_updates().refused;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(refused, 1u);
    EXPECT_EQ(count("state = 1"), "0");

    // close() hands back what it holds; the delivered URL is returned uncounted.
    pg->sql(
        "UPDATE flagcrawl.hosts SET owner = " + pg->value("SELECT max(id) FROM flagcrawl.workers") +
        ", epoch = " + std::to_string(grant->epoch));
    c.close({Release{grant->host, grant->epoch, 0ms, {delivered[0].url.key}}}, "interrupted",
            std::chrono::steady_clock::now() + 5s);
    EXPECT_EQ(pg->value("SELECT owner IS NULL FROM flagcrawl.hosts"), "t");
    EXPECT_EQ(pg->value("SELECT deliveries FROM flagcrawl.urls"), "0");
    EXPECT_EQ(pg->value("SELECT verdict FROM flagcrawl.workers"), "interrupted");
}

// Ctrl-C can come while URLs the coordinator delivered wait in its mailbox, never taken by the
// loop: close() hands them back uncounted with their host, as it does the URLs the loop held (a
// URL left counted would be given up one delivery early by a later worker).
TEST_F(CoordinatorTest, CloseReturnsUncountedTheUrlsTheLoopNeverTook) {
    Coordinator c(one_host_crawl(*pg, "untaken"));
    ASSERT_EQ(c.start().problem, Coordinator::Started::Problem::none);
    std::optional<Grant> grant;
    for (int i = 0; i < 100 && !grant; ++i) {
        for (const Grant& gr : c.take_updates().granted) {
            grant = gr;
        }
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(grant);
    c.want(grant->host, grant->epoch, 8);
    // Delivered on the server; the loop takes no update any more.
    for (int i = 0; i < 100 && count("deliveries > 0") == "0"; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(count("deliveries > 0"), "1");
    c.close({Release{grant->host, grant->epoch, 0ms, {}}}, "interrupted",
            std::chrono::steady_clock::now() + 5s);
    EXPECT_EQ(pg->value("SELECT owner IS NULL FROM flagcrawl.hosts"), "t");
    EXPECT_EQ(count("state = 0 AND deliveries > 0"), "0");
}

} // namespace
