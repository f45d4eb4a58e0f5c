// The crawl loop on its own: a page parsed by the pool is handed back (recorded, its links
// queued) in on_wake(), where the engine returns finished work, never inside next(); and a
// frontier store that fails while paging queued URLs back in, or a writer that fails while a
// page-in waits for its commit, stops the crawl as failed through the normal end, under each
// strategy.
#include "temp_dir.hpp"

#include "crawler/crawl/crawl_job.hpp"
#include "crawler/crawl/frontier_store.hpp"
#include "crawler/url/url.hpp"
#include "server/server.hpp"
#include "server/site.hpp"
#include "storage/reader.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace flagcrawl;
using namespace std::chrono_literals;
using testing_support::TempDir;

namespace {

std::shared_ptr<const crawler::PageParser> parser_for(const std::string& seed) {
    std::vector<crawler::Url> seeds{*crawler::parse(seed)};
    crawler::PageRules rules;
    rules.robots = false;
    return std::make_shared<const crawler::PageParser>(
        rules, crawler::UrlFilter(crawler::ScopeKind::host, seeds, {}, {}));
}

// A crawl job whose pages are parsed by a pool of `threads` that wakes with `wake`.
std::unique_ptr<crawler::CrawlJob> job_for(const std::string& seed, int threads,
                                           crawler::Frontier& frontier, storage::Writer* writer,
                                           std::int64_t id, std::function<void()> wake,
                                           crawler::CrawlCounters& counters) {
    auto parser = parser_for(seed);
    auto ready = std::make_shared<crawler::SharedWaker>();
    ready->set(wake);
    return std::make_unique<crawler::CrawlJob>(
        parser, crawler::CrawlLimits{},
        std::make_unique<crawler::ParsePool>(threads, parser, ready), frontier, writer, id, id,
        wake, counters);
}

TEST(CrawlJob, PoolPagesAreHandedBackInOnWake) {
    const std::string seed = "http://127.0.0.1:9/index.html";
    crawler::FrontierOptions options;
    options.politeness.robots = false;
    crawler::LocalFrontier frontier(options, nullptr);
    ASSERT_TRUE(frontier.push(seed, 1, 0, 0, false));

    std::mutex mutex;
    std::condition_variable cv;
    int wakes = 0;
    crawler::CrawlCounters counters;
    auto owned = job_for(
        seed, 1, frontier, nullptr, 0,
        [&] {
            std::lock_guard lock(mutex);
            ++wakes;
            cv.notify_all();
        },
        counters);
    crawler::CrawlJob& job = *owned;
    std::vector<std::string> recorded;
    bool in_next = false;
    job.on_item([&](const crawler::CrawlItem& item) {
        EXPECT_FALSE(in_next) << "a page was recorded inside next()";
        recorded.push_back(item.record.url);
    });

    in_next = true;
    auto first = job.next(fetch::Clock::now());
    in_next = false;
    ASSERT_EQ(first.state, fetch::WorkSource::State::ready);
    fetch::Response response;
    response.id = first.request.id;
    response.url = seed;
    response.final_url = seed;
    response.http_status = 200;
    response.attempts = 1;
    response.content_type = "text/html";
    response.body = "<title>t</title><a href=/next.html>n</a>";
    response.bytes = response.body.size();
    job.on_response(std::move(response));
    EXPECT_TRUE(recorded.empty()); // handed to the pool

    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return wakes > 0; })) << "the pool never woke";
    }
    // The engine, woken, asks next() again: the page is not recorded there...
    in_next = true;
    auto waiting = job.next(fetch::Clock::now());
    in_next = false;
    EXPECT_EQ(waiting.state, fetch::WorkSource::State::waiting);
    EXPECT_TRUE(recorded.empty());
    // ... but in on_wake(), with its link queued.
    job.on_wake();
    ASSERT_EQ(recorded, std::vector<std::string>{seed});
    in_next = true;
    auto second = job.next(fetch::Clock::now());
    in_next = false;
    ASSERT_EQ(second.state, fetch::WorkSource::State::ready);
    EXPECT_EQ(second.request.url, "http://127.0.0.1:9/next.html");
    EXPECT_EQ(job.finish(std::nullopt, {}), 0u);
}

// The SQLite frontier store, failing like a full disk from its `fail_at`-th page-in.
class FailingStore final : public crawler::FrontierStore {
public:
    FailingStore(crawler::FrontierStore& store, int fail_at)
        : m_store(store)
        , m_fail_at(fail_at) {}
    void request(crawler::QueuePosition after, std::size_t limit,
                 std::optional<std::int64_t> committed_after,
                 std::function<void()> ready) override {
        if (++m_calls < m_fail_at) {
            m_store.request(after, limit, committed_after, std::move(ready));
            return;
        }
        constexpr int k_sqlite_full = 13; // SQLITE_FULL
        m_failed = crawler::PagedIn{{},
                                    storage::Error{{k_sqlite_full, storage::sqlite_category()},
                                                   "c.db: database or disk is full"},
                                    std::nullopt};
        // On a thread of its own, as FrontierStore asks: called here, under the engine's lock,
        // it deadlocked with the real store's thread waking the engine at the same time.
        m_answering = std::jthread(std::move(ready));
    }
    std::optional<crawler::PagedIn> take() override {
        if (m_failed) {
            return std::exchange(m_failed, std::nullopt);
        }
        return m_store.take();
    }

private:
    crawler::FrontierStore& m_store;
    int m_fail_at;
    int m_calls = 0;
    std::optional<crawler::PagedIn> m_failed;
    std::jthread m_answering; // joined first when the store goes
};

class CrawlJobStore : public ::testing::TestWithParam<fetch::Strategy> {};

// Queued URLs that cannot be read back from the store (disk full) stop the crawl as failed,
// through the normal end: no exception, the pages fetched so far recorded.
TEST_P(CrawlJobStore, AFrontierStoreFailureStopsTheCrawlAsFailed) {
    TempDir dir("crawljob");
    auto site = std::make_shared<const server::Site>(server::SiteOptions{.pages = 400, .seed = 3});
    server::Server server(server::site_handler(site));
    ASSERT_FALSE(server.start());
    const std::string seed = "http://127.0.0.1:" + std::to_string(server.port()) + "/index.html";
    const std::string db = dir.file("c.db");

    auto writer = storage::Writer::open(db);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run({.command = "crawl", .arguments = "test", .strategy = "x"});
    ASSERT_TRUE(run);
    fetch::Policy policy;
    policy.retry_throttled = false;
    auto fetcher = fetch::make_fetcher(GetParam(), policy, 4);
    crawler::SqliteFrontierStore sqlite_store(db, *run);
    FailingStore store(sqlite_store, 2);
    crawler::FrontierOptions options;
    options.window = 8;
    options.politeness.robots = false;
    crawler::LocalFrontier frontier(options, &store);
    frontier.set_waker([&] { fetcher->wake(); });
    crawler::CrawlCounters counters;
    auto owned = job_for(
        seed, 2, frontier, &*writer, *run, [&] { fetcher->wake(); }, counters);
    crawler::CrawlJob& job = *owned;
    storage::CrawlBeginRecord begin{*run, *run, true, "[]", "{}", {}};
    auto entry = frontier.push(seed, 1, 0, 0, false);
    begin.frontier.push_back({entry->seq, entry->key, entry->url, 0, 0, false});
    ASSERT_TRUE(writer->submit(std::move(begin)));

    fetcher->run(job, job);
    job.finish(std::nullopt, {});
    EXPECT_EQ(job.stop_reason(), crawler::StopReason::failed);
    EXPECT_EQ(job.stop_text(), "failed: c.db: database or disk is full");
    ASSERT_TRUE(writer->close());
    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader);
    auto pages = reader->database().query_int("SELECT count(*) FROM pages WHERE kind = 'page'");
    ASSERT_TRUE(pages);
    EXPECT_GT(*pages, 0);
    EXPECT_LT(*pages, 100);
}

// Paging in never asks the writer to commit; a writer that fails (here: another connection
// holds the lock past its busy timeout) while the frontier waits for queued URLs it has not
// committed stops the crawl as failed, instead of leaving the loop waiting for them forever.
TEST_P(CrawlJobStore, AWriterFailingWhileAPageInWaitsForItStopsTheCrawl) {
    TempDir dir("crawljob-writer");
    auto site = std::make_shared<const server::Site>(server::SiteOptions{.pages = 400, .seed = 3});
    server::Server server(server::site_handler(site));
    ASSERT_FALSE(server.start());
    const std::string seed = "http://127.0.0.1:" + std::to_string(server.port()) + "/index.html";
    const std::string db = dir.file("c.db");

    storage::WriterOptions writer_options;
    writer_options.busy_timeout = 300ms;
    auto writer = storage::Writer::open(db, writer_options);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run({.command = "crawl", .arguments = "test", .strategy = "x"});
    ASSERT_TRUE(run);
    fetch::Policy policy;
    policy.retry_throttled = false;
    auto fetcher = fetch::make_fetcher(GetParam(), policy, 4);
    crawler::SqliteFrontierStore store(db, *run);
    crawler::FrontierOptions options;
    options.window = 8;
    options.politeness.robots = false;
    crawler::LocalFrontier frontier(options, &store);
    frontier.set_waker([&] { fetcher->wake(); });
    crawler::CrawlCounters counters;
    auto owned = job_for(
        seed, 2, frontier, &*writer, *run, [&] { fetcher->wake(); }, counters);
    crawler::CrawlJob& job = *owned;
    storage::CrawlBeginRecord begin{*run, *run, true, "[]", "{}", {}};
    auto entry = frontier.push(seed, 1, 0, 0, false);
    begin.frontier.push_back({entry->seq, entry->key, entry->url, 0, 0, false});
    ASSERT_TRUE(writer->submit(std::move(begin)));
    ASSERT_TRUE(writer->flush());

    auto blocker = storage::Database::open(db);
    ASSERT_TRUE(blocker);
    ASSERT_TRUE(blocker->exec("BEGIN IMMEDIATE"));
    // Bounds the test if the loop waits forever.
    std::atomic<bool> timed_out{false};
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    std::jthread watchdog([&] {
        std::unique_lock lock(mutex);
        if (!cv.wait_for(lock, 20s, [&] { return done; })) {
            timed_out = true;
            fetcher->stop(fetch::StopMode::abort);
        }
    });
    fetcher->run(job, job);
    {
        std::lock_guard lock(mutex);
        done = true;
    }
    cv.notify_all();
    watchdog.join();
    job.finish(std::nullopt, {});
    EXPECT_FALSE(timed_out) << "the crawl waited for the failed writer";
    EXPECT_EQ(job.stop_reason(), crawler::StopReason::failed);
    EXPECT_TRUE(job.stop_text().starts_with("failed: ")) << job.stop_text();
    EXPECT_GT(counters.pages.load(), 0u);
    ASSERT_TRUE(blocker->exec("ROLLBACK"));
    EXPECT_FALSE(writer->close());
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlJobStore,
                         ::testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                           fetch::Strategy::async),
                         [](const auto& param_info) {
                             return std::string(fetch::to_string(param_info.param));
                         });

} // namespace
