// A crawl's lifecycle, from the command's options to its record: starting a crawl or resuming
// the latest unfinished one (what a resume keeps and may change), the begin and end records
// (runs, crawls, crawl_runs), running the loop on the chosen strategy, how it stops (limits,
// Ctrl-C) and what its end says (stop reason, run status, totals read back from the store).
// The command line drives it; the end-to-end tests use it the same way.
#pragma once

#include "crawler/crawl/crawl_job.hpp"
#include "crawler/crawl/crawl_settings.hpp"
#include "crawler/crawl/frontier.hpp"
#include "crawler/crawl/scope.hpp"
#include "crawler/url/url.hpp"
#include "storage/writer.hpp"

#include <boost/system/result.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace flagcrawl::crawler {

class SqliteFrontierStore;
class LocalFrontier;

// What the command asks for.
struct CrawlStart {
    // false: a new crawl of settings.seeds. true: the latest unfinished crawl of `db`, under
    // its stored settings, except those named in given_options (see resume_settings()).
    bool resume = false;
    CrawlSettings settings;
    std::set<std::string, std::less<>> given_options;
    // The SQLite file; empty records nothing (then there is nothing to resume either). Its
    // folder must exist.
    std::string db;
    storage::WriterOptions writer_options;
    std::string arguments; // the command line, for the runs row

    // How this invocation runs, not part of the crawl: parser threads (0: parse on the
    // engine's thread), and the frontier's window, jitter seed and robots.txt refetch waits
    // (its per-host, delay and robots come from the settings).
    int parse_threads = 1;
    HtmlParser html_parser = HtmlParser::fast;
    FrontierOptions frontier;

    // Builds the crawl's frontier instead of the local one (a frontier shared with other
    // processes, crawler/pgfrontier), given the politeness options and the writer (null without
    // a database). It gets the seeds through offer() like the local one. A new crawl only.
    std::function<std::unique_ptr<Frontier>(const FrontierOptions&, storage::Writer*)>
        make_frontier;
};

struct CrawlSetupError {
    enum class Kind {
        usage, // the request cannot be run as given (a bad pattern, a defining option changed)
        fatal, // the environment refuses it (the store, nothing to resume, a thread)
    };
    Kind kind = Kind::fatal;
    std::string message; // one line
};

// What an invocation did, as recorded: counted from the pages and skips rows it committed, as
// the writer wrote them, by the same code as `flagcrawl stats` counts them when it reads them
// (storage/run_tally.hpp), so that the two always agree.
struct CrawlTotals {
    std::uint64_t pages = 0; // page and requisite rows: fetched, failed or refused
    std::uint64_t ok = 0;
    std::uint64_t redirects = 0;
    std::uint64_t not_found = 0;
    std::uint64_t errors = 0;
    std::uint64_t disallowed = 0;       // URLs robots.txt refused (skipped, never requested)
    std::uint64_t bytes = 0;            // body bytes (robots.txt excluded)
    std::uint64_t requests = 0;         // requests sent, robots.txt and deferred 429/503 included
    std::uint64_t robots_fetches = 0;   // robots.txt rows
    std::uint64_t external_checked = 0; // external checks (--check-external), not in pages
    std::uint64_t external_broken = 0;  // of those, the failed ones
    std::map<std::string, std::uint64_t> errors_by_kind;
    std::uint64_t skipped = 0; // URLs seen and not fetched (skips rows), robots.txt's included
    std::map<std::string, std::uint64_t> skipped_by_kind;
    std::vector<std::pair<std::string, std::uint64_t>> skipped_by_rule; // "kind: rule", by count
};

struct CrawlReport {
    StopReason reason = StopReason::frontier_exhausted;
    std::string stop_text; // "finished: frontier exhausted", "stopped: --max-pages 100 reached"
    CrawlTotals totals;
    std::uint64_t deferred = 0; // 429/503 answers put back in the queue
    FrontierStats frontier;
    double elapsed_s = 0;
    std::size_t abandoned_parses = 0; // parses left running on an interrupt (URLs stay queued)
    // CPU seconds the link extraction of the pages recorded took, summed over the threads
    // that parsed (PageParser::parse_html); with the process's CPU it gives the parse's share.
    double parse_cpu_s = 0;
};

// In three steps, so that the command can set up its outputs between what only reads and what
// writes: open() decides what will run (nothing written, no thread started), start() records it
// and starts the threads, run() crawls and records the end.
//
// Threads: open(), start(), run() and the accessors on one thread (the command's); stop(),
// counters(), request_stall_report() and stall_report() from any (the last three after start()).
class Crawl {
public:
    using ItemCallback = CrawlJob::ItemCallback;

    // Reads the crawl to resume (and applies what the resume may change), checks the seeds and
    // patterns. Writes nothing.
    static boost::system::result<std::unique_ptr<Crawl>, CrawlSetupError> open(CrawlStart start);
    ~Crawl();
    Crawl(const Crawl&) = delete;
    Crawl& operator=(const Crawl&) = delete;

    // The settings it runs under (a resume's: the stored ones with its changes applied).
    const CrawlSettings& settings() const { return m_settings; }
    // What a resume changed ("--delay 0.5 (was 1)"), to tell the user.
    const std::vector<SettingChange>& changes() const { return m_changes; }
    bool resumed() const { return m_resumed; }
    std::int64_t crawl_id() const { return m_crawl_id; }
    std::int64_t run_id() const { return m_run_id; }
    std::uint64_t pages_before() const { return m_pages_before; } // earlier runs' pages
    int concurrency() const;                                      // requests in flight at most

    // Before start(): each recorded page (verbose and error lines); another consumer of the
    // exchanges (outputs), which must outlive the crawl.
    void on_item(ItemCallback callback) { m_on_item = std::move(callback); }
    void add_consumer(ExchangeConsumer& consumer) { m_consumers.push_back(&consumer); }
    // Runs `gate` before each commit of the crawl's records (storage::Writer::set_commit_gate;
    // nothing without a database): a WARC that must hold a page's response before the page is
    // recorded. Any time (kept for the writer start() opens); an empty one removes it.
    void gate_commits(std::function<void()> gate) {
        m_commit_gate = gate;
        if (m_writer) {
            m_writer->set_commit_gate(std::move(gate));
        }
    }

    // Opens the store, records the run's start with the crawl's, restores or seeds the frontier
    // and starts the threads (store reader, parse pool, strategy). Once, after open().
    boost::system::result<void, CrawlSetupError> start();

    // After start(): runs the crawl until it ends (finished, a limit, stop(), a store failure),
    // records the end (crawl status, run status and totals) and closes the store. Once. An
    // exception from the engine (a thread that cannot start) is recorded as the run's failure, then
    // rethrown.
    CrawlReport run();

    // Any thread, any time, repeatable: drain stops handing out requests (those in flight
    // finish, parses too); abort also cuts the requests in flight and abandons the parses.
    // Before run(), run() records an interrupted run without fetching.
    void stop(fetch::StopMode mode);

    // For a process about to end without finishing run() (the last resort when an interrupt
    // could not stop it in time): records the run and its crawl as interrupted, through a
    // connection of its own that waits at most `busy` for the writer's lock. Any thread; does
    // nothing before start() or once run() recorded the end.
    void record_interrupted_now(std::chrono::milliseconds busy) noexcept;

    // Valid from open() (all zero until the crawl runs): a progress line and a watchdog may
    // start before start(), so that their threads exist before the run is recorded.
    const CrawlCounters& counters() const { return m_counters; }
    void request_stall_report();
    std::string stall_report() const;

private:
    Crawl() = default;
    boost::system::result<void, CrawlSetupError> prepare();
    boost::system::result<void, CrawlSetupError> begin();
    CrawlTotals read_totals();

    CrawlStart m_start; // the request, its settings replaced by m_settings
    std::optional<storage::CrawlRow> m_resumed_row;
    std::vector<Url> m_seeds;
    std::optional<UrlFilter> m_filter;
    ItemCallback m_on_item;
    std::vector<ExchangeConsumer*> m_consumers;

    CrawlSettings m_settings;
    std::vector<SettingChange> m_changes;
    bool m_resumed = false;
    std::int64_t m_crawl_id = 0;
    std::int64_t m_run_id = 0;
    std::uint64_t m_pages_before = 0;
    std::uint64_t m_bytes_before = 0;

    // Destroyed in reverse: the job (and its pool) before the frontier and its store, before
    // the fetcher they wake, before the writer they write to.
    std::unique_ptr<storage::Writer> m_writer;
    std::function<void()> m_commit_gate; // see gate_commits()
    std::unique_ptr<fetch::Fetcher> m_fetcher;
    std::unique_ptr<SqliteFrontierStore> m_store;
    std::unique_ptr<Frontier> m_frontier;
    LocalFrontier* m_local = nullptr; // m_frontier when it is the local one
    std::unique_ptr<CrawlJob> m_job;
    CrawlCounters m_counters;
    std::atomic<CrawlJob*> m_live_job{nullptr}; // m_job once started, for other threads

    // The parse pool's results wake the engine through it; cleared before the fetcher goes.
    std::shared_ptr<SharedWaker> m_pool_ready = std::make_shared<SharedWaker>();
    std::atomic<bool> m_recorded{false}; // the run is recorded and its end is not yet

    std::mutex m_stop_mutex; // orders stop() with run()'s start
    bool m_running = false;
    std::atomic<int> m_stop{0}; // 0 none, 1 drain, 2 abort
};

// The statuses an invocation's end is recorded with.
storage::CrawlStatus crawl_status(StopReason reason);
storage::RunStatus run_status(StopReason reason);

} // namespace flagcrawl::crawler
