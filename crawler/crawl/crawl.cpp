#include "crawler/crawl/crawl.hpp"

#include "crawler/crawl/frontier_store.hpp"
#include "crawler/url/url.hpp"
#include "storage/reader.hpp"
#include "storage/run_owner.hpp"
#include "storage/run_tally.hpp"
#include "storage/stats.hpp"

#include <array>
#include <stdexcept>
#include <system_error>

namespace flagcrawl::crawler {

namespace {

using SetupResult = boost::system::result<void, CrawlSetupError>;

CrawlSetupError fatal(std::string message) {
    return {CrawlSetupError::Kind::fatal, std::move(message)};
}

CrawlSetupError usage(std::string message) {
    return {CrawlSetupError::Kind::usage, std::move(message)};
}

// How long run() gives the frontier to finish what is outstanding at the end (a shared
// frontier's last batch and leases; the local one has nothing to wait for).
constexpr std::chrono::seconds k_close_grace{10};

// Requests in flight the strategy runs with.
int effective_concurrency(const CrawlSettings& s) {
    return s.strategy == fetch::Strategy::sequential ? 1 : s.concurrency;
}

} // namespace

storage::CrawlStatus crawl_status(StopReason reason) {
    switch (reason) {
    case StopReason::frontier_exhausted:
    case StopReason::depth_limit:
        return storage::CrawlStatus::finished;
    case StopReason::max_pages:
    case StopReason::max_bytes:
    case StopReason::max_time:
        return storage::CrawlStatus::stopped; // resumable with a larger limit
    case StopReason::interrupted:
        return storage::CrawlStatus::interrupted;
    case StopReason::failed:
        return storage::CrawlStatus::failed;
    }
    return storage::CrawlStatus::failed;
}

storage::RunStatus run_status(StopReason reason) {
    switch (reason) {
    case StopReason::interrupted:
        return storage::RunStatus::interrupted;
    case StopReason::failed:
        return storage::RunStatus::failed;
    default:
        return storage::RunStatus::finished;
    }
}

boost::system::result<std::unique_ptr<Crawl>, CrawlSetupError> Crawl::open(CrawlStart start) {
    std::unique_ptr<Crawl> crawl(new Crawl());
    crawl->m_start = std::move(start);
    if (auto prepared = crawl->prepare(); !prepared) {
        return prepared.error();
    }
    return crawl;
}

SetupResult Crawl::prepare() {
    const std::string& db = m_start.db;
    if (m_start.resume && db.empty()) {
        return usage("crawl --resume: needs the database (--no-db given)");
    }
    if (m_start.resume && m_start.make_frontier) {
        return usage("crawl --resume: a shared crawl is continued by joining it");
    }
    if (m_start.resume) {
        // The crawl to resume and what it did so far.
        auto reader = storage::Reader::open(db);
        if (!reader) {
            return fatal(reader.error().message);
        }
        auto found = reader->latest_resumable_crawl();
        if (!found) {
            return fatal(found.error().message);
        }
        if (!*found) {
            return fatal("crawl --resume: no unfinished crawl in " + db);
        }
        // Another process still crawling it (its owner alive): two runs of one crawl would
        // fetch the same queued URLs.
        auto owner = storage::live_owner_of_crawl(reader->database(), (*found)->id);
        if (!owner) {
            return fatal(owner.error().message);
        }
        if (*owner) {
            return fatal("crawl --resume: crawl " + std::to_string((*found)->id) + " in " + db +
                         " is still running (pid " + std::to_string((*owner)->pid) + ")");
        }
        m_resumed_row = std::move(**found);
        auto progress = reader->crawl_progress(m_resumed_row->id);
        if (!progress) {
            return fatal(progress.error().message);
        }
        auto settings = resume_settings(m_resumed_row->seeds, m_resumed_row->options,
                                        m_start.settings, m_start.given_options);
        if (!settings) {
            return usage(settings.error());
        }
        m_settings = std::move(settings->settings);
        m_changes = std::move(settings->changes);
        m_resumed = true;
        m_crawl_id = m_resumed_row->id;
        m_pages_before = progress->pages;
        m_bytes_before = progress->bytes;
    } else {
        m_settings = std::move(m_start.settings);
    }
    // The seeds, parsed once: for the scope and for the frontier.
    for (const std::string& text : m_settings.seeds) {
        auto url = parse(text);
        if (!url || !url->is_http()) {
            return usage("crawl: not an http(s) URL: '" + text + "'");
        }
        m_seeds.push_back(std::move(*url));
    }
    try {
        m_filter.emplace(m_settings.scope, m_seeds, m_settings.include, m_settings.exclude);
    } catch (const std::invalid_argument& e) {
        return usage(e.what());
    }
    return {};
}

SetupResult Crawl::start() {
    try {
        return begin();
    } catch (const std::system_error& e) {
        // A thread that cannot start (the process or memory limit): stop here, cleanly.
        return fatal("cannot start a thread: " + std::string(e.what()));
    } catch (const std::bad_alloc&) {
        // Under a memory limit, a thread's own state may be what cannot be allocated.
        return fatal("cannot start a thread: out of memory");
    }
}

// Every thread starts before the run is recorded, so that a thread that cannot start (a
// process or memory limit) leaves no runs row behind; the run and the crawl are then recorded
// in one transaction, and nothing after that can fail.
SetupResult Crawl::begin() {
    const std::string& db = m_start.db;
    fetch::Policy policy = m_settings.policy;
    policy.retry_throttled = false; // 429/503: the frontier backs off the host and re-queues
    policy.max_redirects = m_settings.max_redirects;
    m_fetcher = fetch::make_fetcher(m_settings.strategy, policy, concurrency());
    auto wake = [fetcher = m_fetcher.get()] { fetcher->wake(); };

    PageRules rules;
    rules.scope = m_settings.scope;
    rules.max_depth = m_settings.max_depth;
    rules.robots = m_settings.robots;
    rules.canonical_query = m_settings.canonical_query;
    rules.save_bodies = m_settings.save_bodies;
    rules.page_requisites = m_settings.page_requisites;
    rules.check_external = m_settings.check_external;
    rules.max_redirects = m_settings.max_redirects;
    rules.max_url_length = static_cast<std::size_t>(m_settings.max_url_length);
    rules.max_segment_repeats = m_settings.max_segment_repeats;
    rules.agent_token = agent_token(m_settings);
    rules.html_parser = m_start.html_parser;
    auto parser = std::make_shared<const PageParser>(std::move(rules), std::move(*m_filter));
    std::unique_ptr<ParsePool> pool;
    if (m_start.parse_threads > 0) {
        m_pool_ready->set(wake);
        pool = std::make_unique<ParsePool>(m_start.parse_threads, parser, m_pool_ready);
    }

    if (!db.empty()) {
        auto writer = storage::Writer::open(db, m_start.writer_options);
        if (!writer) {
            return fatal(writer.error().message);
        }
        m_writer = std::make_unique<storage::Writer>(std::move(*writer));
        if (m_commit_gate) {
            m_writer->set_commit_gate(m_commit_gate);
        }
    }
    FrontierOptions frontier_options = m_start.frontier;
    frontier_options.politeness.per_host = m_settings.per_host;
    frontier_options.politeness.delay = m_settings.delay;
    frontier_options.politeness.robots = m_settings.robots;
    frontier_options.max_per_directory = m_settings.max_per_directory;
    if (m_start.make_frontier) {
        m_frontier = m_start.make_frontier(frontier_options, m_writer.get());
    } else {
        if (m_writer) {
            try {
                m_store = std::make_unique<SqliteFrontierStore>(db, m_crawl_id);
            } catch (const std::system_error&) {
                throw;
            } catch (const std::runtime_error& e) {
                return fatal(e.what());
            }
        }
        auto local = std::make_unique<LocalFrontier>(frontier_options, m_store.get());
        m_local = local.get();
        m_frontier = std::move(local);
    }
    m_frontier->set_waker(wake);

    // Sitemaps are read for the seeds' hosts (their robots.txt Sitemap: lines, their
    // /sitemap.xml), not through a shared frontier (its rows do not carry a URL's sitemap role).
    std::set<std::string, std::less<>> sitemap_origins;
    if (m_settings.sitemaps && !m_start.make_frontier) {
        for (const Url& seed : m_seeds) {
            sitemap_origins.emplace(origin_of(seed.href_without_fragment()));
        }
    }

    storage::CrawlBeginRecord begin;
    begin.crawl_id = m_crawl_id;
    if (m_resumed) {
        begin.is_new = false;
        begin.options = options_json(m_settings); // with the changes the resume made
        if (m_store) {
            try {
                m_store->restore(*m_local);
            } catch (const std::runtime_error& e) {
                return fatal(e.what());
            }
        }
    } else {
        begin.seeds = seeds_json(m_settings);
        begin.options = options_json(m_settings);
        std::vector<Discovery> offers;
        for (const Url& seed : m_seeds) {
            Discovery d;
            d.url = seed.href_without_fragment();
            d.key = url_key_hash(seed, m_settings.canonical_query);
            offers.push_back(d);
        }
        // Without robots.txt (--no-robots), each seed host's /sitemap.xml, after the seeds;
        // with it, the crawl offers the sitemaps once it has read robots.txt (CrawlJob).
        std::vector<std::string> guesses;
        for (const std::string& origin : sitemap_origins) {
            if (!m_settings.robots) {
                guesses.push_back(origin + "/sitemap.xml");
            }
        }
        for (const std::string& guess : guesses) {
            if (auto url = parse(guess)) {
                Discovery d;
                d.url = guess;
                d.key = url_key_hash(*url, m_settings.canonical_query);
                d.sitemap = SitemapRole::guessed;
                offers.push_back(d);
            }
        }
        Decisions decisions;
        m_frontier->offer(offers, decisions);
        for (FrontierEntry& e : decisions.accepted) {
            begin.frontier.push_back(
                {e.seq, e.key, std::move(e.url), 0, 0, false, static_cast<int>(e.sitemap)});
        }
    }
    if (m_writer) {
        auto run =
            m_writer->begin_run({.command = "crawl",
                                 .arguments = m_start.arguments,
                                 .strategy = std::string(fetch::to_string(m_settings.strategy)),
                                 .concurrency = concurrency()},
                                std::move(begin));
        if (!run) {
            return fatal(run.error().message);
        }
        m_run_id = *run;
        if (!m_resumed) {
            m_crawl_id = m_run_id;
            if (m_store) {
                m_store->set_crawl(m_crawl_id);
            }
        }
    }

    CrawlLimits limits{m_settings.max_pages, m_settings.max_bytes, m_settings.max_time,
                       m_settings.max_depth};
    m_job = std::make_unique<CrawlJob>(parser, limits, std::move(pool), *m_frontier, m_writer.get(),
                                       m_crawl_id, m_run_id, wake, m_counters);
    m_job->set_totals_before(m_pages_before, m_bytes_before);
    m_job->set_sitemap_origins(std::move(sitemap_origins));
    m_job->on_item(m_on_item);
    for (ExchangeConsumer* consumer : m_consumers) {
        m_job->add_consumer(*consumer);
    }
    m_recorded = m_writer != nullptr;
    m_live_job = m_job.get();
    return {};
}

Crawl::~Crawl() {
    // The job, its pool and the frontier's store stop their threads before the fetcher and the
    // writer they use go.
    m_pool_ready->clear();
    m_live_job = nullptr;
    m_job.reset();
    if (m_frontier) {
        m_frontier->close(std::chrono::steady_clock::now());
    }
    m_store.reset();
    m_frontier.reset();
    m_fetcher.reset();
}

void Crawl::record_interrupted_now(std::chrono::milliseconds busy) noexcept {
    if (!m_recorded) {
        return;
    }
    try {
        storage::OpenOptions options;
        options.mode = storage::OpenMode::read_write;
        options.busy_timeout = busy;
        auto db = storage::Database::open(m_start.db, options);
        if (!db) {
            return;
        }
        std::array<char, 24> now;
        auto run = db->prepare("UPDATE runs SET status = 'interrupted', finished_at = ? "
                               "WHERE id = ? AND status = 'running'");
        run.bind_all(storage::format_time(std::chrono::system_clock::now(), now), m_run_id);
        (void)run.run();
        auto crawl = db->prepare("UPDATE crawls SET status = 'interrupted', stop_reason = "
                                 "'stopped: interrupted (ended without finishing)' "
                                 "WHERE id = ? AND status = 'running'");
        crawl.bind_all(m_crawl_id);
        (void)crawl.run();
    } catch (...) {
        // The last resort of a process about to end: nothing more to do.
    }
}

void Crawl::request_stall_report() {
    if (CrawlJob* job = m_live_job.load()) {
        job->request_stall_report();
    }
}

std::string Crawl::stall_report() const {
    const CrawlJob* job = m_live_job.load();
    return job ? job->stall_report() : std::string();
}

int Crawl::concurrency() const {
    return effective_concurrency(m_settings);
}

void Crawl::stop(fetch::StopMode mode) {
    const int wanted = mode == fetch::StopMode::abort ? 2 : 1;
    int current = m_stop.load();
    while (current < wanted && !m_stop.compare_exchange_weak(current, wanted)) {
    }
    std::lock_guard lock(m_stop_mutex);
    if (m_running) {
        m_fetcher->stop(mode);
    }
}

CrawlReport Crawl::run() {
    const auto started = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(m_stop_mutex);
        m_running = true;
        if (m_stop > 0) {
            m_fetcher->stop(m_stop == 2 ? fetch::StopMode::abort : fetch::StopMode::drain);
        }
    }
    std::exception_ptr failure;
    try {
        m_fetcher->run(*m_job, *m_job);
    } catch (...) {
        failure = std::current_exception();
        m_stop = 2; // nothing more: abandon the parses
    }
    if (m_stop > 0) {
        m_job->mark_interrupted();
    }
    CrawlReport report;
    report.abandoned_parses = m_job->finish(std::nullopt, [this] { return m_stop == 2; });
    m_frontier->close(std::chrono::steady_clock::now() + k_close_grace);
    report.reason = m_job->stop_reason();
    report.stop_text = m_job->stop_text();
    report.frontier = m_job->frontier_stats();
    report.deferred = report.frontier.deferred;
    report.parse_cpu_s = m_job->parse_cpu_s();
    if (failure) {
        report.reason = StopReason::failed;
    }
    std::optional<storage::Error> store_error = m_job->store_error();
    if (m_writer) {
        // The seen-sets (URLs accepted and URLs skipped) as this run leaves them: `stats`
        // reports their RAM per URL from these.
        (void)m_writer->submit(
            storage::CrawlEndRecord{m_crawl_id, crawl_status(report.reason), report.stop_text,
                                    report.frontier.seen + report.frontier.skipped,
                                    report.frontier.seen_bytes + report.frontier.skipped_bytes});
        if (auto flushed = m_writer->flush(); !flushed && !store_error) {
            store_error = flushed.error();
        }
    }
    report.totals = read_totals();
    report.elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (m_writer) {
        const storage::RunTotals totals = storage::crawl_run_totals(m_writer->run_totals(m_run_id));
        auto finished = m_writer->finish_run(
            m_run_id, totals, store_error ? storage::RunStatus::failed : run_status(report.reason));
        m_recorded = false;
        auto closed = m_writer->close();
        if (!store_error && !finished) {
            store_error = finished.error();
        }
        if (!store_error && !closed) {
            store_error = closed.error();
        }
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (store_error && report.reason != StopReason::failed) {
        report.reason = StopReason::failed;
        report.stop_text = "failed: " + store_error->message;
    }
    return report;
}

// From the rows this run recorded, as `stats` counts them (the writer's tally, run_tally.hpp);
// without a store, from the loop's counters, which classify each row the same way.
CrawlTotals Crawl::read_totals() {
    CrawlTotals t;
    const CrawlCounters& c = m_counters;
    t.pages = c.pages;
    t.ok = c.ok;
    t.redirects = c.redirects;
    t.not_found = c.not_found;
    t.errors = c.errors;
    t.disallowed = c.disallowed;
    t.bytes = c.bytes;
    t.requests = c.requests;
    t.robots_fetches = c.robots_fetches;
    t.external_checked = c.external_checked;
    t.external_broken = c.external_broken;
    t.errors_by_kind = m_job->errors_by_kind();
    t.skipped = c.skipped;
    t.skipped_by_kind = m_job->skipped_by_kind();
    if (!m_writer) {
        return t;
    }
    // The rows this run committed, as the writer counted them while writing (flushed above).
    const storage::Summary summary = m_writer->run_totals(m_run_id);
    t.pages = summary.items;
    t.ok = summary.ok;
    t.redirects = summary.redirects;
    t.not_found = summary.not_found;
    t.errors = summary.errors;
    t.disallowed = summary.disallowed;
    t.bytes = summary.bytes;
    t.requests = summary.requests;
    t.robots_fetches = summary.robots_fetches;
    t.external_checked = summary.external_checked;
    t.external_broken = summary.external_broken;
    t.errors_by_kind.clear();
    for (const storage::KindCount& kind : summary.errors_by_kind) {
        t.errors_by_kind[kind.kind] = kind.count;
    }
    t.skipped = summary.skipped;
    t.skipped_by_kind.clear();
    for (const storage::KindCount& kind : summary.skipped_by_kind) {
        t.skipped_by_kind[kind.kind] = kind.count;
    }
    for (const storage::ReasonCount& rule : summary.skipped_by_rule) {
        t.skipped_by_rule.emplace_back(rule.kind + ": " + rule.reason, rule.count);
    }
    return t;
}

} // namespace flagcrawl::crawler
