// bench's arithmetic from tables: medians, the counts of the median run, speedup against
// sequential, the ideal time (with --metadata's two-step chain) and efficiency, unknown values,
// a crawl's pages/s, CPU per page and parse share.
#include "cli/bench_report.hpp"

#include <gtest/gtest.h>

using namespace flagcrawl::cli;

namespace {

BenchRun run(double wall, std::uint64_t requests, std::uint64_t ok = 20) {
    return BenchRun{.wall_s = wall,
                    .cpu_s = wall / 10,
                    .peak_rss_kb = static_cast<long>(wall * 1000),
                    .job_s = wall - 0.01,
                    .ok = ok,
                    .not_found = 0,
                    .errors = 0,
                    .requests = requests};
}

BenchRow row(std::string strategy, int concurrency, std::vector<BenchRun> runs) {
    BenchRow r;
    r.strategy = std::move(strategy);
    r.concurrency = concurrency;
    r.runs = std::move(runs);
    return r;
}

} // namespace

TEST(BenchReport, Median) {
    EXPECT_EQ(median({3}), 3);
    EXPECT_EQ(median({5, 1, 3}), 3);
    EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
}

TEST(BenchReport, MediansSpeedupIdealAndEfficiency) {
    BenchJob job{.command = "flags", .fixed_delay_s = 0.25, .chain = 1, .repeat = 3};
    std::vector<BenchRow> rows = {
        row("sequential", 1, {run(5.2, 20), run(5.0, 20, 19), run(5.1, 20, 18)}),
        row("threaded", 20, {run(0.30, 20), run(0.40, 20), run(0.25, 20)}),
        row("async", 8, {run(1.0, 20)}),
    };
    summarize(job, rows);
    EXPECT_DOUBLE_EQ(rows[0].median.wall_s, 5.1);
    EXPECT_EQ(rows[0].median.ok, 18u);       // counts of the run with the median wall
    EXPECT_DOUBLE_EQ(*rows[0].ideal_s, 5.0); // 20 requests one after another
    EXPECT_DOUBLE_EQ(*rows[0].efficiency, 5.0 / 5.1);
    EXPECT_DOUBLE_EQ(*rows[0].speedup, 1.0);
    EXPECT_DOUBLE_EQ(rows[1].median.wall_s, 0.30);
    EXPECT_DOUBLE_EQ(*rows[1].ideal_s, 0.25); // all 20 at once
    EXPECT_DOUBLE_EQ(*rows[1].speedup, 5.1 / 0.30);
    EXPECT_DOUBLE_EQ(rows[1].requests_per_s, 20 / 0.30);
    EXPECT_DOUBLE_EQ(*rows[2].ideal_s, 0.75); // ceil(20 / 8) rounds
    const std::string table = format_table(job, rows);
    EXPECT_NE(table.find("ceil(requests / concurrency) x 0.25 s"), std::string::npos) << table;
    EXPECT_NE(table.find("17.0x"), std::string::npos) << table;
    const auto json = to_json(job, rows);
    EXPECT_EQ(json["results"][1]["walls_s"].size(), 3u);
    EXPECT_EQ(json["results"][1]["efficiency"].get<double>(), 0.25 / 0.30);
}

TEST(BenchReport, MetadataChainAndUnknowns) {
    // --metadata: each flag needs two requests in a row, so even unbounded concurrency takes
    // two delays.
    BenchJob job{.command = "flags", .fixed_delay_s = 0.1, .chain = 2, .repeat = 1};
    std::vector<BenchRow> rows = {row("async", 100, {run(0.3, 40)})};
    summarize(job, rows);
    EXPECT_DOUBLE_EQ(*rows[0].ideal_s, 0.2);
    EXPECT_FALSE(rows[0].speedup); // no sequential row
    EXPECT_TRUE(to_json(job, rows)["results"][0]["speedup"].is_null());

    BenchJob unknown{.command = "download", .repeat = 1};
    summarize(unknown, rows);
    EXPECT_FALSE(rows[0].ideal_s);
    EXPECT_FALSE(rows[0].efficiency);
    EXPECT_TRUE(to_json(unknown, rows)["results"][0]["efficiency"].is_null());
    EXPECT_NE(format_table(unknown, rows).find("efficiency: -"), std::string::npos);
}

TEST(BenchReport, CrawlPagesPerSecondCpuPerPageAndParseShare) {
    BenchJob job{.command = "crawl", .repeat = 3};
    auto crawl = [](double wall, double cpu, double parse) {
        BenchRun r = run(wall, 160, 159);
        r.cpu_s = cpu;
        r.pages = 159;
        r.parse_cpu_s = parse;
        return r;
    };
    std::vector<BenchRow> rows = {
        // Shares 0.25, 0.5 and (a thread clock a tick past rusage) 1.
        row("sequential", 1, {crawl(2.0, 0.4, 0.1), crawl(1.0, 0.2, 0.1), crawl(3.0, 0.3, 0.31)}),
        row("async", 8, {crawl(0.5, 0.0, 0.0)}),
    };
    summarize(job, rows);
    EXPECT_DOUBLE_EQ(rows[0].pages_per_s, 159 / 2.0);
    EXPECT_DOUBLE_EQ(rows[0].cpu_ms_per_page, 0.3 / 159 * 1000);
    EXPECT_DOUBLE_EQ(rows[0].parse_share, 0.5);
    EXPECT_DOUBLE_EQ(rows[0].median.parse_cpu_s, 0.1);
    EXPECT_DOUBLE_EQ(rows[1].parse_share, 0); // no CPU measured: no share
    const auto json = to_json(job, rows);
    EXPECT_EQ(json["results"][0]["pages"], 159);
    EXPECT_DOUBLE_EQ(json["results"][0]["parse_share"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(json["results"][0]["pages_per_s"].get<double>(), 79.5);
    const std::string table = format_table(job, rows);
    EXPECT_NE(table.find("CPU ms/page"), std::string::npos) << table;
    EXPECT_NE(table.find(" 50% "), std::string::npos) << table;
    EXPECT_EQ(table.find("efficiency"), std::string::npos) << table;

    // Other jobs have none of the crawl's fields.
    BenchJob flags{.command = "flags", .repeat = 3};
    EXPECT_FALSE(to_json(flags, rows)["results"][0].contains("parse_share"));
    EXPECT_EQ(format_table(flags, rows).find("parse"), std::string::npos);
}
