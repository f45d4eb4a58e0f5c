// Test helper: runs one crawl in-process the way `flagcrawl crawl` does (the Crawl object), with
// short test timings, and reads what it recorded back with plain SQL.
#pragma once

#include "crawler/crawl/crawl.hpp"
#include "storage/reader.hpp"
#include "storage/stats.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flagcrawl::testing_support {

struct CrawlRun {
    crawler::CrawlReport report;
    std::int64_t run_id = 0;
    std::int64_t crawl_id = 0;
};

// Runs `start` under `strategy` to its end. nullopt, with a test failure, when the crawl could
// not open or start.
inline std::optional<CrawlRun> run_crawl(fetch::Strategy strategy, crawler::CrawlStart start) {
    using namespace std::chrono_literals;
    start.settings.strategy = strategy;
    start.settings.policy.backoff_base = 10ms;
    start.frontier.seed = 1;
    auto opened = crawler::Crawl::open(std::move(start));
    EXPECT_TRUE(opened) << opened.error().message;
    if (!opened) {
        return std::nullopt;
    }
    auto started = (*opened)->start();
    EXPECT_TRUE(started) << started.error().message;
    if (!started) {
        return std::nullopt;
    }
    CrawlRun out;
    out.report = (*opened)->run();
    out.run_id = (*opened)->run_id();
    out.crawl_id = (*opened)->crawl_id();
    return out;
}

// The rows of `sql` over the database at `db`, each row's columns as text (NULL as "NULL").
inline std::vector<std::vector<std::string>> query(const std::string& db, const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    auto reader = storage::Reader::open(db);
    EXPECT_TRUE(reader) << db;
    if (!reader) {
        return rows;
    }
    auto statement = reader->database().prepare(sql);
    EXPECT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
        std::vector<std::string> columns;
        for (int i = 0; i < row.column_count(); ++i) {
            columns.push_back(row.is_null(i) ? "NULL" : std::string(row.column_text(i)));
        }
        rows.push_back(std::move(columns));
        return true;
    }));
    return rows;
}

// A two-column query as a map (first column -> second).
inline std::map<std::string, std::string> query_map(const std::string& db, const std::string& sql) {
    std::map<std::string, std::string> out;
    for (auto& row : query(db, sql)) {
        EXPECT_EQ(row.size(), 2u) << sql;
        if (row.size() == 2) {
            out[row[0]] = row[1];
        }
    }
    return out;
}

// One source of truth: the crawl's own summary (counted by the writer as it wrote the rows), its
// runs row and `stats` over its pages say the same (outcomes, bytes, requests, robots.txt and
// external checks, errors by kind, skips by kind and by rule).
inline void expect_counts_agree(const std::string& db, const crawler::CrawlReport& report,
                                std::int64_t run_id) {
    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader) << db;
    auto summary = storage::summarize_run(*reader, run_id);
    ASSERT_TRUE(summary);
    auto run = reader->find_run(run_id);
    ASSERT_TRUE(run);
    ASSERT_TRUE(*run);
    const crawler::CrawlTotals& t = report.totals;
    EXPECT_EQ(t.pages, summary->items);
    EXPECT_EQ(t.ok, summary->ok);
    EXPECT_EQ(t.redirects, summary->redirects);
    EXPECT_EQ(t.not_found, summary->not_found);
    EXPECT_EQ(t.errors, summary->errors);
    EXPECT_EQ(t.disallowed, summary->disallowed);
    EXPECT_EQ(t.skipped, summary->skipped);
    EXPECT_EQ(t.bytes, summary->bytes);
    EXPECT_EQ(t.requests, summary->requests);
    EXPECT_EQ(t.robots_fetches, summary->robots_fetches);
    EXPECT_EQ(t.external_checked, summary->external_checked);
    EXPECT_EQ(t.external_broken, summary->external_broken);
    std::vector<std::pair<std::string, std::uint64_t>> rules;
    for (const auto& rule : summary->skipped_by_rule) {
        rules.emplace_back(rule.kind + ": " + rule.reason, rule.count);
    }
    EXPECT_EQ(t.skipped_by_rule, rules);
    std::map<std::string, std::uint64_t> errors;
    for (const auto& kind : summary->errors_by_kind) {
        errors[kind.kind] = kind.count;
    }
    EXPECT_EQ(t.errors_by_kind, errors);
    std::map<std::string, std::uint64_t> skipped;
    for (const auto& kind : summary->skipped_by_kind) {
        skipped[kind.kind] = kind.count;
    }
    EXPECT_EQ(t.skipped_by_kind, skipped);
    const storage::RunTotals& r = (*run)->totals;
    EXPECT_EQ(r.ok, t.ok + t.redirects);
    EXPECT_EQ(r.not_found, t.not_found);
    EXPECT_EQ(r.errors, t.errors);
    EXPECT_EQ(r.bytes, t.bytes);
    EXPECT_EQ(r.requests, t.requests);
}

} // namespace flagcrawl::testing_support
