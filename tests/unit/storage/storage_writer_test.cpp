// The single writer: runs and downloads through the queue, NULL handling, flush semantics,
// backpressure with a tiny queue, concurrent producers, failures. Real SQLite files in a temp
// folder.
#include "eventually.hpp"
#include "in_child.hpp"
#include "temp_dir.hpp"

#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <set>
#include <thread>
#include <vector>

using namespace flagcrawl::storage;
using flagcrawl::testing_support::eventually;
using flagcrawl::testing_support::run_in_child;
using flagcrawl::testing_support::TempDir;

namespace {

RunInfo download_run() {
    RunInfo info;
    info.command = "download";
    info.arguments = "flagcrawl download -i urls.txt -c 8";
    info.strategy = "async";
    info.concurrency = 8;
    return info;
}

DownloadRecord ok_download(std::int64_t run_id, int n) {
    DownloadRecord d;
    d.run_id = run_id;
    d.url = "http://127.0.0.1:8080/flags/" + std::to_string(n) + ".gif";
    d.final_url = d.url;
    d.http_status = 200;
    d.bytes = 1000 + static_cast<std::uint64_t>(n);
    d.path = "out/" + std::to_string(n) + ".gif";
    d.sha256 = std::string(64, 'a');
    d.elapsed_ms = 1.5;
    d.attempts = 1;
    d.dns_ms = 0.01;
    d.connect_ms = 0.05;
    d.ttfb_ms = 0.9;
    return d;
}

std::int64_t count_downloads(const std::string& path, std::optional<std::int64_t> run_id = {}) {
    auto reader = Reader::open(path);
    EXPECT_TRUE(reader) << (reader ? "" : reader.error().message);
    std::int64_t n = 0;
    auto r = reader->for_each_download(run_id, [&](const DownloadRecord&) {
        ++n;
        return true;
    });
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return n;
}

TEST(StorageWriter, BeginAndFinishRun) {
    TempDir dir("storage");
    const auto path = dir.file("runs.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    RunInfo info = download_run();
    info.started_at = *parse_time("2026-11-22T04:11:47.123Z");
    auto id = writer->begin_run(info);
    ASSERT_TRUE(id) << id.error().message;

    // Visible to a reader as soon as begin_run() returns: it is committed.
    {
        auto reader = Reader::open(path);
        ASSERT_TRUE(reader) << reader.error().message;
        auto run = reader->find_run(*id);
        ASSERT_TRUE(run && *run);
        EXPECT_EQ((*run)->status, RunStatus::running);
        EXPECT_FALSE((*run)->finished_at);
        EXPECT_EQ((*run)->info.command, "download");
        EXPECT_EQ((*run)->info.arguments, info.arguments);
        EXPECT_EQ((*run)->info.strategy, "async");
        EXPECT_EQ((*run)->info.concurrency, 8);
        EXPECT_EQ(format_time((*run)->info.started_at), "2026-11-22T04:11:47.123Z");
    }

    RunTotals totals{.ok = 5, .not_found = 2, .errors = 1, .bytes = 12345, .requests = 9};
    const TimePoint finished = *parse_time("2026-11-22T04:12:00.007Z");
    ASSERT_TRUE(writer->finish_run(*id, totals, RunStatus::finished, finished));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto run = reader->find_run(*id);
    ASSERT_TRUE(run && *run);
    EXPECT_EQ((*run)->status, RunStatus::finished);
    ASSERT_TRUE((*run)->finished_at);
    EXPECT_EQ(format_time(*(*run)->finished_at), "2026-11-22T04:12:00.007Z");
    EXPECT_EQ((*run)->totals.ok, 5u);
    EXPECT_EQ((*run)->totals.not_found, 2u);
    EXPECT_EQ((*run)->totals.errors, 1u);
    EXPECT_EQ((*run)->totals.bytes, 12345u);
    EXPECT_EQ((*run)->totals.requests, 9u);
    auto missing = reader->find_run(*id + 100);
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TEST(StorageWriter, ManyDownloadsCountedAfterClose) {
    TempDir dir("storage");
    const auto path = dir.file("many.db");
    WriterOptions options;
    options.batch_records = 100; // several batches
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer) << writer.error().message;
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    constexpr int k_rows = 5000;
    for (int i = 0; i < k_rows; ++i) {
        ASSERT_TRUE(writer->submit(ok_download(*run, i)));
    }
    ASSERT_TRUE(writer->close());
    const WriterStats stats = writer->stats();
    EXPECT_EQ(stats.submitted, static_cast<std::uint64_t>(k_rows));
    EXPECT_EQ(stats.committed, static_cast<std::uint64_t>(k_rows));
    EXPECT_GE(stats.transactions, static_cast<std::uint64_t>(k_rows / 100));
    EXPECT_EQ(count_downloads(path, *run), k_rows);

    // Every field round-trips, in submission order.
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    int next = 0;
    ASSERT_TRUE(reader->for_each_download(*run, [&](const DownloadRecord& d) {
        const DownloadRecord want = ok_download(*run, next++);
        EXPECT_EQ(d.url, want.url);
        EXPECT_EQ(d.final_url, want.final_url);
        EXPECT_EQ(d.http_status, 200);
        EXPECT_EQ(d.bytes, want.bytes);
        EXPECT_EQ(d.path, want.path);
        EXPECT_EQ(d.sha256, want.sha256);
        EXPECT_DOUBLE_EQ(d.elapsed_ms, 1.5);
        EXPECT_EQ(d.attempts, 1);
        EXPECT_FALSE(d.error);
        EXPECT_EQ(d.dns_ms, 0.01);
        EXPECT_EQ(d.connect_ms, 0.05);
        EXPECT_EQ(d.ttfb_ms, 0.9);
        return true;
    }));
    EXPECT_EQ(next, k_rows);
}

TEST(StorageWriter, NullHandling) {
    TempDir dir("storage");
    const auto path = dir.file("nulls.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);

    DownloadRecord refused; // no response at all
    refused.run_id = *run;
    refused.url = "http://127.0.0.1:1/refused";
    refused.elapsed_ms = 0.2;
    refused.attempts = 3;
    refused.error = "connect: Connection refused";
    ASSERT_TRUE(writer->submit(refused));

    DownloadRecord not_found = ok_download(*run, 1); // a response, but no file
    not_found.http_status = 404;
    not_found.path.reset();
    not_found.sha256.reset();
    not_found.error = ""; // empty text is stored as text, not as NULL
    ASSERT_TRUE(writer->submit(not_found));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    std::vector<DownloadRecord> rows;
    ASSERT_TRUE(reader->for_each_download(*run, [&](const DownloadRecord& d) {
        rows.push_back(d);
        return true;
    }));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_FALSE(rows[0].http_status);
    EXPECT_FALSE(rows[0].final_url);
    EXPECT_FALSE(rows[0].path);
    EXPECT_FALSE(rows[0].sha256);
    EXPECT_FALSE(rows[0].dns_ms);
    EXPECT_FALSE(rows[0].ttfb_ms);
    EXPECT_EQ(rows[0].error, "connect: Connection refused");
    EXPECT_EQ(rows[0].attempts, 3);
    EXPECT_EQ(rows[1].http_status, 404);
    EXPECT_FALSE(rows[1].path);
    EXPECT_EQ(rows[1].error, std::optional<std::string>(""));

    // The NULLs are real SQL NULLs, not empty strings or zeros.
    auto& db = reader->database();
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE http_status IS NULL"), 1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE error IS NULL"), 0);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE error = ''"), 1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE path IS NULL"), 2);
}

TEST(StorageWriter, TinyQueueLosesNothing) {
    TempDir dir("storage");
    const auto path = dir.file("tiny.db");
    WriterOptions options;
    options.queue_capacity = 2;
    options.batch_records = 3;
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    constexpr int k_rows = 2000;
    for (int i = 0; i < k_rows; ++i) {
        ASSERT_TRUE(writer->submit(ok_download(*run, i)));
        EXPECT_LE(writer->stats().peak_queued, 2u); // the bound holds at every step
    }
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(writer->stats().peak_queued, 2u);
    EXPECT_EQ(count_downloads(path), k_rows);
}

TEST(StorageWriter, QueueBytesBoundWhatWaitsInMemory) {
    // Records of ~10 KB each (their error text) against a 64 KiB bound: at most 6 wait at once,
    // far below the 4096 of the record count bound, and none is lost.
    TempDir dir("storage");
    const auto path = dir.file("bytes.db");
    WriterOptions options;
    options.queue_bytes = 64 << 10;
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    constexpr int k_rows = 300;
    for (int i = 0; i < k_rows; ++i) {
        DownloadRecord d = ok_download(*run, i);
        d.error = std::string(10'000, 'x');
        ASSERT_TRUE(writer->submit(std::move(d)));
        EXPECT_LE(writer->stats().peak_queued_bytes, options.queue_bytes);
    }
    ASSERT_TRUE(writer->close());
    EXPECT_GT(writer->stats().peak_queued_bytes, 10'000u);
    EXPECT_LE(writer->stats().peak_queued, 6u);
    EXPECT_EQ(count_downloads(path), k_rows);
}

TEST(StorageWriter, FlushCommitsEverythingSubmittedBefore) {
    TempDir dir("storage");
    const auto path = dir.file("flush.db");
    WriterOptions options;
    options.batch_records = 1'000'000;           // never by count ...
    options.batch_delay = std::chrono::hours(1); // ... nor by time: only flush() commits
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(writer->submit(ok_download(*run, i)));
    }
    ASSERT_TRUE(writer->flush());
    EXPECT_EQ(count_downloads(path), 10); // committed: visible to another connection
    EXPECT_EQ(writer->stats().committed, 10u);

    for (int i = 10; i < 15; ++i) {
        ASSERT_TRUE(writer->submit(ok_download(*run, i)));
    }
    ASSERT_TRUE(eventually([&] { return writer->stats().peak_queued >= 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(count_downloads(path), 10); // applied maybe, but not committed without flush
    ASSERT_TRUE(writer->flush());
    EXPECT_EQ(count_downloads(path), 15);
    ASSERT_TRUE(writer->flush()); // nothing new: returns at once
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(count_downloads(path), 15);
}

// The commit gate runs before each commit, with the batch not yet visible to other
// connections; while it waits, nothing is committed; removed, it runs no more.
TEST(StorageWriter, TheCommitGateRunsBeforeEachCommit) {
    TempDir dir("storage");
    const auto path = dir.file("gate.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    std::atomic<int> calls{0};
    std::atomic<std::int64_t> seen{-1}; // downloads committed when the gate last ran
    std::atomic<bool> open{false};
    writer->set_commit_gate([&] {
        ++calls;
        seen = count_downloads(path);
        while (!open) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(writer->submit(ok_download(*run, i)));
    }
    ASSERT_TRUE(eventually([&] { return calls.load() >= 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(seen.load(), 0);
    EXPECT_EQ(count_downloads(path), 0); // held by the gate
    open = true;
    ASSERT_TRUE(writer->flush());
    EXPECT_EQ(count_downloads(path), 5);
    writer->set_commit_gate({});
    const int before = calls.load();
    ASSERT_TRUE(writer->submit(ok_download(*run, 5)));
    ASSERT_TRUE(writer->flush());
    EXPECT_EQ(calls.load(), before);
    EXPECT_EQ(count_downloads(path), 6);
    ASSERT_TRUE(writer->close());
}

TEST(StorageWriter, CommitsWhenTheQueueRunsDryAndAtTheDeadline) {
    TempDir dir("storage");
    for (auto delay : {std::chrono::milliseconds(0), std::chrono::milliseconds(30)}) {
        const auto path = dir.file("dry-" + std::to_string(delay.count()) + ".db");
        WriterOptions options;
        options.batch_records = 1'000'000;
        options.batch_delay = delay;
        auto writer = Writer::open(path, options);
        ASSERT_TRUE(writer);
        auto run = writer->begin_run(download_run());
        ASSERT_TRUE(run);
        ASSERT_TRUE(writer->submit(ok_download(*run, 0)));
        // No flush, no close: the writer commits by itself.
        EXPECT_TRUE(eventually([&] { return count_downloads(path) == 1; })) << delay.count();
        ASSERT_TRUE(writer->close());
    }
}

TEST(StorageWriter, BatchesByCount) {
    TempDir dir("storage");
    const auto path = dir.file("count.db");
    WriterOptions options;
    options.batch_records = 7;
    options.batch_delay = std::chrono::hours(1);
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(writer->submit(ok_download(*run, 0)));
    // Let the writer open a batch with that record and wait for more (it wakes when the batch
    // can be completed, not at every record).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int i = 1; i < 20; ++i) {
        ASSERT_TRUE(writer->submit(ok_download(*run, i)));
    }
    // Two full batches of 7 commit by themselves; the last 6 wait for a flush.
    EXPECT_TRUE(eventually([&] { return writer->stats().committed == 14; }));
    EXPECT_EQ(count_downloads(path), 14);
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(count_downloads(path), 20);
}

TEST(StorageWriter, ConcurrentProducers) {
    TempDir dir("storage");
    const auto path = dir.file("threads.db");
    WriterOptions options;
    options.queue_capacity = 64;
    options.batch_records = 50;
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);

    constexpr int k_threads = 4;
    constexpr int k_per_thread = 3000;
    std::atomic<int> failures{0};
    std::vector<std::thread> producers;
    for (int t = 0; t < k_threads; ++t) {
        producers.emplace_back([&, t] {
            for (int i = 0; i < k_per_thread; ++i) {
                DownloadRecord d = ok_download(*run, i);
                d.url = "http://127.0.0.1/t" + std::to_string(t) + "/" + std::to_string(i);
                if (!writer->submit(std::move(d))) {
                    ++failures;
                }
                if (i % 1000 == 999 && !writer->flush()) {
                    ++failures;
                }
            }
        });
    }
    // A run started and finished while the producers write.
    auto other = writer->begin_run(download_run());
    ASSERT_TRUE(other);
    ASSERT_TRUE(writer->finish_run(*other, RunTotals{}, RunStatus::interrupted));
    for (auto& producer : producers) {
        producer.join();
    }
    ASSERT_TRUE(writer->close());
    EXPECT_EQ(failures.load(), 0);
    EXPECT_LE(writer->stats().peak_queued, 64u);
    EXPECT_EQ(writer->stats().committed, static_cast<std::uint64_t>(k_threads * k_per_thread));

    // All rows, none twice, and each producer's rows in its submission order.
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    std::vector<int> next(k_threads, 0);
    std::set<std::string> urls;
    ASSERT_TRUE(reader->for_each_download(*run, [&](const DownloadRecord& d) {
        urls.insert(d.url);
        const auto slash = d.url.find('/', 18);
        const int t = std::stoi(d.url.substr(18, slash - 18));
        EXPECT_EQ(std::stoi(d.url.substr(slash + 1)), next[static_cast<std::size_t>(t)]++);
        return true;
    }));
    EXPECT_EQ(urls.size(), static_cast<std::size_t>(k_threads * k_per_thread));
    auto finished = reader->find_run(*other);
    ASSERT_TRUE(finished && *finished);
    EXPECT_EQ((*finished)->status, RunStatus::interrupted);
}

TEST(StorageWriter, FirstErrorStopsTheWriterAndIsReported) {
    TempDir dir("storage");
    const auto path = dir.file("error.db");
    WriterOptions options;
    options.batch_delay = std::chrono::hours(1);
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    ASSERT_TRUE(writer->submit(ok_download(*run, 0)));
    ASSERT_TRUE(writer->flush());

    // A caller's mistake that harms nothing: reported, the writer goes on.
    auto unknown = writer->finish_run(*run + 1000, RunTotals{}, RunStatus::finished);
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("no run with id"), std::string::npos);

    ASSERT_TRUE(writer->submit(ok_download(*run, 1)));        // in the batch that will fail
    ASSERT_TRUE(writer->submit(ok_download(*run + 1000, 2))); // no such run: FOREIGN KEY fails
    auto flushed = writer->flush();
    ASSERT_FALSE(flushed);
    EXPECT_NE(flushed.error().message.find(path), std::string::npos) << flushed.error().message;
    EXPECT_NE(flushed.error().message.find("FOREIGN KEY"), std::string::npos)
        << flushed.error().message;
    EXPECT_FALSE(writer->submit(ok_download(*run, 3))); // the writer has failed
    EXPECT_FALSE(writer->begin_run(download_run()));
    auto closed = writer->close();
    ASSERT_FALSE(closed);
    EXPECT_EQ(closed.error().message, flushed.error().message);
    EXPECT_THROW((void)writer->submit(ok_download(*run, 4)), std::logic_error);
    EXPECT_EQ(count_downloads(path), 1); // the failed batch was rolled back whole
}

// An I/O failure mid-run (a file size limit makes writes fail, as a full disk would) reaches the
// caller as an Error; run in a child because the limit applies to the whole process.
TEST(StorageWriter, WriteFailureIsAValue) {
    TempDir dir("storage");
    const auto path = dir.file("limit.db");
    const auto [status, out] = run_in_child([&] {
        signal(SIGXFSZ, SIG_IGN);
        auto writer = Writer::open(path);
        if (!writer) {
            return "open: " + writer.error().message;
        }
        auto run = writer->begin_run(download_run());
        const rlimit limit{256 * 1024, 256 * 1024};
        setrlimit(RLIMIT_FSIZE, &limit);
        bool failed = !run;
        for (int i = 0; i < 200'000 && !failed; ++i) {
            failed = !writer->submit(ok_download(*run, i));
        }
        auto closed = writer->close();
        return closed ? std::string("closed without error") : closed.error().message;
    });
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_NE(out.find(path), std::string::npos) << out;
    // SQLite's reason: "disk I/O error" here, "database or disk is full" on a full disk.
    EXPECT_NE(out.find("disk"), std::string::npos) << out;

    // What was committed before the failure is intact.
    Database db = std::move(Database::open(path).value());
    Statement check = db.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.step().value());
    EXPECT_EQ(check.column_text(0), "ok");
}

// A frontier row or crawl_runs pair that already exists is a bug upstream (crawl_records.hpp):
// it fails the writer instead of being dropped, so no later page marks another URL's row done.
TEST(StorageWriter, DuplicateFrontierSeqOrCrawlRunFailsTheWriter) {
    TempDir dir("storage");
    const auto path = dir.file("dup.db");
    std::int64_t crawl = 0;
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        auto run = writer->begin_run(download_run());
        ASSERT_TRUE(run);
        crawl = *run;
        CrawlBeginRecord begin;
        begin.crawl_id = crawl;
        begin.run_id = *run;
        begin.seeds = "[]";
        begin.options = "{}";
        begin.frontier = {{1, 11, "http://a.test/", 0, 0, false},
                          {2, 12, "http://a.test/b", 1, 0, false}};
        ASSERT_TRUE(writer->submit(std::move(begin)));
        ASSERT_TRUE(writer->flush());

        PageRecord page;
        page.crawl_id = crawl;
        page.run_id = *run;
        page.seq = 1;
        page.url = "http://a.test/";
        page.discovered = {{2, 13, "http://a.test/c", 1, 0, false}}; // seq 2 is taken
        ASSERT_TRUE(writer->submit(std::move(page)));
        auto flushed = writer->flush();
        ASSERT_FALSE(flushed);
        EXPECT_NE(flushed.error().message.find("UNIQUE constraint failed: frontier"),
                  std::string::npos)
            << flushed.error().message;
        (void)writer->close();
    }
    {
        auto reader = Reader::open(path);
        ASSERT_TRUE(reader);
        // The page's batch was rolled back whole: both rows still queued, neither replaced.
        EXPECT_EQ(*reader->database().query_int("SELECT count(*) FROM frontier WHERE state = 0"),
                  2);
        EXPECT_EQ(
            *reader->database().query_int("SELECT count(*) FROM frontier WHERE key_hash = 12"), 1);
        EXPECT_EQ(*reader->database().query_int("SELECT count(*) FROM pages"), 0);
    }

    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    for (int i = 0; i < 2; ++i) { // the same resume twice: one (crawl, run) pair
        CrawlBeginRecord resume;
        resume.crawl_id = crawl;
        resume.run_id = *run;
        resume.is_new = false;
        ASSERT_TRUE(writer->submit(std::move(resume)));
    }
    auto flushed = writer->flush();
    ASSERT_FALSE(flushed);
    EXPECT_NE(flushed.error().message.find("UNIQUE constraint failed: crawl_runs"),
              std::string::npos)
        << flushed.error().message;
}

// Skips are written by a plain INSERT; the key of a tentative skip conflicts with the final skip
// of the same URL, which then replaces it, and the batch goes on (the rows after it are kept).
TEST(StorageWriter, AFinalSkipReplacesTheTentativeSkipOfTheSameUrl) {
    TempDir dir("storage");
    const auto path = dir.file("skips.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    CrawlBeginRecord begin;
    begin.crawl_id = *run;
    begin.run_id = *run;
    begin.seeds = "[]";
    begin.options = "{}";
    begin.frontier = {{1, 11, "http://a.test/", 0, 0, false},
                      {2, 12, "http://a.test/b", 1, 0, false}};
    ASSERT_TRUE(writer->submit(std::move(begin)));
    const auto page = [&](std::int64_t seq, std::vector<SkipRow> skips) {
        PageRecord p;
        p.crawl_id = *run;
        p.run_id = *run;
        p.seq = seq;
        p.url = seq == 1 ? "http://a.test/" : "http://a.test/b";
        p.skips = std::move(skips);
        return p;
    };
    ASSERT_TRUE(
        writer->submit(page(1, {{21, "nofollow", "rel=nofollow", "http://a.test/n", true},
                                {22, "limit_reached", "--depth 1", "http://a.test/d", true}})));
    ASSERT_TRUE(writer->flush()); // the tentative rows are committed
    ASSERT_TRUE(
        writer->submit(page(2, {{21, "out_of_scope", "scope host", "http://a.test/n", false},
                                {23, "disallowed_scheme", "mailto", "mailto:x@a.test", false}})));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    Database& db = reader->database();
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM skips"), 3);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM skips WHERE key_hash = 21 AND tentative = 0 "
                            "AND kind = 'out_of_scope' AND page_id = "
                            "(SELECT id FROM pages WHERE seq = 2)"),
              1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM skips WHERE key_hash = 22 AND tentative = 1"), 1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM skips WHERE key_hash = 23 AND tentative = 0"), 1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM pages"), 2);
}

} // namespace
