// storage/report_data.hpp: a crawl's fetches over time and its latency histogram, from rows
// written by the real Writer into a real SQLite file.
#include "stats_fixture.hpp"

#include "storage/reader.hpp"
#include "storage/report_data.hpp"

#include <gtest/gtest.h>

namespace flagcrawl {
namespace {

using testing_support::at_ms;
using testing_support::begin_crawl_run;
using testing_support::Failure;
using testing_support::page;
using testing_support::TempDir;

TEST(ReportData, TimelineAndLatencyOfACrawl) {
    TempDir dir("report-data");
    const std::string db = dir.file("r.db");
    std::int64_t crawl = 0;
    {
        auto writer = storage::Writer::open(db);
        ASSERT_TRUE(writer) << writer.error().message;
        crawl = begin_crawl_run(*writer);
        const std::int64_t other = begin_crawl_run(*writer);
        // (url, elapsed ms, ended at ms, failed)
        struct Row {
            const char* url;
            double elapsed;
            double ended;
            bool failed;
        };
        const Row rows[] = {{"http://a.test/", 0.5, 1000, false},
                            {"http://a.test/1", 3, 1500, false},
                            {"http://a.test/2", 3, 1900, true},
                            {"http://a.test/3", 150, 4500, false},
                            {"http://a.test/4", 40000, 10999, true}};
        std::int64_t seq = 0;
        for (const Row& r : rows) {
            ASSERT_TRUE(writer->submit(
                page(crawl, crawl, ++seq, r.url, r.failed ? 404 : 200, 1, r.elapsed, r.ended,
                     r.failed ? std::optional<Failure>(Failure{"http_status", "HTTP 404"})
                              : std::nullopt)));
        }
        // Another crawl's row is not counted.
        ASSERT_TRUE(writer->submit(page(other, other, 1, "http://b.test/", 200, 0, 7, 3000)));
        ASSERT_TRUE(writer->close());
    }
    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader) << reader.error().message;

    // 1000 ms to 11000 ms in 5 buckets of 2 s.
    auto timeline = storage::crawl_timeline(*reader, crawl, at_ms(1000), at_ms(11000), 5);
    ASSERT_TRUE(timeline) << timeline.error().message;
    EXPECT_DOUBLE_EQ(timeline->bucket_s, 2.0);
    ASSERT_EQ(timeline->buckets.size(), 5u);
    const std::uint64_t fetched[] = {3, 1, 0, 0, 1};
    const std::uint64_t failed[] = {1, 0, 0, 0, 1};
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(timeline->buckets[i].fetched, fetched[i]) << i;
        EXPECT_EQ(timeline->buckets[i].failed, failed[i]) << i;
    }

    auto latency = storage::crawl_latency_histogram(*reader, crawl);
    ASSERT_TRUE(latency) << latency.error().message;
    ASSERT_EQ(latency->size(), 15u);
    EXPECT_EQ((*latency)[0].below_ms, 1.0);
    EXPECT_EQ((*latency)[0].count, 1u); // 0.5
    EXPECT_EQ((*latency)[2].below_ms, 5.0);
    EXPECT_EQ((*latency)[2].count, 2u); // 3, 3
    EXPECT_EQ((*latency)[7].below_ms, 200.0);
    EXPECT_EQ((*latency)[7].count, 1u); // 150
    EXPECT_EQ(latency->back().below_ms, 0.0);
    EXPECT_EQ(latency->back().count, 1u); // 40000
    std::uint64_t total = 0;
    for (const auto& b : *latency) {
        total += b.count;
    }
    EXPECT_EQ(total, 5u);
}

} // namespace
} // namespace flagcrawl
