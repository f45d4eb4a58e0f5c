#include "bench_report.hpp"

#include "progress.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace flagcrawl::cli {
namespace {

std::string optional_text(const std::optional<double>& value, const char* format) {
    return value ? fmt::format(fmt::runtime(format), *value) : std::string("-");
}

nlohmann::json optional_json(const std::optional<double>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string measures_note(const BenchJob& job) {
    return fmt::format("\nwall: median of {} run{} per row, each a child process timed from start "
                       "to exit; CPU: its user+sys time; peak RSS: its ru_maxrss.\n",
                       job.repeat, job.repeat == 1 ? "" : "s");
}

// A crawl's rows: pages instead of requests, and where the CPU went; no ideal time (it would
// depend on the site's link graph, level by level).
std::string format_crawl_table(const BenchJob& job, const std::vector<BenchRow>& rows) {
    std::string out =
        fmt::format("{:<10} {:>5} {:>8} {:>8} {:>8} {:>7} {:>11} {:>6} {:>9} {:>6} "
                    "{:>6} {:>9} {:>6}\n",
                    "strategy", "conc", "wall s", "pages/s", "speedup", "CPU s", "CPU ms/page",
                    "parse", "peak RSS", "pages", "ok", "not found", "errors");
    for (const BenchRow& row : rows) {
        const BenchRun& m = row.median;
        out += fmt::format("{:<10} {:>5} {:>8.3f} {:>8.1f} {:>8} {:>7.2f} {:>11.3f} {:>6} {:>9} "
                           "{:>6} {:>6} {:>9} {:>6}\n",
                           row.strategy, row.concurrency, m.wall_s, row.pages_per_s,
                           optional_text(row.speedup, "{:.1f}x"), m.cpu_s, row.cpu_ms_per_page,
                           fmt::format("{:.0f}%", row.parse_share * 100),
                           format_bytes(static_cast<double>(m.peak_rss_kb) * 1024), m.pages, m.ok,
                           m.not_found, m.errors);
    }
    out += measures_note(job);
    out += "pages/s: pages fetched / wall; CPU ms/page: CPU / pages; parse: the share of the CPU "
           "spent extracting links (the parsing threads' CPU clocks).\n";
    return out;
}

} // namespace

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void summarize(const BenchJob& job, std::vector<BenchRow>& rows) {
    for (BenchRow& row : rows) {
        std::vector<double> walls, cpus, rss, job_s, parse_s, parse_shares;
        for (const BenchRun& run : row.runs) {
            walls.push_back(run.wall_s);
            cpus.push_back(run.cpu_s);
            rss.push_back(static_cast<double>(run.peak_rss_kb));
            job_s.push_back(run.job_s);
            parse_s.push_back(run.parse_cpu_s);
            // The parse's thread clocks and the kernel's rusage may differ by a tick.
            parse_shares.push_back(run.cpu_s > 0 ? std::clamp(run.parse_cpu_s / run.cpu_s, 0.0, 1.0)
                                                 : 0.0);
        }
        // Counts come from one real run: the one whose wall time is the (lower) median.
        std::vector<const BenchRun*> by_wall;
        for (const BenchRun& run : row.runs) {
            by_wall.push_back(&run);
        }
        std::sort(by_wall.begin(), by_wall.end(),
                  [](const BenchRun* a, const BenchRun* b) { return a->wall_s < b->wall_s; });
        row.median = *by_wall[(by_wall.size() - 1) / 2];
        row.median.wall_s = median(walls);
        row.median.cpu_s = median(cpus);
        row.median.peak_rss_kb = std::lround(median(rss));
        row.median.job_s = median(job_s);
        row.median.parse_cpu_s = median(parse_s);
        row.requests_per_s = row.median.wall_s > 0
                                 ? static_cast<double>(row.median.requests) / row.median.wall_s
                                 : 0;
        const auto pages = static_cast<double>(row.median.pages);
        row.pages_per_s = row.median.wall_s > 0 ? pages / row.median.wall_s : 0;
        row.cpu_ms_per_page = pages > 0 ? row.median.cpu_s / pages * 1000 : 0;
        row.parse_share = median(parse_shares);
        row.ideal_s.reset();
        row.efficiency.reset();
        if (job.fixed_delay_s && *job.fixed_delay_s > 0 && row.median.requests > 0) {
            const auto rounds = std::max<std::uint64_t>(
                (row.median.requests + static_cast<std::uint64_t>(row.concurrency) - 1) /
                    static_cast<std::uint64_t>(row.concurrency),
                static_cast<std::uint64_t>(job.chain));
            row.ideal_s = static_cast<double>(rounds) * *job.fixed_delay_s;
            if (row.median.wall_s > 0) {
                row.efficiency = *row.ideal_s / row.median.wall_s;
            }
        }
    }
    const auto sequential = std::find_if(
        rows.begin(), rows.end(), [](const BenchRow& r) { return r.strategy == "sequential"; });
    for (BenchRow& row : rows) {
        row.speedup.reset();
        if (sequential != rows.end() && row.median.wall_s > 0) {
            row.speedup = sequential->median.wall_s / row.median.wall_s;
        }
    }
}

std::string format_table(const BenchJob& job, const std::vector<BenchRow>& rows) {
    if (job.crawls()) {
        return format_crawl_table(job, rows);
    }
    std::string out = fmt::format("{:<10} {:>5} {:>8} {:>8} {:>8} {:>11} {:>7} {:>9} {:>5} {:>9} "
                                  "{:>6}\n",
                                  "strategy", "conc", "wall s", "req/s", "speedup", "efficiency",
                                  "CPU s", "peak RSS", "ok", "not found", "errors");
    for (const BenchRow& row : rows) {
        const BenchRun& m = row.median;
        out += fmt::format(
            "{:<10} {:>5} {:>8.3f} {:>8.1f} {:>8} {:>11} {:>7.2f} {:>9} {:>5} {:>9} {:>6}\n",
            row.strategy, row.concurrency, m.wall_s, row.requests_per_s,
            optional_text(row.speedup, "{:.1f}x"),
            row.efficiency ? fmt::format("{:.0f}%", *row.efficiency * 100) : std::string("-"),
            m.cpu_s, format_bytes(static_cast<double>(m.peak_rss_kb) * 1024), m.ok, m.not_found,
            m.errors);
    }
    out += measures_note(job);
    if (job.fixed_delay_s && *job.fixed_delay_s > 0) {
        out += fmt::format("efficiency = ideal / wall, ideal = {}ceil(requests / concurrency) x "
                           "{:g} s{}.\n",
                           job.chain > 1 ? "max(" : "", *job.fixed_delay_s,
                           job.chain > 1 ? fmt::format(", {})", job.chain) : "");
    } else {
        out += "efficiency: - (needs a server with a fixed, known delay per request).\n";
    }
    return out;
}

nlohmann::json to_json(const BenchJob& job, const std::vector<BenchRow>& rows) {
    nlohmann::json results = nlohmann::json::array();
    for (const BenchRow& row : rows) {
        const BenchRun& m = row.median;
        nlohmann::json walls = nlohmann::json::array();
        for (const BenchRun& run : row.runs) {
            walls.push_back(run.wall_s);
        }
        nlohmann::json result = {{"strategy", row.strategy},
                                 {"concurrency", row.concurrency},
                                 {"wall_s", m.wall_s},
                                 {"requests_per_s", row.requests_per_s},
                                 {"speedup", optional_json(row.speedup)},
                                 {"efficiency", optional_json(row.efficiency)},
                                 {"ideal_s", optional_json(row.ideal_s)},
                                 {"cpu_s", m.cpu_s},
                                 {"peak_rss_kb", m.peak_rss_kb},
                                 {"job_s", m.job_s},
                                 {"ok", m.ok},
                                 {"not_found", m.not_found},
                                 {"errors", m.errors},
                                 {"requests", m.requests},
                                 {"walls_s", walls}};
        if (job.crawls()) {
            result["pages"] = m.pages;
            result["pages_per_s"] = row.pages_per_s;
            result["cpu_ms_per_page"] = row.cpu_ms_per_page;
            result["parse_cpu_s"] = m.parse_cpu_s;
            result["parse_share"] = row.parse_share;
        }
        results.push_back(std::move(result));
    }
    nlohmann::json description = {{"command", job.command},
                                  {"server", job.server},
                                  {"server_mode", job.server_mode},
                                  {"delay", job.delay},
                                  {"fixed_delay_s", optional_json(job.fixed_delay_s)},
                                  {"repeat", job.repeat},
                                  {"arguments", job.arguments}};
    return {{"job", description}, {"results", results}};
}

} // namespace flagcrawl::cli
