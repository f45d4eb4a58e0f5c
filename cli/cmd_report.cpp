// `flagcrawl report`: one self-contained HTML page that shows a recorded crawl (report_html.hpp)
// and compares the strategies of the file's bench runs.
#include "bench_plot.hpp"
#include "bench_report.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "links_report.hpp"
#include "progress.hpp"
#include "report_html.hpp"
#include "stats_db.hpp"

#include "storage/links.hpp"
#include "storage/report_data.hpp"
#include "storage/schema.hpp"
#include "storage/stats.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

namespace flagcrawl::cli {
namespace {

constexpr std::size_t k_broken_shown = 500;   // broken links the page lists (all are counted)
constexpr std::size_t k_referrers_shown = 20; // referrers listed per broken link
constexpr int k_timeline_buckets = 60;

struct ReportOptions {
    std::string db;
    std::optional<std::int64_t> run;
    std::optional<std::int64_t> crawl;
    std::string out;
};

template <class T> T checked(storage::Result<T> result) {
    if (!result) {
        throw_read_error(result.error());
    }
    return std::move(*result);
}

CrawlReport crawl_report(storage::Reader& reader, std::int64_t crawl_id) {
    CrawlReport c;
    auto crawl = checked(reader.find_crawl(crawl_id));
    c.crawl = std::move(*crawl); // pick_crawl checked that it exists
    c.runs = checked(storage::runs_of_crawl(reader, crawl_id));
    storage::SummaryOptions options;
    options.top_hosts = 50;
    c.summary = checked(storage::summarize_crawl(reader, crawl_id, options));
    const auto now = std::chrono::system_clock::now();
    c.timeline =
        checked(storage::crawl_timeline(reader, crawl_id, c.summary.first_fetch.value_or(now),
                                        c.summary.last_fetch.value_or(now), k_timeline_buckets));
    c.latency = checked(storage::crawl_latency_histogram(reader, crawl_id));
    storage::BrokenLinksOptions broken;
    broken.kinds = broken_link_kinds();
    broken.max_referrers = k_referrers_shown;
    c.broken_totals = checked(storage::for_each_broken_link(
        reader, crawl_id, broken, [&](const storage::BrokenLink& link) {
            if (c.broken.size() < k_broken_shown) {
                c.broken.push_back(link);
            }
            return true;
        }));
    return c;
}

// The arguments of a download, flags or crawl run without what bench varies or adds to each run
// (the program, strategy, concurrency and a crawl's per-host cap set to it, output folder,
// --json, --progress): runs of one bench job have the same.
std::string job_arguments(const std::string& line) {
    static const std::set<std::string, std::less<>> k_with_value = {
        "--strategy", "-c",    "--concurrency", "--max-req",
        "-o",         "--out", "--progress",    "--per-host"};
    std::istringstream in(line);
    std::string word;
    std::string job;
    in >> word; // the program
    while (in >> word) {
        if (k_with_value.contains(word)) {
            in >> word;
        } else if (word != "--json") {
            job += (job.empty() ? "" : " ") + word;
        }
    }
    return job;
}

// The latest download, flags or crawl job run under more than one strategy or concurrency, as
// bench runs it, with the file's runs of it; empty when there is none. A crawl's resumes are no
// runs of a job: each goes on where another stopped.
void bench_part(storage::Reader& reader, HtmlReport& report) {
    struct Job {
        std::int64_t latest = 0;
        std::string command;
        std::map<std::pair<std::string, int>, std::vector<BenchRun>> rows;
    };
    std::map<std::string, Job> jobs; // by command and arguments
    auto r = reader.for_each_run([&](const storage::RunRow& run) {
        const bool crawl = run.info.command == "crawl";
        if ((run.info.command != "download" && run.info.command != "flags" && !crawl) ||
            run.status != storage::RunStatus::finished || !run.finished_at ||
            (crawl && run.info.arguments.find(" --resume") != std::string::npos)) {
            return true;
        }
        Job& job = jobs[run.info.command + " " + job_arguments(run.info.arguments)];
        job.latest = std::max(job.latest, run.id);
        job.command = run.info.command;
        const double wall_s =
            std::chrono::duration<double>(*run.finished_at - run.info.started_at).count();
        BenchRun& measured = job.rows[{run.info.strategy, run.info.concurrency}].emplace_back();
        measured.wall_s = wall_s;
        measured.job_s = wall_s;
        measured.ok = run.totals.ok;
        measured.not_found = run.totals.not_found;
        measured.errors = run.totals.errors;
        measured.requests = run.totals.requests;
        // A crawl run's totals count its pages: ok, not found and failed.
        measured.pages = crawl ? run.totals.ok + run.totals.not_found + run.totals.errors : 0;
        return true;
    });
    if (!r) {
        throw_read_error(r.error());
    }
    const std::pair<const std::string, Job>* chosen = nullptr;
    for (const auto& entry : jobs) {
        if (entry.second.rows.size() >= 2 &&
            (!chosen || entry.second.latest > chosen->second.latest)) {
            chosen = &entry;
        }
    }
    if (!chosen) {
        return;
    }
    const Job& job = chosen->second;
    BenchJob bench;
    bench.command = job.command;
    bench.arguments = {chosen->first.substr(job.command.size() + 1)};
    bench.cpu_measured = false;
    std::vector<BenchRow> rows;
    std::size_t fewest = SIZE_MAX;
    // Sequential first, then by concurrency, as bench orders them.
    for (const auto& [key, runs] : job.rows) {
        BenchRow& row = rows.emplace_back();
        row.strategy = key.first;
        row.concurrency = key.second;
        row.runs = runs;
        fewest = std::min(fewest, runs.size());
    }
    std::stable_sort(rows.begin(), rows.end(), [](const BenchRow& a, const BenchRow& b) {
        auto rank = [](const std::string& s) {
            return s == "sequential" ? 0 : s == "threaded" ? 1 : 2;
        };
        return std::pair(a.concurrency, rank(a.strategy)) <
               std::pair(b.concurrency, rank(b.strategy));
    });
    bench.repeat = static_cast<int>(fewest);
    summarize(bench, rows);
    std::string svg = render_bench_svg("flagcrawl " + chosen->first, bench, rows);
    report.bench_svg = svg.substr(svg.find("<svg"));
    report.bench_note = fmt::format(
        "the {} runs of `flagcrawl {}` in this file, by strategy and concurrency; wall time "
        "from each run's recorded start and end{} (bench's own table measures whole processes, "
        "and their CPU)",
        [&] {
            std::size_t n = 0;
            for (const auto& row : rows) {
                n += row.runs.size();
            }
            return n;
        }(),
        chosen->first, bench.crawls() ? "; pages/s: the pages each run fetched in that time" : "");
}

// Writes `text` to `path` whole or not at all: a temporary file next to it, renamed over it.
void write_whole(const std::string& path, const std::string& text) {
    const std::string temporary = path + ".part";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw FatalError(
                fmt::format("report: cannot write {}: {}", temporary, std::strerror(errno)));
        }
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw FatalError(fmt::format("report: cannot write {}", temporary));
        }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::filesystem::remove(temporary, ec);
        throw FatalError(fmt::format("report: cannot write {}: {}", path, ec.message()));
    }
}

int run_report(const ReportOptions& o) {
    const std::string path = reading_db_path(o.db);
    storage::Reader reader = open_reader(path, o.db.empty());
    HtmlReport report;
    report.db = path;
    report.generated_at = storage::format_time(std::chrono::system_clock::now());
    const bool has_crawl = reader.schema_version() >= storage::k_crawl_tables_version &&
                           checked(reader.database().query_int("SELECT count(*) FROM crawls")) > 0;
    if (o.crawl || o.run || has_crawl) {
        report.crawl = crawl_report(reader, pick_crawl(reader, o.crawl, o.run, "report", path));
    }
    bench_part(reader, report);
    if (!report.crawl && report.bench_svg.empty()) {
        throw UsageError(fmt::format("report: {} holds no crawl and no bench runs to show", path));
    }
    write_whole(o.out, render_report_html(report));
    print_line(stdout, fmt::format("report: {}", o.out));
    return k_exit_ok;
}

} // namespace

void register_report(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<ReportOptions>();
    CLI::App* cmd = app.add_subcommand(
        "report", "Write one self-contained HTML page that shows a recorded crawl");
    cmd->footer(
        "The page shows the crawl's summary, its fetches and failures over time, statuses and "
        "error kinds, latency percentiles and histogram, hosts, depths, the broken links with "
        "the pages that link them (external ones marked, with the counts of crawl "
        "--check-external), and the strategies compared by the file's bench runs (download, "
        "flags or crawl: pages/s). It is "
        "one file with everything inline (no script, nothing fetched): open it from disk, mail "
        "it, archive it.\n"
        "Exit codes: 0 written; 2 bad option, no such database, crawl or run, nothing to show; "
        "3 the database cannot be read or the page cannot be written.\n"
        "Examples:\n"
        "  flagcrawl crawl https://example.org/ --db site.db && flagcrawl report --db site.db "
        "-o report.html\n"
        "  flagcrawl report --db site.db --crawl 3 -o crawl3.html\n"
        "  flagcrawl bench download -i urls.txt --db bench.db && flagcrawl report --db bench.db "
        "-o bench.html\n"
        "  flagcrawl bench crawl --pages 2000 --concurrency 4,16 --db bench.db && flagcrawl "
        "report --db bench.db -o bench.html  # pages/s by strategy");
    add_crawl_choice(*cmd, options->db, options->crawl, options->run);
    cmd->add_option("-o,--out", options->out, "The HTML file to write")->required();
    cmd->callback([options, &exit_code] { exit_code = run_report(*options); });
}

} // namespace flagcrawl::cli
