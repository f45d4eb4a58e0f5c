// storage/stats.hpp on real SQLite files written by storage::Writer: a download run, a crawl
// resumed once (whole crawl and each run), nearest-rank percentiles on known data, the per-host
// table (in-memory and SQL-grouped paths), depth buckets, the error classification, and a file
// from before the crawl's seen-set and the pages' timings were recorded.
#include "schema_two_file.hpp"
#include "stats_fixture.hpp"

#include "storage/reader.hpp"
#include "storage/run_tally.hpp"
#include "storage/stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <numeric>
#include <random>

using namespace flagcrawl::storage;
using flagcrawl::testing_support::at_ms;
using flagcrawl::testing_support::begin_crawl_run;
using flagcrawl::testing_support::begin_run;
using flagcrawl::testing_support::download;
using flagcrawl::testing_support::expect_run_row_agrees_with_its_rows;
using flagcrawl::testing_support::Failure;
using flagcrawl::testing_support::page;
using flagcrawl::testing_support::SchemaTwoCrawl;
using flagcrawl::testing_support::TempDir;
using flagcrawl::testing_support::write_schema_two_file;

namespace {

Reader open_reader(const std::string& path) {
    auto reader = Reader::open(path);
    EXPECT_TRUE(reader) << (reader ? "" : reader.error().message);
    return std::move(*reader);
}

std::uint64_t kind_count(const Summary& s, std::string_view kind) {
    for (const auto& k : s.errors_by_kind) {
        if (k.kind == kind) {
            return k.count;
        }
    }
    return 0;
}

TEST(Stats, DownloadRunOutcomesStatusesErrorsLatencyAndHosts) {
    TempDir dir("stats");
    const auto path = dir.file("d.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const auto run = begin_run(*writer, "download");
    auto ok1 = download(run, "http://a.test/1", 200, 10);
    ok1.ttfb_ms = 5;
    auto ok2 = download(run, "http://a.test/2", 200, 20);
    ok2.ttfb_ms = 8;
    ASSERT_TRUE(writer->submit(ok1));
    ASSERT_TRUE(writer->submit(ok2));
    ASSERT_TRUE(writer->submit(download(run, "http://a.test/3", 404, 30,
                                        Failure{"http_status", "HTTP 404 Not Found"}, 0)));
    ASSERT_TRUE(
        writer->submit(download(run, "http://a.test/4", 500, 40,
                                Failure{"http_status", "HTTP 500 Internal Server Error"}, 0)));
    ASSERT_TRUE(writer->submit(
        download(run, "http://a.test/5", std::nullopt, 50,
                 Failure{"timeout", "timed out after 5000 ms (http://a.test/5)"}, 0)));
    ASSERT_TRUE(writer->submit(download(run, "http://a.test/6", std::nullopt, 60,
                                        Failure{"connect", "connection refused (a.test:80)"}, 0)));
    for (int i = 1; i <= 3; ++i) { // mixed case: one host
        ASSERT_TRUE(writer->submit(
            download(run, "http://B.Test:8080/" + std::to_string(i), 200, i, std::nullopt, 50)));
    }
    auto unfetched = download(run, "ftp://c.test/x", std::nullopt, 0,
                              Failure{"disallowed_scheme", "unsupported URL scheme 'ftp'"}, 0);
    unfetched.attempts = 0;
    ASSERT_TRUE(writer->submit(unfetched));
    ASSERT_TRUE(writer->close());

    Reader reader = open_reader(path);
    auto summary = summarize_run(reader, run);
    ASSERT_TRUE(summary) << summary.error().message;
    const Summary& s = *summary;
    EXPECT_EQ(s.source, Summary::Source::downloads);
    EXPECT_EQ(s.items, 10u);
    EXPECT_EQ(s.fetched, 9u);
    EXPECT_EQ(s.ok, 5u);
    EXPECT_EQ(s.redirects, 0u);
    EXPECT_EQ(s.not_found, 1u);
    EXPECT_EQ(s.errors, 4u);
    EXPECT_EQ(s.requests, 9u);
    EXPECT_EQ(s.bytes, 2 * 100u + 3 * 50u);
    EXPECT_EQ(s.status_classes, (std::array<std::uint64_t, 6>{3, 0, 5, 0, 1, 1}));
    ASSERT_EQ(s.top_statuses.size(), 3u);
    EXPECT_EQ(s.top_statuses[0].status, 200);
    EXPECT_EQ(s.top_statuses[0].count, 5u);
    EXPECT_EQ(s.top_statuses[1].status, 404); // ties by code
    EXPECT_EQ(s.top_statuses[2].status, 500);

    ASSERT_EQ(s.errors_by_kind.size(), 5u);
    EXPECT_EQ(kind_count(s, "http_404"), 1u);
    EXPECT_EQ(kind_count(s, "http_500"), 1u);
    EXPECT_EQ(kind_count(s, "timeout"), 1u);
    EXPECT_EQ(kind_count(s, "connect"), 1u);
    EXPECT_EQ(kind_count(s, "disallowed_scheme"), 1u);
    EXPECT_EQ(s.reason_count, 5u);
    std::vector<std::string> reasons;
    for (const auto& r : s.top_reasons) {
        reasons.push_back(r.reason);
    }
    std::sort(reasons.begin(), reasons.end());
    EXPECT_EQ(reasons,
              (std::vector<std::string>{"HTTP 404 Not Found", "HTTP 500 Internal Server Error",
                                        "connection refused", "timed out after 5000 ms",
                                        "unsupported URL scheme 'ftp'"}));

    // Fetched values 1 2 3 10 20 30 40 50 60: ranks ceil(.5*9)=5, ceil(.9*9)=9, ceil(.99*9)=9.
    EXPECT_EQ(s.elapsed_ms.count, 9u);
    EXPECT_DOUBLE_EQ(s.elapsed_ms.p50, 20);
    EXPECT_DOUBLE_EQ(s.elapsed_ms.p90, 60);
    EXPECT_DOUBLE_EQ(s.elapsed_ms.p99, 60);
    EXPECT_DOUBLE_EQ(s.elapsed_ms.max, 60);
    ASSERT_TRUE(s.ttfb_ms);
    EXPECT_EQ(s.ttfb_ms->count, 2u);
    EXPECT_DOUBLE_EQ(s.ttfb_ms->p50, 5);
    EXPECT_DOUBLE_EQ(s.ttfb_ms->p90, 8);
    EXPECT_DOUBLE_EQ(s.ttfb_ms->max, 8);

    // Every fetch started at t=0 (fetched_at = elapsed) and the last ended at 60 ms.
    ASSERT_TRUE(s.first_fetch && s.last_fetch);
    EXPECT_EQ(*s.first_fetch, at_ms(0));
    EXPECT_EQ(*s.last_fetch, at_ms(60));
    EXPECT_NEAR(s.active_s, 0.060, 1e-9);

    EXPECT_EQ(s.host_count, 3u);
    ASSERT_EQ(s.hosts.size(), 3u);
    EXPECT_EQ(s.hosts[0].host, "a.test");
    EXPECT_EQ(s.hosts[0].items, 6u);
    EXPECT_EQ(s.hosts[0].fetched, 6u);
    EXPECT_EQ(s.hosts[0].failed, 4u);
    EXPECT_EQ(s.hosts[0].bytes, 200u);
    EXPECT_EQ(s.hosts[0].median_ms, 30.0); // 10 20 30 40 50 60: rank 3
    EXPECT_EQ(s.hosts[1].host, "b.test:8080");
    EXPECT_EQ(s.hosts[1].items, 3u);
    EXPECT_EQ(s.hosts[1].failed, 0u);
    EXPECT_EQ(s.hosts[1].median_ms, 2.0);
    EXPECT_EQ(s.hosts[2].host, "c.test");
    EXPECT_EQ(s.hosts[2].fetched, 0u);
    EXPECT_FALSE(s.hosts[2].median_ms);
    EXPECT_TRUE(s.depths.empty());

    // The counts alone: the same figures, no timings.
    SummaryOptions counts_only;
    counts_only.timings = false;
    auto counted = summarize_run(reader, run, counts_only);
    ASSERT_TRUE(counted) << counted.error().message;
    EXPECT_EQ(counted->items, s.items);
    EXPECT_EQ(counted->ok, s.ok);
    EXPECT_EQ(counted->errors, s.errors);
    EXPECT_EQ(counted->bytes, s.bytes);
    EXPECT_EQ(counted->requests, s.requests);
    EXPECT_EQ(counted->errors_by_kind.size(), s.errors_by_kind.size());
    EXPECT_EQ(counted->elapsed_ms.count, 0u);
    EXPECT_FALSE(counted->ttfb_ms);
    ASSERT_EQ(counted->hosts.size(), 3u);
    EXPECT_FALSE(counted->hosts[0].median_ms);

    // Top limits.
    SummaryOptions few;
    few.top_hosts = 1;
    few.top_statuses = 1;
    few.top_reasons = 2;
    auto limited = summarize_run(reader, run, few);
    ASSERT_TRUE(limited);
    ASSERT_EQ(limited->hosts.size(), 1u);
    EXPECT_EQ(limited->hosts[0].host, "a.test");
    EXPECT_EQ(limited->hosts[0].median_ms, 30.0);
    EXPECT_EQ(limited->host_count, 3u);
    EXPECT_EQ(limited->top_statuses.size(), 1u);
    EXPECT_EQ(limited->top_reasons.size(), 2u);
    EXPECT_EQ(limited->reason_count, 5u);
    SummaryOptions all;
    all.top_hosts = all.top_statuses = all.top_reasons = 0;
    auto unlimited = summarize_run(reader, run, all);
    ASSERT_TRUE(unlimited);
    EXPECT_EQ(unlimited->hosts.size(), 3u);
    EXPECT_EQ(unlimited->top_statuses.size(), 3u);
    EXPECT_EQ(unlimited->top_reasons.size(), 5u);
}

// The per-host table of `sql` (grouped by SQL past SummaryOptions::host_map_limit) is the one
// of `map` (aggregated in memory during the scan).
void expect_same_hosts(const Summary& sql, const Summary& map) {
    EXPECT_EQ(sql.host_count, map.host_count);
    ASSERT_EQ(sql.hosts.size(), map.hosts.size());
    for (std::size_t i = 0; i < map.hosts.size(); ++i) {
        SCOPED_TRACE(map.hosts[i].host);
        EXPECT_EQ(sql.hosts[i].host, map.hosts[i].host);
        EXPECT_EQ(sql.hosts[i].items, map.hosts[i].items);
        EXPECT_EQ(sql.hosts[i].fetched, map.hosts[i].fetched);
        EXPECT_EQ(sql.hosts[i].failed, map.hosts[i].failed);
        EXPECT_EQ(sql.hosts[i].bytes, map.hosts[i].bytes);
        EXPECT_EQ(sql.hosts[i].median_ms, map.hosts[i].median_ms);
    }
    EXPECT_EQ(sql.items, map.items); // the rest of the summary is the scan's either way
    EXPECT_EQ(sql.errors, map.errors);
}

TEST(Stats, HostsGroupedBySqlPastTheMapLimitMatchTheInMemoryTable) {
    TempDir dir("stats");
    const auto path = dir.file("h.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const auto run = begin_run(*writer, "download");
    for (int i = 1; i <= 4; ++i) {
        ASSERT_TRUE(writer->submit(download(run, "http://d.test/" + std::to_string(i), 200, i * 5,
                                            std::nullopt, 10 * static_cast<std::uint64_t>(i))));
    }
    ASSERT_TRUE(writer->submit(download(run, "http://a.test/1", 200, 10)));
    ASSERT_TRUE(writer->submit(download(run, "http://a.test/2", 404, 20,
                                        Failure{"http_status", "HTTP 404 Not Found"}, 0)));
    ASSERT_TRUE(writer->submit(download(run, "http://A.Test/3", 200, 30)));
    ASSERT_TRUE(writer->submit(download(run, "http://B.test:8080/1", 200, 2, std::nullopt, 7)));
    ASSERT_TRUE(writer->submit(download(run, "http://b.test:8080/2", 200, 4, std::nullopt, 9)));
    auto unfetched = download(run, "ftp://c.test/x", std::nullopt, 0,
                              Failure{"disallowed_scheme", "unsupported URL scheme 'ftp'"}, 0);
    unfetched.attempts = 0;
    ASSERT_TRUE(writer->submit(unfetched));
    ASSERT_TRUE(writer->close());

    Reader reader = open_reader(path);
    for (const std::size_t top : {std::size_t{0}, std::size_t{2}}) {
        SCOPED_TRACE("top_hosts " + std::to_string(top));
        SummaryOptions in_memory;
        in_memory.top_hosts = top;
        SummaryOptions by_sql = in_memory;
        by_sql.host_map_limit = 2; // 4 hosts: the scan gives up its map at the third
        auto map = summarize_run(reader, run, in_memory);
        ASSERT_TRUE(map) << map.error().message;
        auto sql = summarize_run(reader, run, by_sql);
        ASSERT_TRUE(sql) << sql.error().message;
        EXPECT_EQ(map->host_count, 4u);
        ASSERT_EQ(map->hosts.size(), top == 0 ? 4u : top);
        EXPECT_EQ(map->hosts[0].host, "d.test");
        expect_same_hosts(*sql, *map);
    }
}

TEST(Stats, NearestRankPercentilesOfKnownData) {
    TempDir dir("stats");
    const auto path = dir.file("p.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const auto hundred = begin_run(*writer, "download");
    std::vector<int> values(100);
    std::iota(values.begin(), values.end(), 1);
    std::shuffle(values.begin(), values.end(), std::mt19937(7));
    for (int v : values) {
        ASSERT_TRUE(
            writer->submit(download(hundred, "http://h.test/" + std::to_string(v), 200, v)));
    }
    const auto one = begin_run(*writer, "download");
    ASSERT_TRUE(writer->submit(download(one, "http://h.test/only", 200, 7.5)));
    const auto thousand = begin_run(*writer, "flags");
    for (int v = 1000; v >= 1; --v) {
        ASSERT_TRUE(writer->submit(
            download(thousand, "http://h.test/" + std::to_string(v), 200, v / 10.0)));
    }
    const auto empty = begin_run(*writer, "download");
    ASSERT_TRUE(writer->close());

    Reader reader = open_reader(path);
    auto s = summarize_run(reader, hundred);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->elapsed_ms.count, 100u);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p50, 50);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p90, 90);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p99, 99);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.max, 100);
    ASSERT_EQ(s->hosts.size(), 1u);
    EXPECT_EQ(s->hosts[0].median_ms, 50.0);

    s = summarize_run(reader, one);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->elapsed_ms.count, 1u);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p50, 7.5);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p99, 7.5);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.max, 7.5);

    s = summarize_run(reader, thousand);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p50, 50.0);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p90, 90.0);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.p99, 99.0);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.max, 100.0);

    s = summarize_run(reader, empty);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->items, 0u);
    EXPECT_EQ(s->elapsed_ms.count, 0u);
    EXPECT_FALSE(s->first_fetch);
    EXPECT_EQ(s->active_s, 0);
    EXPECT_TRUE(s->hosts.empty());
    ASSERT_TRUE(s->ttfb_ms);
    EXPECT_EQ(s->ttfb_ms->count, 0u);
}

// A crawl interrupted after its first run and resumed in a second one, 10 s later. Pages with a
// response have a TTFB (but the stylesheet's is unknown); each run records its seen-set.
class ResumedCrawl : public testing::Test {
protected:
    void SetUp() override {
        m_path = m_dir.file("c.db");
        auto writer = Writer::open(m_path);
        ASSERT_TRUE(writer);
        m_run1 = begin_crawl_run(*writer);
        m_crawl = m_run1;
        PageRecord robots = page(m_crawl, m_run1, 0, "http://a.test/robots.txt", 200, 0, 1, 1);
        robots.seq.reset();
        robots.kind = PageKind::robots;
        robots.ttfb_ms = 0.5; // robots.txt is no page: not in the percentiles
        ASSERT_TRUE(writer->submit(robots));
        PageRecord home = page(m_crawl, m_run1, 1, "http://a.test/", 200, 0, 10, 10);
        home.ttfb_ms = 4;
        ASSERT_TRUE(writer->submit(home));
        PageRecord moved = page(m_crawl, m_run1, 2, "http://a.test/old", 301, 1, 2, 20);
        moved.location = "http://a.test/new";
        moved.ttfb_ms = 1;
        ASSERT_TRUE(writer->submit(moved));
        PageRecord refused = page(m_crawl, m_run1, 3, "http://a.test/private", std::nullopt, 1, 0,
                                  20, Failure{"robots", "disallowed by robots.txt"});
        refused.attempts = 0;
        ASSERT_TRUE(writer->submit(refused));
        ASSERT_TRUE(writer->finish_run(m_run1, {}, RunStatus::interrupted, at_ms(30)));
        ASSERT_TRUE(writer->submit(
            CrawlEndRecord{m_crawl, CrawlStatus::interrupted, "interrupted", 4, 64}));

        m_run2 = begin_crawl_run(*writer, m_crawl);
        PageRecord moved_to = page(m_crawl, m_run2, 4, "http://a.test/new", 200, 1, 5, 10000);
        moved_to.ttfb_ms = 2;
        ASSERT_TRUE(writer->submit(moved_to));
        PageRecord missing = page(m_crawl, m_run2, 5, "http://b.test/x", 404, 2, 7, 10010,
                                  Failure{"http_status", "HTTP 404 Not Found"});
        missing.ttfb_ms = 6;
        ASSERT_TRUE(writer->submit(missing));
        PageRecord style = page(m_crawl, m_run2, 6, "http://a.test/style.css", 200, 2, 3, 10020);
        style.kind = PageKind::requisite;
        ASSERT_TRUE(writer->submit(style));
        ASSERT_TRUE(writer->finish_run(m_run2, {}, RunStatus::finished, at_ms(10030)));
        ASSERT_TRUE(writer->submit(
            CrawlEndRecord{m_crawl, CrawlStatus::finished, "frontier exhausted", 6, 200}));

        m_download = begin_run(*writer, "download");
        ASSERT_TRUE(writer->submit(download(m_download, "http://a.test/f", 200, 3)));
        ASSERT_TRUE(writer->close());
    }

    TempDir m_dir{"stats"};
    std::string m_path;
    std::int64_t m_crawl = 0, m_run1 = 0, m_run2 = 0, m_download = 0;
};

TEST_F(ResumedCrawl, WholeCrawlAcrossItsRuns) {
    Reader reader = open_reader(m_path);
    auto crawl = crawl_of_run(reader, m_run2);
    ASSERT_TRUE(crawl);
    EXPECT_EQ(*crawl, m_crawl);
    auto none = crawl_of_run(reader, m_download);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    auto runs = runs_of_crawl(reader, m_crawl);
    ASSERT_TRUE(runs);
    ASSERT_EQ(runs->size(), 2u);
    EXPECT_EQ((*runs)[0].id, m_run1);
    EXPECT_EQ((*runs)[0].status, RunStatus::interrupted);
    EXPECT_EQ((*runs)[1].id, m_run2);

    auto summary = summarize_crawl(reader, m_crawl);
    ASSERT_TRUE(summary) << summary.error().message;
    const Summary& s = *summary;
    EXPECT_EQ(s.source, Summary::Source::pages);
    EXPECT_EQ(s.items, 6u);
    EXPECT_EQ(s.pages, 5u);
    EXPECT_EQ(s.requisites, 1u);
    EXPECT_EQ(s.fetched, 5u);
    EXPECT_EQ(s.ok, 3u);
    EXPECT_EQ(s.redirects, 1u);
    EXPECT_EQ(s.not_found, 1u);
    EXPECT_EQ(s.errors, 0u); // as `crawl` counts: refused by robots.txt is not an error
    EXPECT_EQ(s.disallowed, 1u);
    EXPECT_EQ(s.robots_fetches, 1u);
    EXPECT_EQ(s.robots_failed, 0u);
    EXPECT_EQ(s.requests, 6u); // the robots.txt fetch included: the server saw it
    EXPECT_EQ(s.bytes, 4 * 1000u);
    EXPECT_EQ(s.status_classes, (std::array<std::uint64_t, 6>{1, 0, 3, 1, 1, 0}));
    EXPECT_EQ(kind_count(s, "robots"), 1u);
    EXPECT_EQ(kind_count(s, "http_404"), 1u);
    EXPECT_EQ(s.errors_by_kind.size(), 2u);
    // Fetched values 2 3 5 7 10.
    EXPECT_EQ(s.elapsed_ms.count, 5u);
    EXPECT_DOUBLE_EQ(s.elapsed_ms.p50, 5);
    EXPECT_DOUBLE_EQ(s.elapsed_ms.p90, 10);
    EXPECT_DOUBLE_EQ(s.elapsed_ms.max, 10);
    // TTFB of the pages that have one: 1 2 4 6 (robots.txt's 0.5 apart).
    ASSERT_TRUE(s.ttfb_ms);
    EXPECT_EQ(s.ttfb_ms->count, 4u);
    EXPECT_DOUBLE_EQ(s.ttfb_ms->p50, 2);
    EXPECT_DOUBLE_EQ(s.ttfb_ms->p90, 6);
    EXPECT_DOUBLE_EQ(s.ttfb_ms->max, 6);
    // Run 1 fetched from 0 to 20 ms, run 2 from 9995 to 10020 ms: the pause does not count.
    ASSERT_TRUE(s.first_fetch && s.last_fetch);
    EXPECT_EQ(*s.first_fetch, at_ms(0));
    EXPECT_EQ(*s.last_fetch, at_ms(10020));
    EXPECT_NEAR(s.active_s, 0.045, 1e-9);
    ASSERT_EQ(s.depths.size(), 3u);
    EXPECT_EQ(s.depths[0].depth, 0);
    EXPECT_EQ(s.depths[0].count, 1u);
    EXPECT_EQ(s.depths[1].count, 3u);
    EXPECT_EQ(s.depths[2].count, 2u);
    ASSERT_EQ(s.hosts.size(), 2u);
    EXPECT_EQ(s.hosts[0].host, "a.test");
    EXPECT_EQ(s.hosts[0].items, 5u);
    EXPECT_EQ(s.hosts[0].fetched, 4u);
    EXPECT_EQ(s.hosts[0].failed, 1u);
    EXPECT_EQ(s.hosts[0].median_ms, 3.0); // 2 3 5 10: rank 2
    EXPECT_EQ(s.hosts[1].host, "b.test");
    EXPECT_EQ(s.hosts[1].median_ms, 7.0);
    // Nothing wrote frontier rows in this test but the pages' writes: none are queued.
    EXPECT_EQ(s.seen_urls, 0u);
    EXPECT_EQ(s.queued_urls, 0u);
    // The seen-set as the second run left it, not the first.
    EXPECT_EQ(s.seen_set_urls, 6u);
    EXPECT_EQ(s.seen_set_bytes, 200u);
}

TEST_F(ResumedCrawl, OneRunOfTheCrawl) {
    Reader reader = open_reader(m_path);
    auto second = summarize_run(reader, m_run2);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->source, Summary::Source::pages);
    EXPECT_EQ(second->items, 3u);
    EXPECT_EQ(second->ok, 2u);
    EXPECT_EQ(second->not_found, 1u);
    EXPECT_EQ(second->robots_fetches, 0u);
    EXPECT_NEAR(second->active_s, 0.025, 1e-9);
    auto first = summarize_run(reader, m_run1);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->items, 3u);
    EXPECT_EQ(first->disallowed, 1u);
    EXPECT_EQ(first->robots_fetches, 1u);
    EXPECT_FALSE(first->seen_urls); // the frontier belongs to the crawl, not to one run
    EXPECT_FALSE(first->seen_set_bytes);
    ASSERT_TRUE(first->ttfb_ms);
    EXPECT_EQ(first->ttfb_ms->count, 2u); // 4 and 1
    EXPECT_DOUBLE_EQ(first->ttfb_ms->max, 4);
    auto downloads = summarize_run(reader, m_download);
    ASSERT_TRUE(downloads);
    EXPECT_EQ(downloads->source, Summary::Source::downloads);
    EXPECT_EQ(downloads->items, 1u);
}

TEST_F(ResumedCrawl, DeepPagesShareTheLastDepthBucket) {
    Reader reader = open_reader(m_path);
    SummaryOptions options;
    options.depth_buckets = 2; // depth 0, then >= 1
    auto s = summarize_crawl(reader, m_crawl, options);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->depths.size(), 2u);
    EXPECT_EQ(s->depths[0].count, 1u);
    EXPECT_EQ(s->depths[1].depth, 1);
    EXPECT_EQ(s->depths[1].count, 5u);
}

// robots.txt rows are no host's rows on either path.
TEST_F(ResumedCrawl, HostsGroupedBySqlPastTheMapLimitMatchTheInMemoryTable) {
    Reader reader = open_reader(m_path);
    SummaryOptions by_sql;
    by_sql.host_map_limit = 1;
    auto map = summarize_crawl(reader, m_crawl);
    ASSERT_TRUE(map) << map.error().message;
    auto sql = summarize_crawl(reader, m_crawl, by_sql);
    ASSERT_TRUE(sql) << sql.error().message;
    EXPECT_EQ(map->host_count, 2u);
    expect_same_hosts(*sql, *map);
}

// A file of a schema-2 build, read as it is (readers never migrate): the crawl is summarized, but
// without TTFB or seen-set, which it did not record.
TEST(Stats, SchemaTwoCrawlHasNoTimingsOrSeenSet) {
    TempDir dir("stats");
    const auto path = dir.file("v2.db");
    write_schema_two_file(path);
    Reader reader = open_reader(path);
    EXPECT_EQ(reader.schema_version(), 2);
    auto s = summarize_crawl(reader, SchemaTwoCrawl::crawl_id);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->items, static_cast<std::uint64_t>(SchemaTwoCrawl::pages));
    EXPECT_EQ(s->ok, 1u);
    EXPECT_EQ(s->not_found, 1u);
    EXPECT_EQ(s->robots_fetches, 1u);
    EXPECT_DOUBLE_EQ(s->elapsed_ms.max, 40);
    EXPECT_FALSE(s->ttfb_ms);
    EXPECT_EQ(s->seen_urls, 2u);
    EXPECT_FALSE(s->seen_set_urls);
    EXPECT_FALSE(s->seen_set_bytes);
}

TEST(Stats, ManyHostsAreGroupedBySqlWithTheSameResult) {
    TempDir dir("stats");
    const auto path = dir.file("h.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const auto run = begin_run(*writer, "download");
    // More distinct hosts than the scan keeps in memory.
    for (int i = 0; i < 50'001; ++i) {
        ASSERT_TRUE(
            writer->submit(download(run, "http://h" + std::to_string(i) + ".test/", 200, 1)));
    }
    for (double v : {9.0, 1.0, 5.0}) {
        ASSERT_TRUE(writer->submit(download(run, "http://big.test/", 200, v)));
    }
    ASSERT_TRUE(writer->submit(download(run, "http://mid.test/a", 200, 4)));
    ASSERT_TRUE(writer->submit(
        download(run, "http://mid.test/b", 500, 2, Failure{"http_status", "HTTP 500"}, 0)));
    ASSERT_TRUE(writer->close());

    Reader reader = open_reader(path);
    SummaryOptions options;
    options.top_hosts = 2;
    auto s = summarize_run(reader, run, options);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->host_count, 50'003u);
    ASSERT_EQ(s->hosts.size(), 2u);
    EXPECT_EQ(s->hosts[0].host, "big.test");
    EXPECT_EQ(s->hosts[0].items, 3u);
    EXPECT_EQ(s->hosts[0].median_ms, 5.0);
    EXPECT_EQ(s->hosts[1].host, "mid.test");
    EXPECT_EQ(s->hosts[1].failed, 1u);
    EXPECT_EQ(s->hosts[1].bytes, 100u);
    EXPECT_EQ(s->hosts[1].median_ms, 2.0);
    EXPECT_EQ(s->items, 50'006u);
}

// The messages older builds recorded, and the kind each stands for: what step 4 writes into
// the error_kind column of the files it upgrades, and what readers derive from an older file
// they do not upgrade.
struct OldMessage {
    const char* error;
    std::optional<int> status;
    int attempts;
    const char* kind;
};
const std::vector<OldMessage> k_old_messages = {
    {"cannot resolve host (x.test:80)", std::nullopt, 1, "dns"},
    {"connection refused (127.0.0.1:9)", std::nullopt, 3, "connect"},
    {"cannot connect: No route to host (h:80)", std::nullopt, 1, "connect"},
    {"connect timed out (h:80)", std::nullopt, 1, "connect"},
    {"timed out after 5000 ms (http://h/)", std::nullopt, 1, "timeout"},
    {"transfer too slow: under 10 B/s for 1000 ms (http://h/)", 200, 1, "timeout"},
    {"body larger than 1024 bytes (http://h/)", 200, 1, "too_large"},
    {"more than 5 redirects (http://h/)", std::nullopt, 1, "too_many_redirects"},
    {"too many redirects (6)", 301, 1, "too_many_redirects"},
    {"TLS: certificate expired (h:443)", std::nullopt, 1, "tls"},
    {"connection closed without a reply (http://h/)", std::nullopt, 1, "empty_reply"},
    {"Recv failure: Connection reset by peer (http://h/)", 200, 3, "reset"},
    {"transfer closed with 10 bytes remaining to read (http://h/)", 200, 1, "partial_body"},
    {"Received HTTP/0.9 when not allowed (http://h/)", std::nullopt, 1, "not_http"},
    {"Weird server reply (http://h/)", std::nullopt, 1, "protocol"},
    {"Protocol \"file\" not supported or disabled in libcurl (file:///etc/passwd)", 302, 1,
     "disallowed_scheme"},
    {"cannot store the body (http://h/)", 200, 1, "write_failed"},
    {"cannot write /out/f.tmp: No space left on device", 200, 1, "write_failed"},
    {"interrupted (http://h/)", std::nullopt, 1, "interrupted"},
    {"disallowed by robots.txt", std::nullopt, 0, "robots"},
    {"robots.txt unreachable (HTTP 503), host given up", std::nullopt, 0, "robots_unreachable"},
    {"unsupported URL scheme 'ftp'", std::nullopt, 0, "disallowed_scheme"},
    {"invalid URL: invalid host", std::nullopt, 0, "invalid_url"},
    {"HTTP 404 Not Found", 404, 1, "http_status"},
    {"HTTP 410 Gone", 410, 1, "http_status"},
    {"HTTP 502 Bad Gateway", 502, 3, "http_status"},
    {"HTTP 503 Service Unavailable (still throttled after 3 deferrals)", 503, 1, "throttled"},
    {"something new", std::nullopt, 1, "other"},
    {"something new", 500, 1, "http_status"},
};

// A downloads file as a build of schema step 3 left it: one run, a row per old message.
void write_step_three_downloads(const std::string& path) {
    auto db = Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE(migrate(*db, 3));
    ASSERT_TRUE(db->exec("INSERT INTO runs (id, command, arguments, strategy, concurrency, "
                         "started_at, status) VALUES (1, 'download', '', 'async', 4, "
                         "'2026-01-02T03:04:05.000Z', 'finished')"));
    {
        Statement insert = db->prepare(
            "INSERT INTO downloads (run_id, url, http_status, bytes, elapsed_ms, attempts, error, "
            "fetched_at) VALUES (1, 'http://h.test/', ?1, 0, 1, ?2, ?3, "
            "'2026-01-02T03:04:05.000Z')");
        for (const OldMessage& m : k_old_messages) {
            insert.bind(1, m.status);
            insert.bind(2, m.attempts);
            insert.bind(3, std::string_view(m.error));
            ASSERT_TRUE(insert.run());
        }
    }
    ASSERT_TRUE(db->close());
}

std::vector<std::string> recorded_kinds(const std::string& path) {
    Reader reader = open_reader(path);
    std::vector<std::string> kinds;
    auto r = reader.for_each_download(std::nullopt, [&](const DownloadRecord& d) {
        kinds.push_back(d.error_kind.value_or("NULL"));
        return true;
    });
    EXPECT_TRUE(r) << r.error().message;
    return kinds;
}

std::vector<KindCount> kinds_of_run(const std::string& path) {
    Reader reader = open_reader(path);
    auto s = summarize_run(reader, 1);
    EXPECT_TRUE(s) << s.error().message;
    return s ? s->errors_by_kind : std::vector<KindCount>{};
}

TEST(Stats, KindsOfAnOlderFileComeFromItsMessagesOnceAndForAll) {
    TempDir dir("stats");
    const auto old_file = dir.file("old.db");
    write_step_three_downloads(old_file);
    std::vector<std::string> expected;
    for (const OldMessage& m : k_old_messages) {
        expected.push_back(m.kind);
    }

    // Read as it is (readers never migrate): derived from the text.
    EXPECT_EQ(open_reader(old_file).schema_version(), 3);
    EXPECT_EQ(recorded_kinds(old_file), expected);
    const auto before = kinds_of_run(old_file);

    // The first writer upgrades it and stores the kinds: the same ones.
    {
        auto writer = Writer::open(old_file);
        ASSERT_TRUE(writer) << writer.error().message;
        ASSERT_TRUE(writer->close());
    }
    EXPECT_EQ(open_reader(old_file).schema_version(), schema_version());
    EXPECT_EQ(recorded_kinds(old_file), expected);
    {
        auto db = Database::open(old_file);
        ASSERT_TRUE(db);
        auto stored = db->query_int("SELECT count(*) FROM downloads WHERE error_kind IS NULL");
        ASSERT_TRUE(stored);
        EXPECT_EQ(*stored, 0);
    }
    EXPECT_EQ(kinds_of_run(old_file), before);

    // A file written now, with the kinds recorded from the enum: stats says the same.
    const auto new_file = dir.file("new.db");
    {
        auto writer = Writer::open(new_file);
        ASSERT_TRUE(writer);
        const auto run = begin_run(*writer, "download");
        ASSERT_EQ(run, 1);
        for (const OldMessage& m : k_old_messages) {
            auto d = download(run, "http://h.test/", m.status, 1, Failure{m.kind, m.error}, 0);
            d.attempts = m.attempts;
            ASSERT_TRUE(writer->submit(d));
        }
        ASSERT_TRUE(writer->close());
    }
    const auto fresh = kinds_of_run(new_file);
    EXPECT_EQ(fresh, before);
    // http_status is counted by status.
    Summary counted;
    counted.errors_by_kind = fresh;
    EXPECT_EQ(kind_count(counted, "http_404"), 1u);
    EXPECT_EQ(kind_count(counted, "http_500"), 1u);
    EXPECT_EQ(kind_count(counted, "reset"), 1u);
}

TEST(Stats, ReasonsWithoutWhereAndHostsOfUrls) {
    EXPECT_EQ(error_reason("connection refused (127.0.0.1:9)"), "connection refused");
    EXPECT_EQ(error_reason("HTTP 503 Service Unavailable (still throttled after 3 deferrals)"),
              "HTTP 503 Service Unavailable");
    EXPECT_EQ(error_reason("HTTP 404 Not Found"), "HTTP 404 Not Found");
    EXPECT_EQ(error_reason("(only parentheses)"), "(only parentheses)");

    EXPECT_EQ(url_host("http://Example.COM:8080/a?b#c"), "example.com:8080");
    EXPECT_EQ(url_host("https://user:pw@h.test?q"), "h.test");
    EXPECT_EQ(url_host("http://[::1]:80/"), "[::1]:80");
    EXPECT_EQ(url_host("not a url"), "");
}

TEST(Stats, ForeignFilesAreToldApartFromUnreadableOnes) {
    TempDir dir("stats");
    const auto text = dir.file("notes.txt");
    std::ofstream(text) << "this is not a database, just some text long enough to have a header";
    auto r = Reader::open(text);
    ASSERT_FALSE(r);
    EXPECT_TRUE(is_foreign_database(r.error())) << r.error().message;

    const auto other = dir.file("other.db");
    {
        auto db = Database::open(other);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("CREATE TABLE t (x)"));
    }
    r = Reader::open(other);
    ASSERT_FALSE(r);
    EXPECT_TRUE(is_foreign_database(r.error())) << r.error().message;

    r = Reader::open(dir.file("missing.db"));
    ASSERT_FALSE(r);
    EXPECT_FALSE(is_foreign_database(r.error())) << r.error().message;
}

} // namespace

namespace {

// Every count the writer's tally gives (Writer::run_totals) as summarize_run() reads it.
void expect_same_counts(const Summary& read, const Summary& tallied, std::int64_t run) {
    SCOPED_TRACE("run " + std::to_string(run));
    EXPECT_EQ(tallied.items, read.items);
    EXPECT_EQ(tallied.fetched, read.fetched);
    EXPECT_EQ(tallied.pages, read.pages);
    EXPECT_EQ(tallied.requisites, read.requisites);
    EXPECT_EQ(tallied.ok, read.ok);
    EXPECT_EQ(tallied.redirects, read.redirects);
    EXPECT_EQ(tallied.not_found, read.not_found);
    EXPECT_EQ(tallied.errors, read.errors);
    EXPECT_EQ(tallied.disallowed, read.disallowed);
    EXPECT_EQ(tallied.requests, read.requests);
    EXPECT_EQ(tallied.bytes, read.bytes);
    EXPECT_EQ(tallied.robots_fetches, read.robots_fetches);
    EXPECT_EQ(tallied.robots_failed, read.robots_failed);
    EXPECT_EQ(tallied.external_checked, read.external_checked);
    EXPECT_EQ(tallied.external_broken, read.external_broken);
    EXPECT_EQ(tallied.errors_by_kind, read.errors_by_kind);
    EXPECT_EQ(tallied.skipped, read.skipped);
    EXPECT_EQ(tallied.skipped_by_kind, read.skipped_by_kind);
    ASSERT_EQ(tallied.skipped_by_rule.size(), read.skipped_by_rule.size());
    for (std::size_t i = 0; i < read.skipped_by_rule.size(); ++i) {
        EXPECT_EQ(tallied.skipped_by_rule[i].kind, read.skipped_by_rule[i].kind) << i;
        EXPECT_EQ(tallied.skipped_by_rule[i].reason, read.skipped_by_rule[i].reason) << i;
        EXPECT_EQ(tallied.skipped_by_rule[i].count, read.skipped_by_rule[i].count) << i;
    }
}

// Once everything submitted is committed, each run's tally against what `stats` reads from the
// file at `path`.
void expect_tallies_agree(Writer& writer, const std::string& path,
                          const std::vector<std::int64_t>& runs) {
    ASSERT_TRUE(writer.flush());
    auto reader = open_reader(path);
    for (const std::int64_t run : runs) {
        auto read = summarize_run(reader, run);
        ASSERT_TRUE(read);
        expect_same_counts(*read, writer.run_totals(run), run);
    }
}

SkipRow skip_row(std::uint64_t key, std::string kind, std::string rule, bool tentative) {
    return SkipRow{key, std::move(kind), std::move(rule), "http://a.test/s" + std::to_string(key),
                   tentative};
}

} // namespace

// The crawl's closing totals come from what the writer counted while it wrote (no re-read): after
// every record, for each run, they equal what `stats` reads from the file. Every outcome, rows
// apart from the items (robots.txt, sitemap, external checks), skips replaced and undone across a
// resume, and failed redirect chains whose first row belongs to this run or to an earlier one.
TEST(Stats, WriterTallyOfEachRunAgreesWithItsRows) {
    TempDir dir("stats");
    const std::string path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    std::vector<std::int64_t> runs;
    const auto check = [&] { expect_tallies_agree(*writer, path, runs); };
    const std::int64_t crawl = begin_crawl_run(*writer);
    runs.push_back(crawl);
    const std::int64_t run1 = crawl;
    std::vector<PageRecord> first;
    PageRecord robots = page(crawl, run1, 0, "http://a.test/robots.txt", 200, 0, 1, 1);
    robots.seq.reset();
    robots.kind = PageKind::robots;
    robots.attempts = 2;
    first.push_back(robots);
    PageRecord robots_failed = page(crawl, run1, 0, "http://b.test/robots.txt", 503, 0, 1, 1,
                                    Failure{"http_status", "HTTP 503"});
    robots_failed.seq.reset();
    robots_failed.kind = PageKind::robots;
    first.push_back(robots_failed);
    PageRecord home = page(crawl, run1, 1, "http://a.test/", 200, 0, 10, 10);
    home.skips = {skip_row(1, "out_of_scope", "scope host", false),
                  skip_row(2, "nofollow", "rel=nofollow", true),
                  skip_row(3, "limit_reached", "--depth 1", true),
                  skip_row(4, "nofollow", "rel=nofollow", true)};
    first.push_back(home);
    first.push_back(page(crawl, run1, 2, "http://a.test/old", 301, 1, 2, 20));
    PageRecord refused = page(crawl, run1, 3, "http://a.test/private", std::nullopt, 1, 0, 20,
                              Failure{"robots", "Disallowed by robots.txt"});
    refused.attempts = 0;
    first.push_back(refused);
    first.push_back(page(crawl, run1, 4, "http://a.test/gone", 410, 1, 3, 30,
                         Failure{"http_status", "HTTP 410 Gone"}));
    PageRecord unknown = page(crawl, run1, 5, "http://a.test/odd", 500, 1, 3, 30);
    unknown.error = "something older builds did not name";
    first.push_back(unknown);
    first.push_back(page(crawl, run1, 6, "http://a.test/slow", std::nullopt, 1, 3, 30,
                         Failure{"timeout", "timed out"}));
    PageRecord sitemap = page(crawl, run1, 7, "http://a.test/sitemap.xml", 200, 0, 1, 40);
    sitemap.kind = PageKind::sitemap;
    first.push_back(sitemap);
    PageRecord external = page(crawl, run1, 8, "http://x.test/", 200, 1, 1, 40);
    external.external = true;
    first.push_back(external);
    PageRecord broken = page(crawl, run1, 9, "http://x.test/404", 404, 1, 1, 40,
                             Failure{"http_status", "HTTP 404"});
    broken.external = true;
    first.push_back(broken);
    PageRecord style = page(crawl, run1, 10, "http://a.test/s.css", 200, 1, 1, 50);
    style.kind = PageKind::requisite;
    style.bytes = 333;
    style.skips = {skip_row(5, "robots", "robots.txt", false),
                   skip_row(6, "nofollow", "rel=nofollow", true)};
    first.push_back(style);
    // The redirect of seq 11 ends badly in this run (its target, seq 12).
    first.push_back(page(crawl, run1, 11, "http://a.test/loop", 302, 1, 1, 60));
    PageRecord hop = page(crawl, run1, 12, "http://a.test/loop2", 302, 2, 1, 60);
    hop.chain_failure = ChainFailure{11, "redirect loop", "redirect_loop"};
    first.push_back(hop);
    for (PageRecord& record : first) {
        ASSERT_TRUE(writer->submit(std::move(record)));
        check();
    }
    ASSERT_TRUE(writer->finish_run(run1, {}, RunStatus::interrupted));

    const std::int64_t run2 = begin_crawl_run(*writer, crawl);
    runs.push_back(run2);
    // Seq 2's redirect (run 1's row) ends badly now; two of run 1's tentative skips become final
    // (rows of run 2), one is undone.
    PageRecord target = page(crawl, run2, 13, "http://a.test/new", 200, 2, 5, 100);
    target.chain_failure = ChainFailure{2, "disallowed by robots.txt: /new", "robots"};
    target.skips = {skip_row(2, "out_of_scope", "--exclude /x", false)};
    ASSERT_TRUE(writer->submit(std::move(target)));
    check();
    PageRecord next = page(crawl, run2, 14, "http://a.test/next", 200, 2, 5, 110);
    next.skips = {skip_row(4, "limit_reached", "--max-url-length 100", false),
                  skip_row(7, "nofollow", "rel=nofollow", true)};
    next.unskipped = {3, 7};
    ASSERT_TRUE(writer->submit(std::move(next)));
    check();
    PageRecord disallowed_chain = page(crawl, run2, 15, "http://a.test/d", 200, 2, 5, 120);
    disallowed_chain.chain_failure = ChainFailure{3, "disallowed by robots.txt", "robots"};
    ASSERT_TRUE(writer->submit(std::move(disallowed_chain)));
    check();
    ASSERT_TRUE(writer->close());
}

// A redirect recorded by a run that has ended, whose chain a later run fails: the ended run's
// `runs` row is corrected with its rows, so that `stats --runs` and `stats` of that run agree.
// The running run's row is left to the totals it writes when it ends; a killed run's is never
// touched.
TEST(Stats, AnEndedRunsRowFollowsItsChainFailedByALaterRun) {
    TempDir dir("stats");
    const std::string path = dir.file("c.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl_run(*writer);
    const std::int64_t run1 = crawl;
    ASSERT_TRUE(writer->submit(page(crawl, run1, 1, "http://a.test/", 200, 0, 10, 10)));
    ASSERT_TRUE(writer->submit(page(crawl, run1, 2, "http://a.test/old", 301, 1, 2, 20)));
    ASSERT_TRUE(writer->submit(page(crawl, run1, 3, "http://a.test/moved", 302, 1, 2, 20)));
    ASSERT_TRUE(writer->flush());
    ASSERT_TRUE(writer->finish_run(run1, crawl_run_totals(writer->run_totals(run1)),
                                   RunStatus::interrupted));
    expect_run_row_agrees_with_its_rows(path, run1);

    const std::int64_t run2 = begin_crawl_run(*writer, crawl);
    PageRecord loop = page(crawl, run2, 4, "http://a.test/old2", 302, 2, 1, 30);
    loop.chain_failure = ChainFailure{2, "redirect loop", "redirect_loop"};
    ASSERT_TRUE(writer->submit(std::move(loop)));
    PageRecord gone = page(crawl, run2, 5, "http://a.test/new", 404, 2, 1, 40,
                           Failure{"http_status", "HTTP 404"});
    gone.chain_failure = ChainFailure{3, "HTTP 404", "http_status"};
    ASSERT_TRUE(writer->submit(std::move(gone)));
    ASSERT_TRUE(writer->flush());
    expect_run_row_agrees_with_its_rows(path, run1);
    {
        auto reader = open_reader(path);
        auto read = summarize_run(reader, run1);
        ASSERT_TRUE(read);
        EXPECT_EQ(read->ok, 1u);
        EXPECT_EQ(read->errors, 2u); // both redirects, failed by run 2
        auto running = reader.find_run(run2);
        ASSERT_TRUE(running);
        ASSERT_TRUE(*running);
        EXPECT_EQ((**running).totals.ok, 0u);
        EXPECT_EQ((**running).totals.errors, 0u);
    }
    ASSERT_TRUE(
        writer->finish_run(run2, crawl_run_totals(writer->run_totals(run2)), RunStatus::finished));
    expect_run_row_agrees_with_its_rows(path, run2);
    ASSERT_TRUE(writer->close());
}

namespace {

// A random pages record of `run` (crawl `crawl`): any kind, outcome and error text, skips of a
// few keys (so that they collide, within a record and across records, runs and crawls),
// tentative skips undone, and redirect chains failed on a few seqs (rows of any kind and run).
PageRecord random_record(std::mt19937& rng, std::int64_t crawl, std::int64_t run) {
    const auto below = [&](std::uint32_t n) { return rng() % n; };
    const auto chance = [&](std::uint32_t percent) { return below(100) < percent; };
    const std::array<std::optional<int>, 10> statuses{std::nullopt, 200, 200, 301, 302,
                                                      304,          404, 410, 500, 503};
    const std::array<const char*, 6> errors{"disallowed by robots.txt",
                                            "Disallowed By Robots.txt: /x",
                                            "DISALLOWED BY ROBOTS",
                                            "robots.txt unreachable",
                                            "timed out",
                                            "HTTP 500 (server)"};
    const std::array<const char*, 6> error_kinds{"http_status",   "robots", "timeout",
                                                 "redirect_loop", "",       "connect"};
    const std::array<const char*, 5> skip_kinds{"out_of_scope", "nofollow", "limit_reached",
                                                "robots", "invalid_url"};
    const std::array<const char*, 5> rules{"scope host", "rel=nofollow", "--depth 2", "robots.txt",
                                           "not a URL"};
    const std::int64_t seq = 1 + below(20);
    PageRecord p = page(crawl, run, seq, "http://a.test/" + std::to_string(seq),
                        statuses[below(statuses.size())], static_cast<int>(below(4)), 3, 10);
    p.has_page = !chance(10);
    const std::uint32_t kind = below(20);
    p.kind = kind < 11   ? PageKind::page
             : kind < 14 ? PageKind::requisite
             : kind < 17 ? PageKind::robots
                         : PageKind::sitemap;
    if (p.kind == PageKind::robots && chance(50)) {
        p.seq.reset();
    }
    p.external = p.kind == PageKind::page && chance(20);
    p.attempts = static_cast<int>(below(4));
    p.bytes = below(5000);
    if (chance(50)) {
        p.error = errors[below(errors.size())];
        if (!chance(15)) {
            p.error_kind = error_kinds[below(error_kinds.size())];
        }
    }
    for (std::uint32_t n = below(4); n > 0; --n) {
        p.skips.push_back(skip_row(1 + below(12), skip_kinds[below(skip_kinds.size())],
                                   rules[below(rules.size())], chance(50)));
    }
    for (std::uint32_t n = below(3); n > 0; --n) {
        p.unskipped.push_back(1 + below(12));
    }
    if (chance(25)) {
        p.chain_failure =
            ChainFailure{static_cast<std::int64_t>(1 + below(20)), errors[below(errors.size())],
                         error_kinds[below(error_kinds.size())]};
    }
    return p;
}

} // namespace

// The same as WriterTallyOfEachRunAgreesWithItsRows over random records: two crawls in one file
// (their skip keys and seqs collide, and must not touch each other's rows), one of them resumed
// twice, batches of a few records committed midway, the counts compared every few records.
TEST(Stats, WriterTallyAgreesWithItsRowsOverRandomRecords) {
    for (std::uint32_t seed = 1; seed <= 6; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        TempDir dir("stats");
        const std::string path = dir.file("r.db");
        WriterOptions options;
        options.batch_records = 1 + seed % 5;
        auto writer = Writer::open(path, options);
        ASSERT_TRUE(writer);
        std::mt19937 rng(seed);
        std::vector<std::int64_t> runs;
        const auto check = [&] { expect_tallies_agree(*writer, path, runs); };
        const std::int64_t crawl_a = begin_crawl_run(*writer);
        const std::int64_t crawl_b = begin_crawl_run(*writer);
        std::int64_t run_a = crawl_a;
        runs = {crawl_a, crawl_b};
        for (int step = 1; step <= 240; ++step) {
            if (step % 80 == 0) {
                ASSERT_TRUE(writer->finish_run(run_a, {}, RunStatus::interrupted));
                run_a = begin_crawl_run(*writer, crawl_a);
                runs.push_back(run_a);
            }
            const bool in_a = rng() % 3 != 0;
            ASSERT_TRUE(writer->submit(
                random_record(rng, in_a ? crawl_a : crawl_b, in_a ? run_a : crawl_b)));
            if (step % 8 == 0) {
                check();
            }
        }
        check();
        ASSERT_TRUE(writer->close());
    }
}

// A batch the writer rolls back (here a frontier row's seq used twice, which fails the writer)
// leaves no trace in the totals: after the failure they are still those of the rows the file
// holds, although the batch had written pages, replaced and undone skips and failed a chain of
// rows committed before.
TEST(Stats, WriterTallyDropsTheBatchItRollsBack) {
    TempDir dir("stats");
    const std::string path = dir.file("f.db");
    WriterOptions options;
    options.batch_delay = std::chrono::hours(1); // one batch until the flush
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer);
    const std::int64_t crawl = begin_crawl_run(*writer);
    PageRecord home = page(crawl, crawl, 1, "http://a.test/", 200, 0, 10, 10);
    home.skips = {skip_row(1, "nofollow", "rel=nofollow", true),
                  skip_row(2, "limit_reached", "--depth 1", true)};
    ASSERT_TRUE(writer->submit(std::move(home)));
    ASSERT_TRUE(writer->submit(page(crawl, crawl, 2, "http://a.test/r", 301, 1, 1, 20)));
    ASSERT_TRUE(writer->flush());
    const Summary committed = writer->run_totals(crawl);
    EXPECT_EQ(committed.items, 2u);
    EXPECT_EQ(committed.skipped, 2u);

    PageRecord next =
        page(crawl, crawl, 3, "http://a.test/n", 404, 1, 1, 30, Failure{"http_status", "HTTP 404"});
    next.skips = {skip_row(1, "out_of_scope", "scope host", false)};
    next.unskipped = {2};
    next.chain_failure = ChainFailure{2, "redirect loop", "redirect_loop"};
    ASSERT_TRUE(writer->submit(std::move(next)));
    PageRecord clash = page(crawl, crawl, 4, "http://a.test/c", 200, 1, 1, 40);
    FrontierRow row;
    row.seq = 900;
    row.key_hash = 900;
    row.url = "http://a.test/900";
    clash.discovered = {row, row};
    ASSERT_TRUE(writer->submit(std::move(clash)));
    EXPECT_FALSE(writer->flush());

    auto reader = open_reader(path);
    auto read = summarize_run(reader, crawl);
    ASSERT_TRUE(read);
    EXPECT_EQ(read->items, 2u);
    expect_same_counts(*read, writer->run_totals(crawl), crawl);
    EXPECT_FALSE(writer->close());
}
