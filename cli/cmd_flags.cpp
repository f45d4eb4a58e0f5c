// `flagcrawl flags`: the book Fluent Python's flag downloader (flags2, and flags3 with
// --metadata), by default against the built-in flags server started in this process, so that
// it runs with no network; every result recorded like `download`.
#include "bench_process.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "flags_server.hpp"
#include "interrupt.hpp"
#include "progress.hpp"

#include "crawler/jobs/flags_codes.hpp"
#include "crawler/jobs/flags_job.hpp"
#include "server/flags.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace flagcrawl::cli {
namespace {

struct FlagsOptions {
    std::vector<std::string> codes;
    bool all = false;
    bool every = false;
    std::int64_t limit = 0;
    int max_req = 0;
    std::string server = "embedded";
    std::string out = "downloaded";
    bool metadata = false;
    std::string delay;
    CommonOptions common;
};

// The book's concurrency: flags2_threadpool 30, flags2_asyncio 5 (sequential: 1), at most 1000.
constexpr int k_default_threaded = 30;
constexpr int k_default_async = 5;
constexpr int k_max_concurrency = 1000;

int concurrency_for(fetch::Strategy strategy, const FlagsOptions& o, const CLI::App& command,
                    std::size_t codes) {
    int requested = 0;
    if (command.count("--max-req") > 0) {
        if (o.max_req < 1) {
            throw UsageError(fmt::format("--max-req: expected at least 1, got {}", o.max_req));
        }
        if (command.count("--concurrency") > 0 && o.common.concurrency != o.max_req) {
            throw UsageError("give --max-req or --concurrency, not both");
        }
        requested = o.max_req;
    } else if (command.count("--concurrency") > 0) {
        requested = o.common.concurrency;
    }
    if (strategy == fetch::Strategy::sequential) {
        return 1;
    }
    if (requested == 0) {
        requested = strategy == fetch::Strategy::threaded ? k_default_threaded : k_default_async;
    }
    return static_cast<int>(std::min<std::size_t>(
        {static_cast<std::size_t>(requested), static_cast<std::size_t>(k_max_concurrency), codes}));
}

// The book's initial_report(): the site, the codes, the connections.
void print_header(const crawler::FlagsServer& server, const std::vector<std::string>& codes,
                  int concurrency) {
    print_line(stdout, fmt::format("{} site: {}", crawler::to_label(server.mode), server.base_url));
    std::string which;
    if (codes.size() <= 10) {
        for (const std::string& cc : codes) {
            which += (which.empty() ? "" : ", ") + cc;
        }
    } else {
        which = fmt::format("from {} to {}", codes.front(), codes.back());
    }
    print_line(stdout, fmt::format("Searching for {} flag{}: {}", codes.size(),
                                   codes.size() == 1 ? "" : "s", which));
    print_line(stdout, concurrency == 1
                           ? std::string("1 connection will be used.")
                           : fmt::format("{} concurrent connections will be used.", concurrency));
}

// The book's final_report(): counts right-aligned in 3 columns; zero counts of not found and
// errors are not shown.
void print_summary(const storage::RunTotals& totals, double elapsed_s) {
    print_line(stdout, std::string(20, '-'));
    print_line(stdout,
               fmt::format("{:3} flag{} downloaded.", totals.ok, totals.ok == 1 ? "" : "s"));
    if (totals.not_found > 0) {
        print_line(stdout, fmt::format("{:3} not found.", totals.not_found));
    }
    if (totals.errors > 0) {
        print_line(stdout,
                   fmt::format("{:3} error{}.", totals.errors, totals.errors == 1 ? "" : "s"));
    }
    print_line(stdout, fmt::format("Elapsed time: {:.2f}s", elapsed_s));
}

// -v: one line per code, as the book's verbose mode prints them ("CN ok", "XX not found",
// "BR error: HTTP 418 I'm a teapot").
void print_item(const crawler::ItemReport& item) {
    switch (item.outcome) {
    case fetch::Outcome::ok:
        print_line(stdout, fmt::format("{} ok", item.label));
        break;
    case fetch::Outcome::not_found:
        print_line(stdout, fmt::format("{} not found", item.label));
        break;
    case fetch::Outcome::error:
        print_line(stdout, fmt::format("{} error: {}", item.label, item.reason));
        break;
    }
}

int run_flags(const FlagsOptions& o, const CLI::App& command) {
    fetch::Strategy strategy = parse_strategy_option(o.common);
    fetch::Policy policy = make_policy(o.common);
    ProgressMode progress_mode = parse_progress_mode(o.common.progress);

    std::vector<std::string_view> data_set;
    for (const server::Country& country : server::flag_countries()) {
        data_set.push_back(country.code);
    }
    crawler::CodeSelection selection{.codes = o.codes, .all = o.all, .every = o.every};
    if (command.count("--limit") > 0) {
        selection.limit = o.limit;
    }
    auto selected = crawler::select_flag_codes(selection, data_set);
    if (!selected) {
        throw UsageError(selected.error().message);
    }
    std::vector<std::string> codes = std::move(*selected);
    FlagsSite site = resolve_flags_site(o.server, o.delay, k_book_delay);
    const int concurrency = concurrency_for(strategy, o, command, codes.size());

    create_output_folder(o.out);

    auto fetcher = fetch::make_fetcher(strategy, policy, concurrency);
    // Before any other thread starts (the embedded server's included): the watcher blocks the
    // signals for the threads to come.
    InterruptWatcher interrupt([&](fetch::StopMode mode) { fetcher->stop(mode); },
                               std::chrono::seconds(2));
    std::unique_ptr<server::Server> embedded;
    if (crawler::is_embedded(site.server.mode)) {
        embedded = start_embedded_flags_server(site);
    }

    RecordedRun run(o.common, "flags", strategy, concurrency);

    const bool text = !o.common.json && !o.common.quiet;
    const bool verbose = text && o.common.verbose;
    crawler::Recorder recorder(run.writer(), run.id(), [&](const crawler::ItemReport& item) {
        if (verbose) {
            print_item(item);
        }
    });
    crawler::FlagsJob job(
        codes, {.base_url = site.server.base_url, .out_dir = o.out, .metadata = o.metadata},
        recorder);
    const auto& counters = recorder.counters();

    if (text) {
        print_header(site.server, codes, concurrency);
    }
    auto started = std::chrono::steady_clock::now();
    {
        // As in the book, the progress bar stands in for the per-code lines of -v.
        ProgressLine progress(
            progress_enabled(progress_mode) && !o.common.quiet && !verbose, [&](double elapsed) {
                std::uint64_t done = counters.done;
                double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
                return fmt::format("{} {}/{} flags  ok {}  not found {}  errors {}  {:.1f}/s",
                                   format_bar(done, job.total(), 24), done, job.total(),
                                   counters.ok.load(), counters.not_found.load(),
                                   counters.errors.load(), rate);
            });
        fetcher->run(job, job);
    }
    double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (embedded) {
        embedded->stop();
    }

    storage::RunTotals totals = recorder.totals();
    totals.requests += job.metadata_attempts();
    bool interrupted = interrupt.interrupted();
    run.finish(totals, interrupted, recorder.store_error());

    if (o.common.json) {
        nlohmann::json delay = nullptr;
        if (site.delay) {
            delay = {std::chrono::duration<double>(site.delay->min).count(),
                     std::chrono::duration<double>(site.delay->max).count()};
        }
        nlohmann::json summary = {
            {"command", "flags"},
            {"ok", totals.ok},
            {"not_found", totals.not_found},
            {"errors", totals.errors},
            {"elapsed_s", elapsed_s},
            {"strategy", fetch::to_string(strategy)},
            {"concurrency", concurrency},
            {"server", site.server.base_url},
            {"server_mode", crawler::to_label(site.server.mode)},
            {"delay_s", delay},
            {"error_rate", site.error_rate},
            {"codes", codes.size()},
            {"metadata", o.metadata},
            {"requests", totals.requests},
            {"requests_per_s",
             elapsed_s > 0 ? static_cast<double>(totals.requests) / elapsed_s : 0.0},
            {"bytes", totals.bytes},
            {"out", o.out},
            {"peak_rss_kb", self_peak_rss_kb()},
            {"interrupted", interrupted},
            {"db", db_path(o.common)},
            {"run_id", run.id()}};
        std::cout << summary.dump() << '\n';
    } else if (text) {
        print_summary(totals, elapsed_s);
    }
    if (interrupted) {
        if (!o.common.quiet) {
            print_line(stderr, fmt::format("flagcrawl: interrupted ({} of {} flags not tried)",
                                           job.total() - counters.done.load(), job.total()));
        }
        return k_exit_interrupted;
    }
    // Codes without a flag are the data set's business, not a failure (the book's scripts exit
    // 0 with them too): only errors make the exit status 1.
    return totals.errors > 0 ? k_exit_failed : k_exit_ok;
}

} // namespace

void register_flags(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<FlagsOptions>();
    CLI::App* cmd = app.add_subcommand(
        "flags", "Download country flags like the book Fluent Python's flags2/flags3 scripts");
    cmd->footer("By default the flags come from a server built into this process (-s embedded), "
                "so no network is needed; -s delay and -s error add the book's slow server and "
                "its injected errors.\n"
                "Examples:\n"
                "  flagcrawl flags                       # the 20 most populous, embedded server\n"
                "  flagcrawl flags --all --strategy async -m 50 -o flags/\n"
                "  flagcrawl flags -s error B C --metadata  # slow server, 25% errors");
    cmd->add_option("codes", options->codes,
                    "Country codes (AA to ZZ, any case); a single letter A to Z stands for its 26 "
                    "codes (default: the 20 most populous countries)");
    cmd->add_flag("-a,--all", options->all, "All the 194 codes of the data set");
    cmd->add_flag("-e,--every", options->every, "Every code from AA to ZZ (676; beats --all)");
    cmd->add_option("-l,--limit", options->limit, "Keep the first N codes (sorted)");
    cmd->add_option("-m,--max-req", options->max_req,
                    "Concurrent requests at most (default: threaded 30, async 5; sequential 1; "
                    "at most 1000)");
    cmd->add_option("-s,--server", options->server,
                    "EMBEDDED (built in), DELAY (built in, 0.5-5 s per request), ERROR (DELAY "
                    "and 25% of the flags fail with 418), LOCAL (http://localhost:8000/flags), "
                    "REMOTE (http://fluentpython.com/data/flags) or a base URL")
        ->capture_default_str();
    cmd->add_option("--delay", options->delay,
                    "Delay per request of the built-in server: seconds (0.25) or a uniform "
                    "range (0.5-5)");
    cmd->add_flag("--metadata", options->metadata,
                  "Fetch each code's metadata.json first and save the flag as "
                  "Country_Name-CC.gif (the book's flags3)");
    cmd->add_option("-o,--out", options->out, "Output folder (created if missing)")
        ->capture_default_str();
    add_common_options(*cmd, options->common, 0);
    cmd->callback([options, cmd, &exit_code] { exit_code = run_flags(*options, *cmd); });
}

} // namespace flagcrawl::cli
