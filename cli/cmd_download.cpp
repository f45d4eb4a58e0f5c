// `flagcrawl download`: fetch a list of URLs into a folder with the chosen strategy, record
// every result, print a summary.
#include "commands.hpp"
#include "common.hpp"
#include "interrupt.hpp"
#include "progress.hpp"
#include "stall_watchdog.hpp"
#include "stats_report.hpp"
#include "warc_output.hpp"

#include "crawler/jobs/download_job.hpp"
#include "util/elide.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

namespace flagcrawl::cli {
namespace {

struct DownloadCliOptions {
    std::vector<std::string> urls;
    std::string input;
    std::string out = ".";
    bool skip_existing = false;
    bool timestamping = false;
    bool resume = false;
    bool keep_paths = false;
    double stall_after_s = 10;
    WarcCliOptions warc;
    CommonOptions common;
};

constexpr int k_default_concurrency = 16;

// The URL list: the command line's URLs, then -i FILE or -i - (stdin). A regular file is read
// twice: first to check every line (a bad line is a usage error naming it, before anything is
// fetched) and to count them for the progress total, then lazily by the job. Standard input and
// pipes are read once, lazily: a bad line there is an item that failed. Throws UsageError when
// the list cannot be read or there are no URLs at all.
struct UrlInput {
    std::vector<crawler::ListLine> args; // the command line's URLs, then a stream's first line
    std::ifstream file;
    std::optional<crawler::UrlListReader> reader;
    std::size_t expected = 0; // URLs in all; 0 when unknown (stdin, a pipe)
};

// Counts the lines of a regular file, throwing on the first bad one (with how many more).
std::size_t check_list(crawler::UrlListReader& reader) {
    std::size_t lines = 0;
    std::string first_error;
    std::size_t bad = 0;
    while (auto line = reader.next()) {
        ++lines;
        if (!line->error.empty() && bad++ == 0) {
            first_error = line->error;
        }
    }
    if (reader.failed()) {
        throw UsageError(fmt::format("cannot read input list {}", reader.source()));
    }
    if (bad > 0) {
        throw UsageError(bad == 1
                             ? first_error
                             : fmt::format("{} (and {} more bad lines)", first_error, bad - 1));
    }
    return lines;
}

void open_url_input(const DownloadCliOptions& o, UrlInput& in) {
    for (const std::string& url : o.urls) {
        in.args.push_back({.url = url});
    }
    if (o.input == "-") {
        in.reader.emplace(std::cin, "standard input");
    } else if (!o.input.empty()) {
        std::error_code ec;
        if (std::filesystem::is_directory(o.input, ec)) {
            throw UsageError(fmt::format("cannot read input list {}: it is a folder (give a file "
                                         "with one URL a line)",
                                         o.input));
        }
        in.file.open(o.input);
        if (!in.file) {
            throw UsageError(fmt::format("cannot read input list {}: {}", o.input,
                                         std::generic_category().message(errno)));
        }
        in.reader.emplace(in.file, o.input);
        if (std::filesystem::is_regular_file(o.input, ec)) {
            const std::size_t lines = check_list(*in.reader);
            in.file.clear();
            in.file.seekg(0);
            in.reader.emplace(in.file, o.input);
            in.expected = in.args.size() + lines;
            if (lines == 0) {
                in.reader.reset();
            }
        }
    }
    // A stream read once (stdin, a pipe or FIFO, which cannot be rewound): its first line is
    // read now, so that an empty one is a usage error before anything starts.
    if (in.reader && in.expected == 0) {
        if (auto first = in.reader->next()) {
            in.args.push_back(std::move(*first));
        } else {
            in.reader.reset();
        }
    }
    if (in.args.empty() && !in.reader) {
        if (o.input.empty()) {
            throw UsageError("download: no URLs given (pass URLs, or -i FILE, or -i - for stdin)");
        }
        throw UsageError(
            fmt::format("download: no URLs in {}", o.input == "-" ? "standard input" : o.input));
    }
    if (!in.reader) {
        in.expected = in.args.size();
    }
}

void print_item(const crawler::ItemReport& item, const CommonOptions& o) {
    if (o.verbose) {
        std::string status = item.http_status ? std::to_string(item.http_status) : "---";
        std::string detail = item.outcome == fetch::Outcome::ok
                                 ? fmt::format("{} ({})", item.path, format_bytes(item.bytes))
                                 : std::string(item.reason);
        print_line(stderr, fmt::format("{} {} {:.0f} ms  {}", status, util::elide(item.url),
                                       item.elapsed_ms, detail));
    } else if (item.outcome != fetch::Outcome::ok) { // -q keeps these: "print only errors"
        print_line(stderr, fmt::format("flagcrawl: {}: {}", util::elide(item.url), item.reason));
    }
}

int run_download(const DownloadCliOptions& o) {
    if (o.skip_existing && o.timestamping) {
        throw UsageError("download: --skip-existing and --timestamping contradict each other (keep "
                         "every file there, or fetch the ones the server has newer)");
    }
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
    crawler::DownloadJob job(std::move(input.args), input.reader ? &*input.reader : nullptr, o.out,
                             recorder,
                             {.skip_existing = o.skip_existing,
                              .timestamping = o.timestamping,
                              .resume = o.resume,
                              .keep_paths = o.keep_paths});
    job.set_archive(warc.get());
    const auto& counters = recorder.counters();

    auto started = std::chrono::steady_clock::now();
    {
        StallWatchdog watchdog(
            {.last_completion_ns = [&counters] { return counters.last_completion_ns.load(); },
             .busy = [&job] { return job.in_flight() > 0; },
             .report = [&job] { return job.stall_report(); }},
            o.common.quiet ? std::chrono::nanoseconds(0)
                           : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::duration<double>(o.stall_after_s)));
        ProgressLine progress(
            progress_enabled(progress_mode) && !o.common.quiet, [&](double elapsed) {
                std::uint64_t done = counters.done;
                double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
                std::string counts =
                    fmt::format("ok {}  not found {}  errors {}  {}  {:.0f}/s", counters.ok.load(),
                                counters.not_found.load(), counters.errors.load(),
                                format_bytes(double(counters.bytes)), rate);
                if (input.expected == 0) { // stdin: no total, no ETA
                    return fmt::format("{} done  {}", done, counts);
                }
                std::uint64_t total = input.expected - std::min(input.expected, job.duplicates());
                std::uint64_t left = total - std::min<std::uint64_t>(done, total);
                std::string eta =
                    rate > 0 ? format_duration(static_cast<double>(left) / rate) : "?";
                std::string line = fmt::format("{}/{}  {}  ETA {}", done, total, counts, eta);
                // The bar only where the terminal has room for it (the line is cut to fit).
                const int room = terminal_columns() - 1 - static_cast<int>(line.size()) - 3;
                if (terminal_columns() == 0 || room >= 10) {
                    line =
                        format_bar(done, total, room >= 10 ? std::min(room, 24) : 24) + " " + line;
                }
                return line;
            });
        fetcher->run(job, job);
    }
    double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    if (job.input_failed()) {
        print_line(stderr, fmt::format("flagcrawl: reading {} failed: the rest of the list was "
                                       "not downloaded",
                                       o.input == "-" ? "standard input" : o.input));
    }
    const bool warc_ok = !warc || close_warc(*warc, true);
    storage::RunTotals totals = recorder.totals();
    bool interrupted = interrupt.interrupted();
    run.finish(totals, interrupted, recorder.store_error());

    double rate = elapsed_s > 0 ? static_cast<double>(totals.requests) / elapsed_s : 0;
    const std::uint64_t items = totals.ok + totals.not_found + totals.errors;
    if (o.common.json) {
        nlohmann::json summary = {{"command", "download"},
                                  {"downloads", items},
                                  {"ok", totals.ok},
                                  {"unchanged", counters.unchanged.load()},
                                  {"skipped", counters.skipped.load()},
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
        // The names and numbers `stats` shows for this run.
        print_line(
            stdout,
            fmt::format("downloads {}: {}; {} requests, {} in {:.2f} s, {:.1f} requests/s "
                        "({}, concurrency {}){}",
                        items,
                        format_download_outcomes(totals.ok, counters.unchanged, counters.skipped,
                                                 totals.not_found, totals.errors),
                        totals.requests, format_bytes(double(totals.bytes)), elapsed_s, rate,
                        fetch::to_string(strategy), concurrency,
                        interrupted ? "; interrupted" : ""));
        if (job.duplicates() > 0) {
            print_line(stdout, fmt::format("{} repeated URL(s) of the list fetched once (not "
                                           "recorded again)",
                                           job.duplicates()));
        }
        if (warc && warc_ok) {
            print_warc_summary(*warc);
        }
    }
    if (interrupted) {
        return k_exit_interrupted;
    }
    if (!warc_ok) {
        return k_exit_fatal;
    }
    return totals.not_found + totals.errors > 0 ? k_exit_failed : k_exit_ok;
}

} // namespace

void register_download(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<DownloadCliOptions>();
    CLI::App* cmd = app.add_subcommand(
        "download", "Download a list of URLs into a folder, recording every result");
    cmd->footer(
        "Files are named after the last segment of the URL path (\"index.html\" for \"/\"), "
        "or the NAME a list line gives after a TAB, or DIR/HOST/PATH with --keep-paths; never "
        "outside the folder. A name taken earlier in the list gets a counter (a.1.gif). Files "
        "get their name only when complete (written unnamed, O_TMPFILE, then linked; else, "
        "and with --continue, under a hidden .NAME.part renamed). Default concurrency: 16.\n"
        "Input lists: one URL a line, or URL<TAB>NAME (NAME may hold folders: a/b.gif); blank "
        "and '#' lines skipped; a byte order mark is ignored. A line with a space inside its URL "
        "is refused with its line number (write a space as %20): for a file, before anything is "
        "fetched (exit 2); for standard input, as that item's error.\n"
        "Files already there: --skip-existing keeps them (wget -nc); --timestamping asks the "
        "server for a newer one (If-Modified-Since, If-None-Match; 304 keeps it; wget -N); "
        "--continue completes a partial one with a Range request (wget -c, curl -C -) and keeps "
        "the .NAME.part of a failed transfer for the next run. The summary counts kept files "
        "under ok (unchanged, skipped), as `stats` does.\n"
        "Guards on by default (no total timeout, so large files may take their time): a transfer "
        "under 1 KiB/s for 30 s is ended as stalled (a server that never answers or drips); a "
        "Content-Length above --max-size is refused unread; a compressed body stops at 1 GiB "
        "decoded or at 100 times the bytes received (a decompression bomb). Every failure is "
        "recorded with its kind (dns, timeout, too_large, reset, ...: see `stats`). When nothing "
        "completes for --stall-after seconds, a line says what the download waits on.\n"
        "With --warc NAME, every request and response is also archived as it went over the "
        "wire (WARC/1.1, NAME.warc.gz, index NAME.cdxj).\n"
        "Exit codes: 0 all downloaded (or kept); 1 some failed (not found, errors); 2 usage "
        "error, unreadable or bad input list, existing WARC file; 3 cannot open the DB, create "
        "the folder, write the WARC or the cookie file; 130 interrupted.\n"
        "Examples:\n"
        "  flagcrawl download -i urls.txt -o out/ -c 32\n"
        "  flagcrawl download -i urls.txt -o mirror/ --keep-paths --timestamping  "
        "# again later: only what changed\n"
        "  flagcrawl download --continue -o iso/ https://example.org/big.iso  "
        "# after Ctrl-C: run it again\n"
        "  printf 'https://example.org/a.gif\\tflags/a.gif\\n' | flagcrawl download -i - "
        "--cookies jar.txt --proxy http://proxy:3128");
    cmd->add_option("urls", options->urls, "URLs to download");
    cmd->add_option("-i,--input", options->input,
                    "File with one URL per line, or URL<TAB>NAME ('-' reads standard input; '#' "
                    "lines skipped)");
    cmd->add_option("-o,--out", options->out, "Output folder (created if missing)")
        ->capture_default_str();
    cmd->add_flag("--skip-existing,--no-clobber", options->skip_existing,
                  "Keep a file already under its name, fetch nothing for it (wget -nc)")
        ->group("Files already there");
    cmd->add_flag("-N,--timestamping", options->timestamping,
                  "Fetch a file already there only if the server's is newer (If-Modified-Since "
                  "its time, If-None-Match its ETag; 304 keeps it); files get the server's "
                  "Last-Modified time (wget -N)")
        ->group("Files already there");
    cmd->add_flag("--continue", options->resume,
                  "Complete a partial file with a Range request (.NAME.part of an earlier run, "
                  "else NAME as wget -c does); keep the .NAME.part of a failed transfer")
        ->group("Files already there");
    cmd->add_flag("-x,--keep-paths", options->keep_paths,
                  "Save as DIR/HOST[:PORT]/PATH, as crawl -o and wget -x do, instead of DIR/NAME")
        ->group("Files already there");
    cmd->add_option("--stall-after", options->stall_after_s,
                    "When nothing completes for this many seconds, say what the download waits on "
                    "(0 = never)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber)
        ->group("Output");
    add_warc_options(*cmd, options->warc);
    add_common_options(*cmd, options->common, 0);
    cmd->callback([options, &exit_code] { exit_code = run_download(*options); });
}

} // namespace flagcrawl::cli
