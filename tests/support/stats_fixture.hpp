// Test helpers for stats and export: rows written through the real storage::Writer into a real
// SQLite file (in a TempDir, from temp_dir.hpp).
#pragma once

#include "temp_dir.hpp"

#include "storage/reader.hpp"
#include "storage/stats.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace flagcrawl::testing_support {

// A fixed clock for fetched_at: 2026-01-02T03:04:05.000Z plus `ms`.
inline storage::TimePoint at_ms(double ms) {
    using namespace std::chrono;
    const sys_days day = year{2026} / January / 2;
    return storage::TimePoint(
        day + hours(3) + minutes(4) + seconds(5) +
        duration_cast<storage::TimePoint::duration>(duration<double, std::milli>(ms)));
}

inline std::int64_t begin_run(storage::Writer& writer, const std::string& command,
                              int concurrency = 4) {
    auto run = writer.begin_run({.command = command,
                                 .arguments = command + " ...",
                                 .strategy = "async",
                                 .concurrency = concurrency,
                                 .started_at = at_ms(0)});
    EXPECT_TRUE(run) << (run ? "" : run.error().message);
    return run ? *run : 0;
}

// Why a row failed: its recorded kind (a code of storage/README.md) and reason.
struct Failure {
    std::string kind;
    std::string reason;
};

inline storage::DownloadRecord download(std::int64_t run_id, const std::string& url,
                                        std::optional<int> status, double elapsed_ms,
                                        std::optional<Failure> failure = std::nullopt,
                                        std::uint64_t bytes = 100) {
    storage::DownloadRecord d;
    d.run_id = run_id;
    d.url = url;
    if (status) {
        d.final_url = url;
    }
    d.http_status = status;
    d.bytes = bytes;
    d.elapsed_ms = elapsed_ms;
    if (failure) {
        d.error = std::move(failure->reason);
        d.error_kind = std::move(failure->kind);
    }
    d.fetched_at = at_ms(elapsed_ms);
    return d;
}

inline storage::PageRecord page(std::int64_t crawl_id, std::int64_t run_id, std::int64_t seq,
                                const std::string& url, std::optional<int> status, int depth,
                                double elapsed_ms, double fetched_ms,
                                std::optional<Failure> failure = std::nullopt) {
    storage::PageRecord p;
    p.crawl_id = crawl_id;
    p.run_id = run_id;
    p.seq = seq;
    p.url = url;
    if (status) {
        p.final_url = url;
    }
    p.http_status = status;
    p.depth = depth;
    p.elapsed_ms = elapsed_ms;
    p.fetched_at = at_ms(fetched_ms);
    p.bytes = failure ? 0 : 1000;
    if (failure) {
        p.error = std::move(failure->reason);
        p.error_kind = std::move(failure->kind);
    }
    return p;
}

// Begins a new crawl (is_new) or resumes `crawl_id` in a new run; returns the run id.
inline std::int64_t begin_crawl_run(storage::Writer& writer, std::int64_t crawl_id = 0) {
    const std::int64_t run = begin_run(writer, "crawl");
    storage::CrawlBeginRecord begin;
    begin.crawl_id = crawl_id == 0 ? run : crawl_id;
    begin.run_id = run;
    begin.is_new = crawl_id == 0;
    begin.seeds = R"(["http://a.test/"])";
    begin.options = R"({"scope":"host"})";
    EXPECT_TRUE(writer.submit(std::move(begin)));
    return run;
}

// Run `id` of the file at `db`: its runs row, written from the crawl's closing totals (and
// corrected when a later run changes its rows), holds what `stats` counts from the run's rows
// (storage/run_tally.hpp).
inline void expect_run_row_agrees_with_its_rows(const std::string& db, std::int64_t id) {
    SCOPED_TRACE("run " + std::to_string(id));
    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader) << db;
    auto run = reader->find_run(id);
    ASSERT_TRUE(run);
    ASSERT_TRUE(*run);
    auto summary = storage::summarize_run(*reader, id);
    ASSERT_TRUE(summary);
    EXPECT_GT(summary->items, 0u);
    const storage::RunTotals& totals = (**run).totals;
    EXPECT_EQ(totals.ok, summary->ok + summary->redirects);
    EXPECT_EQ(totals.not_found, summary->not_found);
    EXPECT_EQ(totals.errors, summary->errors);
    EXPECT_EQ(totals.bytes, summary->bytes);
    EXPECT_EQ(totals.requests, summary->requests);
}

// The same for the latest run of the file at `db`.
inline void expect_latest_run_row_agrees_with_its_rows(const std::string& db) {
    std::int64_t id = 0;
    {
        auto reader = storage::Reader::open(db);
        ASSERT_TRUE(reader) << db;
        auto max = reader->database().query_int("SELECT max(id) FROM runs");
        ASSERT_TRUE(max);
        id = *max;
    }
    expect_run_row_agrees_with_its_rows(db, id);
}

} // namespace flagcrawl::testing_support
