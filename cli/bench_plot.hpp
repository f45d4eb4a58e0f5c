// The chart of a `flagcrawl bench`: wall time and throughput of every strategy and concurrency,
// as a self-contained SVG file (no scripts, no external fonts or images) for a browser.
#pragma once

#include "bench_report.hpp"

#include <string>
#include <vector>

namespace flagcrawl::cli {

// Two bar panels, one above the other: median wall time in seconds (with the ideal time marked
// when known) and throughput in requests per second (a crawl: pages per second, and a third
// panel of CPU milliseconds per page, each bar captioned with the parse's share, when the CPU was
// measured); one bar per row, grouped by concurrency, coloured by strategy, values written on the
// bars. `title` heads the chart. Rows summarized.
std::string render_bench_svg(const std::string& title, const BenchJob& job,
                             const std::vector<BenchRow>& rows);

} // namespace flagcrawl::cli
