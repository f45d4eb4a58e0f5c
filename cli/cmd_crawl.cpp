// `flagcrawl crawl`: crawl sites from seed URLs with the chosen strategy (frontier, politeness,
// robots.txt, limits), record pages, links and the frontier, resume an unfinished crawl.
#include "commands.hpp"
#include "common.hpp"
#include "interrupt.hpp"
#include "progress.hpp"
#include "warc_output.hpp"

#include "crawler/crawl/crawl_job.hpp"
#include "crawler/crawl/frontier_store.hpp"
#include "crawler/mirror/mirror.hpp"
#include "crawler/url/url.hpp"
#include "storage/reader.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include <sched.h>

namespace flagcrawl::cli {
namespace {

constexpr int k_default_concurrency = 16;         // Scrapy's CONCURRENT_REQUESTS
constexpr int k_default_per_host = 8;             // Scrapy's CONCURRENT_REQUESTS_PER_DOMAIN
constexpr double k_default_timeout_s = 30;        // per request
constexpr const char* k_default_max_size = "16M"; // a crawler keeps bodies in memory
constexpr double k_default_stall_after_s = 10;
constexpr int k_max_parse_threads = 4;
// The crawl's store. A crawl submits a record of ~30 links per page, ~2000 a second; 1024 queued
// records are 0.5 s of that. The writer takes them 16 at a time (wake_records) so that few wait
// in memory, which cut the peak RSS of a 5000-page crawl by ~0.5 MiB against 256 at a time, for
// ~2 context switches per 16 pages.
constexpr storage::WriterOptions k_writer_options{.queue_capacity = 1024, .wake_records = 16};

struct CrawlCliOptions {
    std::vector<std::string> urls;
    int depth = -1;
    std::uint64_t max_pages = 0;
    std::string max_bytes;
    double max_time_s = 0;
    std::string scope = "host";
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    int per_host = k_default_per_host;
    double delay_s = 0;
    bool no_robots = false;
    bool canonical_query = false;
    bool save_bodies = false;
    bool page_requisites = false;
    bool resume = false;
    int parse_threads = -1; // -1: by the CPUs this process may use
    std::size_t window = 10'000;
    int max_redirects = 10;
    double stall_after_s = k_default_stall_after_s;
    WarcCliOptions warc;
    std::string mirror_dir; // -o DIR; empty: no mirror
    CommonOptions common;
};

// CPUs this process may run on (its affinity mask), else the machine's.
int usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// The options that define a crawl, stored with it: --resume takes back all but the limits
// (max_pages, max_bytes: recorded only; each invocation gives its own, over the whole crawl).
nlohmann::json defining_options(const crawler::CrawlOptions& o) {
    return {{"depth", o.max_depth},
            {"scope", crawler::to_string(o.scope)},
            {"include", o.include},
            {"exclude", o.exclude},
            {"robots", o.robots},
            {"canonical_query", o.canonical_query},
            {"save_bodies", o.save_bodies},
            {"page_requisites", o.page_requisites},
            {"max_redirects", o.max_redirects},
            {"max_pages", o.max_pages},
            {"max_bytes", o.max_bytes}};
}

void apply_stored_options(const nlohmann::json& j, crawler::CrawlOptions& o) {
    o.max_depth = j.value("depth", o.max_depth);
    o.scope = crawler::parse_scope(j.value("scope", std::string("host")))
                  .value_or(crawler::ScopeKind::host);
    o.include = j.value("include", o.include);
    o.exclude = j.value("exclude", o.exclude);
    o.robots = j.value("robots", o.robots);
    o.canonical_query = j.value("canonical_query", o.canonical_query);
    o.save_bodies = j.value("save_bodies", o.save_bodies);
    o.page_requisites = j.value("page_requisites", o.page_requisites);
    o.max_redirects = j.value("max_redirects", o.max_redirects);
}

std::string agent_token_of(const std::string& user_agent) {
    if (user_agent.empty()) {
        return "flagcrawl";
    }
    return user_agent.substr(0, user_agent.find_first_of("/ "));
}

crawler::CrawlOptions make_crawl_options(const CrawlCliOptions& o) {
    crawler::CrawlOptions c;
    if (o.depth < -1) {
        throw UsageError("--depth: expected -1 (unlimited) or a number >= 0");
    }
    c.max_depth = o.depth;
    c.max_pages = o.max_pages;
    if (!o.max_bytes.empty()) {
        c.max_bytes = parse_size(o.max_bytes, "--max-bytes");
    }
    if (!(o.max_time_s >= 0) || !std::isfinite(o.max_time_s)) {
        throw UsageError("--max-time: expected seconds >= 0");
    }
    c.max_time = std::chrono::milliseconds(static_cast<std::int64_t>(o.max_time_s * 1000));
    auto scope = crawler::parse_scope(o.scope);
    if (!scope) {
        throw UsageError(
            fmt::format("--scope: expected host, domain, prefix or any, got '{}'", o.scope));
    }
    c.scope = *scope;
    c.include = o.include;
    c.exclude = o.exclude;
    c.robots = !o.no_robots;
    c.canonical_query = o.canonical_query;
    c.save_bodies = o.save_bodies;
    c.page_requisites = o.page_requisites;
    c.max_redirects = o.max_redirects;
    c.agent_token = agent_token_of(o.common.user_agent);
    if (o.parse_threads < -1) {
        throw UsageError("--parse-threads: expected a number >= 0");
    }
    // One usable CPU (taskset, a container's cpuset): parse on the fetch thread, since a pool
    // would only add context switches. Otherwise one parser per CPU: parsing is ~85 % of a
    // crawl's CPU and the fetch thread needs little (a 5000-page crawl on 2 CPUs: 3.3 s with
    // one parser, 2.0-2.6 s with two).
    const int cpus = usable_cpus();
    c.parse_threads = o.parse_threads >= 0 ? o.parse_threads
                      : cpus == 1          ? 0
                                           : std::min(cpus, k_max_parse_threads);
    for (const auto& seed : o.urls) {
        auto url = crawler::parse(seed);
        if (!url || !url->is_http()) {
            throw UsageError(fmt::format("crawl: not an http(s) URL: '{}'", seed));
        }
        c.seeds.emplace_back(url->href_without_fragment());
    }
    return c;
}

crawler::FrontierOptions make_frontier_options(const CrawlCliOptions& o, bool robots) {
    crawler::FrontierOptions f;
    if (o.per_host < 1) {
        throw UsageError("--per-host: expected a number >= 1");
    }
    if (!(o.delay_s >= 0) || !std::isfinite(o.delay_s)) {
        throw UsageError("--delay: expected seconds >= 0");
    }
    if (o.window < 2) {
        throw UsageError("--frontier-window: expected a number >= 2");
    }
    f.politeness.per_host = o.per_host;
    f.politeness.delay =
        std::chrono::duration_cast<crawler::Duration>(std::chrono::duration<double>(o.delay_s));
    f.politeness.robots = robots;
    f.window = o.window;
    f.seed =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return f;
}

// Prints one line when nothing completed for `stall_after` while work is pending, naming what
// everything waits on; again after each later completion that is followed by another stall.
// A zero `stall_after` disables it. Checks a few times per period, at most once a second.
class StallWatchdog {
public:
    StallWatchdog(crawler::CrawlJob& job, std::chrono::nanoseconds stall_after)
        : m_job(job)
        , m_stall_after(stall_after)
        , m_tick(std::clamp<std::chrono::nanoseconds>(
              stall_after / 4, std::chrono::milliseconds(50), std::chrono::seconds(1))) {
        if (stall_after.count() > 0) {
            m_thread = std::thread([this] { watch(); });
        }
    }
    ~StallWatchdog() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_cv.notify_one();
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }

private:
    void watch() {
        std::int64_t reported_for = -1;
        bool asked = false;
        std::unique_lock lock(m_mutex);
        auto started = std::chrono::steady_clock::now().time_since_epoch().count();
        while (!m_cv.wait_for(lock, m_tick, [this] { return m_stop; })) {
            const auto& c = m_job.counters();
            std::int64_t last = c.last_completion_ns.load();
            if (last == 0) {
                last = started;
            }
            const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
            const bool busy = c.in_flight.load() > 0 || c.queued.load() > 0;
            if (!busy || last == reported_for ||
                std::chrono::nanoseconds(now - last) < m_stall_after) {
                asked = false;
                continue;
            }
            if (!asked) { // let the loop describe its frontier at its next call
                m_job.request_stall_report();
                asked = true;
                continue;
            }
            std::string what = m_job.stall_report();
            const double stalled_s =
                std::chrono::duration<double>(std::chrono::nanoseconds(now - last)).count();
            print_line(stderr,
                       fmt::format("flagcrawl: nothing completed for {}: {}",
                                   format_seconds(stalled_s), what.empty() ? "waiting" : what));
            reported_for = last;
            asked = false;
        }
    }

    crawler::CrawlJob& m_job;
    const std::chrono::nanoseconds m_stall_after;
    const std::chrono::nanoseconds m_tick;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    std::thread m_thread;
};

void print_item(const crawler::CrawlItem& item, const CommonOptions& o) {
    const auto& r = item.record;
    if (o.verbose) {
        std::string status = r.http_status ? std::to_string(*r.http_status) : "---";
        std::string detail = r.error ? *r.error : r.location ? "-> " + *r.location : "";
        print_line(stderr, fmt::format("{} {} d{} {:.0f} ms {}  {}", status, r.url, r.depth,
                                       r.elapsed_ms, format_bytes(double(r.bytes)), detail));
    } else if (!o.quiet && item.failed) {
        print_line(stderr, fmt::format("flagcrawl: {}: {}", r.url, r.error.value_or("failed")));
    }
}

int run_crawl(CrawlCliOptions& o) {
    fetch::Strategy strategy = parse_strategy_option(o.common);
    if (o.common.max_size.empty()) {
        o.common.max_size = k_default_max_size;
    }
    fetch::Policy policy = make_policy(o.common);
    policy.retry_throttled = false; // 429/503: the frontier backs off the host and re-queues
    ProgressMode progress_mode = parse_progress_mode(o.common.progress);
    const int concurrency = strategy == fetch::Strategy::sequential ? 1
                            : o.common.concurrency > 0              ? o.common.concurrency
                                                                    : k_default_concurrency;
    if (o.resume && !o.urls.empty()) {
        throw UsageError("crawl --resume: give no URLs (the crawl's seeds are in the DB)");
    }
    if (!o.resume && o.urls.empty()) {
        throw UsageError("crawl: no seed URLs given");
    }
    if (o.resume && o.common.no_db) {
        throw UsageError("crawl --resume: needs the DB (--no-db given)");
    }
    crawler::CrawlOptions options;
    try {
        options = make_crawl_options(o);
        // Compile the patterns now, so that a bad one is a usage error before anything starts.
        crawler::UrlFilter check(options.scope, {}, options.include, options.exclude);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }

    // The crawl to resume and what it did so far, read before the writer opens the file.
    std::optional<storage::CrawlRow> resumed;
    storage::CrawlProgress before;
    if (o.resume) {
        auto reader = storage::Reader::open(db_path(o.common));
        if (!reader) {
            throw FatalError(reader.error().message);
        }
        auto found = reader->latest_resumable_crawl();
        if (!found) {
            throw FatalError(found.error().message);
        }
        if (!*found) {
            throw FatalError(
                fmt::format("crawl --resume: no unfinished crawl in {}", db_path(o.common)));
        }
        resumed = std::move(**found);
        auto progress = reader->crawl_progress(resumed->id);
        if (!progress) {
            throw FatalError(progress.error().message);
        }
        before = *progress;
        try {
            options.seeds = nlohmann::json::parse(resumed->seeds).get<std::vector<std::string>>();
            const auto stored = nlohmann::json::parse(resumed->options);
            apply_stored_options(stored, options);
            // The crawl's WARC goes on where it stopped (an absolute path: any folder resumes).
            o.warc.file = stored.value("warc", std::string());
            o.warc.max_size = stored.value("warc_max_size", std::string());
            o.mirror_dir = stored.value("mirror", std::string());
        } catch (const nlohmann::json::exception& e) {
            throw FatalError(fmt::format("crawl --resume: crawl {} has unreadable options: {}",
                                         resumed->id, e.what()));
        }
    }
    crawler::FrontierOptions frontier_options = make_frontier_options(o, options.robots);

    auto fetcher = fetch::make_fetcher(strategy, policy, concurrency);
    // Before any other thread starts: the watcher blocks the signals for the threads to come.
    InterruptWatcher interrupt([&](fetch::StopMode mode) { fetcher->stop(mode); },
                               std::chrono::seconds(2));
    if (!o.warc.file.empty() && !resumed) {
        o.warc.file = std::filesystem::absolute(o.warc.file).string();
    }
    std::unique_ptr<archive::WarcWriter> warc =
        open_warc(o.warc, resumed.has_value(), options.robots ? "obey" : "ignore");
    std::unique_ptr<crawler::MirrorWriter> mirror;
    if (!o.mirror_dir.empty()) {
        o.mirror_dir = std::filesystem::absolute(o.mirror_dir).string();
        try {
            mirror = std::make_unique<crawler::MirrorWriter>(o.mirror_dir);
        } catch (const std::runtime_error& e) {
            throw FatalError(e.what());
        }
    }

    RecordedRun run(o.common, "crawl", strategy, concurrency, k_writer_options);
    storage::Writer* const store = run.writer();
    const std::int64_t run_id = run.id();
    const std::int64_t crawl_id = resumed ? resumed->id : run_id;

    std::unique_ptr<crawler::SqliteFrontierStore> frontier_store;
    if (store) {
        try {
            frontier_store =
                std::make_unique<crawler::SqliteFrontierStore>(db_path(o.common), *store, crawl_id);
        } catch (const std::runtime_error& e) {
            throw FatalError(e.what());
        }
    }
    crawler::LocalFrontier frontier(frontier_options, frontier_store.get());
    crawler::CrawlJob job(options, frontier, store, crawl_id, run_id,
                          [&](const crawler::CrawlItem& item) { print_item(item, o.common); });

    storage::CrawlBeginRecord begin;
    begin.crawl_id = crawl_id;
    begin.run_id = run_id;
    const std::uint64_t pages_before = before.pages;
    if (resumed) {
        begin.is_new = false;
        try {
            job.set_totals_before(before.pages, before.bytes);
            frontier_store->restore(frontier);
        } catch (const std::runtime_error& e) {
            throw FatalError(e.what());
        }
    } else {
        begin.seeds = nlohmann::json(options.seeds).dump();
        nlohmann::json defining = defining_options(options);
        if (warc) {
            defining["warc"] = o.warc.file;
            defining["warc_max_size"] = o.warc.max_size;
        }
        if (mirror) {
            defining["mirror"] = o.mirror_dir;
        }
        begin.options = defining.dump();
        begin.frontier = job.push_seeds();
    }
    if (store) {
        if (auto r = store->submit(std::move(begin)); !r) {
            throw FatalError(r.error().message);
        }
    }
    job.set_waker([&] { fetcher->wake(); });
    job.set_archive(warc.get());
    job.set_mirror(mirror.get());

    const auto& c = job.counters();
    auto started = std::chrono::steady_clock::now();
    {
        StallWatchdog watchdog(job, o.common.quiet
                                        ? std::chrono::nanoseconds(0)
                                        : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::duration<double>(o.stall_after_s)));
        ProgressLine progress(
            progress_enabled(progress_mode) && !o.common.quiet, [&](double elapsed) {
                const std::uint64_t done = c.pages.load();
                const double rate = elapsed > 0 ? double(done) / elapsed : 0;
                return fmt::format("done {}  in flight {}  queued {}  errors {}  {:.0f} pages/s  "
                                   "{}  hosts waiting {}",
                                   pages_before + done, c.in_flight.load(), c.queued.load(),
                                   c.errors.load() + c.not_found.load(), rate,
                                   format_bytes(double(c.bytes.load())), c.hosts_waiting.load());
            });
        fetcher->run(job, job);
        if (interrupt.interrupted()) {
            job.mark_interrupted();
        }
        job.finish();
    }
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const bool warc_ok = !warc || close_warc(*warc, true);

    const crawler::StopReason reason = job.stop_reason();
    const std::string stop_text = job.stop_text();
    storage::RunTotals totals{.ok = c.ok + c.redirects,
                              .not_found = c.not_found,
                              .errors = c.errors,
                              .bytes = c.bytes,
                              .requests = c.requests};
    const crawler::FrontierStats fs = job.frontier_stats();
    if (store) {
        storage::CrawlStatus crawl_status =
            reason == crawler::StopReason::frontier_exhausted ? storage::CrawlStatus::finished
            : reason == crawler::StopReason::interrupted      ? storage::CrawlStatus::interrupted
            : reason == crawler::StopReason::failed           ? storage::CrawlStatus::failed
                                                              : storage::CrawlStatus::stopped;
        // The seen-set as this run leaves it: `stats` reports its RAM per seen URL from these.
        (void)store->submit(
            storage::CrawlEndRecord{crawl_id, crawl_status, stop_text, fs.seen, fs.seen_bytes});
    }
    // The run fails exactly when the store did (StopReason::failed).
    run.finish(totals, reason == crawler::StopReason::interrupted, job.store_error());

    const std::uint64_t pages = c.pages;
    const double rate = elapsed_s > 0 ? double(pages) / elapsed_s : 0;
    if (o.common.json) {
        nlohmann::json errors_by_kind = nlohmann::json::object();
        for (const auto& [kind, count] : job.errors_by_kind()) {
            errors_by_kind[kind] = count;
        }
        nlohmann::json summary = {{"command", "crawl"},
                                  {"pages", pages},
                                  {"ok", c.ok.load()},
                                  {"redirects", c.redirects.load()},
                                  {"not_found", c.not_found.load()},
                                  {"errors", c.errors.load()},
                                  {"errors_by_kind", errors_by_kind},
                                  {"disallowed", c.disallowed.load()},
                                  {"robots_fetches", c.robots_fetches.load()},
                                  {"deferred", c.deferred.load()},
                                  {"bytes", c.bytes.load()},
                                  {"requests", c.requests.load()},
                                  {"elapsed_s", elapsed_s},
                                  {"pages_per_s", rate},
                                  {"stop_reason", crawler::to_string(reason)},
                                  {"stop", stop_text},
                                  {"queued_left", fs.queued},
                                  {"seen", fs.seen},
                                  {"seen_bytes", fs.seen_bytes},
                                  {"hosts", fs.hosts},
                                  {"strategy", fetch::to_string(strategy)},
                                  {"concurrency", concurrency},
                                  {"per_host", o.per_host},
                                  {"resumed", resumed.has_value()},
                                  {"pages_before", pages_before},
                                  {"db", db_path(o.common)},
                                  {"run_id", run_id},
                                  {"crawl_id", crawl_id}};
        std::cout << summary.dump() << '\n';
    } else if (!o.common.quiet) {
        print_line(stdout,
                   fmt::format("{} pages ({} ok, {} redirects, {} not found, {} errors), {} in "
                               "{:.2f} s, {:.0f} pages/s ({}, concurrency {}, per host {})",
                               pages, c.ok.load(), c.redirects.load(), c.not_found.load(),
                               c.errors.load(), format_bytes(double(c.bytes.load())), elapsed_s,
                               rate, fetch::to_string(strategy), concurrency, o.per_host));
        std::string extra;
        if (c.disallowed > 0) {
            extra += fmt::format("; {} disallowed by robots.txt", c.disallowed.load());
        }
        if (c.deferred > 0) {
            extra += fmt::format("; {} throttled responses deferred", c.deferred.load());
        }
        print_line(stdout, fmt::format("{}; {} queued left; crawl {}{}{}", stop_text, fs.queued,
                                       crawl_id, resumed ? " (resumed)" : "", extra));
        if (warc && warc_ok) {
            print_warc_summary(*warc);
        }
        if (mirror) {
            print_line(stdout, fmt::format("mirror: {} files saved in {}", mirror->saved(),
                                           mirror->root().string()));
        }
    }
    if (mirror && mirror->failed() > 0) {
        print_line(stderr, fmt::format("flagcrawl: {} files could not be saved in the mirror: {}",
                                       mirror->failed(), mirror->first_error()));
    }
    if (reason == crawler::StopReason::interrupted) {
        return k_exit_interrupted;
    }
    if (!warc_ok) {
        return k_exit_fatal;
    }
    const bool unsaved = mirror && mirror->failed() > 0;
    return c.not_found + c.errors > 0 || unsaved ? k_exit_failed : k_exit_ok;
}

} // namespace

void register_crawl(CLI::App& app, int& exit_code) {
    auto o = std::make_shared<CrawlCliOptions>();
    CLI::App* cmd = app.add_subcommand(
        "crawl", "Crawl sites from seed URLs: follow links within a scope, politely (per-host "
                 "limits, delay, robots.txt), recording pages, links and the frontier in the DB "
                 "so that --resume continues an interrupted crawl");
    cmd->add_option("urls", o->urls, "Seed URLs (http or https)");
    cmd->add_option("-d,--depth", o->depth,
                    "Link hops followed from a seed; -1 = unlimited (default; wget -r uses 5)")
        ->capture_default_str()
        ->group("Limits");
    cmd->add_option("--max-pages", o->max_pages,
                    "Stop after this many pages fetched by the crawl (0 = no limit)")
        ->group("Limits");
    cmd->add_option("--max-bytes", o->max_bytes,
                    "Stop once the crawl received this many body bytes, e.g. 100M")
        ->group("Limits");
    cmd->add_option("--max-time", o->max_time_s, "Stop after this many seconds (0 = no limit)")
        ->group("Limits");
    cmd->add_option("--scope", o->scope,
                    "Links followed: host (a seed's host, any port), domain (a seed's registrable "
                    "domain, by the public suffix list), prefix (a seed's host and directory), any")
        ->capture_default_str()
        ->group("Scope");
    cmd->add_option("--include", o->include,
                    "Follow only URLs matching this RE2 regex (repeatable; any one matches)")
        ->group("Scope");
    cmd->add_option("--exclude", o->exclude,
                    "Never follow URLs matching this RE2 regex (repeatable)")
        ->group("Scope");
    cmd->add_flag("--page-requisites", o->page_requisites,
                  "Also fetch images, stylesheets, scripts and other assets of pages")
        ->group("Scope");
    cmd->add_flag("--canonical-query", o->canonical_query,
                  "Treat URLs differing only in query parameter order or session ids as one")
        ->group("Scope");
    cmd->add_option("--max-redirect", o->max_redirects, "Redirect hops followed from one URL")
        ->capture_default_str()
        ->group("Scope");
    cmd->add_option("--per-host", o->per_host, "Requests in flight per host")
        ->capture_default_str()
        ->group("Politeness");
    cmd->add_option("--delay", o->delay_s,
                    "Seconds between requests to one host, randomized x0.5-1.5 (robots.txt "
                    "Crawl-delay raises it, up to 10 s)")
        ->capture_default_str()
        ->group("Politeness");
    cmd->add_flag("--no-robots", o->no_robots,
                  "Ignore robots.txt, meta robots, X-Robots-Tag and rel=nofollow")
        ->group("Politeness");
    cmd->add_flag("--save-bodies", o->save_bodies, "Store response bodies in the DB")
        ->group("Output");
    cmd->add_option("-o,--out", o->mirror_dir,
                    "Also save every page and file fetched as DIR/HOST[:PORT]/PATH, as wget -r "
                    "-x does (\"index.html\" for a directory, the query kept in the name: "
                    "page.html?x=1), written atomically, never outside DIR")
        ->group("Output");
    add_warc_options(*cmd, o->warc);
    cmd->add_flag("--resume", o->resume,
                  "Continue the most recent unfinished crawl in the DB (its seeds and scope)")
        ->group("Output");
    cmd->add_option("--parse-threads", o->parse_threads,
                    "HTML parser threads; 0 parses on the fetch thread (default: 0 on one "
                    "usable CPU, else one per CPU up to 4)")
        ->group("Tuning");
    cmd->add_option("--stall-after", o->stall_after_s,
                    "When nothing completes for this many seconds, say what the crawl waits on "
                    "(0 = never)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber)
        ->group("Tuning");
    cmd->add_option("--frontier-window", o->window,
                    "Queued URLs kept in memory; the rest wait in the DB")
        ->capture_default_str()
        ->group("Tuning");
    add_common_options(*cmd, o->common, k_default_timeout_s);
    cmd->footer("Defaults: concurrency 16, per host 8, delay 0, robots.txt obeyed, scope host, "
                "depth unlimited, timeout 30 s, --max-size 16M. Exit: 0 all pages ok, 1 some "
                "failed (404s included), 2 usage, 3 fatal, 130 interrupted (resumable).\n"
                "Examples:\n"
                "  flagcrawl crawl https://example.org/ --depth 3 --db site.db\n"
                "  flagcrawl crawl https://example.org/ --page-requisites -o site/  "
                "# site/example.org/index.html ...\n"
                "  flagcrawl crawl https://example.org/ --warc site --warc-max-size 1G  "
                "# site-00000.warc.gz ..., site.cdxj\n"
                "  flagcrawl crawl --resume --db site.db   # the WARC goes on where it stopped");
    cmd->callback([o, cmd, &exit_code] {
        if (o->resume) {
            // The resumed crawl keeps the options it was started with (apply_stored_options).
            for (const char* name :
                 {"--depth", "--scope", "--include", "--exclude", "--page-requisites",
                  "--canonical-query", "--max-redirect", "--no-robots", "--save-bodies", "--warc",
                  "--warc-max-size", "--out"}) {
                if (cmd->count(name) > 0) {
                    throw UsageError(fmt::format("crawl --resume: {} cannot be changed (the crawl "
                                                 "keeps the options it was started with)",
                                                 name));
                }
            }
        }
        exit_code = run_crawl(*o);
    });
}

} // namespace flagcrawl::cli
