// What `flagcrawl report` charts besides storage/stats.hpp's summary: a crawl's fetches over
// time and its latency histogram. Aggregated by SQL (GROUP BY, sums), so memory stays bounded
// whatever the row count.
#pragma once

#include "storage/reader.hpp"

#include <cstdint>
#include <vector>

namespace flagcrawl::storage {

struct TimeBucket {
    std::uint64_t fetched = 0; // rows fetched (attempts > 0) whose fetch ended in the bucket
    std::uint64_t failed = 0;  // of which failed (error set: not found included)
};

// The crawl's page and requisite fetches (robots.txt apart) by when they ended, in `buckets`
// equal spans from `first` to `last` (a fetch outside the span goes to the nearest end
// bucket). Every bucket is present, empty ones included.
struct Timeline {
    TimePoint first{};
    double bucket_s = 0; // the width of each bucket in seconds
    std::vector<TimeBucket> buckets;
};
Result<Timeline> crawl_timeline(Reader& reader, std::int64_t crawl_id, TimePoint first,
                                TimePoint last, int buckets);

// The crawl's fetched page and requisite rows (robots.txt apart) by elapsed_ms, in buckets of
// fixed bounds: 1, 2, 5, 10, 20, ... 10000, 30000 ms, then the rest.
struct LatencyBucket {
    double below_ms = 0; // the bucket holds elapsed_ms < below_ms (and >= the previous bound);
                         // 0 for the last bucket, which holds the rest
    std::uint64_t count = 0;
};
Result<std::vector<LatencyBucket>> crawl_latency_histogram(Reader& reader, std::int64_t crawl_id);

} // namespace flagcrawl::storage
