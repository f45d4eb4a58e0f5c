// `flagcrawl bench flags|download`: the same job under each strategy (and each concurrency of a
// sweep), every run a child process measured from outside, reported side by side. `bench
// flags` starts the embedded flags server once, here, so that its CPU is not the clients'.
#include "bench_plot.hpp"
#include "bench_process.hpp"
#include "bench_report.hpp"
#include "commands.hpp"
#include "config_file.hpp"
#include "flags_server.hpp"
#include "interrupt.hpp"
#include "progress.hpp"

#include "fetch/fetch.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace flagcrawl::cli {
namespace {

namespace fs = std::filesystem;

// bench flags: the book's slow server, but with a fixed delay so that the ideal time is known.
constexpr server::DelayRange k_bench_delay{std::chrono::milliseconds(250),
                                           std::chrono::milliseconds(250)};

struct BenchOptions {
    std::string command; // "flags" | "download"
    std::string strategies = "sequential,threaded,async";
    std::string concurrency = "20";
    int repeat = 3;
    std::string plot;
    bool json = false;
    std::string progress = "auto";
    std::string server = "delay"; // flags only
    std::string delay;            // flags only
};

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty())
            items.push_back(item);
    return items;
}

std::vector<fetch::Strategy> parse_strategies(const std::string& text) {
    std::vector<fetch::Strategy> out;
    for (const std::string& name : split_list(text)) {
        auto strategy = fetch::parse_strategy(name);
        if (!strategy)
            throw UsageError(fmt::format(
                "--strategies: expected a list of sequential, threaded, async, got '{}'", name));
        if (std::find(out.begin(), out.end(), *strategy) == out.end())
            out.push_back(*strategy);
    }
    if (out.empty())
        throw UsageError("--strategies: expected a list of sequential, threaded, async");
    return out;
}

std::vector<int> parse_concurrency_list(const std::string& text, int max) {
    std::vector<int> out;
    for (const std::string& item : split_list(text)) {
        std::size_t end = 0;
        int value = 0;
        try {
            value = std::stoi(item, &end);
        } catch (const std::exception&) {
            end = 0;
        }
        if (end != item.size() || value < 1 || value > max)
            throw UsageError(fmt::format(
                "--concurrency: expected a list of numbers from 1 to {}, got '{}'", max, item));
        if (std::find(out.begin(), out.end(), value) == out.end())
            out.push_back(value);
    }
    if (out.empty())
        throw UsageError("--concurrency: expected a list of numbers, e.g. 10,20,50");
    return out;
}

// Options each run gets from bench itself: the user may not set them for the runs.
void check_passed_options(const std::vector<std::string>& extras) {
    for (std::size_t i = 0; i < extras.size(); ++i) {
        const std::string& arg = extras[i];
        // Each run reads the list again, and runs get no standard input.
        if (((arg == "-i" || arg == "--input") && i + 1 < extras.size() && extras[i + 1] == "-") ||
            arg == "-i-" || arg == "--input=-")
            throw UsageError("bench runs the job several times: give the URL list as -i FILE, "
                             "not standard input");
        for (const char* owned :
             {"--strategy", "--max-req", "--concurrency", "--out", "--json", "--progress"}) {
            const std::string name = owned;
            if (arg == name || arg.rfind(name + "=", 0) == 0)
                throw UsageError(fmt::format("bench sets {} for each run itself{}", name,
                                             name == "--strategy" ? " (use --strategies)" : ""));
        }
        if (arg == "-m" || arg == "-c" || arg == "-o" || arg.rfind("-m", 0) == 0 ||
            arg.rfind("-c", 0) == 0 || arg.rfind("-o", 0) == 0)
            throw UsageError(fmt::format("bench sets {} for each run itself (use --concurrency "
                                         "LIST; the output folder is a fresh temporary one)",
                                         arg.substr(0, 2)));
    }
}

// "flagcrawl: message\n" -> "message".
std::string child_message(const std::string& err) {
    std::string line = err.substr(0, err.find('\n'));
    const std::string prefix = "flagcrawl: ";
    if (line.rfind(prefix, 0) == 0)
        line.erase(0, prefix.size());
    return line;
}

class TempFolder {
public:
    TempFolder() {
        std::string pattern = (fs::temp_directory_path() / "flagcrawl-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw FatalError(fmt::format("cannot create a temporary folder in {}: {}",
                                         fs::temp_directory_path().string(),
                                         std::generic_category().message(errno)));
        m_path = pattern;
    }
    ~TempFolder() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

int run_bench(const BenchOptions& o, const std::vector<std::string>& extras) {
    const bool flags = o.command == "flags";
    const std::vector<fetch::Strategy> strategies = parse_strategies(o.strategies);
    const std::vector<int> concurrencies =
        parse_concurrency_list(o.concurrency, flags ? 1000 : 10000);
    if (o.repeat < 1)
        throw UsageError(fmt::format("--repeat: expected at least 1, got {}", o.repeat));
    check_passed_options(extras);
    const ProgressMode progress_mode = parse_progress_mode(o.progress);
    const bool report_runs = progress_enabled(progress_mode);
    // The chart is written at the end, under a temporary name renamed over --plot: probed now
    // (so that a bad path fails before the runs), and never left empty or half written.
    const std::string plot_temp = o.plot.empty()
                                      ? std::string()
                                      : (fs::path(o.plot).parent_path() /
                                         ("." + fs::path(o.plot).filename().string() + ".part"))
                                            .string();
    if (!o.plot.empty()) {
        std::ofstream probe(plot_temp, std::ios::trunc);
        if (!probe)
            throw FatalError(fmt::format("cannot write the plot {}: {}", o.plot,
                                         std::generic_category().message(errno)));
        probe.close();
        fs::remove(plot_temp);
    }
    // Runs are measured, not recorded: they stay out of the history DB unless --db names one.
    const bool record_runs = std::any_of(extras.begin(), extras.end(), [](const std::string& arg) {
        return arg == "--db" || arg.rfind("--db=", 0) == 0 || arg == "--no-db";
    });

    BenchJob job;
    job.command = o.command;
    job.repeat = o.repeat;
    job.arguments = extras;
    job.chain =
        flags && std::find(extras.begin(), extras.end(), "--metadata") != extras.end() ? 2 : 1;

    // Runs in order: per repeat, sequential once, then for each concurrency every other
    // strategy, so that the noise of the machine spreads evenly over the rows.
    std::vector<BenchRow> rows;
    std::vector<std::size_t> order;
    auto add_row = [&rows](fetch::Strategy strategy, int concurrency) {
        BenchRow row;
        row.strategy = std::string(fetch::to_string(strategy));
        row.concurrency = concurrency;
        rows.push_back(std::move(row));
    };
    if (std::find(strategies.begin(), strategies.end(), fetch::Strategy::sequential) !=
        strategies.end())
        add_row(fetch::Strategy::sequential, 1);
    for (int c : concurrencies)
        for (fetch::Strategy strategy : strategies)
            if (strategy != fetch::Strategy::sequential)
                add_row(strategy, c);
    for (int r = 0; r < o.repeat; ++r)
        for (std::size_t i = 0; i < rows.size(); ++i)
            order.push_back(i);

    std::atomic<pid_t> child{0};
    // Ctrl-C: the child (in the same process group on a terminal) stops itself; a signal sent
    // to bench alone is passed on. No run starts after it.
    InterruptWatcher interrupt(
        [&](fetch::StopMode) {
            if (pid_t pid = child.load(); pid > 0)
                ::kill(pid, SIGINT);
        },
        std::chrono::seconds(2));

    std::unique_ptr<server::Server> embedded;
    std::string server_argument;
    if (flags) {
        FlagsSite site = resolve_flags_site(o.server, o.delay, k_bench_delay);
        if (crawler::is_embedded(site.server.mode)) {
            embedded = start_embedded_flags_server(site);
            job.server_mode = std::string(crawler::to_label(site.server.mode));
            if (site.delay) {
                job.delay = describe_delay(*site.delay);
                if (site.delay->min == site.delay->max)
                    job.fixed_delay_s = std::chrono::duration<double>(site.delay->min).count();
            }
        }
        job.server = site.server.base_url;
        server_argument = site.server.base_url;
    }

    // Printed once the first run has shown that the job's options are valid.
    auto print_header = [&] {
        if (o.json)
            return;
        std::string where =
            !flags     ? std::string("the URLs' servers")
            : embedded ? fmt::format("the embedded {} server{} at {}", job.server_mode,
                                     job.delay.empty() ? "" : " (" + job.delay + " per request)",
                                     job.server)
                       : job.server;
        print_line(stdout, fmt::format("bench {}: {} runs ({} per row), against {}", o.command,
                                       order.size(), o.repeat, where));
        if (!extras.empty()) {
            std::string args;
            for (const std::string& a : extras)
                args += " " + a;
            print_line(stdout, fmt::format("each run: flagcrawl {}{}", o.command, args));
        }
    };

    const std::string program = k_self_exe;
    const std::string self = self_executable();
    std::uint64_t items = 0;
    std::vector<bool> left_out(rows.size(), false); // rows whose job ran at another concurrency
    // The run that ended the bench, if one did: its message, and whether it was a usage error.
    std::optional<std::pair<bool, std::string>> failure;
    std::size_t measured_runs = 0;
    for (std::size_t n = 0; n < order.size() && !interrupt.interrupted(); ++n) {
        if (left_out[order[n]])
            continue;
        BenchRow& row = rows[order[n]];
        TempFolder out;
        std::vector<std::string> argv = {self};
        argv.insert(argv.end(), config_arguments().begin(), config_arguments().end());
        argv.push_back(o.command);
        argv.insert(argv.end(), extras.begin(), extras.end());
        if (!record_runs)
            argv.push_back("--no-db");
        if (flags && !server_argument.empty()) {
            argv.push_back("--server");
            argv.push_back(server_argument);
        }
        argv.insert(argv.end(), {"--strategy", row.strategy, "--out", out.path().string(), "--json",
                                 "--progress", "never"});
        if (row.strategy != "sequential") {
            argv.push_back(flags ? "--max-req" : "--concurrency");
            argv.push_back(std::to_string(row.concurrency));
        }
        ChildRun run = run_child(program, argv, &child);
        if (interrupt.interrupted())
            break;
        // A failed run ends the bench, after the rows measured so far are shown (and plotted).
        if (run.signal != 0) {
            failure.emplace(false,
                            fmt::format("a {} run was killed by signal {} ({}){}", o.command,
                                        run.signal, strsignal(run.signal),
                                        run.err.empty() ? "" : ": " + child_message(run.err)));
            break;
        }
        if (run.exit_code == k_exit_usage) {
            failure.emplace(true, child_message(run.err));
            break;
        }
        if (run.exit_code != k_exit_ok && run.exit_code != k_exit_failed) {
            failure.emplace(false, fmt::format("a {} run exited with status {}: {}", o.command,
                                               run.exit_code, child_message(run.err)));
            break;
        }
        std::string last_line = run.out;
        while (!last_line.empty() && last_line.back() == '\n')
            last_line.pop_back();
        last_line = last_line.substr(last_line.rfind('\n') + 1);
        auto summary = nlohmann::json::parse(last_line, nullptr, false);
        if (!summary.is_object() || !summary.contains("ok")) {
            failure.emplace(false, fmt::format("a {} run printed no JSON summary: {}", o.command,
                                               child_message(run.err)));
            break;
        }
        BenchRun measured{.wall_s = run.wall_s,
                          .cpu_s = run.user_s + run.sys_s,
                          .peak_rss_kb = run.peak_rss_kb,
                          .job_s = summary.value("elapsed_s", 0.0),
                          .ok = summary.value("ok", std::uint64_t{0}),
                          .not_found = summary.value("not_found", std::uint64_t{0}),
                          .errors = summary.value("errors", std::uint64_t{0}),
                          .requests = summary.value("requests", std::uint64_t{0})};
        items = measured.ok + measured.not_found + measured.errors;
        if (n == 0)
            print_header();
        // flags caps its concurrency at the number of codes: such a row would only repeat the
        // row of the concurrency it really ran at, under another label.
        if (const int ran_at = summary.value("concurrency", row.concurrency);
            ran_at != row.concurrency) {
            print_line(stderr, fmt::format("flagcrawl: bench: {} c={} ran at c={} ({} items): "
                                           "row left out",
                                           row.strategy, row.concurrency, ran_at, items));
            left_out[order[n]] = true;
            row.runs.clear();
            continue;
        }
        row.runs.push_back(measured);
        ++measured_runs;
        if (report_runs)
            print_line(stderr,
                       fmt::format("run {}/{}: {} c={}: {:.3f} s, {} ok, {} not found, {} errors",
                                   n + 1, order.size(), row.strategy, row.concurrency, run.wall_s,
                                   measured.ok, measured.not_found, measured.errors));
    }
    if (embedded)
        embedded->stop();

    std::erase_if(rows, [](const BenchRow& row) { return row.runs.empty(); });
    summarize(job, rows);
    if (o.json) {
        nlohmann::json out = to_json(job, rows);
        out["job"]["items"] = items;
        out["job"]["interrupted"] = interrupt.interrupted();
        if (failure)
            out["job"]["failed"] = failure->second;
        std::cout << out.dump() << '\n';
    } else if (!rows.empty()) {
        print_line(stdout, fmt::format("{} items per run\n", items));
        std::cout << format_table(job, rows) << std::flush;
    }
    if (!o.plot.empty() && !rows.empty()) {
        std::string title =
            fmt::format("flagcrawl bench {}: {} {}", o.command, items, flags ? "flags" : "URLs");
        if (!job.server_mode.empty())
            title += ", embedded " + job.server_mode + " server";
        std::ofstream svg(plot_temp, std::ios::binary | std::ios::trunc);
        svg << render_bench_svg(title, job, rows);
        svg.close();
        std::error_code renamed;
        if (svg)
            fs::rename(plot_temp, o.plot, renamed);
        if (!svg || renamed) {
            fs::remove(plot_temp, renamed);
            throw FatalError(fmt::format("cannot write the plot {}", o.plot));
        }
        if (!o.json)
            print_line(stdout, fmt::format("plot: {}", o.plot));
    }
    if (failure) {
        if (measured_runs > 0)
            print_line(stderr, fmt::format("flagcrawl: bench stopped after {} of {} runs (the "
                                           "rows shown are those measured)",
                                           measured_runs, order.size()));
        if (failure->first)
            throw UsageError(failure->second);
        throw FatalError(failure->second);
    }
    if (interrupt.interrupted()) {
        print_line(stderr, "flagcrawl: bench interrupted");
        return k_exit_interrupted;
    }
    return k_exit_ok;
}

void add_bench_options(CLI::App& cmd, BenchOptions& o) {
    cmd.add_option("--strategies", o.strategies, "Strategies to compare, in order")
        ->capture_default_str();
    cmd.add_option("--concurrency", o.concurrency,
                   "Concurrency of threaded and async, or a list to sweep (10,20,50); "
                   "sequential is always 1")
        ->capture_default_str();
    cmd.add_option("--repeat", o.repeat, "Runs of each row (the median is shown)")
        ->capture_default_str();
    cmd.add_option("--plot", o.plot, "Write an SVG chart of wall time and throughput");
    cmd.add_flag("--json", o.json, "Print the results as JSON on stdout");
    cmd.add_option("--progress", o.progress,
                   "A line per finished run on stderr: auto (on a terminal), always, never")
        ->capture_default_str();
    // Everything else goes to each run as is (codes, -a, -e, -l, --metadata, -i, --db, ...).
    cmd.allow_extras();
    cmd.fallthrough(false);
}

} // namespace

void register_bench(CLI::App& app, int& exit_code) {
    CLI::App* bench = app.add_subcommand(
        "bench", "Run one job under each strategy and concurrency, and compare them");
    bench->footer("Each run is a child process measured for wall time, CPU and peak memory; the "
                  "table shows requests/s, speedup vs sequential and efficiency vs the ideal. "
                  "Runs are not recorded in the history DB unless --db names one.\n"
                  "Examples:\n"
                  "  flagcrawl bench flags --repeat 3 --plot flags.svg\n"
                  "  flagcrawl bench flags -s delay --concurrency 1,10,100 --all\n"
                  "  flagcrawl bench download -i urls.txt --strategies threaded,async --json");
    bench->require_subcommand(1);

    auto flags_options = std::make_shared<BenchOptions>();
    flags_options->command = "flags";
    CLI::App* flags = bench->add_subcommand(
        "flags", "Benchmark `flagcrawl flags` (default: the 20 POP20 flags from the embedded "
                 "server delaying each request by 0.25 s); other options go to each run");
    add_bench_options(*flags, *flags_options);
    flags
        ->add_option("-s,--server", flags_options->server,
                     "EMBEDDED, DELAY, ERROR (started once, here), LOCAL, REMOTE or a base URL")
        ->capture_default_str();
    flags->add_option("--delay", flags_options->delay,
                      "Delay per request of the embedded server: seconds (default 0.25) or a "
                      "range (0.5-5: the ideal time is then unknown)");
    flags->callback([flags_options, flags, &exit_code] {
        exit_code = run_bench(*flags_options, flags->remaining());
    });

    auto download_options = std::make_shared<BenchOptions>();
    download_options->command = "download";
    CLI::App* download = bench->add_subcommand(
        "download", "Benchmark `flagcrawl download` over a URL list (-i FILE or URLs); other "
                    "options go to each run");
    add_bench_options(*download, *download_options);
    download->callback([download_options, download, &exit_code] {
        exit_code = run_bench(*download_options, download->remaining());
    });
}

} // namespace flagcrawl::cli
