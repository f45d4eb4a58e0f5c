// `flagcrawl download`: fetch a list of URLs into a folder with the chosen strategy, record
// every result, print a summary.
#include "commands.hpp"
#include "common.hpp"
#include "interrupt.hpp"
#include "progress.hpp"

#include "crawler/download_job.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace flagcrawl::cli {
namespace {

namespace fs = std::filesystem;

struct DownloadOptions {
    std::vector<std::string> urls;
    std::string input;
    std::string out = ".";
    CommonOptions common;
};

constexpr int k_default_concurrency = 16;

// One URL a line; blank lines and lines starting with '#' are skipped; spaces trimmed.
void read_url_list(std::istream& in, std::vector<std::string>& urls) {
    std::string line;
    while (std::getline(in, line)) {
        auto begin = line.find_first_not_of(" \t\r");
        if (begin == std::string::npos || line[begin] == '#')
            continue;
        auto end = line.find_last_not_of(" \t\r");
        urls.push_back(line.substr(begin, end - begin + 1));
    }
}

std::vector<std::string> collect_urls(const DownloadOptions& o) {
    std::vector<std::string> urls = o.urls;
    if (o.input == "-") {
        read_url_list(std::cin, urls);
    } else if (!o.input.empty()) {
        std::ifstream in(o.input);
        if (!in)
            throw UsageError(fmt::format("cannot read input list {}: {}", o.input,
                                         std::generic_category().message(errno)));
        read_url_list(in, urls);
        if (in.bad())
            throw UsageError(fmt::format("cannot read input list {}", o.input));
    }
    if (urls.empty())
        throw UsageError("download: no URLs given (pass URLs, or -i FILE, or -i - for stdin)");
    return urls;
}

void print_item(const crawler::ItemReport& item, const CommonOptions& o) {
    if (o.verbose) {
        std::string status = item.http_status ? std::to_string(item.http_status) : "---";
        std::string detail = item.outcome == crawler::Outcome::ok
                                 ? fmt::format("{} ({})", item.path, format_bytes(item.bytes))
                                 : std::string(item.reason);
        print_line(stderr,
                   fmt::format("{} {} {:.0f} ms  {}", status, item.url, item.elapsed_ms, detail));
    } else if (!o.quiet && item.outcome != crawler::Outcome::ok) {
        print_line(stderr, fmt::format("flagcrawl: {}: {}", item.url, item.reason));
    }
}

int run_download(const DownloadOptions& o) {
    fetch::Strategy strategy = parse_strategy_option(o.common);
    fetch::Policy policy = make_policy(o.common);
    ProgressMode progress_mode = parse_progress_mode(o.common.progress);
    int concurrency = strategy == fetch::Strategy::sequential ? 1
                      : o.common.concurrency > 0              ? o.common.concurrency
                                                              : k_default_concurrency;
    std::vector<std::string> urls = collect_urls(o);

    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (ec || !fs::is_directory(o.out))
        throw FatalError(fmt::format("cannot create output folder {}: {}", o.out,
                                     ec ? ec.message() : "not a directory"));

    auto fetcher = fetch::make_fetcher(strategy, policy, concurrency);
    // Before any other thread starts: the watcher blocks the signals for the threads to come.
    InterruptWatcher interrupt([&](fetch::StopMode mode) { fetcher->stop(mode); },
                               std::chrono::seconds(2));

    auto store = open_store(o.common);
    std::int64_t run_id = 0;
    if (store) {
        auto run = store->begin_run({.command = "download",
                                     .arguments = process_arguments(),
                                     .strategy = std::string(fetch::to_string(strategy)),
                                     .concurrency = concurrency});
        if (!run)
            throw FatalError(run.error().message);
        run_id = *run;
    }

    crawler::Recorder recorder(
        store.get(), run_id, [&](const crawler::ItemReport& item) { print_item(item, o.common); });
    crawler::DownloadJob job(urls, o.out, recorder);
    const auto& counters = recorder.counters();

    auto started = std::chrono::steady_clock::now();
    {
        ProgressLine progress(
            progress_enabled(progress_mode) && !o.common.quiet, [&](double elapsed) {
                std::uint64_t done = counters.done;
                double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
                std::uint64_t left = job.total() - std::min<std::uint64_t>(done, job.total());
                std::string eta =
                    rate > 0 ? format_duration(static_cast<double>(left) / rate) : "?";
                return fmt::format("{} {}/{}  ok {}  not found {}  errors {}  {}  {:.0f}/s  ETA {}",
                                   format_bar(done, job.total(), 24), done, job.total(),
                                   counters.ok.load(), counters.not_found.load(),
                                   counters.errors.load(), format_bytes(double(counters.bytes)),
                                   rate, eta);
            });
        fetcher->run(job, job);
    }
    double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    storage::RunTotals totals = recorder.totals();
    bool interrupted = interrupt.interrupted();
    const auto& store_error = recorder.store_error();
    if (store) {
        auto status = store_error   ? storage::RunStatus::failed
                      : interrupted ? storage::RunStatus::interrupted
                                    : storage::RunStatus::finished;
        auto finished = store->finish_run(run_id, totals, status);
        auto closed = store->close();
        if (store_error)
            throw FatalError(store_error->message);
        if (!finished)
            throw FatalError(finished.error().message);
        if (!closed)
            throw FatalError(closed.error().message);
    }

    double rate = elapsed_s > 0 ? static_cast<double>(totals.requests) / elapsed_s : 0;
    if (o.common.json) {
        nlohmann::json summary = {{"command", "download"},
                                  {"ok", totals.ok},
                                  {"not_found", totals.not_found},
                                  {"errors", totals.errors},
                                  {"bytes", totals.bytes},
                                  {"requests", totals.requests},
                                  {"elapsed_s", elapsed_s},
                                  {"requests_per_s", rate},
                                  {"strategy", fetch::to_string(strategy)},
                                  {"concurrency", concurrency},
                                  {"duplicates", job.duplicates()},
                                  {"interrupted", interrupted},
                                  {"db", db_path(o.common)},
                                  {"run_id", run_id}};
        std::cout << summary.dump() << '\n';
    } else if (!o.common.quiet) {
        print_line(stdout, fmt::format("{} downloaded, {} not found, {} errors; {} in {:.2f} s, "
                                       "{:.0f} requests/s ({}, concurrency {}){}",
                                       totals.ok, totals.not_found, totals.errors,
                                       format_bytes(double(totals.bytes)), elapsed_s, rate,
                                       fetch::to_string(strategy), concurrency,
                                       interrupted ? "; interrupted" : ""));
        if (job.duplicates() > 0)
            print_line(stdout, fmt::format("{} repeated URLs skipped", job.duplicates()));
    }
    if (interrupted)
        return k_exit_interrupted;
    return totals.not_found + totals.errors > 0 ? k_exit_failed : k_exit_ok;
}

} // namespace

void register_download(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<DownloadOptions>();
    CLI::App* cmd = app.add_subcommand(
        "download", "Download URLs into a folder (files named after the URL path, written "
                    "atomically), recording every result");
    cmd->add_option("urls", options->urls, "URLs to download");
    cmd->add_option("-i,--input", options->input,
                    "File with one URL per line ('-' reads standard input; '#' lines skipped)");
    cmd->add_option("-o,--out", options->out, "Output folder (created if missing)")
        ->capture_default_str();
    add_common_options(*cmd, options->common, 0);
    cmd->callback([options, &exit_code] { exit_code = run_download(*options); });
}

} // namespace flagcrawl::cli
