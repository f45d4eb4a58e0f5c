// What `flagcrawl stats` prints: a summary (storage/stats.hpp) with the runs and crawl it covers,
// as aligned text tables or as one JSON object; and the one-line-per-run list (--list).
#pragma once

#include "storage/stats.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace flagcrawl::cli {

struct StatsReport {
    std::string db;
    std::optional<storage::CrawlRow> crawl; // set when the rows are a crawl's pages
    std::vector<storage::RunRow> runs;      // the runs the rows belong to
    bool one_run_of_crawl = false;          // --run picked one invocation of a crawl
    storage::Summary summary;
};

std::string format_stats_text(const StatsReport& report);

// The outcomes of downloads as `stats` and the download summary both name them: "ok 5 (2
// unchanged, 1 skipped), not found 0, errors 1" (the parenthesis only when there are kept files).
std::string format_download_outcomes(std::uint64_t ok, std::uint64_t unchanged,
                                     std::uint64_t skipped, std::uint64_t not_found,
                                     std::uint64_t errors);
nlohmann::ordered_json stats_json(const StatsReport& report);

// --list: a header, then one line per run (fixed widths: the list streams).
std::string format_run_list_header();
std::string format_run_list_line(const storage::RunRow& run);
nlohmann::ordered_json run_json(const storage::RunRow& run);

} // namespace flagcrawl::cli
