// The frontier with a fake clock: per-host concurrency, delay and its jitter bounds, robots.txt
// before a host's first page (Crawl-delay capped, disallowed URLs, unreachable robots.txt
// refetched), 429/503 deferrals that keep the URL and pause the host, waiting vs finished, and
// the in-memory window spilling to SQLite and paging back in BFS order, on the store's thread,
// from what the writer has committed (the loop never waits for the writer), offers and
// completions with their discoveries.
#include "temp_dir.hpp"

#include "crawler/crawl/frontier.hpp"
#include "crawler/crawl/frontier_store.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

using namespace flagcrawl::crawler;
using namespace std::chrono_literals;
using flagcrawl::testing_support::TempDir;

namespace {

const TimePoint t0 = TimePoint{} + 1000s;

FrontierOptions options(int per_host = 8, Duration delay = 0s, bool robots = false) {
    FrontierOptions o;
    o.politeness.per_host = per_host;
    o.politeness.delay = delay;
    o.politeness.robots = robots;
    o.seed = 42;
    return o;
}

std::optional<FrontierEntry> push(LocalFrontier& f, const std::string& url, int depth = 0) {
    return f.push(url, std::hash<std::string>{}(url), depth, 0, false);
}

// A link to `url` found at `depth`, to offer.
Discovery discovery(const std::string& url, int depth) {
    Discovery d;
    d.url = url;
    d.key = std::hash<std::string>{}(url);
    d.depth = depth;
    return d;
}

FrontierJob expect_ready(LocalFrontier& f, TimePoint now) {
    auto n = f.next(now);
    EXPECT_EQ(n.state, FrontierNext::State::ready);
    return n.job;
}

// The frontier's waker, as an engine would have it: counts the calls, and lets the test wait
// for the next one (bounded).
class Wakes {
public:
    void wake() {
        std::lock_guard lock(m_mutex);
        ++m_count;
        m_cv.notify_all();
    }
    // Waits until the count passes what was seen; false after 10 s.
    bool wait() {
        std::unique_lock lock(m_mutex);
        const bool woken = m_cv.wait_for(lock, 10s, [&] { return m_count > m_seen; });
        m_seen = m_count;
        return woken;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_count = 0;
    int m_seen = 0;
};

TEST(Frontier, PushSaysWhetherTheKeyIsNew) {
    LocalFrontier f(options(), nullptr);
    auto a = push(f, "http://a/1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->seq, 1);
    EXPECT_FALSE(push(f, "http://a/1"));
    EXPECT_TRUE(f.seen(std::hash<std::string>{}("http://a/1")));
    EXPECT_EQ(push(f, "http://a/2")->seq, 2);
}

TEST(Frontier, WaitingIsNotFinished) {
    LocalFrontier f(options(1), nullptr);
    EXPECT_EQ(f.next(t0).state, FrontierNext::State::finished);
    push(f, "http://a/1");
    push(f, "http://a/2");
    auto job = expect_ready(f, t0);
    EXPECT_EQ(job.kind, FrontierJob::Kind::fetch);
    // One in flight, per-host limit 1: waiting with no time (a completion will change things).
    auto n = f.next(t0);
    EXPECT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_FALSE(n.wake_at);
    f.complete(job, t0);
    job = expect_ready(f, t0);
    EXPECT_EQ(job.entry.url, "http://a/2");
    // Nothing queued but one in flight (e.g. being parsed): still waiting, not finished.
    EXPECT_EQ(f.next(t0).state, FrontierNext::State::waiting);
    f.complete(job, t0);
    EXPECT_EQ(f.next(t0).state, FrontierNext::State::finished);
}

TEST(Frontier, PerHostConcurrencyAndBfsAcrossHosts) {
    LocalFrontier f(options(2), nullptr);
    for (int i = 0; i < 4; ++i) {
        push(f, "http://a/" + std::to_string(i));
    }
    push(f, "http://b/0");
    std::vector<std::string> order;
    std::vector<FrontierJob> jobs;
    for (;;) {
        auto n = f.next(t0);
        if (n.state != FrontierNext::State::ready) {
            break;
        }
        order.push_back(n.job.entry.url);
        jobs.push_back(n.job);
    }
    // Two of host a (its limit), then b; discovery order otherwise.
    EXPECT_EQ(order, (std::vector<std::string>{"http://a/0", "http://a/1", "http://b/0"}));
    EXPECT_EQ(f.stats().in_flight, 3u);
    f.complete(jobs[0], t0);
    EXPECT_EQ(expect_ready(f, t0).entry.url, "http://a/2");
}

TEST(Frontier, DelayIsWaitedWithTimersWithinTheJitterBounds) {
    LocalFrontier f(options(8, 1000ms), nullptr);
    for (int i = 0; i < 200; ++i) {
        push(f, "http://a/" + std::to_string(i));
    }
    TimePoint now = t0;
    auto job = expect_ready(f, now);
    Duration min_gap = 1h;
    Duration max_gap = 0s;
    for (int i = 1; i < 200; ++i) {
        f.complete(job, now);
        auto n = f.next(now);
        ASSERT_EQ(n.state, FrontierNext::State::waiting);
        ASSERT_TRUE(n.wake_at);
        const Duration gap = *n.wake_at - now;
        min_gap = std::min(min_gap, gap);
        max_gap = std::max(max_gap, gap);
        // Not a moment before the wake time.
        EXPECT_EQ(f.next(*n.wake_at - 1ns).state, FrontierNext::State::waiting);
        now = *n.wake_at;
        job = expect_ready(f, now);
    }
    // Scrapy's RANDOMIZE_DOWNLOAD_DELAY: 0.5x to 1.5x, and actually spread.
    EXPECT_GE(min_gap, 500ms);
    EXPECT_LT(max_gap, 1500ms);
    EXPECT_LT(min_gap, 700ms);
    EXPECT_GT(max_gap, 1300ms);
}

TEST(Frontier, RobotsFirstThenRulesAndCappedCrawlDelay) {
    auto o = options(8, 0s, true);
    o.politeness.jitter = false;
    o.politeness.crawl_delay_cap = 5s;
    LocalFrontier f(o, nullptr);
    push(f, "http://a/ok/1");
    push(f, "http://a/private/x");
    push(f, "http://a/ok/2");
    auto robots = expect_ready(f, t0);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    EXPECT_EQ(robots.origin, "http://a");
    // Nothing else for the host until robots.txt is in.
    EXPECT_EQ(f.next(t0).state, FrontierNext::State::waiting);
    f.robots_fetched(
        robots,
        RobotsRules::parse("User-agent: *\nDisallow: /private\nCrawl-delay: 60\n", "flagcrawl"), "",
        t0);
    EXPECT_FALSE(f.allowed_now("http://a/private/y"));
    EXPECT_TRUE(f.allowed_now("http://a/ok/3"));
    EXPECT_TRUE(f.allowed_now("http://unknown/x"));
    // The first page waits the Crawl-delay after robots.txt, capped at 5 s instead of 60 ...
    auto n = f.next(t0);
    ASSERT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(*n.wake_at - t0, 5s);
    EXPECT_NE(f.waiting_on(t0).find("http://a: politeness delay"), std::string::npos);
    auto first = expect_ready(f, t0 + 5s);
    EXPECT_EQ(first.entry.url, "http://a/ok/1");
    f.complete(first, t0 + 5s);
    // ... and so does the next request ...
    n = f.next(t0 + 5s);
    ASSERT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(*n.wake_at - t0, 10s);
    // ... then the disallowed URL is handed out as such, using up no interval ...
    auto disallowed = expect_ready(f, t0 + 10s);
    EXPECT_EQ(disallowed.kind, FrontierJob::Kind::disallowed);
    EXPECT_EQ(disallowed.entry.url, "http://a/private/x");
    // ... so the next page follows at once.
    EXPECT_EQ(expect_ready(f, t0 + 10s).entry.url, "http://a/ok/2");
}

// robots.txt counts as a request to the host: the first page waits the delay after it.
TEST(Frontier, TheRobotsFetchIsSpacedLikeAnyRequest) {
    auto o = options(8, 2s, true);
    o.politeness.jitter = false;
    LocalFrontier f(o, nullptr);
    push(f, "http://a/1");
    auto robots = expect_ready(f, t0);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    f.robots_fetched(robots, RobotsRules::allow_all(), "", t0 + 100ms);
    auto n = f.next(t0 + 100ms);
    ASSERT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(*n.wake_at, t0 + 2s);
    EXPECT_EQ(expect_ready(f, t0 + 2s).entry.url, "http://a/1");
}

TEST(Frontier, TheDelayFollowsRobotsTxtToo) {
    auto o = options(8, 1s, true);
    o.politeness.jitter = false;
    LocalFrontier f(o, nullptr);
    push(f, "http://a/1");
    auto robots = expect_ready(f, t0);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    f.robots_fetched(robots, RobotsRules::allow_all(), "", t0 + 10ms);
    // robots.txt was a request to the host: the first page waits the delay after it.
    auto n = f.next(t0 + 10ms);
    ASSERT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(*n.wake_at, t0 + 1s);
    EXPECT_EQ(expect_ready(f, t0 + 1s).entry.url, "http://a/1");
}

// What a shared frontier (crawler/pgfrontier) uses to run this one on the hosts it leases.
TEST(Frontier, HostsCanBeFedHeldPausedAndEmptied) {
    LocalFrontier f(options(8), nullptr);
    FrontierEntry e;
    e.seq = 700;
    e.key = 1;
    e.url = "http://a/x";
    f.add_entry(e);
    e.key = 2;
    e.url = "http://a/y";
    f.add_entry(e);
    f.add_entry(e); // no seen-set: what the server hands out is queued as it comes
    EXPECT_FALSE(f.seen(1));
    EXPECT_EQ(f.host_load("http://a").queued, 3u);

    f.hold_host("http://a", true);
    EXPECT_EQ(f.next(t0).state, FrontierNext::State::finished); // nothing it may hand out
    f.hold_host("http://a", false);
    f.pause_host("http://a", t0 + 2s);
    auto n = f.next(t0);
    ASSERT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(*n.wake_at, t0 + 2s);
    auto job = expect_ready(f, t0 + 2s);
    EXPECT_EQ(job.entry.seq, 700);
    EXPECT_EQ(job.entry.url, "http://a/x");
    EXPECT_EQ(f.host_load("http://a").in_flight, 1);

    const auto taken = f.take_queue("http://a");
    ASSERT_EQ(taken.size(), 2u);
    EXPECT_EQ(taken[0].url, "http://a/y");
    EXPECT_EQ(f.host_load("http://a").queued, 0u);
    f.complete(job, t0 + 2s);
    EXPECT_EQ(f.next(t0 + 2s).state, FrontierNext::State::finished);
    EXPECT_TRUE(f.take_queue("http://unknown").empty());
}

TEST(Frontier, UnreachableRobotsIsRefetchedThenTheHostGivenUp) {
    auto o = options(8, 0s, true);
    o.politeness.robots_retry = {2s, 10s};
    LocalFrontier f(o, nullptr);
    push(f, "http://a/1");
    auto robots = expect_ready(f, t0);
    f.robots_fetched(robots, std::nullopt, "HTTP 503", t0); // 5xx: disallow for a while
    auto n = f.next(t0);
    ASSERT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(*n.wake_at, t0 + 2s);
    robots = expect_ready(f, t0 + 2s);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    f.robots_fetched(robots, std::nullopt, "HTTP 500", t0 + 2s);
    robots = expect_ready(f, t0 + 12s);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    f.robots_fetched(robots, std::nullopt, "timeout after 10 s", t0 + 12s);
    // Retries used up: the host's URLs are refused with the last failure, and the crawl can
    // finish.
    auto job = expect_ready(f, t0 + 12s);
    EXPECT_EQ(job.kind, FrontierJob::Kind::unreachable);
    EXPECT_EQ(job.reason, "timeout after 10 s");
    EXPECT_EQ(f.next(t0 + 12s).state, FrontierNext::State::finished);
}

TEST(Frontier, HostDownIsGivenUpWithoutWaiting) {
    LocalFrontier f(options(8, 0s, true), nullptr);
    push(f, "http://a/1");
    push(f, "http://a/2");
    auto robots = expect_ready(f, t0);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    f.robots_host_down(robots, "connection refused", t0);
    EXPECT_EQ(expect_ready(f, t0).kind, FrontierJob::Kind::unreachable);
    const auto second = expect_ready(f, t0);
    EXPECT_EQ(second.kind, FrontierJob::Kind::unreachable);
    EXPECT_EQ(second.reason, "connection refused");
    EXPECT_EQ(f.next(t0).state, FrontierNext::State::finished);
}

TEST(Frontier, RobotsRecoveringAfterA5xxAllowsTheHost) {
    LocalFrontier f(options(8, 0s, true), nullptr);
    push(f, "http://a/1");
    auto robots = expect_ready(f, t0);
    f.robots_fetched(robots, std::nullopt, "HTTP 503", t0);
    robots = expect_ready(f, t0 + 2s);
    f.robots_fetched(robots, RobotsRules::allow_all(), "", t0 + 2s);
    EXPECT_EQ(expect_ready(f, t0 + 2s).kind, FrontierJob::Kind::fetch);
}

TEST(Frontier, ThrottledUrlIsDeferredAndTheHostPaused) {
    auto o = options(8);
    o.politeness.max_deferrals = 2;
    o.politeness.backoff_base = 1s;
    LocalFrontier f(o, nullptr);
    push(f, "http://a/1");
    push(f, "http://a/2");
    push(f, "http://b/1");
    auto job = expect_ready(f, t0);
    ASSERT_EQ(job.entry.url, "http://a/1");
    // 429 with Retry-After: 30 s: the URL goes back to the head of its queue, host a pauses,
    // host b goes on.
    ASSERT_TRUE(f.defer(job, 1, Duration(30s), t0));
    EXPECT_EQ(f.stats().deferred, 1u);
    auto other = expect_ready(f, t0);
    EXPECT_EQ(other.entry.url, "http://b/1");
    f.complete(other, t0);
    auto n = f.next(t0);
    ASSERT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(*n.wake_at, t0 + 30s);
    EXPECT_NE(f.waiting_on(t0).find("429/503"), std::string::npos);
    job = expect_ready(f, t0 + 30s);
    EXPECT_EQ(job.entry.url, "http://a/1"); // BFS order kept
    EXPECT_EQ(job.entry.deferrals, 1);
    // Without Retry-After: exponential backoff (second throttle in a row: 2 s).
    ASSERT_TRUE(f.defer(job, 1, std::nullopt, t0 + 30s));
    n = f.next(t0 + 30s);
    EXPECT_EQ(*n.wake_at, t0 + 32s);
    job = expect_ready(f, t0 + 32s);
    // Deferral budget used up: not put back; the caller records it and completes it.
    EXPECT_FALSE(f.defer(job, 1, std::nullopt, t0 + 32s));
    f.complete(job, t0 + 32s);
    EXPECT_EQ(expect_ready(f, t0 + 32s).entry.url, "http://a/2");
}

// Queued URLs live in a per-host byte pool that is compacted as entries are handed out:
// thousands of URLs of many lengths on two hosts, with deferrals (put back at the front)
// interleaved, all come back intact, once each, with their fields.
TEST(Frontier, QueuedUrlsSurviveThePathPoolsCompaction) {
    LocalFrontier f(options(4), nullptr);
    auto url_of = [](int i) {
        return std::string(i % 3 == 0 ? "http://b:81" : "http://a") + "/" +
               std::string(static_cast<std::size_t>(i % 97), 'x') + "?n=" + std::to_string(i);
    };
    std::map<std::string, int> depth_of;
    int next = 0;
    auto push_some = [&](int count) {
        for (int i = 0; i < count; ++i, ++next) {
            ASSERT_TRUE(f.push(url_of(next), std::hash<std::string>{}(url_of(next)), next % 7,
                               next % 3, next % 5 == 0));
            depth_of[url_of(next)] = next % 7;
        }
    };
    push_some(3000);
    std::vector<std::string> seen;
    std::map<std::string, int> deferrals;
    TimePoint now = t0;
    int handed_out = 0;
    for (;;) {
        auto n = f.next(now);
        if (n.state == FrontierNext::State::finished) {
            break;
        }
        if (n.state == FrontierNext::State::waiting) {
            now += 120s; // past any backoff
            continue;
        }
        FrontierJob& job = n.job;
        ASSERT_EQ(job.kind, FrontierJob::Kind::fetch);
        const std::string url = job.entry.url;
        ASSERT_TRUE(depth_of.count(url)) << url;
        EXPECT_EQ(job.entry.depth, depth_of[url]);
        EXPECT_EQ(job.entry.key, std::hash<std::string>{}(url));
        EXPECT_EQ(job.entry.deferrals, deferrals[url]);
        if (++handed_out % 11 == 0 && deferrals[url] < 2) {
            ++deferrals[url];
            ASSERT_TRUE(f.defer(job, 1, Duration(1s), now));
            continue;
        }
        seen.push_back(url);
        f.complete(job, now);
        if (handed_out == 1500) {
            push_some(2000); // more while the pools hold dead bytes
        }
    }
    EXPECT_EQ(seen.size(), depth_of.size());
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
}

auto open_writer(const std::string& path, std::chrono::milliseconds busy_timeout = 5s) {
    flagcrawl::storage::WriterOptions options;
    options.busy_timeout = busy_timeout;
    return flagcrawl::storage::Writer::open(path, options);
}

auto begin_run(flagcrawl::storage::Writer& writer) {
    return writer.begin_run(
        {.command = "crawl", .arguments = "", .strategy = "async", .concurrency = 1});
}

// The record that starts the crawl of `run` (its own crawl), before its frontier rows.
flagcrawl::storage::CrawlBeginRecord crawl_begin(std::int64_t run) {
    flagcrawl::storage::CrawlBeginRecord begin;
    begin.crawl_id = run;
    begin.run_id = run;
    begin.seeds = "[]";
    begin.options = "{}";
    return begin;
}

TEST(Frontier, WindowSpillsToSqliteAndPagesBackInBfsOrder) {
    Wakes wakes; // first: it outlives the store's thread, which may still call it
    TempDir dir("frontier");
    const auto path = dir.file("f.db");
    auto writer = open_writer(path);
    ASSERT_TRUE(writer);
    auto run = begin_run(*writer);
    ASSERT_TRUE(run);
    SqliteFrontierStore store(path, *run);
    auto o = options(1000);
    o.window = 10;
    LocalFrontier f(o, &store);

    // Persist each push the way the crawl does: as frontier rows of a record.
    auto begin = crawl_begin(*run);
    const char* hosts[] = {"http://a/", "http://b/", "http://c/"};
    for (int i = 0; i < 100; ++i) {
        auto e = push(f, hosts[i % 3] + std::to_string(i), i / 10);
        ASSERT_TRUE(e);
        begin.frontier.push_back({e->seq, e->key, e->url, e->depth, 0, false});
    }
    ASSERT_TRUE(writer->submit(std::move(begin)));
    EXPECT_EQ(f.in_memory(), 10u);
    EXPECT_EQ(f.in_store(), 90u);
    EXPECT_EQ(f.stats().queued, 100u);

    f.set_waker([&] { wakes.wake(); });
    std::vector<std::int64_t> order;
    for (;;) {
        auto n = f.next(t0);
        if (n.state == FrontierNext::State::waiting) {
            ASSERT_TRUE(wakes.wait()) << "the store never answered"; // only the page-in
            f.on_wake(); // as the engine does once woken
            continue;
        }
        if (n.state != FrontierNext::State::ready) {
            ASSERT_EQ(n.state, FrontierNext::State::finished);
            break;
        }
        EXPECT_LE(f.in_memory(), 10u);
        order.push_back(n.job.entry.seq);
        EXPECT_EQ(n.job.entry.depth, (n.job.entry.seq - 1) / 10);
        f.complete(n.job, t0);
    }
    ASSERT_EQ(order.size(), 100u);
    for (std::size_t i = 0; i < order.size(); ++i) {
        EXPECT_EQ(order[i], static_cast<std::int64_t>(i + 1)); // discovery order throughout
    }
    ASSERT_TRUE(writer->close());
}

// Each URL handed out names the page that first led to it (for the crawl's failure lines):
// from memory, where several entries share their referrer's URL, through a 429 put-back, and
// from the store, which reads it back with the entries spilled or left by an earlier run.
TEST(Frontier, EveryEntryNamesItsReferrerFromMemoryAndFromTheStore) {
    Wakes wakes; // first: it outlives the store's thread, which may still call it
    TempDir dir("frontier");
    const auto path = dir.file("f.db");
    auto writer = open_writer(path);
    ASSERT_TRUE(writer);
    auto run = begin_run(*writer);
    ASSERT_TRUE(run);
    SqliteFrontierStore store(path, *run);
    auto o = options(1000);
    o.window = 3;
    LocalFrontier f(o, &store);
    auto seed = push(f, "http://a/");
    ASSERT_TRUE(seed);
    Completion done{expect_ready(f, t0), {}, {}};
    EXPECT_EQ(done.job.entry.from_seq, 0);
    EXPECT_EQ(done.job.entry.from_url, "");
    std::vector<std::string> urls;
    for (int i = 0; i < 8; ++i) {
        urls.push_back("http://" + std::string(1, static_cast<char>('b' + i % 2)) + "/" +
                       std::to_string(i));
    }
    for (const std::string& url : urls) {
        Discovery d = discovery(url, 1);
        d.from_seq = seed->seq;
        d.from_url = "http://a/";
        done.discoveries.push_back(d);
    }
    Decisions decisions;
    f.complete(done, t0, decisions);
    ASSERT_EQ(decisions.accepted.size(), 8u);
    EXPECT_EQ(f.in_store(), 5u); // spilled: only in the store, referrer and all

    auto begin = crawl_begin(*run);
    begin.frontier.push_back({seed->seq, seed->key, seed->url, 0, 0, false});
    for (const FrontierEntry& e : decisions.accepted) {
        EXPECT_EQ(e.from_seq, seed->seq);
        begin.frontier.push_back({e.seq, e.key, e.url, e.depth, 0, false, 0, 0, {}, e.from_seq});
    }
    ASSERT_TRUE(writer->submit(std::move(begin)));

    f.set_waker([&] { wakes.wake(); });
    std::set<std::string> handed_out;
    bool deferred = false;
    for (;;) {
        auto n = f.next(t0);
        if (n.state == FrontierNext::State::waiting) {
            ASSERT_TRUE(wakes.wait()) << "the store never answered";
            f.on_wake(); // as the engine does once woken
            continue;
        }
        if (n.state != FrontierNext::State::ready) {
            break;
        }
        EXPECT_EQ(n.job.entry.from_seq, seed->seq) << n.job.entry.url;
        EXPECT_EQ(n.job.entry.from_url, "http://a/") << n.job.entry.url;
        if (!deferred) {
            deferred = true;
            ASSERT_TRUE(f.defer(n.job, 1, Duration(0), t0)); // comes back with its referrer
            continue;
        }
        handed_out.insert(n.job.entry.url);
        f.complete(n.job, t0);
    }
    EXPECT_EQ(handed_out, std::set<std::string>(urls.begin(), urls.end()));
    ASSERT_TRUE(writer->close());
}

// A store that answers at once from `entries`, and fails like a full disk on its second page-in
// after handing out part of the entries asked for: what a SQLite failure mid-read looks like
// to the frontier.
class FailingStore final : public FrontierStore {
public:
    void request(QueuePosition after, std::size_t limit, std::optional<std::int64_t>,
                 std::function<void()> ready) override {
        ++calls;
        PagedIn answer;
        for (const FrontierEntry& entry : entries) {
            if (QueuePosition{entry.depth, entry.seq} <= after || answer.entries.size() == limit) {
                continue;
            }
            if (calls > 1 && answer.entries.size() == 1) {
                constexpr int k_sqlite_full = 13; // SQLITE_FULL
                answer.error = flagcrawl::storage::Error{
                    {k_sqlite_full, flagcrawl::storage::sqlite_category()},
                    "f.db: database or disk is full"};
                break;
            }
            answer.entries.push_back(entry);
        }
        m_answer = std::move(answer);
        ready();
    }
    std::optional<PagedIn> take() override { return std::exchange(m_answer, std::nullopt); }

    std::vector<FrontierEntry> entries;
    int calls = 0;

private:
    std::optional<PagedIn> m_answer;
};

TEST(Frontier, AStoreFailureIsKeptAndThePagedInEntriesStillHandedOut) {
    FailingStore store;
    auto o = options(1000);
    o.window = 4;
    LocalFrontier f(o, &store);
    for (int i = 0; i < 20; ++i) {
        auto e = push(f, "http://a/" + std::to_string(i));
        ASSERT_TRUE(e);
        store.entries.push_back(*e);
    }
    EXPECT_EQ(f.in_memory(), 4u);
    EXPECT_EQ(f.in_store(), 16u);
    EXPECT_FALSE(f.store_error());

    std::vector<std::int64_t> order;
    for (;;) {
        f.on_wake(); // the store answers within request(): take it before asking again
        auto n = f.next(t0);
        if (n.state != FrontierNext::State::ready) {
            EXPECT_EQ(n.state, FrontierNext::State::finished);
            break;
        }
        order.push_back(n.job.entry.seq);
        f.complete(n.job, t0);
    }
    // 4 in memory, 2 from the first page-in (window 4, paged in at 2 left), then 1 given
    // before the second one failed; the other 13 stay counted as queued in the store.
    ASSERT_TRUE(f.store_error());
    EXPECT_TRUE(f.store_error()->disk_full());
    EXPECT_EQ(f.store_error()->message, "f.db: database or disk is full");
    EXPECT_EQ(store.calls, 2); // no page-in after the failure
    ASSERT_EQ(order.size(), 7u);
    for (std::size_t i = 0; i < order.size(); ++i) {
        EXPECT_EQ(order[i], static_cast<std::int64_t>(i + 1));
    }
    EXPECT_EQ(f.in_memory(), 0u);
    EXPECT_EQ(f.in_store(), 13u);
    EXPECT_EQ(f.stats().queued, 13u);
}

} // namespace

// Paging queued URLs back in never makes the loop wait for the store: while another connection
// holds the write lock (so the writer cannot commit), next() keeps handing out what is in memory
// and then says `waiting` (no time: the page-in's answer wakes it), and the entries come once
// the lock is gone.
TEST(Frontier, PagingInDoesNotWaitForTheWriter) {
    Wakes wakes; // first: it outlives the store's thread, which may still call it
    TempDir dir("frontier");
    const auto path = dir.file("f.db");
    auto writer = open_writer(path, 20s); // the writer waits for the lock, not fails
    ASSERT_TRUE(writer);
    auto run = begin_run(*writer);
    ASSERT_TRUE(run);
    SqliteFrontierStore store(path, *run);
    auto o = options(1000);
    o.window = 4;
    LocalFrontier f(o, &store);
    f.set_waker([&] { wakes.wake(); });

    auto blocker = flagcrawl::storage::Database::open(path);
    ASSERT_TRUE(blocker);
    ASSERT_TRUE(blocker->exec("BEGIN IMMEDIATE"));
    auto begin = crawl_begin(*run);
    for (int i = 0; i < 12; ++i) {
        auto e = push(f, "http://a/" + std::to_string(i));
        ASSERT_TRUE(e);
        begin.frontier.push_back({e->seq, e->key, e->url, 0, 0, false});
    }
    ASSERT_TRUE(writer->submit(std::move(begin))); // the writer now waits for the lock

    std::vector<std::int64_t> order;
    for (int i = 0; i < 4; ++i) {
        auto n = f.next(t0);
        ASSERT_EQ(n.state, FrontierNext::State::ready);
        order.push_back(n.job.entry.seq);
        f.complete(n.job, t0);
    }
    auto n = f.next(t0);
    EXPECT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_FALSE(n.wake_at);
    EXPECT_FALSE(f.store_error());
    // The store answers with what is committed (nothing yet), and is asked again to answer once
    // it holds newer entries; meanwhile the loop looks again now and then (a writer that failed
    // would never commit them).
    ASSERT_TRUE(wakes.wait()) << "the store never answered";
    f.on_wake(); // as the engine does once woken
    n = f.next(t0);
    EXPECT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_EQ(n.wake_at, t0 + 200ms);
    EXPECT_EQ(f.waiting_on(t0), "waiting for the store to commit queued URLs");

    ASSERT_TRUE(blocker->exec("ROLLBACK"));
    for (;;) {
        n = f.next(t0);
        if (n.state == FrontierNext::State::waiting) {
            ASSERT_TRUE(wakes.wait()) << "the store never answered";
            f.on_wake(); // as the engine does once woken
            continue;
        }
        if (n.state == FrontierNext::State::finished) {
            break;
        }
        order.push_back(n.job.entry.seq);
        f.complete(n.job, t0);
    }
    EXPECT_FALSE(f.store_error());
    ASSERT_EQ(order.size(), 12u);
    for (std::size_t i = 0; i < order.size(); ++i) {
        EXPECT_EQ(order[i], static_cast<std::int64_t>(i + 1));
    }
    ASSERT_TRUE(writer->close());
}

// A page-in's answer comes back where the engine returns work finished on other threads: in
// on_wake(), after the waker was called; next() hands out what is in memory and never takes it.
TEST(Frontier, APageInIsTakenInOnWakeNotInsideNext) {
    Wakes wakes; // first: it outlives the store's thread, which may still call it
    TempDir dir("frontier-on-wake");
    const auto path = dir.file("f.db");
    auto writer = open_writer(path);
    ASSERT_TRUE(writer);
    auto run = begin_run(*writer);
    ASSERT_TRUE(run);
    SqliteFrontierStore store(path, *run);
    auto o = options(1000);
    o.window = 4;
    LocalFrontier f(o, &store);
    f.set_waker([&] { wakes.wake(); });
    auto begin = crawl_begin(*run);
    for (int i = 0; i < 12; ++i) {
        auto e = push(f, "http://a/" + std::to_string(i));
        ASSERT_TRUE(e);
        begin.frontier.push_back({e->seq, e->key, e->url, 0, 0, false});
    }
    ASSERT_TRUE(writer->submit(std::move(begin)));
    ASSERT_TRUE(writer->flush());

    // Two handed out leave the window half empty: the third next() asks the store.
    for (int i = 0; i < 3; ++i) {
        f.complete(expect_ready(f, t0), t0);
    }
    ASSERT_TRUE(wakes.wait()) << "the store never answered";
    EXPECT_EQ(f.in_memory(), 1u);
    EXPECT_EQ(f.in_store(), 8u);
    f.complete(expect_ready(f, t0), t0); // the answer is not taken here...
    EXPECT_EQ(f.in_memory(), 0u);
    EXPECT_EQ(f.in_store(), 8u);
    EXPECT_EQ(f.waiting_on(t0), "reading queued URLs back from the store");
    f.on_wake(); // ... but here: queued in memory, seen by stats() and the next next()
    EXPECT_EQ(f.in_memory(), 2u);
    EXPECT_EQ(f.in_store(), 6u);
    EXPECT_EQ(f.stats().queued, 8u);
    EXPECT_EQ(expect_ready(f, t0).entry.seq, 5);
    ASSERT_TRUE(writer->close());
}

// A page-in reads what the writer has committed and never waits for the rest: while another
// connection holds the write lock, the committed entries beyond the window are still handed out.
// The level order holds: depth-0 entries not committed yet (redirect targets of the level being
// crawled) keep the committed depth-1 entries back until they are read.
TEST(Frontier, PagingInReadsWhatIsCommittedAndKeepsTheLevelOrder) {
    Wakes wakes; // first: it outlives the store's thread, which may still call it
    TempDir dir("frontier-committed");
    const auto path = dir.file("f.db");
    auto writer = open_writer(path, 20s); // the writer waits for the lock, not fails
    ASSERT_TRUE(writer);
    auto run = begin_run(*writer);
    ASSERT_TRUE(run);
    SqliteFrontierStore store(path, *run);
    auto o = options(1000);
    o.window = 4;
    LocalFrontier f(o, &store);
    f.set_waker([&] { wakes.wake(); });
    // Frontier rows as the crawl writes them: the accepted URLs with the record that found them.
    auto accept = [&](std::vector<flagcrawl::storage::FrontierRow>& rows, const std::string& url,
                      int depth) {
        auto e = push(f, url, depth);
        ASSERT_TRUE(e);
        rows.push_back({e->seq, e->key, e->url, e->depth, 0, false});
    };
    // seq 1-4 (depth 0) fill the window; 5-6 (depth 0) and 7-12 (depth 1) spill; all committed.
    auto begin = crawl_begin(*run);
    for (int i = 1; i <= 12; ++i) {
        accept(begin.frontier, "http://a/" + std::to_string(i), i <= 6 ? 0 : 1);
    }
    ASSERT_TRUE(writer->submit(std::move(begin)));
    ASSERT_TRUE(writer->flush());
    EXPECT_EQ(f.in_memory(), 4u);
    EXPECT_EQ(f.in_store(), 8u);

    auto blocker = flagcrawl::storage::Database::open(path);
    ASSERT_TRUE(blocker);
    ASSERT_TRUE(blocker->exec("BEGIN IMMEDIATE"));
    // seq 13-14: depth 0 again (redirect targets of level 0), spilled, not committed.
    flagcrawl::storage::PageRecord page;
    page.crawl_id = *run;
    page.run_id = *run;
    page.seq = 1;
    page.url = "http://a/1";
    page.http_status = 301;
    accept(page.discovered, "http://a/13", 0);
    accept(page.discovered, "http://a/14", 0);
    ASSERT_TRUE(writer->submit(std::move(page)));
    EXPECT_EQ(f.in_store(), 10u);

    std::vector<std::int64_t> order;
    auto drain = [&](bool until_finished) {
        for (;;) {
            auto n = f.next(t0);
            if (n.state == FrontierNext::State::finished) {
                return;
            }
            if (n.state == FrontierNext::State::waiting) {
                if (!until_finished &&
                    f.waiting_on(t0) == "waiting for the store to commit queued URLs") {
                    return;
                }
                ASSERT_TRUE(wakes.wait()) << "the store never answered";
                f.on_wake(); // as the engine does once woken
                continue;
            }
            order.push_back(n.job.entry.seq);
            f.complete(n.job, t0);
        }
    };
    // While the writer is blocked: the four in memory and the two committed depth-0 entries;
    // not the committed depth-1 ones, which come after the uncommitted depth-0 ones.
    drain(false);
    EXPECT_EQ(order, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_FALSE(f.store_error());

    ASSERT_TRUE(blocker->exec("ROLLBACK"));
    drain(true);
    EXPECT_FALSE(f.store_error());
    EXPECT_EQ(order, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 13, 14, 7, 8, 9, 10, 11, 12}));
    EXPECT_EQ(f.stats().queued, 0u);
    ASSERT_TRUE(writer->close());
}

// A completion offers what the page led to: new URLs are accepted with the next seqs (to be
// recorded with the page), known ones are not, and those the host's robots.txt refuses are
// skipped; the job's host slot is free again.
TEST(Frontier, ACompletionAcceptsTheNewDiscoveriesOnly) {
    auto o = options(1, 0s, true);
    LocalFrontier f(o, nullptr);
    ASSERT_TRUE(push(f, "http://a/1"));
    auto robots = expect_ready(f, t0);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    f.robots_fetched(robots, RobotsRules::parse("User-agent: *\nDisallow: /private\n", "x"), "",
                     t0);
    Completion done{expect_ready(f, t0), {}, {}};
    ASSERT_EQ(done.job.entry.url, "http://a/1");
    const std::string known = "http://a/1";
    const std::string fresh = "http://a/2";
    const std::string refused = "http://a/private/x";
    const std::string other = "http://b/1";
    for (const std::string* url : {&known, &fresh, &refused, &other, &fresh}) {
        done.discoveries.push_back(discovery(*url, 1));
    }
    Decisions decisions;
    f.complete(done, t0, decisions);
    const auto& accepted = decisions.accepted;
    ASSERT_EQ(accepted.size(), 2u);
    EXPECT_EQ(accepted[0].url, fresh);
    EXPECT_EQ(accepted[0].seq, 2);
    EXPECT_EQ(accepted[0].depth, 1);
    EXPECT_EQ(accepted[1].url, other);
    EXPECT_EQ(accepted[1].seq, 3);
    EXPECT_EQ(f.stats().in_flight, 0u);
    EXPECT_EQ(f.stats().queued, 2u);
    // The URL robots.txt refuses is a skip, recorded once.
    ASSERT_EQ(decisions.skipped.size(), 1u);
    EXPECT_EQ(decisions.skipped[0].url, refused);
    EXPECT_EQ(decisions.skipped[0].kind, flagcrawl::fetch::FailureKind::robots);
    EXPECT_FALSE(decisions.skipped[0].tentative);
}

// Offers `urls` at `depth` as the discoveries of `job` and completes it.
void complete_with(LocalFrontier& f, const FrontierJob& job, std::vector<std::string> urls,
                   int depth) {
    Completion done{job, {}, {}};
    for (const std::string& url : urls) {
        done.discoveries.push_back(discovery(url, depth));
    }
    Decisions decisions;
    f.complete(done, t0, decisions);
}

// Level by level: while a page of depth 1 is in flight (a slow one), what the fast pages of
// depth 1 found (depth 2) waits, so that a shorter path through the slow page cannot be found
// after its URLs went out deeper.
TEST(Frontier, ADeeperLevelWaitsForTheLevelInFlight) {
    LocalFrontier f(options(8), nullptr);
    push(f, "http://a/");
    auto seed = expect_ready(f, t0);
    complete_with(f, seed, {"http://a/slow", "http://a/fast"}, 1);
    auto slow = expect_ready(f, t0);
    auto fast = expect_ready(f, t0);
    EXPECT_EQ(slow.entry.url, "http://a/slow");
    EXPECT_EQ(f.level(), 1);
    complete_with(f, fast, {"http://a/fast/child", "http://b/other"}, 2);
    // Depth 2 on either host waits for the slow page of depth 1.
    auto n = f.next(t0);
    EXPECT_EQ(n.state, FrontierNext::State::waiting);
    EXPECT_FALSE(n.wake_at);
    EXPECT_EQ(f.stats().queued, 2u);
    // The slow page finds the child too: already queued, at the depth it was found first,
    // which level by level is its shortest.
    complete_with(f, slow, {"http://a/fast/child", "http://a/slow/child"}, 2);
    EXPECT_EQ(f.level(), 2);
    std::set<std::string> depth2;
    for (int i = 0; i < 3; ++i) {
        auto job = expect_ready(f, t0);
        EXPECT_EQ(job.entry.depth, 2);
        depth2.insert(job.entry.url);
    }
    EXPECT_EQ(depth2, (std::set<std::string>{"http://a/fast/child", "http://a/slow/child",
                                             "http://b/other"}));
}

// Without levels (a frontier that must not wait, e.g. a shared one), deeper URLs go out at once.
TEST(Frontier, WithoutLevelsADeeperUrlGoesOutAtOnce) {
    auto o = options(8);
    o.by_level = false;
    LocalFrontier f(o, nullptr);
    push(f, "http://a/");
    auto seed = expect_ready(f, t0);
    complete_with(f, seed, {"http://a/slow", "http://a/fast"}, 1);
    expect_ready(f, t0);
    auto fast = expect_ready(f, t0);
    complete_with(f, fast, {"http://a/fast/child"}, 2);
    EXPECT_EQ(expect_ready(f, t0).entry.url, "http://a/fast/child");
}

// A redirect target keeps its source's depth: found while that level is crawled, it goes before
// the deeper URLs already queued on its host, so the level can end.
TEST(Frontier, ARedirectTargetOfTheLevelGoesBeforeDeeperUrls) {
    LocalFrontier f(options(1), nullptr);
    push(f, "http://a/");
    push(f, "http://a/moved");
    auto seed = expect_ready(f, t0);
    complete_with(f, seed, {"http://a/deep1", "http://a/deep2"}, 1);
    auto moved = expect_ready(f, t0);
    EXPECT_EQ(moved.entry.url, "http://a/moved");
    complete_with(f, moved, {"http://a/target"}, 0);
    auto target = expect_ready(f, t0);
    EXPECT_EQ(target.entry.url, "http://a/target");
    EXPECT_EQ(target.entry.depth, 0);
    f.complete(target, t0);
    EXPECT_EQ(expect_ready(f, t0).entry.url, "http://a/deep1");
}

// Past the window, the store is read shallowest first: a redirect target of the level being
// crawled (depth 1) found after deeper URLs (depth 2) spilled comes back before them.
TEST(Frontier, PagingInReadsTheShallowestFirst) {
    Wakes wakes; // first: it outlives the store's thread, which may still call it
    TempDir dir("frontier-levels");
    const std::string path = dir.file("f.db");
    auto writer = open_writer(path);
    ASSERT_TRUE(writer);
    auto run = begin_run(*writer);
    ASSERT_TRUE(run);
    SqliteFrontierStore store(path, *run);
    auto o = options(100);
    o.window = 4;
    LocalFrontier f(o, &store);
    f.set_waker([&] { wakes.wake(); });
    auto begin = crawl_begin(*run);
    // Depth 1: a/0 .. a/3 fill the window; then depth 2 spills; then a depth-1 redirect target.
    auto accept = [&](const std::string& url, int depth) {
        auto entry = push(f, url, depth);
        ASSERT_TRUE(entry);
        begin.frontier.push_back({entry->seq, entry->key, entry->url, depth, 0, false});
    };
    for (int i = 0; i < 4; ++i) {
        accept("http://a/" + std::to_string(i), 1);
    }
    for (int i = 0; i < 6; ++i) {
        accept("http://a/deep" + std::to_string(i), 2);
    }
    accept("http://a/one-more", 1);
    EXPECT_EQ(f.in_memory(), 4u);
    EXPECT_EQ(f.in_store(), 7u);
    ASSERT_TRUE(writer->submit(std::move(begin)));
    std::vector<std::string> order;
    while (order.size() < 11) {
        auto n = f.next(t0);
        if (n.state == FrontierNext::State::waiting) {
            ASSERT_TRUE(wakes.wait());
            f.on_wake(); // as the engine does once woken
            continue;
        }
        ASSERT_EQ(n.state, FrontierNext::State::ready);
        order.push_back(n.job.entry.url);
        f.complete(n.job, t0);
    }
    EXPECT_EQ(f.next(t0).state, FrontierNext::State::finished);
    EXPECT_EQ(order[4], "http://a/one-more");
    for (std::size_t i = 5; i < order.size(); ++i) {
        EXPECT_TRUE(order[i].starts_with("http://a/deep")) << order[i];
    }
    ASSERT_TRUE(writer->close());
}

// Skips are recorded once per URL: a final one (scope, robots.txt) for good, a tentative one
// (nofollow, past the depth) undone when another link leads to the URL, never for a URL already
// accepted.
TEST(Frontier, EverySkipIsRecordedOnceAndATentativeOneUndone) {
    LocalFrontier f(options(8), nullptr);
    auto skip = [](const std::string& url, flagcrawl::fetch::FailureKind kind, bool tentative) {
        Discovery d = discovery(url, 1);
        d.skip = SkipReason{kind, "rule", tentative};
        return d;
    };
    using flagcrawl::fetch::FailureKind;
    const std::string out = "http://elsewhere/x";
    const std::string later = "http://a/later";
    const std::string seen = "http://a/seen";
    Decisions d;
    const std::vector<Discovery> first = {skip(out, FailureKind::out_of_scope, false),
                                          skip(out, FailureKind::out_of_scope, false),
                                          skip(later, FailureKind::nofollow, true),
                                          skip(later, FailureKind::nofollow, true),
                                          discovery(seen, 1),
                                          skip(seen, FailureKind::nofollow, true)};
    f.offer(first, d);
    ASSERT_EQ(d.skipped.size(), 2u);
    EXPECT_EQ(d.skipped[0].url, out);
    EXPECT_FALSE(d.skipped[0].tentative);
    EXPECT_EQ(d.skipped[1].url, later);
    EXPECT_TRUE(d.skipped[1].tentative);
    ASSERT_EQ(d.accepted.size(), 1u);
    EXPECT_TRUE(d.unskipped.empty());
    // A followed link to the tentatively skipped URL: accepted, its skip undone.
    d.clear();
    const std::vector<Discovery> second = {discovery(later, 1),
                                           skip(later, FailureKind::nofollow, true),
                                           skip(out, FailureKind::out_of_scope, false)};
    f.offer(second, d);
    ASSERT_EQ(d.accepted.size(), 1u);
    EXPECT_EQ(d.accepted[0].url, later);
    EXPECT_EQ(d.unskipped, (std::vector<std::uint64_t>{std::hash<std::string>{}(later)}));
    EXPECT_TRUE(d.skipped.empty());
    EXPECT_EQ(f.stats().skipped, 2u);
    // On resume the skipped keys come back from the store: still recorded once.
    LocalFrontier resumed(options(8), nullptr);
    resumed.restore_skipped(std::hash<std::string>{}(out), false);
    resumed.restore_skipped(std::hash<std::string>{}(later), true);
    d.clear();
    resumed.offer(first, d);
    ASSERT_EQ(d.accepted.size(), 1u);
    EXPECT_TRUE(d.skipped.empty());
}

// Trap defence: at most N URLs accepted per directory (the query aside), the next skipped for
// good with the option as its rule; a resume counts what the store holds.
TEST(Frontier, ADirectoryTakesAtMostItsCapOfUrls) {
    auto o = options(8);
    o.max_per_directory = 2;
    LocalFrontier f(o, nullptr);
    Decisions d;
    // Discovery::url is a view: the strings outlive the offers.
    const std::vector<std::string> urls = {"http://a/list?page=1", "http://a/list?page=2",
                                           "http://a/list?page=3", "http://a/list?page=3",
                                           "http://a/sub/x",       "http://b/list?page=9"};
    std::vector<Discovery> offers;
    for (const std::string& url : urls) {
        offers.push_back(discovery(url, 1));
    }
    f.offer(offers, d);
    ASSERT_EQ(d.accepted.size(), 4u);
    EXPECT_EQ(d.accepted[2].url, "http://a/sub/x");
    ASSERT_EQ(d.skipped.size(), 1u);
    EXPECT_EQ(d.skipped[0].url, "http://a/list?page=3");
    EXPECT_EQ(d.skipped[0].kind, flagcrawl::fetch::FailureKind::limit_reached);
    EXPECT_EQ(d.skipped[0].rule, "--max-per-dir 2");
    EXPECT_FALSE(d.skipped[0].tentative);

    LocalFrontier resumed(o, nullptr);
    ASSERT_TRUE(resumed.counts_directories());
    resumed.restore_directory("http://a/list?page=1");
    resumed.restore_directory("http://a/list?page=2");
    d.clear();
    const std::string page4 = "http://a/list?page=4";
    const std::string other = "http://a/other";
    const std::vector<Discovery> later = {discovery(page4, 2), discovery(other, 2)};
    resumed.offer(later, d);
    ASSERT_EQ(d.accepted.size(), 0u);
    EXPECT_EQ(d.skipped.size(), 2u);
}

TEST(Frontier, TheDirectoryOfAUrl) {
    EXPECT_EQ(directory_of("http://h/a/b/c?x=/y"), "http://h/a/b/");
    EXPECT_EQ(directory_of("http://h/a/b/"), "http://h/a/b/");
    EXPECT_EQ(directory_of("http://h:8/?q"), "http://h:8/");
    EXPECT_EQ(directory_of("http://h"), "http://h");
}

TEST(Frontier, TheOriginAndPathOfAUrl) {
    EXPECT_EQ(origin_of("http://h:8/a/b?x=/y#z"), "http://h:8");
    EXPECT_EQ(origin_of("http://h?x=/y"), "http://h");
    EXPECT_EQ(origin_of("https://u@h#f"), "https://u@h");
    EXPECT_EQ(origin_of("http://h"), "http://h");
    EXPECT_EQ(origin_of("not a url"), "not a url");
    EXPECT_EQ(path_and_query_of("http://h/a?b#c"), "/a?b");
    EXPECT_EQ(path_and_query_of("http://h?b"), "/?b");
    EXPECT_EQ(path_and_query_of("http://h#c"), "/");
}

// robots.txt rules see a URL's path and query, without its fragment, "/" for an empty path,
// whether the URL is offered or handed out.
TEST(Frontier, RobotsRulesSeeThePathAndQueryOfEveryUrl) {
    LocalFrontier f(options(8, 0s, true), nullptr);
    push(f, "http://a/");
    auto robots = expect_ready(f, t0);
    ASSERT_EQ(robots.kind, FrontierJob::Kind::robots);
    push(f, "http://a?q=1");   // queued before the rules are known: refused when handed out
    push(f, "http://a/p#q=1"); // allowed: the fragment is not part of the path
    f.robots_fetched(
        robots, RobotsRules::parse("User-agent: *\nDisallow: /?q\nDisallow: /$\n", "flagcrawl"), "",
        t0);
    EXPECT_FALSE(f.allowed_now("http://a"));
    EXPECT_FALSE(f.allowed_now("http://a#x"));
    EXPECT_FALSE(f.allowed_now("http://a?q=2"));
    EXPECT_FALSE(f.allowed_now("http://a/?q=2#f"));
    EXPECT_TRUE(f.allowed_now("http://a/x?q=2"));
    EXPECT_TRUE(f.allowed_now("http://a/p#/"));
    std::map<std::string, FrontierJob::Kind> kinds;
    for (int i = 0; i < 3; ++i) {
        auto job = expect_ready(f, t0);
        kinds[job.entry.url] = job.kind;
        f.complete(job, t0);
    }
    EXPECT_EQ(kinds["http://a/"], FrontierJob::Kind::disallowed);
    EXPECT_EQ(kinds["http://a?q=1"], FrontierJob::Kind::disallowed);
    EXPECT_EQ(kinds["http://a/p#q=1"], FrontierJob::Kind::fetch);
}
