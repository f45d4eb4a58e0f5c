// Crawler traps (server/trap.hpp: a tree without a bottom, a relative-link loop, an endless
// calendar, a doubling query, one directory without end) end by the trap defences, under every
// strategy, each URL they keep out recorded once as a skip with its rule. Real SQLite files.
#include "crawl_runner.hpp"
#include "temp_dir.hpp"

#include "crawler/crawl/page_parser.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "server/trap.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace flagcrawl;
using namespace std::chrono_literals;
using testing_support::query;
using testing_support::query_map;
using testing_support::run_crawl;
using testing_support::TempDir;

namespace {

TEST(TrapRules, ASegmentRepeatedTooOften) {
    EXPECT_FALSE(crawler::repeats_a_segment("/a/b/a/", 2));
    EXPECT_TRUE(crawler::repeats_a_segment("/a/b/a/b/a/", 2));
    EXPECT_TRUE(crawler::repeats_a_segment("/loop/loop/loop/", 2));
    EXPECT_FALSE(crawler::repeats_a_segment("/loop//loop/", 2));
    EXPECT_FALSE(crawler::repeats_a_segment("///", 1));
    EXPECT_TRUE(crawler::repeats_a_segment("/x/x", 1));
    // Segments of one length that differ are no repeats; a path need not start with a slash.
    EXPECT_FALSE(crawler::repeats_a_segment("/ab/ba/ab/ba/", 2));
    EXPECT_TRUE(crawler::repeats_a_segment("ab/x/ab/ab", 2));
    EXPECT_FALSE(crawler::repeats_a_segment("", 0));
    // Past 16 segments (counted another way): the repeats may sit on either side of the 16th.
    std::string distinct;
    for (int i = 0; i < 20; ++i) {
        distinct += "/s" + std::to_string(i);
    }
    EXPECT_FALSE(crawler::repeats_a_segment(distinct, 1));
    EXPECT_TRUE(crawler::repeats_a_segment(distinct + "/s3/s3", 2));
    EXPECT_FALSE(crawler::repeats_a_segment(distinct + "/s3", 2));
    EXPECT_TRUE(crawler::repeats_a_segment(distinct + "/s19/s19/", 2));
    EXPECT_TRUE(crawler::repeats_a_segment("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/a/p/a/", 2));
    EXPECT_FALSE(crawler::repeats_a_segment("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/a/p/q/", 2));
}

class CrawlTraps : public ::testing::TestWithParam<fetch::Strategy> {
protected:
    void SetUp() override {
        m_router.add("/robots.txt", server::Reply::text(404, "none"));
        m_router.add_prefix("/trap/", server::trap_handler("/trap/"));
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        m_base = m_server->base_url();
    }

    TempDir m_dir{"crawl-traps"};
    server::Router m_router;
    std::unique_ptr<server::Server> m_server;
    std::string m_base;
};

// Without a depth limit every trap is endless; the defences end each one: the loop and the tree
// by repeated segments, the doubling query by its length, the calendar and the wide directory by
// the cap per directory.
TEST_P(CrawlTraps, EachTrapEndsByItsDefence) {
    crawler::CrawlStart s;
    s.settings.seeds = {m_base + "/trap/"};
    s.settings.concurrency = 4;
    s.settings.policy.total_timeout = 10'000ms;
    s.settings.max_depth = -1;
    s.settings.max_url_length = 256;
    s.settings.max_segment_repeats = 2;
    s.settings.max_per_directory = 40;
    s.db = m_dir.file("traps.db");
    s.parse_threads = 2;
    auto run = run_crawl(GetParam(), s);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->report.reason, crawler::StopReason::frontier_exhausted);
    const std::string db = m_dir.file("traps.db");
    const auto by_rule = query_map(db, "SELECT rule, count(*) FROM skips WHERE kind = "
                                       "'limit_reached' GROUP BY rule");
    EXPECT_EQ(by_rule.size(), 3u);
    EXPECT_TRUE(by_rule.contains("--max-per-dir 40"));
    EXPECT_TRUE(by_rule.contains("--max-segment-repeats 2"));
    EXPECT_TRUE(by_rule.contains("--max-url-length 256"));
    // Each directory holds at most its cap; no page has a segment three times, none is longer.
    for (const auto& [directory, count] :
         query_map(db, "SELECT rtrim(substr(url, 1, instr(url || '?', '?') - 1), "
                       "'abcdefghijklmnopqrstuvwxyz0123456789.'), count(*) FROM frontier "
                       "GROUP BY 1")) {
        EXPECT_LE(std::stoi(count), 40) << directory;
    }
    EXPECT_EQ(query(db, "SELECT url FROM pages WHERE length(url) > 256").size(), 0u);
    EXPECT_EQ(query(db, "SELECT url FROM pages WHERE url LIKE '%/loop/loop/loop/%'").size(), 0u);
    EXPECT_EQ(m_router.count("/trap/loop/loop/loop/"), 0u);
    // The tree: sequences of a/ and b/ with each at most twice.
    EXPECT_EQ(query(db, "SELECT url FROM pages WHERE url LIKE '%/trap/tree/%'").size(), 19u);
    EXPECT_EQ(run->report.totals.errors, 0u);
    testing_support::expect_counts_agree(db, run->report, run->run_id);
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlTraps,
                         ::testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                           fetch::Strategy::async),
                         [](const auto& param_info) {
                             return std::string(fetch::to_string(param_info.param));
                         });

} // namespace
