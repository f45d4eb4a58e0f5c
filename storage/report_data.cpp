#include "storage/report_data.hpp"

#include "storage/schema.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>

namespace flagcrawl::storage {

namespace {

constexpr std::array k_latency_bounds_ms = {1.0,   2.0,   5.0,    10.0,   20.0,   50.0,    100.0,
                                            200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 30000.0};

// The rows both charts are about (the same as stats' page rows that were requested).
constexpr const char* k_fetched_rows =
    "crawl_id = ?1 AND kind NOT IN ('robots', 'sitemap') AND attempts > 0";

} // namespace

Result<Timeline> crawl_timeline(Reader& reader, std::int64_t crawl_id, TimePoint first,
                                TimePoint last, int buckets) {
    Timeline timeline;
    timeline.first = first;
    buckets = std::max(buckets, 1);
    timeline.buckets.resize(static_cast<std::size_t>(buckets));
    const double span_s = std::chrono::duration<double>(last - first).count();
    // A span of no length (one fetch) still gets a width, so that the chart has a scale.
    timeline.bucket_s = std::max(span_s / buckets, 0.001);
    if (reader.schema_version() < k_crawl_tables_version) {
        return timeline;
    }
    Statement statement = reader.database().prepare(
        std::string("SELECT max(0, min(?3 - 1, CAST((julianday(fetched_at) - julianday(?2)) * "
                    "86400.0 / ?4 AS INTEGER))) AS b, count(*), sum(error IS NOT NULL) FROM "
                    "pages WHERE ") +
        k_fetched_rows + " GROUP BY b");
    statement.bind(1, crawl_id);
    statement.bind(2, format_time(first));
    statement.bind(3, buckets);
    statement.bind(4, timeline.bucket_s);
    auto r = for_each_row(statement, [&](const Statement& row) {
        const auto b = static_cast<std::size_t>(row.column_int64(0));
        if (b < timeline.buckets.size()) {
            timeline.buckets[b].fetched += static_cast<std::uint64_t>(row.column_int64(1));
            timeline.buckets[b].failed += static_cast<std::uint64_t>(row.column_int64(2));
        }
        return true;
    });
    if (!r) {
        return r.error();
    }
    return timeline;
}

Result<std::vector<LatencyBucket>> crawl_latency_histogram(Reader& reader, std::int64_t crawl_id) {
    std::vector<LatencyBucket> histogram;
    for (double bound : k_latency_bounds_ms) {
        histogram.push_back({bound, 0});
    }
    histogram.push_back({0, 0});
    if (reader.schema_version() < k_crawl_tables_version) {
        return histogram;
    }
    std::string sql = "SELECT ";
    double previous = 0;
    for (double bound : k_latency_bounds_ms) {
        sql += "coalesce(sum(elapsed_ms >= " + std::to_string(previous) + " AND elapsed_ms < " +
               std::to_string(bound) + "), 0), ";
        previous = bound;
    }
    sql += "coalesce(sum(elapsed_ms >= " + std::to_string(previous) + "), 0) FROM pages WHERE ";
    sql += k_fetched_rows;
    Statement statement = reader.database().prepare(sql);
    statement.bind(1, crawl_id);
    auto r = for_each_row(statement, [&](const Statement& row) {
        for (std::size_t i = 0; i < histogram.size(); ++i) {
            histogram[i].count = static_cast<std::uint64_t>(row.column_int64(static_cast<int>(i)));
        }
        return true;
    });
    if (!r) {
        return r.error();
    }
    return histogram;
}

} // namespace flagcrawl::storage
