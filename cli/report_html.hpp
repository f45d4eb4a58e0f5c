// What `flagcrawl report` writes: one self-contained HTML page (inline CSS and SVG; no script,
// no font, image or style sheet fetched from anywhere) that shows a recorded crawl: the run
// summary, fetches and failures over time, statuses and error kinds, latency percentiles and
// histogram, hosts, depths, the broken links with their referrers, and the strategy comparison
// of the file's bench runs.
#pragma once

#include "storage/links.hpp"
#include "storage/report_data.hpp"
#include "storage/stats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace flagcrawl::cli {

struct CrawlReport {
    storage::CrawlRow crawl;
    std::vector<storage::RunRow> runs; // the invocations that worked on it
    storage::Summary summary;
    storage::Timeline timeline;
    std::vector<storage::LatencyBucket> latency;
    std::vector<storage::BrokenLink> broken; // the first of them (see broken_totals)
    storage::BrokenLinksTotals broken_totals;
};

struct HtmlReport {
    std::string db;
    std::string generated_at; // ISO-8601 UTC
    std::optional<CrawlReport> crawl;
    // The bench section: the chart (an SVG element) and what it compares; empty when the file
    // holds no runs of one job under more than one strategy or concurrency.
    std::string bench_svg;
    std::string bench_note;
};

std::string render_report_html(const HtmlReport& report);

} // namespace flagcrawl::cli
