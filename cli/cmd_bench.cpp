// `flagcrawl bench flags|download|crawl`: the same job under each strategy (and each concurrency
// of a sweep), every run a child process measured from outside, reported side by side. `bench
// flags` and `bench crawl` start their server (the flags data set, the synthetic site) once,
// here, on this process's threads, so that its CPU is not counted in the runs'.
#include "bench_plot.hpp"
#include "bench_process.hpp"
#include "bench_report.hpp"
#include "commands.hpp"
#include "config_file.hpp"
#include "flags_server.hpp"
#include "interrupt.hpp"
#include "progress.hpp"

#include "fetch/fetch.hpp"
#include "server/chaos.hpp"
#include "server/server.hpp"
#include "server/site.hpp"
#include "util/elide.hpp"

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
#include <variant>

namespace flagcrawl::cli {
namespace {

namespace fs = std::filesystem;

// bench flags: the book's slow server, but with a fixed delay so that the ideal time is known.
constexpr server::DelayRange k_bench_delay{std::chrono::milliseconds(250),
                                           std::chrono::milliseconds(250)};

// bench crawl: a site big enough that the crawl, not the process start, is what is measured.
constexpr std::uint64_t k_bench_site_pages = 1000;
// A crawl's concurrency is also its requests in flight to the one host (crawl's --per-host).
constexpr int k_max_crawl_concurrency = 100;

struct BenchOptions {
    std::string command; // "flags" | "download" | "crawl"
    std::string strategies = "sequential,threaded,async";
    std::string concurrency = "20";
    int repeat = 3;
    std::string plot;
    bool json = false;
    std::string progress = "auto";
    std::string server = "delay";             // flags only
    std::string delay;                        // flags and crawl: the server's delay
    std::uint64_t pages = k_bench_site_pages; // crawl only: the synthetic site's pages
};

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) {
            items.push_back(item);
        }
    }
    return items;
}

std::vector<fetch::Strategy> parse_strategies(const std::string& text) {
    std::vector<fetch::Strategy> out;
    for (const std::string& name : split_list(text)) {
        auto strategy = fetch::parse_strategy(name);
        if (!strategy) {
            throw UsageError(fmt::format(
                "--strategies: expected a list of sequential, threaded, async, got '{}'", name));
        }
        if (std::find(out.begin(), out.end(), *strategy) == out.end()) {
            out.push_back(*strategy);
        }
    }
    if (out.empty()) {
        throw UsageError("--strategies: expected a list of sequential, threaded, async");
    }
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
        if (end != item.size() || value < 1 || value > max) {
            throw UsageError(fmt::format(
                "--concurrency: expected a list of numbers from 1 to {}, got '{}'", max, item));
        }
        if (std::find(out.begin(), out.end(), value) == out.end()) {
            out.push_back(value);
        }
    }
    if (out.empty()) {
        throw UsageError("--concurrency: expected a list of numbers, e.g. 10,20,50");
    }
    return out;
}

// Options each run of `command` gets from bench itself: the user may not set them for the runs.
void check_passed_options(const std::string& command, const std::vector<std::string>& extras) {
    const bool crawl = command == "crawl";
    for (std::size_t i = 0; i < extras.size(); ++i) {
        const std::string& arg = extras[i];
        // Each run reads the list again, and runs get no standard input.
        if (((arg == "-i" || arg == "--input") && i + 1 < extras.size() && extras[i + 1] == "-") ||
            arg == "-i-" || arg == "--input=-") {
            throw UsageError("bench runs the job several times: give the URL list as -i FILE, "
                             "not standard input");
        }
        if (crawl && (arg.rfind("-o", 0) == 0 || arg == "--out" || arg.rfind("--out=", 0) == 0)) {
            throw UsageError(fmt::format("bench crawl saves no pages: {} is not for its runs",
                                         arg.substr(0, arg.find('='))));
        }
        for (const char* owned : {"--strategy", "--max-req", "--concurrency", "--out", "--json",
                                  "--progress", "--per-host"}) {
            const std::string name = owned;
            if (arg == name || arg.rfind(name + "=", 0) == 0) {
                throw UsageError(fmt::format("bench sets {} for each run itself{}", name,
                                             name == "--strategy"   ? " (use --strategies)"
                                             : name == "--per-host" ? " (to its concurrency)"
                                                                    : ""));
            }
        }
        if (arg == "-m" || arg == "-c" || arg == "-o" || arg.rfind("-m", 0) == 0 ||
            arg.rfind("-c", 0) == 0 || arg.rfind("-o", 0) == 0) {
            throw UsageError(fmt::format("bench sets {} for each run itself (use --concurrency "
                                         "LIST; the output folder is a fresh temporary one)",
                                         arg.substr(0, 2)));
        }
    }
}

// bench crawl's runs crawl the synthetic site it serves: a seed URL among the options passed to
// them would be crawled too, by every run. The arguments are read as `crawl` reads them (an
// option that takes a value takes the next argument unless given as --name=value or -xVALUE),
// so that an option's value is not taken for a seed.
void refuse_crawl_seeds(const std::vector<std::string>& extras) {
    CLI::App scratch;
    int scratch_exit = 0;
    register_crawl(scratch, scratch_exit);
    const CLI::App* crawl = scratch.get_subcommand("crawl");
    for (std::size_t i = 0; i < extras.size(); ++i) {
        const std::string& arg = extras[i];
        if (arg.size() < 2 || arg[0] != '-') {
            throw UsageError(
                fmt::format("bench crawl crawls its own site: the seed {} is not for its runs",
                            util::elide(arg)));
        }
        const bool long_name = arg.rfind("--", 0) == 0;
        if ((long_name && arg.find('=') != std::string::npos) || (!long_name && arg.size() > 2)) {
            continue; // --name=value, -xVALUE
        }
        const std::string name = arg.substr(long_name ? 2 : 1);
        const auto options = crawl->get_options([&](const CLI::Option* option) {
            const auto& names = long_name ? option->get_lnames() : option->get_snames();
            return std::find(names.begin(), names.end(), name) != names.end();
        });
        if (!options.empty() && options.front()->get_expected_max() > 0) {
            ++i; // its value
        }
    }
}

// "flagcrawl: message\n" -> "message".
std::string child_message(const std::string& err) {
    std::string line = err.substr(0, err.find('\n'));
    const std::string prefix = "flagcrawl: ";
    if (line.rfind(prefix, 0) == 0) {
        line.erase(0, prefix.size());
    }
    return line;
}

class TempFolder {
public:
    TempFolder() {
        std::string pattern = (fs::temp_directory_path() / "flagcrawl-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw FatalError(fmt::format("cannot create a temporary folder in {}: {}",
                                         fs::temp_directory_path().string(),
                                         std::generic_category().message(errno)));
        }
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

// The rows of a bench and the order their runs go in.
struct BenchPlan {
    std::vector<BenchRow> rows;
    std::vector<std::size_t> order; // one entry per run: the index of its row
};

// Per repeat, sequential once, then for each concurrency every other strategy, so that the
// noise of the machine spreads evenly over the rows.
BenchPlan plan_runs(const std::vector<fetch::Strategy>& strategies,
                    const std::vector<int>& concurrencies, int repeat) {
    BenchPlan plan;
    auto add_row = [&plan](fetch::Strategy strategy, int concurrency) {
        BenchRow row;
        row.strategy = std::string(fetch::to_string(strategy));
        row.concurrency = concurrency;
        plan.rows.push_back(std::move(row));
    };
    if (std::find(strategies.begin(), strategies.end(), fetch::Strategy::sequential) !=
        strategies.end()) {
        add_row(fetch::Strategy::sequential, 1);
    }
    for (int c : concurrencies) {
        for (fetch::Strategy strategy : strategies) {
            if (strategy != fetch::Strategy::sequential) {
                add_row(strategy, c);
            }
        }
    }
    for (int r = 0; r < repeat; ++r) {
        for (std::size_t i = 0; i < plan.rows.size(); ++i) {
            plan.order.push_back(i);
        }
    }
    return plan;
}

// The chart is written at the end, under a temporary name renamed over `plot`: probed now (so
// that a bad path fails before the runs), and never left empty or half written. Returns the
// temporary name ("" without a plot).
std::string probe_plot(const std::string& plot) {
    if (plot.empty()) {
        return {};
    }
    const std::string temp =
        (fs::path(plot).parent_path() / ("." + fs::path(plot).filename().string() + ".part"))
            .string();
    std::ofstream probe(temp, std::ios::trunc);
    if (!probe) {
        throw FatalError(fmt::format("cannot write the plot {}: {}", plot,
                                     std::generic_category().message(errno)));
    }
    probe.close();
    fs::remove(temp);
    return temp;
}

// What every run shares: the options, the job's own options, where the runs go.
struct BenchSetup {
    const BenchOptions& options;
    const std::vector<std::string>& extras;
    // Runs are measured, not recorded: they stay out of the history DB unless --db names one.
    bool record_runs = false;
    bool report_runs = false;                   // a line per finished run on stderr (--progress)
    std::string self{};                         // this program's path, the runs' argv[0]
    std::unique_ptr<server::Server> embedded{}; // the server started here for the runs, if any
    std::string server_argument{};              // flags: the --server every run gets
    std::string seed{};                         // crawl: the site's /index.html
};

// bench crawl's server: the synthetic site of `serve --site N` (seed 0), each response delayed
// by --delay, on one thread of this process.
void start_site(BenchSetup& setup, BenchJob& job) {
    const BenchOptions& o = setup.options;
    server::Handler handler = server::site_handler(
        std::make_shared<const server::Site>(server::SiteOptions{.pages = o.pages, .seed = 0}));
    if (!o.delay.empty()) {
        const auto delay = server::parse_delay(o.delay);
        if (!delay) {
            throw UsageError(fmt::format(
                "--delay: expected seconds (0.01) or a range (0.01-0.05), got '{}'", o.delay));
        }
        if (delay->max > std::chrono::nanoseconds::zero()) {
            job.delay = describe_delay(*delay);
            handler = server::with_chaos(std::move(handler), server::ChaosOptions{.delay = *delay});
        }
    }
    setup.embedded = std::make_unique<server::Server>(std::move(handler));
    if (const auto ec = setup.embedded->start()) {
        throw FatalError(fmt::format("cannot start the embedded site server: {}", ec.message()));
    }
    job.server_mode = "site";
    job.server = setup.embedded->base_url();
    setup.seed = job.server + "/index.html";
}

// Starts the server the runs go to when bench serves it itself (flags: the embedded flags
// server; crawl: the synthetic site), here so that its CPU is not the runs', and describes it
// in `job`.
void start_target(BenchSetup& setup, BenchJob& job) {
    const BenchOptions& o = setup.options;
    if (o.command == "crawl") {
        start_site(setup, job);
        return;
    }
    if (o.command != "flags") {
        return;
    }
    FlagsSite site = resolve_flags_site(o.server, o.delay, k_bench_delay);
    if (crawler::is_embedded(site.server.mode)) {
        setup.embedded = start_embedded_flags_server(site);
        job.server_mode = std::string(crawler::to_label(site.server.mode));
        if (site.delay) {
            job.delay = describe_delay(*site.delay);
            if (site.delay->min == site.delay->max) {
                job.fixed_delay_s = std::chrono::duration<double>(site.delay->min).count();
            }
        }
    }
    job.server = site.server.base_url;
    setup.server_argument = site.server.base_url;
}

// The bench's first lines, printed once the first run has shown that the job's options are
// valid.
void print_header(const BenchSetup& setup, const BenchJob& job, std::size_t runs) {
    const BenchOptions& o = setup.options;
    if (o.json) {
        return;
    }
    std::string where =
        o.command == "crawl"
            ? fmt::format("the embedded site server ({} pages{}) at {}", o.pages,
                          job.delay.empty() ? "" : ", " + job.delay + " per response", job.server)
        : o.command != "flags" ? std::string("the URLs' servers")
        : setup.embedded
            ? fmt::format("the embedded {} server{} at {}", job.server_mode,
                          job.delay.empty() ? "" : " (" + job.delay + " per request)", job.server)
            : job.server;
    print_line(stdout, fmt::format("bench {}: {} runs ({} per row), against {}", o.command, runs,
                                   o.repeat, where));
    if (!setup.extras.empty()) {
        std::string args;
        for (const std::string& a : setup.extras) {
            args += " " + a;
        }
        print_line(stdout, fmt::format("each run: flagcrawl {}{}", o.command, args));
    }
}

// One run's command line: the job's own options, then what bench sets for the run; `out` is
// the run's fresh output folder (none for a crawl, which saves no pages).
std::vector<std::string> run_argv(const BenchSetup& setup, const BenchRow& row,
                                  const std::optional<fs::path>& out) {
    const BenchOptions& o = setup.options;
    const bool flags = o.command == "flags";
    std::vector<std::string> argv = {setup.self};
    argv.insert(argv.end(), config_arguments().begin(), config_arguments().end());
    argv.push_back(o.command);
    argv.insert(argv.end(), setup.extras.begin(), setup.extras.end());
    if (!setup.record_runs) {
        argv.push_back("--no-db");
    }
    if (!setup.server_argument.empty()) {
        argv.push_back("--server");
        argv.push_back(setup.server_argument);
    }
    if (!setup.seed.empty()) {
        argv.push_back(setup.seed);
    }
    if (o.command == "crawl") {
        // The synthetic site has no sitemap and its robots.txt names none: the /sitemap.xml a
        // crawl would try is a 404 that wget2 -r never asks for, not part of what is measured.
        argv.push_back("--no-sitemaps");
    }
    if (out) {
        argv.insert(argv.end(), {"--out", out->string()});
    }
    argv.insert(argv.end(), {"--strategy", row.strategy, "--json", "--progress", "never"});
    if (row.strategy != "sequential") {
        argv.push_back(flags ? "--max-req" : "--concurrency");
        argv.push_back(std::to_string(row.concurrency));
        if (o.command == "crawl") {
            // One host: its per-host cap would otherwise be the crawl's concurrency.
            argv.push_back("--per-host");
            argv.push_back(std::to_string(row.concurrency));
        }
    }
    return argv;
}

// Why a run ended the bench: its message, and whether it was a usage error.
struct RunFailure {
    bool usage = false;
    std::string message;
};

// What a run measured, and the concurrency its summary says it ran at.
struct RunMeasure {
    BenchRun run;
    int concurrency = 1;
};

// Reads a finished run: the kernel's measures (wall, CPU, peak RSS) and its JSON summary (the
// last line of its output), or why it failed.
std::variant<RunMeasure, RunFailure> measure_run(const std::string& command, const ChildRun& run,
                                                 int concurrency) {
    if (run.signal != 0) {
        return RunFailure{false, fmt::format("a {} run was killed by signal {} ({}){}", command,
                                             run.signal, strsignal(run.signal),
                                             run.err.empty() ? "" : ": " + child_message(run.err))};
    }
    if (run.exit_code == k_exit_usage) {
        return RunFailure{true, child_message(run.err)};
    }
    if (run.exit_code != k_exit_ok && run.exit_code != k_exit_failed) {
        return RunFailure{false, fmt::format("a {} run exited with status {}: {}", command,
                                             run.exit_code, child_message(run.err))};
    }
    std::string last_line = run.out;
    while (!last_line.empty() && last_line.back() == '\n') {
        last_line.pop_back();
    }
    last_line = last_line.substr(last_line.rfind('\n') + 1);
    auto summary = nlohmann::json::parse(last_line, nullptr, false);
    if (!summary.is_object() || !summary.contains("ok")) {
        return RunFailure{false, fmt::format("a {} run printed no JSON summary: {}", command,
                                             child_message(run.err))};
    }
    return RunMeasure{BenchRun{.wall_s = run.wall_s,
                               .cpu_s = run.user_s + run.sys_s,
                               .peak_rss_kb = run.peak_rss_kb,
                               .job_s = summary.value("elapsed_s", 0.0),
                               .ok = summary.value("ok", std::uint64_t{0}),
                               .not_found = summary.value("not_found", std::uint64_t{0}),
                               .errors = summary.value("errors", std::uint64_t{0}),
                               .requests = summary.value("requests", std::uint64_t{0}),
                               .pages = summary.value("pages", std::uint64_t{0}),
                               .parse_cpu_s = summary.value("parse_cpu_s", 0.0)},
                      summary.value("concurrency", concurrency)};
}

// How the runs went.
struct BenchOutcome {
    std::uint64_t items = 0; // of the last run measured
    std::size_t measured_runs = 0;
    std::optional<RunFailure> failure; // the run that ended the bench, if one did
};

// Runs the plan's runs in order, each a child process, and records each measure in its row.
// Stops at the first failed run, or when interrupted (`child` holds the running child's pid,
// for the interrupt watcher to signal it).
BenchOutcome run_all(const BenchSetup& setup, const BenchJob& job, BenchPlan& plan,
                     const InterruptWatcher& interrupt, std::atomic<pid_t>& child) {
    const BenchOptions& o = setup.options;
    BenchOutcome outcome;
    std::vector<bool> left_out(plan.rows.size(), false); // rows whose job ran at another c
    for (std::size_t n = 0; n < plan.order.size() && !interrupt.interrupted(); ++n) {
        if (left_out[plan.order[n]]) {
            continue;
        }
        BenchRow& row = plan.rows[plan.order[n]];
        std::optional<TempFolder> out;
        if (o.command != "crawl") {
            out.emplace();
        }
        const ChildRun run = run_child(
            k_self_exe,
            run_argv(setup, row, out ? std::optional<fs::path>(out->path()) : std::nullopt),
            &child);
        if (interrupt.interrupted()) {
            break;
        }
        auto measured = measure_run(o.command, run, row.concurrency);
        // A failed run ends the bench, after the rows measured so far are shown (and plotted).
        if (auto* failure = std::get_if<RunFailure>(&measured)) {
            outcome.failure = std::move(*failure);
            break;
        }
        const RunMeasure& m = std::get<RunMeasure>(measured);
        outcome.items =
            o.command == "crawl" ? m.run.pages : m.run.ok + m.run.not_found + m.run.errors;
        if (n == 0) {
            print_header(setup, job, plan.order.size());
        }
        // flags caps its concurrency at the number of codes: such a row would only repeat the
        // row of the concurrency it really ran at, under another label.
        if (m.concurrency != row.concurrency) {
            print_line(stderr,
                       fmt::format("flagcrawl: bench: {} c={} ran at c={} ({} items): "
                                   "row left out",
                                   row.strategy, row.concurrency, m.concurrency, outcome.items));
            left_out[plan.order[n]] = true;
            row.runs.clear();
            continue;
        }
        row.runs.push_back(m.run);
        ++outcome.measured_runs;
        if (setup.report_runs) {
            print_line(stderr,
                       fmt::format("run {}/{}: {} c={}: {:.3f} s, {} ok, {} not found, {} errors",
                                   n + 1, plan.order.size(), row.strategy, row.concurrency,
                                   run.wall_s, m.run.ok, m.run.not_found, m.run.errors));
        }
    }
    return outcome;
}

// The results on stdout: JSON, or the table a person reads.
void print_results(const BenchOptions& o, const BenchJob& job, const std::vector<BenchRow>& rows,
                   const BenchOutcome& outcome, bool interrupted) {
    if (o.json) {
        nlohmann::json out = to_json(job, rows);
        out["job"]["items"] = outcome.items;
        out["job"]["interrupted"] = interrupted;
        if (outcome.failure) {
            out["job"]["failed"] = outcome.failure->message;
        }
        std::cout << out.dump() << '\n';
    } else if (!rows.empty()) {
        print_line(stdout, fmt::format("{} {} per run\n", outcome.items,
                                       o.command == "crawl" ? "pages" : "items"));
        std::cout << format_table(job, rows) << std::flush;
    }
}

// The chart, written under `temp` and renamed over --plot (see probe_plot()).
void write_plot(const BenchOptions& o, const std::string& temp, const BenchJob& job,
                const std::vector<BenchRow>& rows, std::uint64_t items) {
    if (o.plot.empty() || rows.empty()) {
        return;
    }
    std::string title = fmt::format("flagcrawl bench {}: {} {}", o.command, items,
                                    o.command == "flags"   ? "flags"
                                    : o.command == "crawl" ? "pages"
                                                           : "URLs");
    if (!job.server_mode.empty()) {
        title += ", embedded " + job.server_mode + " server";
    }
    std::ofstream svg(temp, std::ios::binary | std::ios::trunc);
    svg << render_bench_svg(title, job, rows);
    svg.close();
    std::error_code renamed;
    if (svg) {
        fs::rename(temp, o.plot, renamed);
    }
    if (!svg || renamed) {
        fs::remove(temp, renamed);
        throw FatalError(fmt::format("cannot write the plot {}", o.plot));
    }
    if (!o.json) {
        print_line(stdout, fmt::format("plot: {}", o.plot));
    }
}

// The bench's exit: a failed run's error (usage or fatal), 130 when interrupted, else 0.
int bench_exit(const BenchOutcome& outcome, std::size_t runs, bool interrupted) {
    if (outcome.failure) {
        if (outcome.measured_runs > 0) {
            print_line(stderr, fmt::format("flagcrawl: bench stopped after {} of {} runs (the "
                                           "rows shown are those measured)",
                                           outcome.measured_runs, runs));
        }
        if (outcome.failure->usage) {
            throw UsageError(outcome.failure->message);
        }
        throw FatalError(outcome.failure->message);
    }
    if (interrupted) {
        print_line(stderr, "flagcrawl: bench interrupted");
        return k_exit_interrupted;
    }
    return k_exit_ok;
}

// The runs the options ask for. Throws UsageError for a bad list or count.
BenchPlan plan_from(const BenchOptions& o) {
    const std::vector<fetch::Strategy> strategies = parse_strategies(o.strategies);
    const std::vector<int> concurrencies =
        parse_concurrency_list(o.concurrency, o.command == "flags"   ? 1000
                                              : o.command == "crawl" ? k_max_crawl_concurrency
                                                                     : 10000);
    if (o.repeat < 1) {
        throw UsageError(fmt::format("--repeat: expected at least 1, got {}", o.repeat));
    }
    if (o.command == "crawl" && o.pages < 1) {
        throw UsageError("--pages: expected at least 1");
    }
    return plan_runs(strategies, concurrencies, o.repeat);
}

// The job as the report describes it (start_target() adds its server).
BenchJob describe_job(const BenchOptions& o, const std::vector<std::string>& extras) {
    const bool metadata = std::find(extras.begin(), extras.end(), "--metadata") != extras.end();
    return BenchJob{.command = o.command,
                    .chain = o.command == "flags" && metadata ? 2 : 1,
                    .repeat = o.repeat,
                    .arguments = extras};
}

int run_bench(const BenchOptions& o, const std::vector<std::string>& extras) {
    BenchPlan plan = plan_from(o);
    check_passed_options(o.command, extras);
    if (o.command == "crawl") {
        refuse_crawl_seeds(extras);
    }
    const bool report_runs = progress_enabled(parse_progress_mode(o.progress));
    const std::string plot_temp = probe_plot(o.plot);
    const bool record_runs = std::any_of(extras.begin(), extras.end(), [](const std::string& arg) {
        return arg == "--db" || arg.rfind("--db=", 0) == 0 || arg == "--no-db";
    });
    BenchSetup setup{.options = o,
                     .extras = extras,
                     .record_runs = record_runs,
                     .report_runs = report_runs,
                     .self = self_executable()};
    BenchJob job = describe_job(o, extras);

    std::atomic<pid_t> child{0};
    // Ctrl-C: the child (in the same process group on a terminal) stops itself; a signal sent
    // to bench alone is passed on. No run starts after it. Started before any other thread.
    InterruptWatcher interrupt(
        [&](fetch::StopMode) {
            if (pid_t pid = child.load(); pid > 0) {
                ::kill(pid, SIGINT);
            }
        },
        std::chrono::seconds(2));
    start_target(setup, job);
    const BenchOutcome outcome = run_all(setup, job, plan, interrupt, child);
    if (setup.embedded) {
        setup.embedded->stop();
    }

    std::erase_if(plan.rows, [](const BenchRow& row) { return row.runs.empty(); });
    summarize(job, plan.rows);
    print_results(o, job, plan.rows, outcome, interrupt.interrupted());
    write_plot(o, plot_temp, job, plan.rows, outcome.items);
    return bench_exit(outcome, plan.order.size(), interrupt.interrupted());
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
                  "table shows requests/s, speedup vs sequential and efficiency vs the ideal "
                  "(a crawl: pages/s, CPU per page and the parse's share of it). "
                  "Runs are not recorded in the history DB unless --db names one.\n"
                  "Examples:\n"
                  "  flagcrawl bench flags --repeat 3 --plot flags.svg\n"
                  "  flagcrawl bench flags -s delay --concurrency 1,10,100 --all\n"
                  "  flagcrawl bench download -i urls.txt --strategies threaded,async --json\n"
                  "  flagcrawl bench crawl --pages 5000 --concurrency 8,64 --plot crawl.svg");
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

    auto crawl_options = std::make_shared<BenchOptions>();
    crawl_options->command = "crawl";
    CLI::App* crawl = bench->add_subcommand(
        "crawl", "Benchmark `flagcrawl crawl` over the synthetic site of `serve --site N`, served "
                 "here on a thread of its own (its CPU is not the runs'); other options go to each "
                 "run");
    add_bench_options(*crawl, *crawl_options);
    crawl->add_option("--pages", crawl_options->pages, "Pages of the synthetic site")
        ->capture_default_str();
    crawl->add_option("--delay", crawl_options->delay,
                      "Delay of the site server per response: seconds (0.01) or a range "
                      "(0.01-0.05); default none");
    crawl->footer(
        "Each run crawls the whole site from /index.html (its robots.txt, pages, directory and "
        "query forms of the same pages) with --concurrency C --per-host C, recording nothing "
        "unless --db names a DB (seed URLs are refused: the runs crawl only this site). Columns: "
        "pages/s (pages fetched / wall time), CPU ms per page "
        "(the run's user+sys CPU / pages), parse (the share of that CPU the link extraction "
        "took, measured on the threads that parsed).\n"
        "Examples:\n"
        "  flagcrawl bench crawl\n"
        "  flagcrawl bench crawl --pages 5000 --strategies async --concurrency 8,32,64 "
        "--plot crawl.svg\n"
        "  flagcrawl bench crawl --pages 200 --delay 0.01 --repeat 1 --json\n"
        "  flagcrawl bench crawl --html-parser full --parse-threads 0  # options of each run");
    crawl->callback([crawl_options, crawl, &exit_code] {
        exit_code = run_bench(*crawl_options, crawl->remaining());
    });
}

} // namespace flagcrawl::cli
