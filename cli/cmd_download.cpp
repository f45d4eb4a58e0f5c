// `flagcrawl download`: fetch a list of URLs into a folder with the chosen strategy, record
// every result, print a summary.
#include "commands.hpp"
#include "common.hpp"
#include "interrupt.hpp"
#include "progress.hpp"
#include "warc_output.hpp"

#include "crawler/jobs/download_job.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace flagcrawl::cli {
namespace {

struct DownloadOptions {
    std::vector<std::string> urls;
    std::string input;
    std::string out = ".";
    WarcCliOptions warc;
    CommonOptions common;
};

constexpr int k_default_concurrency = 16;

// The URL list: the command line's URLs, then -i FILE or -i - (stdin). Regular files are counted
// ahead (for the progress total) and then read lazily by the job; stdin and pipes once, lazily.
// Throws UsageError when the file cannot be read or there are no URLs at all.
struct UrlInput {
    std::vector<std::string> args;
    std::ifstream file;
    std::istream* stream = nullptr; // &file, &std::cin or null
    std::size_t expected = 0;       // URLs in all; 0 when unknown (stdin, a pipe)
};

void open_url_input(const DownloadOptions& o, UrlInput& in) {
    in.args = o.urls;
    // A stream read once (stdin, a pipe): peek at the first URL, so that an empty one is a
    // usage error before anything starts.
    const auto peek = [&in](std::istream& stream) {
        if (auto first = crawler::read_url_line(stream)) {
            in.args.push_back(std::move(*first));
            in.stream = &stream;
        }
    };
    if (o.input == "-") {
        peek(std::cin);
    } else if (!o.input.empty()) {
        in.file.open(o.input);
        if (!in.file)
            throw UsageError(fmt::format("cannot read input list {}: {}", o.input,
                                         std::generic_category().message(errno)));
        std::error_code ec;
        if (!std::filesystem::is_regular_file(o.input, ec)) {
            peek(in.file); // a pipe or FIFO (-i <(...)) cannot be rewound to read it twice
        } else {
            const std::size_t lines = crawler::count_url_lines(in.file);
            if (in.file.bad())
                throw UsageError(fmt::format("cannot read input list {}", o.input));
            in.file.clear();
            in.file.seekg(0);
            if (lines > 0)
                in.stream = &in.file;
            in.expected = in.args.size() + lines;
        }
    }
    if (in.args.empty() && in.stream == nullptr) {
        if (o.input.empty())
            throw UsageError("download: no URLs given (pass URLs, or -i FILE, or -i - for stdin)");
        throw UsageError(
            fmt::format("download: no URLs in {}", o.input == "-" ? "standard input" : o.input));
    }
    if (in.stream == nullptr)
        in.expected = in.args.size();
}

void print_item(const crawler::ItemReport& item, const CommonOptions& o) {
    if (o.verbose) {
        std::string status = item.http_status ? std::to_string(item.http_status) : "---";
        std::string detail = item.outcome == fetch::Outcome::ok
                                 ? fmt::format("{} ({})", item.path, format_bytes(item.bytes))
                                 : std::string(item.reason);
        print_line(stderr,
                   fmt::format("{} {} {:.0f} ms  {}", status, item.url, item.elapsed_ms, detail));
    } else if (!o.quiet && item.outcome != fetch::Outcome::ok) {
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
    UrlInput input;
    open_url_input(o, input);

    create_output_folder(o.out);

    auto fetcher = fetch::make_fetcher(strategy, policy, concurrency);
    // Before any other thread starts: the watcher blocks the signals for the threads to come.
    InterruptWatcher interrupt([&](fetch::StopMode mode) { fetcher->stop(mode); },
                               std::chrono::seconds(2));
    std::unique_ptr<archive::WarcWriter> warc = open_warc(o.warc, false, "");

    RecordedRun run(o.common, "download", strategy, concurrency);

    crawler::Recorder recorder(run.writer(), run.id(), [&](const crawler::ItemReport& item) {
        print_item(item, o.common);
    });
    crawler::DownloadJob job(std::move(input.args), input.stream, o.out, recorder);
    job.set_archive(warc.get());
    const auto& counters = recorder.counters();

    auto started = std::chrono::steady_clock::now();
    {
        ProgressLine progress(
            progress_enabled(progress_mode) && !o.common.quiet, [&](double elapsed) {
                std::uint64_t done = counters.done;
                double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
                std::string counts =
                    fmt::format("ok {}  not found {}  errors {}  {}  {:.0f}/s", counters.ok.load(),
                                counters.not_found.load(), counters.errors.load(),
                                format_bytes(double(counters.bytes)), rate);
                if (input.expected == 0) // stdin: no total, no ETA
                    return fmt::format("{} done  {}", done, counts);
                std::uint64_t total = input.expected - std::min(input.expected, job.duplicates());
                std::uint64_t left = total - std::min<std::uint64_t>(done, total);
                std::string eta =
                    rate > 0 ? format_duration(static_cast<double>(left) / rate) : "?";
                return fmt::format("{} {}/{}  {}  ETA {}", format_bar(done, total, 24), done, total,
                                   counts, eta);
            });
        fetcher->run(job, job);
    }
    double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    if (job.input_failed())
        print_line(stderr, fmt::format("flagcrawl: reading {} failed: the rest of the list was "
                                       "not downloaded",
                                       o.input == "-" ? "standard input" : o.input));
    const bool warc_ok = !warc || close_warc(*warc, true);
    storage::RunTotals totals = recorder.totals();
    bool interrupted = interrupt.interrupted();
    run.finish(totals, interrupted, recorder.store_error());

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
                                  {"run_id", run.id()}};
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
        if (warc && warc_ok)
            print_warc_summary(*warc);
    }
    if (interrupted)
        return k_exit_interrupted;
    if (!warc_ok)
        return k_exit_fatal;
    return totals.not_found + totals.errors > 0 ? k_exit_failed : k_exit_ok;
}

} // namespace

void register_download(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<DownloadOptions>();
    CLI::App* cmd = app.add_subcommand(
        "download", "Download a list of URLs into a folder, recording every result");
    cmd->footer(
        "Files are named after the last segment of the URL path (\"index.html\" for \"/\"), "
        "never outside the folder; a name taken earlier in the list gets a counter (a.1.gif). "
        "They are written under a hidden temporary name and renamed when complete. Default "
        "concurrency: 16.\n"
        "Guards on by default (no total timeout, so large files may take their time): a transfer "
        "under 1 KiB/s for 30 s is ended as stalled (a server that never answers or drips); a "
        "Content-Length above --max-size is refused unread; a compressed body stops at 1 GiB "
        "decoded or at 100 times the bytes received (a decompression bomb). Every failure is "
        "recorded with its kind (dns, timeout, too_large, reset, ...: see `stats`).\n"
        "Examples:\n"
        "  flagcrawl download -i urls.txt -o out/ -c 32\n"
        "  flagcrawl download https://example.org/a.iso --retries 5 --stall-timeout 120\n"
        "  flagcrawl download -i urls.txt --max-size 100M --timeout 600\n"
        "With --warc NAME, every request and response is also archived as it went over the "
        "wire (WARC/1.1, NAME.warc.gz, index NAME.cdxj).\n"
        "Exit codes: 0 all downloaded; 1 some failed (not found, errors); 2 usage error, "
        "unreadable input list or existing WARC file; 3 cannot open the DB, create the folder or "
        "write the WARC; 130 interrupted.");
    cmd->add_option("urls", options->urls, "URLs to download");
    cmd->add_option("-i,--input", options->input,
                    "File with one URL per line ('-' reads standard input; '#' lines skipped)");
    cmd->add_option("-o,--out", options->out, "Output folder (created if missing)")
        ->capture_default_str();
    add_warc_options(*cmd, options->warc);
    add_common_options(*cmd, options->common, 0);
    cmd->callback([options, &exit_code] { exit_code = run_download(*options); });
}

} // namespace flagcrawl::cli
