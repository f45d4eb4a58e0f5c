// `flagcrawl stats`: summarize what a run (or a whole crawl) recorded, or list the runs.
#include "commands.hpp"
#include "common.hpp"
#include "export_output.hpp"
#include "progress.hpp"
#include "stats_db.hpp"
#include "stats_report.hpp"

#include "crawler/pgfrontier/shared_crawl.hpp"
#include "storage/export.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <optional>

namespace flagcrawl::cli {
namespace {

struct StatsOptions {
    std::string db;
    std::optional<std::int64_t> run;
    std::optional<std::int64_t> crawl;
    bool list = false;
    bool json = false;
    std::size_t hosts = 20;
    std::string frontier; // a shared crawl's server (libpq connection string)
    std::string crawl_name;
};

template <class T> T checked(storage::Result<T> result) {
    if (!result) {
        throw_read_error(result.error());
    }
    return std::move(*result);
}

int list_runs(storage::Reader& reader, const StatsOptions& o, const std::string& path) {
    OutputStream out;
    std::uint64_t count = 0;
    if (o.json) {
        out.write(fmt::format("{{\"db\":{},\"runs\":[", nlohmann::json(path).dump()));
    }
    auto r = reader.for_each_run([&](const storage::RunRow& run) {
        if (o.json) {
            out.write((count > 0 ? "," : "") + run_json(run).dump());
        } else {
            if (count == 0) {
                out.write(format_run_list_header());
            }
            out.write(format_run_list_line(run));
        }
        ++count;
        return out.maybe_flush();
    });
    if (!r) {
        throw_read_error(r.error());
    }
    if (o.json) {
        out.write("]}\n");
    } else if (count == 0) {
        std::fputs(fmt::format("flagcrawl: no runs recorded in {}\n", path).c_str(), stderr);
    }
    out.flush();
    return k_exit_ok;
}

// A crawl shared through PostgreSQL, as its server's ledger says: totals, errors by kind, the
// workers that took part and the room it takes on the server.
int shared_crawl_stats(const StatsOptions& o) {
    auto read = pgfrontier::read_shared_stats(o.frontier, o.crawl_name, std::chrono::seconds(10));
    if (!read) {
        throw FatalError("stats --frontier: " + read.error().message);
    }
    if (!*read) {
        throw FatalError(fmt::format("stats --frontier: no crawl named '{}' on {}", o.crawl_name,
                                     pgfrontier::conninfo_target(o.frontier)));
    }
    const pgfrontier::SharedStats& s = **read;
    const std::string verdict =
        s.crawl.status == pgfrontier::CrawlStatus::running
            ? "running"
            : fmt::format("{}: {}", pgfrontier::to_string(s.crawl.status), s.crawl.stop_reason);
    OutputStream out;
    if (o.json) {
        nlohmann::json kinds = nlohmann::json::object();
        for (const auto& [kind, count] : s.errors_by_kind) {
            kinds[kind] = count;
        }
        nlohmann::json workers = nlohmann::json::array();
        for (const auto& w : s.workers) {
            workers.push_back(
                {{"id", w.id},
                 {"label", w.label},
                 {"started_at", w.started_at},
                 {"ended_at", w.ended_at.empty() ? nlohmann::json() : nlohmann::json(w.ended_at)},
                 {"verdict", w.verdict},
                 {"done", w.done},
                 {"hosts_leased", w.hosts_leased}});
        }
        const nlohmann::json j = {
            {"crawl", s.crawl.name},
            {"server", pgfrontier::conninfo_target(o.frontier)},
            {"status", pgfrontier::to_string(s.crawl.status)},
            {"stop_reason", s.crawl.stop_reason},
            {"created_at", s.created_at},
            {"ended_at", s.ended_at.empty() ? nlohmann::json() : nlohmann::json(s.ended_at)},
            {"urls", s.urls},
            {"done", s.done},
            {"queued", s.urls - s.done},
            {"ok", s.fetched_ok},
            {"failed", s.failed},
            {"bytes", s.bytes},
            {"errors_by_kind", kinds},
            {"hosts", s.hosts},
            {"hosts_leased", s.hosts_leased},
            {"workers", workers},
            {"server_bytes", s.server_bytes},
            {"server_bytes_per_url", s.urls > 0 ? double(s.server_bytes) / double(s.urls) : 0.0}};
        out.write(j.dump(2) + "\n");
        out.flush();
        return k_exit_ok;
    }
    std::string text = fmt::format("crawl '{}' on {}: {}\n", s.crawl.name,
                                   pgfrontier::conninfo_target(o.frontier), verdict);
    text += fmt::format("started {}{}\n", s.created_at,
                        s.ended_at.empty() ? "" : ", ended " + s.ended_at);
    text +=
        fmt::format("URLs: {} seen, {} done ({} ok, {} failed), {} queued; {} received\n", s.urls,
                    s.done, s.fetched_ok, s.failed, s.urls - s.done, format_bytes(double(s.bytes)));
    if (!s.errors_by_kind.empty()) {
        std::string kinds;
        for (const auto& [kind, count] : s.errors_by_kind) {
            kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", kind, count);
        }
        text += "errors by kind: " + kinds + "\n";
    }
    text += fmt::format("hosts: {} ({} leased now)\n", s.hosts, s.hosts_leased);
    text += fmt::format("workers: {}\n", s.workers.size());
    for (const auto& w : s.workers) {
        text += fmt::format("  {:>4}  {:<24} {}  {:<20} done {:>8}  hosts {}  {}\n", w.id, w.label,
                            w.started_at, w.ended_at.empty() ? "running" : w.ended_at, w.done,
                            w.hosts_leased, w.verdict);
    }
    text += fmt::format("server: {} for the crawl tables ({:.0f} bytes per URL seen)\n",
                        format_bytes(double(s.server_bytes)),
                        s.urls > 0 ? double(s.server_bytes) / double(s.urls) : 0.0);
    out.write(text);
    out.flush();
    return k_exit_ok;
}

int run_stats(const StatsOptions& o) {
    if (!o.frontier.empty()) {
        return shared_crawl_stats(o);
    }
    ignore_sigpipe();
    const std::string path = reading_db_path(o.db);
    storage::Reader reader = open_reader(path, o.db.empty());
    if (o.list) {
        return list_runs(reader, o, path);
    }

    storage::SummaryOptions options;
    options.top_hosts = o.hosts;
    StatsReport report;
    report.db = path;
    std::optional<std::int64_t> crawl_id = o.crawl;
    std::optional<std::int64_t> run_id = o.run;
    if (!crawl_id && !run_id) {
        auto latest = checked(reader.latest_run());
        if (!latest) {
            std::fputs(fmt::format("flagcrawl: no runs recorded in {}\n", path).c_str(), stderr);
            return k_exit_failed;
        }
        // The latest run; when it worked on a crawl, the whole crawl.
        crawl_id = checked(storage::crawl_of_run(reader, latest->id));
        if (!crawl_id) {
            run_id = latest->id;
        }
    }
    if (crawl_id && !run_id) {
        auto crawl = reader.schema_version() >= storage::k_crawl_tables_version
                         ? checked(reader.find_crawl(*crawl_id))
                         : std::nullopt; // a file from before crawls were recorded
        if (!crawl) {
            throw UsageError(fmt::format("stats: no crawl {} in {}", *crawl_id, path));
        }
        report.crawl = std::move(*crawl);
        report.runs = checked(storage::runs_of_crawl(reader, *crawl_id));
        report.summary = checked(storage::summarize_crawl(reader, *crawl_id, options));
    } else {
        auto run = checked(reader.find_run(*run_id));
        if (!run) {
            throw UsageError(fmt::format("stats: no run {} in {}", *run_id, path));
        }
        if (auto crawl_of = checked(storage::crawl_of_run(reader, *run_id))) {
            report.crawl = checked(reader.find_crawl(*crawl_of));
            report.one_run_of_crawl = true;
        }
        report.runs.push_back(std::move(*run));
        report.summary = checked(storage::summarize_run(reader, *run_id, options));
        // A download run that ended records the requests its servers saw (redirect hops and
        // re-sends included, a refused connection none), which its rows' attempts cannot tell:
        // the run's summary line printed that number, and stats says the same.
        const storage::RunRow& only = report.runs.front();
        if (report.summary.source == storage::Summary::Source::downloads &&
            only.status != storage::RunStatus::running) {
            report.summary.requests = only.totals.requests;
        }
    }

    OutputStream out;
    out.write(o.json ? stats_json(report).dump(2) + "\n" : format_stats_text(report));
    out.flush();
    return k_exit_ok;
}

} // namespace

void register_stats(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<StatsOptions>();
    CLI::App* cmd = app.add_subcommand(
        "stats", "Summarize what a run recorded (a whole crawl across its resumed runs)");
    cmd->footer(
        "Outcomes, statuses, errors by kind, bytes, latency percentiles (nearest rank), a "
        "per-host table, duration and rate; for a crawl also the depth histogram and its "
        "seen-set's RAM per seen URL (as its latest run recorded it). Default: the "
        "most recent run (its whole crawl if it was a crawl).\n"
        "With --frontier URL --crawl-name NAME: a crawl shared through PostgreSQL, from its "
        "server's ledger (URLs done and failed, errors by kind, the workers, the server's bytes "
        "per URL).\n"
        "A run's status: running, finished, interrupted (Ctrl-C), failed (the database failed) "
        "or killed (its process died without recording its end: kill -9, a crash; found so by "
        "the next flagcrawl that opened the file, stats included; its totals were never "
        "written).\n"
        "Exit codes: 0 done; 1 the database holds no run; 2 bad option, no such database, not a "
        "flagcrawl database, no such run or crawl; 3 the database cannot be read, or the shared "
        "crawl's server cannot be reached or has no crawl of that name.\n"
        "Examples:\n"
        "  flagcrawl stats                     # the latest run in the default DB\n"
        "  flagcrawl stats --db site.db --list\n"
        "  flagcrawl stats --db site.db --run 3 --json");
    cmd->add_option("--db", options->db,
                    "SQLite file to read (default: " + default_db_path() +
                        ", where runs are recorded)");
    auto* run = cmd->add_option("--run", options->run,
                                "This run only (for a crawl: the pages that invocation fetched)");
    auto* crawl = cmd->add_option("--crawl", options->crawl,
                                  "This crawl, across all the runs that worked on it");
    auto* list = cmd->add_flag("--list", options->list,
                               "One line per run: id, command, strategy, concurrency, start, "
                               "duration, status, ok / not found / errors");
    run->excludes(crawl);
    list->excludes(run)->excludes(crawl);
    cmd->add_option("--hosts", options->hosts, "Hosts shown in the per-host table (0: all)")
        ->capture_default_str();
    cmd->add_flag("--json", options->json, "Print the same data as one JSON object");
    auto* frontier = cmd->add_option("--frontier", options->frontier,
                                     "A crawl shared through PostgreSQL: its server's connection "
                                     "string (postgresql://user@host/db), as given to crawl");
    auto* name = cmd->add_option("--crawl-name", options->crawl_name,
                                 "The shared crawl's name (with --frontier)");
    frontier->needs(name)->excludes(run)->excludes(crawl)->excludes(list);
    name->needs(frontier);
    cmd->callback([options, &exit_code] { exit_code = run_stats(*options); });
}

} // namespace flagcrawl::cli
