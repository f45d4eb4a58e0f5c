// `flagcrawl crawl`: crawl sites from seed URLs with the chosen strategy (frontier, politeness,
// robots.txt, limits), record pages, links and the frontier, resume an unfinished crawl.
#include "commands.hpp"
#include "common.hpp"
#include "config_file.hpp"
#include "interrupt.hpp"
#include "progress.hpp"
#include "stall_watchdog.hpp"
#include "warc_output.hpp"

#include "crawler/crawl/crawl.hpp"
#include "crawler/mirror/convert.hpp"
#include "crawler/mirror/mirror.hpp"
#include "crawler/pgfrontier/pg_frontier.hpp"
#include "crawler/url/url.hpp"
#include "storage/reader.hpp"
#include "util/elide.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include <sched.h>
#include <unistd.h>

namespace flagcrawl::cli {
namespace {

constexpr int k_default_concurrency = 16;         // Scrapy's CONCURRENT_REQUESTS
constexpr int k_default_per_host = 8;             // Scrapy's CONCURRENT_REQUESTS_PER_DOMAIN
constexpr double k_default_timeout_s = 30;        // per request
constexpr const char* k_default_max_size = "16M"; // a crawler keeps bodies in memory
constexpr double k_default_stall_after_s = 10;
// After the first Ctrl-C, requests in flight get this long before they are cut short.
constexpr std::chrono::seconds k_grace{2};
// A process the watcher must end records its run as interrupted, waiting at most this long for
// the writer's lock.
constexpr std::chrono::milliseconds k_last_words_busy{300};
constexpr int k_max_auto_parse_threads = 4; // parsers by default, at most
// Bounds of the options that start threads or hold connections open (say them in --help): a
// parser thread per CPU is the useful maximum; past a thousand requests in flight a crawl only
// starves the machine (threaded: a thread each) and the servers.
constexpr int k_max_parse_threads = 64;
constexpr int k_max_concurrency = 1000;
constexpr int k_max_per_host = 100;
constexpr int k_max_redirects_bound = 100;
constexpr double k_max_delay_s = 3600;
constexpr double k_default_lease_s = 30; // a shared crawl's host leases
constexpr double k_min_lease_s = 1;
constexpr double k_max_lease_s = 3600;
// The crawl's store. A crawl submits a record of ~30 links per page (5-10 KB with its
// discoveries), several thousand a second. The queue holds at most 2 MiB of them (a few hundred
// records, tens of ms of crawling), or 1024 records: the writer shares the crawl's CPU, and when
// it falls behind, 1024 records of 10 KB grow the heap by ~10 MiB that stays resident (a
// 1,000,000-page crawl: 48 MiB peak instead of 40; storage/README.md). The writer takes records
// 16 at a time (wake_records) so that few wait in memory, which cut the peak RSS of a 5000-page
// crawl by ~0.5 MiB against 256 at a time, for ~2 context switches per 16 pages.
constexpr storage::WriterOptions k_writer_options{
    .queue_capacity = 1024, .queue_bytes = 2 << 20, .wake_records = 16};

struct CrawlCliOptions {
    std::vector<std::string> urls;
    int depth = 5; // wget -r's default
    std::uint64_t max_pages = 0;
    // Trap defences, on by default (0 turns one off).
    std::uint64_t max_url_length = 2048;
    int max_segment_repeats = 2;
    std::uint32_t max_per_dir = 1000;
    std::string max_bytes;
    double max_time_s = 0;
    std::string scope = "host";
    std::vector<std::string> include;
    std::vector<std::string> exclude;
    int per_host = k_default_per_host;
    double delay_s = 0;
    bool no_robots = false;
    bool sitemaps = false; // --sitemaps: the default, named
    bool no_sitemaps = false;
    bool canonical_query = false;
    bool save_bodies = false;
    bool page_requisites = false;
    bool check_external = false;
    bool resume = false;
    int parse_threads = -1; // -1: by the CPUs this process may use
    std::string html_parser = "fast";
    std::size_t window = 10'000;
    int max_redirects = 10;
    double stall_after_s = k_default_stall_after_s;
    WarcCliOptions warc;
    std::string mirror_dir; // -o DIR; empty: no mirror
    bool convert_links = false;
    std::string frontier;   // a shared crawl's PostgreSQL server (libpq connection string)
    std::string crawl_name; // the shared crawl's name
    double lease_s = k_default_lease_s;
    CommonOptions common;
};

// This worker in the shared crawl's workers table: host name and process id.
std::string worker_label() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) {
        std::snprintf(host, sizeof host, "localhost");
    }
    return fmt::format("{}:{}", host, ::getpid());
}

// The options a user named on the command line, of those a resume or a join takes from the
// stored crawl.
std::set<std::string, std::less<>> given_options(const CLI::App& cmd) {
    std::set<std::string, std::less<>> given;
    for (const auto& names : {crawler::defining_options(), crawler::kept_options()}) {
        for (std::string_view name : names) {
            if (cmd.count(std::string(name)) > 0) {
                given.emplace(name);
            }
        }
    }
    return given;
}

// CPUs this process may run on (its affinity mask), else the machine's.
int usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

crawler::CrawlSettings make_settings(CrawlCliOptions& o) {
    crawler::CrawlSettings c;
    if (o.depth < -1) {
        throw UsageError("--depth: expected -1 (unlimited) or a number >= 0");
    }
    c.max_depth = o.depth;
    auto scope = crawler::parse_scope(o.scope);
    if (!scope) {
        throw UsageError(
            fmt::format("--scope: expected host, domain, prefix or any, got '{}'", o.scope));
    }
    c.scope = *scope;
    c.include = o.include;
    c.exclude = o.exclude;
    c.robots = !o.no_robots;
    c.sitemaps = !o.no_sitemaps;
    c.canonical_query = o.canonical_query;
    c.save_bodies = o.save_bodies;
    c.page_requisites = o.page_requisites;
    c.check_external = o.check_external;
    c.max_redirects = o.max_redirects;
    c.max_url_length = o.max_url_length;
    c.max_segment_repeats = o.max_segment_repeats;
    c.max_per_directory = o.max_per_dir;
    if (!o.warc.file.empty()) {
        // Absolute, so that a resume from any folder goes on with the same files.
        c.warc = std::filesystem::absolute(o.warc.file).string();
    }
    c.warc_max_size = o.warc.max_size;
    if (!o.mirror_dir.empty()) {
        c.mirror = std::filesystem::absolute(o.mirror_dir).string();
    }

    c.strategy = parse_strategy_option(o.common);
    c.concurrency = o.common.concurrency > 0 ? o.common.concurrency : k_default_concurrency;
    c.per_host = o.per_host;
    if (!(o.delay_s >= 0) || !std::isfinite(o.delay_s) || o.delay_s > k_max_delay_s) {
        throw UsageError(fmt::format("--delay: expected seconds from 0 to {}", k_max_delay_s));
    }
    c.delay = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(o.delay_s));
    if (o.common.max_size.empty()) {
        o.common.max_size = k_default_max_size;
    }
    c.policy = make_policy(o.common);

    c.max_pages = o.max_pages;
    if (!o.max_bytes.empty()) {
        c.max_bytes = parse_size(o.max_bytes, "--max-bytes");
    }
    if (!(o.max_time_s >= 0) || !std::isfinite(o.max_time_s)) {
        throw UsageError("--max-time: expected seconds >= 0");
    }
    c.max_time = std::chrono::milliseconds(static_cast<std::int64_t>(o.max_time_s * 1000));
    for (const auto& seed : o.urls) {
        auto url = crawler::parse(seed);
        if (!url || !url->is_http()) {
            throw UsageError(fmt::format("crawl: not an http(s) URL: '{}'", seed));
        }
        c.seeds.emplace_back(url->href_without_fragment());
    }
    return c;
}

// What the command line asks of the crawl.
crawler::CrawlStart make_start(CrawlCliOptions& o, const CLI::App& cmd,
                               std::shared_ptr<pgfrontier::SharedCrawl>& shared) {
    if (o.resume && !o.urls.empty()) {
        throw UsageError("crawl --resume: give no URLs (the crawl's seeds are in the DB)");
    }
    if (!o.resume && o.urls.empty() && o.frontier.empty()) {
        throw UsageError("crawl: no seed URLs given");
    }
    if (o.resume && o.common.no_db) {
        throw UsageError("crawl --resume: needs the DB (--no-db given)");
    }
    crawler::CrawlStart start;
    start.resume = o.resume;
    start.settings = make_settings(o);
    if (o.resume) {
        start.given_options = given_options(cmd);
    }
    if (!o.frontier.empty()) {
        // The shared crawl, defined (seeds given) or joined, before anything local is written.
        pgfrontier::SharedCrawlOptions so;
        so.conninfo = o.frontier;
        so.name = o.crawl_name;
        so.lease = std::chrono::milliseconds(static_cast<std::int64_t>(o.lease_s * 1000));
        so.label = worker_label();
        auto opened = pgfrontier::SharedCrawl::open(std::move(so), start.settings,
                                                    given_options(cmd), !o.urls.empty());
        if (!opened) {
            if (opened.error().kind == pgfrontier::SharedCrawlError::Kind::usage) {
                throw UsageError(opened.error().message);
            }
            throw FatalError(opened.error().message);
        }
        shared = std::move(*opened);
        start.settings = shared->settings();
        start.make_frontier = [shared](const crawler::FrontierOptions& options,
                                       storage::Writer* writer) {
            return shared->make_frontier(options, writer);
        };
    }
    start.db = db_path(o.common);
    if (!start.db.empty() && o.common.db.empty()) {
        // The default location may not exist yet on a fresh account; a --db folder must.
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(start.db).parent_path(), ec);
    }
    start.writer_options = k_writer_options;
    start.arguments = process_arguments();
    // One usable CPU (taskset, a container's cpuset): parse on the fetch thread, since a pool
    // would only add context switches. Otherwise one parser per CPU: parsing is ~85 % of a
    // crawl's CPU and the fetch thread needs little (a 5000-page crawl on 2 CPUs: 3.3 s with
    // one parser, 2.0-2.6 s with two).
    const int cpus = usable_cpus();
    start.parse_threads = o.parse_threads >= 0 ? o.parse_threads
                          : cpus == 1          ? 0
                                               : std::min(cpus, k_max_auto_parse_threads);
    const auto parser = crawler::html_parser_from_string(o.html_parser);
    if (!parser) {
        throw UsageError(
            fmt::format("--html-parser: expected fast or full, got '{}'", o.html_parser));
    }
    start.html_parser = *parser;
    if (o.window < 2) {
        throw UsageError("--frontier-window: expected a number >= 2");
    }
    start.frontier.window = o.window;
    start.frontier.seed =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return start;
}

// The crawl's WARC, fed with every exchange: a capture equips each request, and each response's
// capture is archived (deferred 429s, robots.txt and redirect hops included).
class WarcExchanges final : public crawler::ExchangeConsumer {
public:
    explicit WarcExchanges(archive::WarcWriter& writer)
        : m_writer(writer) {}
    void prepare(fetch::Request& request) override { request.capture = m_writer.capture(); }
    void consume(const crawler::FrontierJob&, fetch::Response& response) override {
        m_writer.archive(std::move(response.capture), !response.error);
    }
    std::optional<std::string> error() const override {
        if (auto error = m_writer.error()) {
            return "WARC: " + *error;
        }
        return std::nullopt;
    }

private:
    archive::WarcWriter& m_writer;
};

// The crawl's mirror (-o DIR): every 2xx body of a page or requisite saved as a file (robots.txt
// not). A file that cannot be saved is counted by the writer, not a reason to stop.
// With --convert-links (and no DB to read them back from), the files saved and the redirects
// met are kept for the conversion.
class MirrorExchanges final : public crawler::ExchangeConsumer {
public:
    MirrorExchanges(crawler::MirrorWriter& writer, bool keep_index)
        : m_writer(writer)
        , m_keep_index(keep_index) {}
    void consume(const crawler::FrontierJob& job, fetch::Response& response) override {
        if (job.kind != crawler::FrontierJob::Kind::fetch || response.error) {
            return;
        }
        const int status = response.http_status;
        if (m_keep_index && status >= 300 && status < 400 && !response.location.empty()) {
            m_index.add_redirect(response.url, response.location);
        }
        if (status < 200 || status >= 300) {
            return;
        }
        if (auto url = crawler::parse(response.url)) {
            if (m_writer.save(crawler::mirror_path(*url), response.body).empty() && m_keep_index) {
                m_index.add_file({response.url, response.content_type});
            }
        }
    }
    crawler::MirrorIndex& index() { return m_index; }

private:
    crawler::MirrorWriter& m_writer;
    bool m_keep_index;
    crawler::MirrorIndex m_index;
};

// The mirror as the crawl's pages say (every run of it): files saved (2xx) and redirects. The
// crawl brought the file to the latest schema; its external checks were not saved.
crawler::MirrorIndex mirror_index_from_db(const std::string& db, std::int64_t crawl_id) {
    auto reader = storage::Reader::open(db);
    if (!reader) {
        throw FatalError(reader.error().message);
    }
    auto statement = reader->database().prepare(
        "SELECT url, http_status, coalesce(content_type, ''), coalesce(location, '') FROM pages "
        "WHERE crawl_id = ? AND kind != 'robots' AND external = 0 AND http_status IS NOT NULL "
        "ORDER BY id");
    statement.bind(1, crawl_id);
    crawler::MirrorIndex index;
    auto read = storage::for_each_row(statement, [&](const storage::Statement& row) {
        const auto status = row.column_int64(1);
        if (status >= 200 && status < 300) {
            index.add_file({std::string(row.column_text(0)), std::string(row.column_text(2))});
        } else if (status >= 300 && status < 400 && !row.is_null(3)) {
            index.add_redirect(std::string(row.column_text(0)), std::string(row.column_text(3)));
        }
        return true;
    });
    if (!read) {
        throw FatalError(read.error().message);
    }
    return index;
}

// Hands the watcher's stop requests to the crawl once there is one, and never after it is gone.
class StopRelay {
public:
    void stop(fetch::StopMode mode) {
        std::lock_guard lock(m_mutex);
        if (m_crawl != nullptr) {
            m_crawl->stop(mode);
        }
    }
    void set(crawler::Crawl* crawl) {
        std::lock_guard lock(m_mutex);
        m_crawl = crawl;
    }

private:
    std::mutex m_mutex;
    crawler::Crawl* m_crawl = nullptr;
};

// A failure names the page that led to it, so that a broken link can be found and fixed from
// the crawl's own output: " (linked from URL)", " (redirected from URL)"; "" for a seed.
std::string referrer_text(const crawler::CrawlItem& item) {
    if (item.referrer.empty()) {
        return {};
    }
    return fmt::format(" ({} from {})", item.redirected ? "redirected" : "linked",
                       util::elide(item.referrer));
}

// -q keeps the failed items (one line each, as curl -sS and wget -nv do) and drops the rest:
// progress, notices, stall lines and the summary.
void print_item(const crawler::CrawlItem& item, const CommonOptions& o) {
    const auto& r = item.record;
    if (o.verbose) {
        std::string status = r.http_status ? std::to_string(*r.http_status) : "---";
        std::string detail = r.error ? *r.error : r.location ? "-> " + *r.location : "";
        if (item.failed) {
            detail += referrer_text(item);
        }
        print_line(stderr,
                   fmt::format("{} {} d{} {:.0f} ms {}  {}", status, util::elide(r.url), r.depth,
                               r.elapsed_ms, format_bytes(double(r.bytes)), detail));
    } else if (item.failed) {
        print_line(stderr, fmt::format("flagcrawl: {}: {}{}", util::elide(r.url),
                                       r.error.value_or("failed"), referrer_text(item)));
    }
    // A chain that failed at a later hop fails the URL that started it: its line, as if that URL
    // had failed itself (this hop's own row stays a redirect).
    if (item.chain_failed && r.chain_failure) {
        const std::string_view start = item.chain_url.empty() ? r.url : item.chain_url;
        print_line(
            stderr,
            fmt::format("flagcrawl: {}: {}{}", util::elide(start), r.chain_failure->error,
                        item.chain_referrer.empty()
                            ? std::string()
                            : fmt::format(" (linked from {})", util::elide(item.chain_referrer))));
    }
    // Even with -q, as wget2 prints its sitemap limits.
    for (const std::string& warning : item.warnings) {
        print_line(stderr,
                   fmt::format("flagcrawl: warning: sitemap {}: {}", util::elide(r.url), warning));
    }
}

// The command that continues an interrupted crawl, as the user can paste it: this program, the
// config file chosen, --resume and the DB by its absolute path. "" when it cannot be resumed that
// way (no DB; a shared crawl is continued by joining it again).
std::string resume_command(const CrawlCliOptions& o) {
    const std::string db = db_path(o.common);
    if (db.empty() || !o.frontier.empty()) {
        return {};
    }
    std::string command = invoked_program();
    for (const std::string& arg : config_arguments()) {
        command += " " + shell_quote(arg);
    }
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(db, ec);
    return command + " crawl --resume --db " + shell_quote(ec ? db : absolute.string());
}

// "120 out_of_scope (scope host 118, --include/--exclude 2), 8 limit_reached (--depth 3)": the
// skips by kind, largest first, each with the rules that decided them.
std::string skipped_text(const crawler::CrawlTotals& t) {
    std::vector<std::pair<std::string, std::uint64_t>> kinds(t.skipped_by_kind.begin(),
                                                             t.skipped_by_kind.end());
    std::stable_sort(kinds.begin(), kinds.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string text;
    for (const auto& [kind, count] : kinds) {
        std::vector<std::pair<std::string, std::uint64_t>> rules;
        for (const auto& [rule, n] : t.skipped_by_rule) {
            if (rule.starts_with(kind + ": ")) {
                rules.emplace_back(rule.substr(kind.size() + 2), n);
            }
        }
        text += fmt::format("{}{} {}", text.empty() ? "" : ", ", count, kind);
        if (rules.size() == 1) {
            text += " (" + rules.front().first + ")";
        } else if (!rules.empty()) {
            std::string inner;
            for (const auto& [rule, n] : rules) {
                inner += fmt::format("{}{} {}", inner.empty() ? "" : ", ", rule, n);
            }
            text += " (" + inner + ")";
        }
    }
    return text;
}

void print_summary(const crawler::Crawl& crawl, const crawler::CrawlReport& report,
                   const CrawlCliOptions& o) {
    const std::string resume =
        report.reason == crawler::StopReason::interrupted ? resume_command(o) : std::string();
    const crawler::CrawlTotals& t = report.totals;
    const crawler::CrawlSettings& s = crawl.settings();
    const double rate = report.elapsed_s > 0 ? double(t.pages) / report.elapsed_s : 0;
    const double delay_s = std::chrono::duration<double>(s.delay).count();
    if (o.common.json) {
        nlohmann::json errors_by_kind = nlohmann::json::object();
        for (const auto& [kind, count] : t.errors_by_kind) {
            errors_by_kind[kind] = count;
        }
        nlohmann::json skipped_by_kind = nlohmann::json::object();
        for (const auto& [kind, count] : t.skipped_by_kind) {
            skipped_by_kind[kind] = count;
        }
        nlohmann::json summary = {
            {"command", "crawl"},
            {"pages", t.pages},
            {"ok", t.ok},
            {"redirects", t.redirects},
            {"not_found", t.not_found},
            {"errors", t.errors},
            {"errors_by_kind", errors_by_kind},
            {"disallowed", t.disallowed},
            {"skipped", t.skipped},
            {"skipped_by_kind", skipped_by_kind},
            {"robots_fetches", t.robots_fetches},
            {"external_checked", t.external_checked},
            {"external_broken", t.external_broken},
            {"deferred", report.deferred},
            {"bytes", t.bytes},
            {"requests", t.requests},
            {"elapsed_s", report.elapsed_s},
            {"pages_per_s", rate},
            {"parse_cpu_s", report.parse_cpu_s},
            {"stop_reason", crawler::to_string(report.reason)},
            {"stop", report.stop_text},
            {"queued_left", report.frontier.queued},
            // URLs accepted and URLs skipped: the keys the
            // crawl keeps in memory, as the crawls row records them.
            {"seen", report.frontier.seen + report.frontier.skipped},
            {"seen_bytes", report.frontier.seen_bytes + report.frontier.skipped_bytes},
            {"hosts", report.frontier.hosts},
            {"strategy", fetch::to_string(s.strategy)},
            {"concurrency", crawl.concurrency()},
            {"per_host", s.per_host},
            {"delay_s", delay_s},
            {"resumed", crawl.resumed()},
            {"pages_before", crawl.pages_before()},
            {"db", db_path(o.common)},
            {"run_id", crawl.run_id()},
            {"crawl_id", crawl.crawl_id()}};
        if (!resume.empty()) {
            summary["resume_command"] = resume;
        }
        std::cout << summary.dump() << '\n';
        return;
    }
    if (o.common.quiet) {
        return;
    }
    print_line(stdout, fmt::format("{} pages ({} ok, {} redirects, {} not found, {} errors), {} in "
                                   "{:.2f} s, {:.0f} pages/s ({}, concurrency {}, per host {}{})",
                                   t.pages, t.ok, t.redirects, t.not_found, t.errors,
                                   format_bytes(double(t.bytes)), report.elapsed_s, rate,
                                   fetch::to_string(s.strategy), crawl.concurrency(), s.per_host,
                                   delay_s > 0 ? fmt::format(", delay {:g} s", delay_s) : ""));
    std::string extra;
    if (t.disallowed > 0) {
        extra += fmt::format("; {} disallowed by robots.txt", t.disallowed);
    }
    if (report.deferred > 0) {
        extra += fmt::format("; {} throttled responses deferred", report.deferred);
    }
    if (t.external_checked > 0) {
        print_line(stdout, fmt::format("{} external links checked, {} broken", t.external_checked,
                                       t.external_broken));
    }
    if (t.skipped > 0) {
        print_line(stdout, fmt::format("{} URLs skipped (seen, not fetched): {}", t.skipped,
                                       skipped_text(t)));
    }
    print_line(stdout, fmt::format("{}; {} queued left; crawl {}{}{}", report.stop_text,
                                   report.frontier.queued, crawl.crawl_id(),
                                   crawl.resumed() ? " (resumed)" : "", extra));
    if (!resume.empty()) {
        print_line(stderr, "flagcrawl: interrupted; to continue: " + resume);
    }
}

int run_crawl(CrawlCliOptions& o, const CLI::App& cmd) {
    // First of all, so that Ctrl-C works whatever comes next (a locked store, a thread that
    // cannot start): the watcher blocks the signals for the threads to come.
    StopRelay relay;
    InterruptWatcher interrupt([&](fetch::StopMode mode) { relay.stop(mode); }, k_grace);

    ProgressMode progress_mode = parse_progress_mode(o.common.progress);
    std::shared_ptr<pgfrontier::SharedCrawl> shared;
    auto opened = crawler::Crawl::open(make_start(o, cmd, shared));
    if (!opened) {
        if (opened.error().kind == crawler::CrawlSetupError::Kind::usage) {
            throw UsageError(opened.error().message);
        }
        throw FatalError(opened.error().message);
    }
    crawler::Crawl& crawl = **opened;
    // The outputs, once the crawl's settings are known (a resume's WARC is the crawl's) and
    // before anything is recorded.
    const crawler::CrawlSettings& settings = crawl.settings();
    std::unique_ptr<archive::WarcWriter> warc =
        open_warc({settings.warc, settings.warc_max_size, o.warc.gzip_level}, crawl.resumed(),
                  settings.robots ? "obey" : "ignore");
    std::optional<WarcExchanges> warc_exchanges;
    // A page is committed to the database only once its response is in the WARC, so that after
    // a kill the archive lacks no page the crawl recorded (--resume fetches what it did not
    // record). The gate is removed before the WARC writer goes (declared after it).
    class CommitGate {
    public:
        CommitGate(crawler::Crawl& crawl, archive::WarcWriter& warc)
            : m_crawl(crawl) {
            m_crawl.gate_commits([&warc] { warc.wait_archived(); });
        }
        ~CommitGate() { m_crawl.gate_commits({}); }
        CommitGate(const CommitGate&) = delete;
        CommitGate& operator=(const CommitGate&) = delete;

    private:
        crawler::Crawl& m_crawl;
    };
    std::optional<CommitGate> commit_gate;
    if (warc) {
        crawl.add_consumer(warc_exchanges.emplace(*warc));
        commit_gate.emplace(crawl, *warc);
    }
    std::unique_ptr<crawler::MirrorWriter> mirror;
    std::optional<MirrorExchanges> mirror_exchanges;
    if (!settings.mirror.empty()) {
        try {
            mirror = std::make_unique<crawler::MirrorWriter>(settings.mirror);
        } catch (const std::runtime_error& e) {
            throw FatalError(e.what());
        }
        crawl.add_consumer(
            mirror_exchanges.emplace(*mirror, o.convert_links && db_path(o.common).empty()));
    } else if (o.convert_links) {
        throw UsageError("--convert-links: needs -o DIR (the mirror to convert)");
    }
    crawl.on_item([&](const crawler::CrawlItem& item) { print_item(item, o.common); });

    crawler::CrawlReport report;
    {
        // The command's threads start before the crawl's run is recorded (start()), so that one
        // that cannot start leaves no run behind.
        const auto& c = crawl.counters();
        const std::uint64_t pages_before = crawl.pages_before();
        StallWatchdog watchdog(
            {.last_completion_ns = [&c] { return c.last_completion_ns.load(); },
             .busy = [&c] { return c.in_flight.load() > 0 || c.queued.load() > 0; },
             .request_report = [&crawl] { crawl.request_stall_report(); },
             .report = [&crawl] { return crawl.stall_report(); }},
            o.common.quiet ? std::chrono::nanoseconds(0)
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
        if (auto started = crawl.start(); !started) {
            throw FatalError(started.error().message);
        }
        relay.set(&crawl);
        interrupt.set_last_words([&crawl] { crawl.record_interrupted_now(k_last_words_busy); });
        if (interrupt.interrupted()) {
            crawl.stop(fetch::StopMode::drain); // a signal came before the crawl could hear it
        }
        if (shared && !o.common.quiet) {
            std::string changes;
            for (const auto& change : shared->changes()) {
                changes += fmt::format("{}{} {} (was {})", changes.empty() ? "" : ", ",
                                       change.option, change.now, change.was);
            }
            print_line(stderr,
                       fmt::format("flagcrawl: {} shared crawl '{}' on {} as worker {}{}",
                                   shared->defined() ? "defined" : "joined", o.crawl_name,
                                   pgfrontier::conninfo_target(o.frontier), shared->worker_id(),
                                   changes.empty() ? "" : " with " + changes));
        }
        if (!crawl.changes().empty() && !o.common.quiet) {
            std::string changes;
            for (const auto& change : crawl.changes()) {
                changes += fmt::format("{}{} {} (was {})", changes.empty() ? "" : ", ",
                                       change.option, change.now, change.was);
            }
            print_line(stderr, fmt::format("flagcrawl: resuming crawl {} with {}", crawl.crawl_id(),
                                           changes));
        }
        try {
            report = crawl.run();
        } catch (const std::system_error& e) {
            // The strategy's own threads (threaded: one per request in flight).
            throw FatalError(std::string("cannot start a thread: ") + e.what());
        }
    }
    interrupt.set_last_words({});
    relay.set(nullptr);
    const bool warc_ok = !warc || close_warc(*warc, true);
    print_summary(crawl, report, o);
    if (!o.common.quiet && !o.common.json) {
        if (warc && warc_ok) {
            print_warc_summary(*warc);
        }
        if (mirror) {
            print_line(stdout, fmt::format("mirror: {} files saved in {}", mirror->saved(),
                                           mirror->root().string()));
        }
    }
    // Converted once the crawl is over (a stopped one too), not when it was cut short: a
    // resumed crawl is converted at its end.
    bool unconverted = false;
    if (o.convert_links && mirror && report.reason != crawler::StopReason::interrupted &&
        report.reason != crawler::StopReason::failed) {
        crawler::MirrorIndex from_db;
        const std::string db = db_path(o.common);
        if (!db.empty()) {
            from_db = mirror_index_from_db(db, crawl.crawl_id());
        }
        const crawler::ConvertTotals t =
            crawler::convert_links(*mirror, db.empty() ? mirror_exchanges->index() : from_db);
        if (!o.common.quiet && !o.common.json) {
            print_line(stdout, fmt::format("links converted in {} files: {} to files of the "
                                           "mirror, {} to absolute URLs{}",
                                           t.files, t.local, t.absolute,
                                           t.skipped ? fmt::format(" ({} files not in UTF-8 left "
                                                                   "as they were)",
                                                                   t.skipped)
                                                     : ""));
        }
        if (t.failed > 0) {
            unconverted = true;
            print_line(stderr, fmt::format("flagcrawl: {} files of the mirror could not be "
                                           "converted: {}",
                                           t.failed, t.first_error));
        }
    }
    const bool unsaved = (mirror && mirror->failed() > 0) || unconverted;
    if (mirror && mirror->failed() > 0) {
        print_line(stderr, fmt::format("flagcrawl: {} files could not be saved in the mirror: {}",
                                       mirror->failed(), mirror->first_error()));
    }
    if (report.reason == crawler::StopReason::failed) {
        throw FatalError(report.stop_text.substr(report.stop_text.find(": ") + 2));
    }
    const int code =
        !warc_ok                                            ? k_exit_fatal
        : report.reason == crawler::StopReason::interrupted ? k_exit_interrupted
        : report.totals.not_found + report.totals.errors + report.totals.external_broken > 0 ||
                unsaved
            ? k_exit_failed
            : k_exit_ok;
    if (report.abandoned_parses > 0) {
        // A parse abandoned on the way out is still running on its thread: end the process
        // without running static destructors under it (the run is recorded, the store closed).
        std::fflush(nullptr);
        std::_Exit(code);
    }
    return code;
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
                    "Link hops followed from a seed, by the shortest path (the crawl goes level "
                    "by level); -1 = unlimited. The default is wget -r's. Links past it are "
                    "recorded as skips")
        ->capture_default_str()
        ->group("Limits");
    cmd->add_option("--max-pages", o->max_pages,
                    "Stop after this many pages fetched by the crawl, resumes included (0 = no "
                    "limit)")
        ->group("Limits");
    cmd->add_option("--max-bytes", o->max_bytes,
                    "Stop once the crawl received this many body bytes, e.g. 100M")
        ->group("Limits");
    cmd->add_option("--max-time", o->max_time_s,
                    "Stop after this many seconds of this invocation (0 = no limit)")
        ->group("Limits");
    cmd->add_option("--max-per-dir", o->max_per_dir,
                    "Trap defence: URLs accepted per directory (the path up to its last '/', the "
                    "query aside); the others are recorded as skips (0 = no cap)")
        ->capture_default_str()
        ->group("Limits");
    cmd->add_option("--max-url-length", o->max_url_length,
                    "Trap defence: links to longer URLs (bytes) are recorded as skips (0 = no "
                    "limit)")
        ->capture_default_str()
        ->group("Limits");
    cmd->add_option("--max-segment-repeats", o->max_segment_repeats,
                    "Trap defence: links whose path has one segment more often than this "
                    "(/a/b/a/b/a/) are recorded as skips (0 = no limit)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000))
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
    cmd->add_flag("--check-external", o->check_external,
                  "Also check each out-of-scope link target once (HEAD, GET where HEAD is "
                  "refused; robots.txt and politeness apply; never parsed nor followed), as a "
                  "link checker does: a dead one is a broken link (links --broken)")
        ->group("Scope");
    cmd->add_flag("--canonical-query", o->canonical_query,
                  "Treat URLs differing only in query parameter order or session ids as one")
        ->group("Scope");
    cmd->add_option("--max-redirect", o->max_redirects,
                    "Redirect hops followed from one URL (0-" +
                        std::to_string(k_max_redirects_bound) + ")")
        ->capture_default_str()
        ->check(CLI::Range(0, k_max_redirects_bound))
        ->group("Scope");
    cmd->add_option("--per-host", o->per_host,
                    "Requests in flight per host (1-" + std::to_string(k_max_per_host) + ")")
        ->capture_default_str()
        ->check(CLI::Range(1, k_max_per_host))
        ->group("Politeness");
    cmd->add_option("--delay", o->delay_s,
                    "Seconds between requests to one host, randomized x0.5-1.5 (robots.txt "
                    "Crawl-delay raises it, up to 10 s); a retry, or a GET sent again where "
                    "HEAD was refused, waits at least that long")
        ->capture_default_str()
        ->check(CLI::Range(0.0, k_max_delay_s))
        ->group("Politeness");
    cmd->add_flag("--no-robots", o->no_robots,
                  "Ignore robots.txt, meta robots, X-Robots-Tag and rel=nofollow")
        ->group("Politeness");
    auto* sitemaps = cmd->add_flag(
        "--sitemaps", o->sitemaps,
        "Read the seed hosts' sitemaps, as wget2 does (the default): the Sitemap: lines of "
        "robots.txt, else /sitemap.xml, gzip or not, indexes one level deep, each file cut at "
        "50,000 URLs and 50 MiB uncompressed; the URLs they list join the crawl at depth 1, "
        "with the sitemap as their referrer");
    cmd->add_flag("--no-sitemaps", o->no_sitemaps, "Read no sitemap")->excludes(sitemaps);
    cmd->add_flag("--save-bodies", o->save_bodies, "Store response bodies in the DB")
        ->group("Output");
    cmd->add_flag("-k,--convert-links", o->convert_links,
                  "After the crawl, rewrite the links of the mirror's HTML and CSS for offline "
                  "browsing, as wget -k does: links to saved files become relative, others "
                  "absolute URLs")
        ->group("Output");
    cmd->add_option("-o,--out", o->mirror_dir,
                    "Also save every page and file fetched as DIR/HOST[:PORT]/PATH, as wget -r "
                    "-x does (\"index.html\" for a directory, the query kept in the name: "
                    "page.html?x=1), written atomically, never outside DIR")
        ->group("Output");
    add_warc_options(*cmd, o->warc);
    auto* frontier = cmd->add_option(
        "--frontier", o->frontier,
        "Share the crawl with other workers (processes, machines) through this PostgreSQL "
        "server: a libpq connection string, postgresql://user@host/db or key=value pairs, used "
        "as given (sslmode, .pgpass and PGPASSWORD apply; never put a password on the command "
        "line of a shared machine)");
    frontier->group("Several machines");
    auto* crawl_name =
        cmd->add_option("--crawl-name", o->crawl_name,
                        "The shared crawl's name on the server: the first worker (with seed "
                        "URLs) defines it, the others join it (no seeds, no option that "
                        "defines a crawl)")
            ->group("Several machines");
    auto* lease = cmd->add_option("--lease", o->lease_s,
                                  "Seconds a worker holds a host: another worker takes the "
                                  "host over this long after the holder stopped renewing")
                      ->capture_default_str()
                      ->check(CLI::Range(k_min_lease_s, k_max_lease_s))
                      ->group("Several machines");
    frontier->needs(crawl_name);
    crawl_name->needs(frontier);
    lease->needs(frontier);
    cmd->add_flag("--resume", o->resume,
                  "Continue the most recent unfinished crawl in the DB under the settings it "
                  "was started with: its seeds and scope (fixed), and its politeness, fetch "
                  "options and limits, unless given again (each change is printed and stored)")
        ->group("Output");
    cmd->add_option("--parse-threads", o->parse_threads,
                    "HTML parser threads, 0-" + std::to_string(k_max_parse_threads) +
                        "; 0 parses on the fetch thread (default: 0 on one usable CPU, else one "
                        "per CPU up to " +
                        std::to_string(k_max_auto_parse_threads) + ")")
        ->check(CLI::Range(0, k_max_parse_threads))
        ->group("Tuning");
    cmd->add_option("--html-parser", o->html_parser,
                    "fast: the scanner (one linear pass, the HTML tokenizer without a tree); "
                    "full: gumbo's HTML5 tree (slower; refuses pathologically nested pages as "
                    "'too complex'). Both find the same links")
        ->capture_default_str()
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
    cmd->get_option("--concurrency")
        ->description("Requests in flight at most (1-" + std::to_string(k_max_concurrency) + ")")
        ->check(CLI::Range(1, k_max_concurrency));
    cmd->get_option("--quiet")->description(
        "No progress, notices or summary; failed URLs are still printed, one line each (as "
        "curl -sS, wget -nv)");
    cmd->footer(
        "Defaults: concurrency 16, per host 8, delay 0, robots.txt obeyed, scope host, depth 5 "
        "(as wget -r), timeout 30 s, --max-size 16M.\n"
        "Crawler traps (calendars, session paths, relative-link loops) end on their own: depth "
        "5, at most 1000 URLs per directory, URLs of at most 2048 bytes, no path segment more "
        "than twice; each URL they keep out is a skip with its rule (stats, export --table "
        "skips). A whole large site: --depth -1 --max-per-dir 0.\n"
        "Ctrl-C (SIGINT, SIGTERM): requests in flight get 2 s to finish, then are cut short (at "
        "once on a second Ctrl-C); the run is recorded as interrupted and --resume continues "
        "it. A process stuck past that (a parse on the fetch thread, a locked database) exits 1 s "
        "later, its run marked interrupted when the database lets it; a third Ctrl-C at once.\n"
        "Several machines (--frontier): hosts are leased to workers, each under this "
        "politeness; a worker killed loses nothing (its hosts are taken over after --lease); "
        "every worker ends when the whole crawl does, with the same verdict; Ctrl-C leaves the "
        "crawl to the others; --max-pages and --max-bytes count the whole crawl.\n"
        "Exit: 0 all pages ok, 1 some failed (404s included), 2 usage, 3 fatal (store, a thread "
        "that cannot start, the shared crawl's server), 130 interrupted (resumable).\n"
        "Examples:\n"
        "  flagcrawl crawl https://example.org/ --depth 3 --delay 1 --db site.db\n"
        "  flagcrawl crawl --resume --db site.db              # same seeds, scope, delay, ...\n"
        "  flagcrawl crawl --resume --db site.db --delay 0.5  # prints: resuming crawl N with "
        "--delay 0.5 (was 1)\n"
        "  flagcrawl crawl https://example.org/ --no-sitemaps  # only what links reach\n"
        "  flagcrawl crawl https://example.org/ --check-external --db site.db && "
        "flagcrawl links --broken --db site.db\n"
        "  flagcrawl crawl https://example.org/ --page-requisites -o site/ -k  "
        "# browse site/example.org/index.html offline\n"
        "  flagcrawl crawl https://example.org/ --warc site --warc-max-size 1G  "
        "# site-00000.warc.gz ..., site.cdxj\n"
        "  flagcrawl crawl https://a.example/ https://b.example/ --depth 4 \\\n"
        "      --frontier postgresql://crawler@db.lan/flagcrawl --crawl-name spring --db node1.db\n"
        "  flagcrawl crawl --frontier postgresql://crawler@db.lan/flagcrawl --crawl-name spring "
        "--db node2.db  # joins it");
    cmd->callback([o, cmd, &exit_code] {
        if (o->check_external && !o->frontier.empty()) {
            throw UsageError("crawl --check-external: not supported in a shared crawl "
                             "(--frontier); check the external links of its pages from one "
                             "machine");
        }
        if (o->resume && !o->frontier.empty()) {
            throw UsageError("crawl --resume: a shared crawl (--frontier) goes on by joining it: "
                             "run the same command without --resume and without seeds");
        }
        if (o->resume) {
            // Refused before the store is opened: the crawl keeps what defines it.
            for (std::string_view name : crawler::defining_options()) {
                if (cmd->count(std::string(name)) > 0) {
                    throw UsageError(fmt::format("crawl --resume: {} cannot be changed (the crawl "
                                                 "keeps the options it was started with)",
                                                 name));
                }
            }
        }
        exit_code = run_crawl(*o, *cmd);
    });
}

} // namespace flagcrawl::cli
