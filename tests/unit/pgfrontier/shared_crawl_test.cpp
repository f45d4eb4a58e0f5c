// The statements of the shared crawl against a private PostgreSQL cluster: the schema and its
// version check, defining and finding a crawl, claims within a fair share, lapsed leases taken
// over with a new epoch, fencing of late completions, deliveries in discovery order and their
// count, batches (ledger, discoveries, pending counts, notifications), a young crawl's batches
// read by primary key, releases, crawl-wide limits, the finish, and concurrent batches that
// never deadlock.
#include "pg_cluster.hpp"
#include "pg_sync.hpp"

#include "crawler/pgfrontier/schema.hpp"
#include "crawler/pgfrontier/shared_crawl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

#include <set>
#include <thread>

using namespace flagcrawl::pgfrontier;
using flagcrawl::testing_support::PgCluster;
using flagcrawl::testing_support::PgSync;
using namespace std::chrono_literals;

namespace {

UrlRow url(std::uint64_t key, std::string origin, std::string path, int depth = 1) {
    return UrlRow{key, std::move(origin), std::move(path), depth, 0, false};
}

Completion ok(const Delivered& d, std::int64_t bytes = 100) {
    return Completion{d.url.key, d.host, d.epoch, 200, bytes, std::nullopt, true};
}

// A connected worker of one crawl.
struct Worker {
    PgSync& sync;
    std::unique_ptr<PgConnection> c;
    std::int32_t crawl = 0;
    std::int32_t id = 0;
    std::int64_t batches = 0;

    Claim claim(int want, Millis lease = 30s) {
        auto r = sync.run(claim_hosts(*c, crawl, id, want, lease));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : Claim{};
    }
    std::vector<Delivered> take(const HostLease& l, int limit) {
        auto r = sync.run(deliver(*c, crawl, id, {{l.host, l.epoch, limit}}));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : std::vector<Delivered>{};
    }
    BatchResult commit(std::vector<Completion> done, std::vector<UrlRow> found = {}) {
        Batch b;
        b.sequence = ++batches;
        b.completions = std::move(done);
        b.discovered = std::move(found);
        auto r = sync.run(commit_batch(*c, crawl, id, b));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : BatchResult{};
    }
};

class SharedCrawl : public ::testing::Test {
protected:
    void SetUp() override {
        pg = PgCluster::start(why_not);
        if (!pg) {
            GTEST_SKIP() << why_not;
        }
    }

    std::unique_ptr<PgConnection> connect() {
        auto c = sync.connect(pg->uri());
        if (c) {
            auto schema = sync.run(ensure_schema(*c));
            EXPECT_TRUE(schema) << schema.error().message;
        }
        return c;
    }

    // Defines crawl `name` with one seed per origin ("/" each).
    CrawlInfo define(const std::string& name, const std::vector<std::string>& origins,
                     std::uint64_t max_pages = 0) {
        auto c = connect();
        CrawlDefinition d;
        d.name = name;
        d.seeds_json = "[]";
        d.options_json = "{}";
        d.max_pages = max_pages;
        std::uint64_t key = 1;
        for (const auto& origin : origins) {
            d.seeds.push_back(url(key++ * 1000, origin, "/", 0));
        }
        auto r = sync.run(define_crawl(*c, d));
        EXPECT_TRUE(r && *r) << (r ? "name taken" : r.error().message);
        return r && *r ? **r : CrawlInfo{};
    }

    Worker join(std::int32_t crawl, const std::string& label) {
        Worker w{sync, connect(), crawl};
        auto id = sync.run(register_worker(*w.c, crawl, label));
        EXPECT_TRUE(id) << id.error().message;
        w.id = id ? *id : 0;
        return w;
    }

    // The notifications `w` receives, waiting for at least one (a few seconds at most).
    std::vector<Notification> notifications(Worker& w) {
        std::vector<Notification> got;
        for (int i = 0; i < 50 && got.empty(); ++i) {
            EXPECT_TRUE(sync.run(w.c->wait_readable()));
            got = w.c->take_notifications();
        }
        return got;
    }

    // Every host's pending count equals its undone URLs.
    void expect_pending_exact() {
        EXPECT_EQ(pg->value("SELECT count(*) FROM flagcrawl.hosts h WHERE pending <> "
                            "(SELECT count(*) FROM flagcrawl.urls u WHERE u.host = h.id "
                            "AND u.state = 0)"),
                  "0");
    }

    std::string why_not;
    std::unique_ptr<PgCluster> pg;
    PgSync sync;
};

TEST_F(SharedCrawl, SchemaIsCreatedOnceAndANewerOneRefused) {
    auto c = connect();
    EXPECT_EQ(pg->value("SELECT value FROM flagcrawl.meta WHERE key = 'schema_version'"),
              std::to_string(k_schema_version));
    auto again = sync.run(ensure_schema(*c));
    EXPECT_TRUE(again);
    pg->sql("UPDATE flagcrawl.meta SET value = '99' WHERE key = 'schema_version'");
    auto refused = sync.run(ensure_schema(*c));
    ASSERT_FALSE(refused);
    EXPECT_FALSE(refused.error().transient());
    EXPECT_NE(refused.error().message.find("schema version 99"), std::string::npos)
        << refused.error().message;
}

TEST_F(SharedCrawl, ACrawlIsDefinedOnceAndFoundByName) {
    const CrawlInfo info = define("spring", {"http://a:1", "http://b:2"}, 500);
    EXPECT_EQ(info.name, "spring");
    EXPECT_EQ(info.max_pages, 500u);
    EXPECT_EQ(info.status, CrawlStatus::running);
    EXPECT_EQ(pg->value("SELECT count(*) FROM flagcrawl.urls"), "2");
    EXPECT_EQ(pg->value("SELECT sum(pending) FROM flagcrawl.hosts"), "2");

    auto c = connect();
    CrawlDefinition d;
    d.name = "spring";
    d.seeds_json = "[]";
    d.options_json = "{}";
    d.seeds.push_back(url(5, "http://c:3", "/", 0));
    auto taken = sync.run(define_crawl(*c, d));
    ASSERT_TRUE(taken);
    EXPECT_FALSE(*taken);
    EXPECT_EQ(pg->value("SELECT count(*) FROM flagcrawl.urls"), "2"); // nothing added

    auto found = sync.run(find_crawl(*c, "spring"));
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, info.id);
    auto missing = sync.run(find_crawl(*c, "autumn"));
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TEST_F(SharedCrawl, ClaimsStayWithinAFairShare) {
    const CrawlInfo info = define("fair", {"http://a:1", "http://b:2", "http://c:3"});
    Worker a = join(info.id, "a");
    Worker b = join(info.id, "b");
    const Claim ca = a.claim(10);
    EXPECT_EQ(ca.leases.size(), 2u); // ceil(3 hosts / 2 workers)
    EXPECT_EQ(ca.state.fair_share, 2);
    for (const auto& l : ca.leases) {
        EXPECT_EQ(l.epoch, 1);
        EXPECT_FALSE(l.taken_over);
        EXPECT_GT(l.remaining, 25s);
    }
    const Claim cb = b.claim(10);
    ASSERT_EQ(cb.leases.size(), 1u);
    EXPECT_TRUE(b.claim(10).leases.empty()); // nothing left
    std::set<std::int32_t> hosts;
    for (const auto& l : ca.leases) {
        hosts.insert(l.host);
    }
    EXPECT_FALSE(hosts.contains(cb.leases[0].host));
}

TEST_F(SharedCrawl, ALapsedLeaseIsTakenOverAndTheOldOwnerFencedOut) {
    const CrawlInfo info = define("fence", {"http://a:1"});
    Worker a = join(info.id, "a");
    Worker b = join(info.id, "b");
    const Claim ca = a.claim(1, 300ms);
    ASSERT_EQ(ca.leases.size(), 1u);
    const auto delivered = a.take(ca.leases[0], 10);
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_TRUE(b.claim(1).leases.empty()); // a's lease holds
    std::this_thread::sleep_for(400ms);
    const Claim cb = b.claim(1);
    ASSERT_EQ(cb.leases.size(), 1u);
    EXPECT_EQ(cb.leases[0].epoch, 2);
    EXPECT_TRUE(cb.leases[0].taken_over);

    // a wakes up and reports: refused, and its renewal says the host is gone.
    const BatchResult late = a.commit({ok(delivered[0])});
    EXPECT_TRUE(late.accepted.empty());
    auto renewal = sync.run(renew_leases(*a.c, info.id, a.id, {{ca.leases[0].host, 1}}, 30s));
    ASSERT_TRUE(renewal);
    EXPECT_TRUE(renewal->held.empty());
    EXPECT_EQ(pg->value("SELECT state FROM flagcrawl.urls"), "0");

    // b gets the URL again (a second delivery) and its result counts.
    const auto again = b.take(cb.leases[0], 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].deliveries, 2);
    const BatchResult r = b.commit({ok(again[0], 1234)});
    EXPECT_EQ(r.accepted.size(), 1u);
    EXPECT_EQ(pg->value("SELECT state || ' ' || status || ' ' || bytes || ' ' || worker FROM "
                        "flagcrawl.urls"),
              "1 200 1234 " + std::to_string(b.id));
    expect_pending_exact();
}

TEST_F(SharedCrawl, DeliveriesComeInDiscoveryOrderOncePerLease) {
    const CrawlInfo info = define("order", {"http://a:1"});
    Worker a = join(info.id, "a");
    const Claim ca = a.claim(1);
    ASSERT_EQ(ca.leases.size(), 1u);
    const auto seed = a.take(ca.leases[0], 10);
    ASSERT_EQ(seed.size(), 1u);
    std::vector<UrlRow> found;
    for (int i = 0; i < 5; ++i) {
        found.push_back(url(900 - i, "http://a:1", "/p" + std::to_string(i))); // keys descending
    }
    a.commit({ok(seed[0])}, found);
    const auto first = a.take(ca.leases[0], 3);
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(first[0].url.path, "/p0");
    EXPECT_EQ(first[1].url.path, "/p1");
    EXPECT_EQ(first[2].url.path, "/p2");
    const auto rest = a.take(ca.leases[0], 10); // not the three again
    ASSERT_EQ(rest.size(), 2u);
    EXPECT_EQ(rest[0].url.path, "/p3");
    EXPECT_TRUE(a.take(ca.leases[0], 10).empty());
}

TEST_F(SharedCrawl, BatchesKeepTheLedgerAndTheSeenSet) {
    const CrawlInfo info = define("ledger", {"http://a:1"});
    Worker a = join(info.id, "a");
    const Claim ca = a.claim(1);
    const auto seed = a.take(ca.leases[0], 10);
    ASSERT_EQ(seed.size(), 1u);
    const BatchResult r1 =
        a.commit({ok(seed[0])}, {url(1, "http://a:1", "/x"), url(2, "http://b:2", "/y"),
                                 url(seed[0].url.key, "http://a:1", "/")});
    EXPECT_EQ(r1.accepted.size(), 1u);
    EXPECT_EQ(r1.inserted, 2u); // the seed itself was seen
    ASSERT_EQ(r1.pending.size(), 1u);
    EXPECT_EQ(r1.pending[0].second, 1); // /x
    const BatchResult r2 = a.commit({}, {url(1, "http://a:1", "/x"), url(3, "http://b:2", "/z")});
    EXPECT_EQ(r2.inserted, 1u);
    EXPECT_EQ(pg->value("SELECT count(*) FROM flagcrawl.hosts"), "2");
    EXPECT_EQ(pg->value("SELECT pending FROM flagcrawl.hosts WHERE origin = 'http://b:2'"), "2");
    EXPECT_EQ(
        pg->value("SELECT last_batch FROM flagcrawl.workers WHERE id = " + std::to_string(a.id)),
        "2");
    auto last = sync.run(last_batch(*a.c, a.id));
    ASSERT_TRUE(last);
    EXPECT_EQ(*last, 2);

    // A failure is recorded with its kind; a second completion of a done URL changes nothing.
    const auto x = a.take(ca.leases[0], 10);
    ASSERT_EQ(x.size(), 1u);
    Completion failed{x[0].url.key, x[0].host, x[0].epoch, 404, 10, "http_404", true};
    EXPECT_EQ(a.commit({failed}).accepted.size(), 1u);
    EXPECT_TRUE(a.commit({ok(x[0])}).accepted.empty());
    EXPECT_EQ(pg->value("SELECT status || ' ' || error_kind FROM flagcrawl.urls WHERE key = 1"),
              "404 http_404");
    expect_pending_exact();
}

// A crawl minutes old has no planner statistics: its batches must still find their URLs by
// primary key, not by reading every queued URL of the crawl (quadratic in the crawl's size).
TEST_F(SharedCrawl, AYoungCrawlsBatchReadsOnlyItsOwnURLs) {
    const CrawlInfo info = define("young", {"http://a:1"});
    Worker a = join(info.id, "a");
    const Claim ca = a.claim(1);
    const auto seed = a.take(ca.leases[0], 10);
    ASSERT_EQ(seed.size(), 1u);
    std::vector<UrlRow> found;
    for (int i = 0; i < 3000; ++i) {
        found.push_back(
            url(10 + static_cast<std::uint64_t>(i), "http://a:1", "/p" + std::to_string(i)));
    }
    a.commit({ok(seed[0])}, found);
    const auto batch = a.take(ca.leases[0], 20);
    ASSERT_EQ(batch.size(), 20u);
    // Index reads are counted per session and published when it goes idle after this call.
    const Statement flush{"SELECT pg_stat_force_next_flush()"};
    const std::string queued_reads =
        "SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'urls_queued'";
    ASSERT_TRUE(sync.run(a.c->run(flush)));
    const std::string before = pg->value(queued_reads);
    std::vector<Completion> done;
    for (const auto& d : batch) {
        done.push_back(ok(d));
    }
    EXPECT_EQ(a.commit(done).accepted.size(), 20u);
    ASSERT_TRUE(sync.run(a.c->run(flush)));
    EXPECT_EQ(pg->value(queued_reads), before);
    EXPECT_EQ(pg->value("SELECT count(*) FROM flagcrawl.urls WHERE state = 1"), "21");
}

TEST_F(SharedCrawl, NewWorkOnAFreeHostIsNotified) {
    const CrawlInfo info = define("notify", {"http://a:1"});
    Worker a = join(info.id, "a");
    Worker idle = join(info.id, "idle");
    ASSERT_TRUE(sync.run(listen(*idle.c, info.id)));
    const Claim ca = a.claim(1);
    const auto seed = a.take(ca.leases[0], 10);
    a.commit({ok(seed[0])}, {url(7, "http://b:2", "/")}); // b: no owner, first work
    const std::vector<Notification> got = notifications(idle);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0].channel, channel_of(info.id));
    EXPECT_EQ(got[0].payload, "work");
}

TEST_F(SharedCrawl, AReleaseKeepsTheDelayAndReturnsUnfetchedURLs) {
    const CrawlInfo info = define("release", {"http://a:1"});
    Worker a = join(info.id, "a");
    Worker b = join(info.id, "b");
    const Claim ca = a.claim(1);
    const auto seed = a.take(ca.leases[0], 10);
    a.commit({ok(seed[0])}, {url(1, "http://a:1", "/1"), url(2, "http://a:1", "/2")});
    const auto two = a.take(ca.leases[0], 10);
    ASSERT_EQ(two.size(), 2u);
    a.commit({ok(two[0])});
    Release r{ca.leases[0].host, ca.leases[0].epoch, 5s, {two[1].url.key}};
    ASSERT_TRUE(sync.run(release_hosts(*a.c, info.id, a.id, {r})));
    EXPECT_EQ(pg->value("SELECT owner IS NULL FROM flagcrawl.hosts"), "t");
    EXPECT_EQ(pg->value("SELECT deliveries FROM flagcrawl.urls WHERE key = " +
                        std::to_string(two[1].url.key)),
              "0");
    const Claim cb = b.claim(1);
    ASSERT_EQ(cb.leases.size(), 1u);
    EXPECT_FALSE(cb.leases[0].taken_over);
    EXPECT_GT(cb.leases[0].wait, 3s);
    EXPECT_LE(cb.leases[0].wait, 5s);
    const auto rest = b.take(cb.leases[0], 10);
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].deliveries, 1);
}

TEST_F(SharedCrawl, TheFourthDeliveryShowsTheCount) {
    const CrawlInfo info = define("crashes", {"http://a:1"});
    Worker a = join(info.id, "a");
    int deliveries = 0;
    for (int round = 0; round < 4; ++round) {
        // Each round a worker takes the host and "dies" (its lease lapses unreported).
        pg->sql("UPDATE flagcrawl.hosts SET lease_until = now() - interval '1 second'");
        const Claim c = a.claim(1);
        ASSERT_EQ(c.leases.size(), 1u);
        const auto got = a.take(c.leases[0], 10);
        ASSERT_EQ(got.size(), 1u);
        deliveries = got[0].deliveries;
    }
    EXPECT_EQ(deliveries, 4);
}

TEST_F(SharedCrawl, TheCrawlFinishesWhenNothingIsUndone) {
    const CrawlInfo info = define("finish", {"http://a:1"});
    Worker a = join(info.id, "a");
    Worker idle = join(info.id, "idle");
    ASSERT_TRUE(sync.run(listen(*idle.c, info.id)));
    const Claim ca = a.claim(1);
    const auto seed = a.take(ca.leases[0], 10);
    auto running = sync.run(finish_if_done(*a.c, info.id));
    ASSERT_TRUE(running);
    EXPECT_EQ(running->status, CrawlStatus::running);
    const BatchResult r = a.commit({ok(seed[0])});
    ASSERT_EQ(r.pending.size(), 1u);
    EXPECT_EQ(r.pending[0].second, 0);
    auto finished = sync.run(finish_if_done(*a.c, info.id));
    ASSERT_TRUE(finished);
    EXPECT_EQ(finished->status, CrawlStatus::finished);
    EXPECT_EQ(finished->stop_reason, "frontier exhausted");
    const std::vector<Notification> got = notifications(idle);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0].payload, "status");
}

TEST_F(SharedCrawl, ACrawlWideLimitStopsTheCrawl) {
    const CrawlInfo info = define("limit", {"http://a:1"}, 3);
    Worker a = join(info.id, "a");
    const Claim ca = a.claim(1);
    const auto seed = a.take(ca.leases[0], 10);
    a.commit({ok(seed[0])},
             {url(1, "http://a:1", "/1"), url(2, "http://a:1", "/2"), url(3, "http://a:1", "/3")});
    const auto more = a.take(ca.leases[0], 10);
    ASSERT_EQ(more.size(), 3u);
    const BatchResult r1 = a.commit({ok(more[0])});
    EXPECT_EQ(r1.status, CrawlStatus::running);
    const BatchResult r2 = a.commit({ok(more[1])});
    EXPECT_EQ(r2.status, CrawlStatus::stopped);
    EXPECT_EQ(r2.stop_reason, "--max-pages 3 reached");
}

// Two workers whose batches discover the same URLs on each other's hosts, committing at the
// same time, many times: every batch commits (no deadlock error) and the counts stay exact.
TEST_F(SharedCrawl, ConcurrentBatchesNeverDeadlock) {
    std::vector<std::string> origins;
    for (int i = 0; i < 6; ++i) {
        origins.push_back("http://h" + std::to_string(i) + ":1");
    }
    const CrawlInfo info = define("busy", origins);
    Worker a = join(info.id, "a");
    Worker b = join(info.id, "b");
    const Claim ca = a.claim(10);
    const Claim cb = b.claim(10);
    ASSERT_EQ(ca.leases.size() + cb.leases.size(), 6u);
    int errors = 0;
    auto run_worker = [&](Worker& w, const Claim& claim) -> boost::asio::awaitable<void> {
        for (int round = 0; round < 30; ++round) {
            std::vector<DeliveryRequest> want;
            for (const auto& l : claim.leases) {
                want.push_back({l.host, l.epoch, 5});
            }
            auto got = co_await deliver(*w.c, info.id, w.id, want);
            if (!got) {
                ++errors;
                continue;
            }
            Batch batch;
            batch.sequence = ++w.batches;
            for (const auto& d : *got) {
                batch.completions.push_back(ok(d));
            }
            // Both workers find the same URLs: their inserts race for the same keys.
            for (int n = 0; n < 12; ++n) {
                const auto key = static_cast<std::uint64_t>(100000 + round * 12 + n);
                batch.discovered.push_back(
                    url(key, origins[static_cast<std::size_t>(n) % origins.size()],
                        "/k" + std::to_string(key)));
            }
            auto r = co_await commit_batch(*w.c, info.id, w.id, batch);
            if (!r) {
                ADD_FAILURE() << r.error().sqlstate << " " << r.error().message;
                ++errors;
            }
        }
    };
    boost::asio::co_spawn(sync.io(), run_worker(a, ca), boost::asio::detached);
    boost::asio::co_spawn(sync.io(), run_worker(b, cb), boost::asio::detached);
    sync.io().restart();
    sync.io().run();
    EXPECT_EQ(errors, 0);
    expect_pending_exact();
}

} // namespace
