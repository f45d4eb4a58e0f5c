// What `flagcrawl bench` reports: the measured runs grouped by strategy and concurrency, their
// medians, speedup against sequential, efficiency against the ideal time of a server with a
// known fixed delay (a crawl: pages/s, CPU per page and the parse's share of it), as a text
// table and as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flagcrawl::cli {

// One child process run.
struct BenchRun {
    double wall_s = 0;    // measured by the parent, process start to exit
    double cpu_s = 0;     // user + system CPU of the child
    long peak_rss_kb = 0; // ru_maxrss of the child
    double job_s = 0;     // the child's own elapsed time for the job (its summary)
    std::uint64_t ok = 0;
    std::uint64_t not_found = 0;
    std::uint64_t errors = 0;
    std::uint64_t requests = 0; // attempts, retries included
    std::uint64_t pages = 0;    // a crawl's pages fetched (its summary's "pages")
    double parse_cpu_s = 0;     // a crawl's CPU in link extraction (its summary's "parse_cpu_s")
};

// One strategy at one concurrency, with every repeat; the rest is filled in by summarize().
struct BenchRow {
    std::string strategy;
    int concurrency = 1;
    std::vector<BenchRun> runs;

    BenchRun median;                  // the median of each measure (counts: of the run
                                      // with the median wall time)
    double requests_per_s = 0;        // median requests / median wall
    std::optional<double> speedup;    // sequential's median wall / this one's
    std::optional<double> ideal_s;    // see BenchJob::fixed_delay_s
    std::optional<double> efficiency; // ideal_s / median wall
    // A crawl's: median pages / median wall; median CPU / median pages, in milliseconds; the
    // median of each run's parse_cpu_s / cpu_s, in [0, 1].
    double pages_per_s = 0;
    double cpu_ms_per_page = 0;
    double parse_share = 0;
};

struct BenchJob {
    std::string command{};     // "flags" | "download" | "crawl"
    std::string server{};      // base URL the runs used (may be empty: the URLs' own servers)
    std::string server_mode{}; // "DELAY", ...; empty when not the embedded server
    std::string delay{};       // "0.25 s", "0.5-5 s"; empty when none or unknown
    // When every request is delayed by exactly this, the ideal wall time of R requests at
    // concurrency C is max(ceil(R / C), chain) * delay, with chain the requests each item makes
    // one after another (2 with --metadata).
    std::optional<double> fixed_delay_s{};
    int chain = 1;
    int repeat = 1;
    std::vector<std::string> arguments{}; // what every run got besides strategy and concurrency
    // The runs' CPU was measured (cpu_s, parse_cpu_s): false for runs read back from a database,
    // which records no CPU time.
    bool cpu_measured = true;

    // The runs crawl pages: their rows have the crawl's measures.
    bool crawls() const { return command == "crawl"; }
};

// The median of a non-empty list (the mean of the two middle values for an even count).
double median(std::vector<double> values);

// Fills in the medians, speedups and efficiencies of `rows` (each with at least one run).
void summarize(const BenchJob& job, std::vector<BenchRow>& rows);

// The table a person reads (lines ending with '\n').
std::string format_table(const BenchJob& job, const std::vector<BenchRow>& rows);

// {"job": {...}, "results": [{"strategy", "concurrency", "wall_s", "requests_per_s",
// "speedup", "efficiency", "cpu_s", "peak_rss_kb", "ok", "not_found", "errors", ...}]}, with
// null for unknown speedups and efficiencies; a crawl's rows also have "pages", "pages_per_s",
// "cpu_ms_per_page", "parse_cpu_s" and "parse_share".
nlohmann::json to_json(const BenchJob& job, const std::vector<BenchRow>& rows);

} // namespace flagcrawl::cli
