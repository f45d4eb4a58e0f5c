// The crawl loop: a WorkSource and ResponseHandler for the fetch engine that takes URLs from a
// Frontier, has HTML parsed (inline or by a ParsePool), hands each result to the frontier with
// the URLs it led to, records it, and stops at the first limit reached. The lifecycle around it
// (store, resume, begin and end records) is the Crawl's (crawl.hpp).
#pragma once

#include "crawler/crawl/frontier.hpp"
#include "crawler/crawl/page_parser.hpp"
#include "crawler/crawl/parse_pool.hpp"
#include "fetch/fetch.hpp"
#include "storage/crawl_records.hpp"
#include "storage/writer.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace flagcrawl::crawler {

class LinkExtractor;

// Why a crawl invocation ended.
enum class StopReason {
    frontier_exhausted, // every URL in scope was fetched
    depth_limit,        // likewise, but the depth limit kept links of the deepest pages out
    max_pages,
    max_bytes,
    max_time,
    interrupted, // Ctrl-C (SIGINT, SIGTERM)
    failed,      // the store failed
};
std::string_view to_string(StopReason reason);

struct CrawlLimits {
    std::uint64_t max_pages = 0;           // pages dispatched by the whole crawl (resumes included)
    std::uint64_t max_bytes = 0;           // body bytes of the whole crawl
    std::chrono::milliseconds max_time{0}; // this invocation's
    int max_depth = -1;                    // for the stop reason only (the parser applies it)
};

// Live totals for the progress line: written on the crawl loop's thread, read from any. The
// run's recorded totals come from the store, not from these.
struct CrawlCounters {
    std::atomic<std::uint64_t> pages{0}; // page and requisite rows (robots.txt not)
    std::atomic<std::uint64_t> ok{0};
    std::atomic<std::uint64_t> redirects{0};
    std::atomic<std::uint64_t> not_found{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> disallowed{0}; // URLs robots.txt refused (skips)
    std::atomic<std::uint64_t> skipped{0};    // URLs seen and not fetched, each once
    std::atomic<std::uint64_t> robots_fetches{0};
    std::atomic<std::uint64_t> external_checked{0}; // external checks (not in pages)
    std::atomic<std::uint64_t> external_broken{0};
    std::atomic<std::uint64_t> bytes{0};    // body bytes of every fetch but robots.txt
    std::atomic<std::uint64_t> requests{0}; // requests the engine reported, robots.txt included
    std::atomic<std::uint64_t> in_flight{0};
    std::atomic<std::uint64_t> queued{0};
    std::atomic<std::uint64_t> hosts_waiting{0};
    std::atomic<std::int64_t> last_completion_ns{0}; // steady clock, of the latest result
};

// One recorded page, as reported to the command (verbose and error lines); valid during the
// callback only.
struct CrawlItem {
    const storage::PageRecord& record;
    bool failed = false; // not found or error
    // A sitemap read in part: why (ParsedPage::warnings).
    const std::vector<std::string>& warnings;
    // The page that first led to it ("" for a seed, or when not known: a shared crawl's URLs),
    // by a link, or by a redirect (`redirected`: the hop before it).
    std::string_view referrer;
    bool redirected = false;
    // A redirect chain that failed at this hop (a loop, too many hops, a bad target): the failure
    // of the URL that started it (record.chain_failure), that URL ("" when not known) and the
    // page that led to it ("" for a seed or when not known).
    bool chain_failed = false;
    std::string_view chain_url{};
    std::string_view chain_referrer{};
};

// Another consumer of the crawl's exchanges (a WARC archive, a mirror on disk), besides the
// crawl's own record: the one place fetched pages are handed to other outputs. Runs on the
// engine's thread, serialized with the crawl loop; must not block for long. A consumer that
// fails (error()) stops the crawl as failed with its message.
class ExchangeConsumer {
public:
    virtual ~ExchangeConsumer() = default;
    // Equips a request about to be sent (e.g. with a capture of its raw bytes).
    virtual void prepare(fetch::Request& request) { (void)request; }
    // Every response the crawl receives (pages, requisites, robots.txt, deferred 429/503s and
    // interrupted ones), before the crawl parses or records it. It may take what it needs out
    // of `response` (its capture), but not the body or status.
    virtual void consume(const FrontierJob& job, fetch::Response& response) = 0;
    // Why it cannot go on ("WARC: disk full"); nullopt while it can.
    virtual std::optional<std::string> error() const { return std::nullopt; }
};

// Threads: next(), on_response() and on_wake() run serialized on the engine's thread(s); with a
// parse pool, pages are parsed on its threads and taken back in on_wake(), as are the answers
// the frontier got from other threads (Frontier::on_wake()). counters(),
// stall_report() and request_stall_report() may be called from any thread; finish() after the
// engine's run() returned, on the thread that called it.
class CrawlJob final : public fetch::WorkSource, public fetch::ResponseHandler {
public:
    using ItemCallback = std::function<void(const CrawlItem&)>;

    // writer may be null (nothing recorded); its records carry crawl_id and run_id. The
    // frontier holds the seeds (or the restored queue). Without a pool, pages are parsed on
    // the engine's thread inside on_response() (no hand-off: the cheapest when the process has
    // one CPU); a pool's `ready` waker must wake the engine. `wake` wakes the engine
    // (Fetcher::wake) and must stay valid until finish() returned.
    CrawlJob(std::shared_ptr<const PageParser> parser, CrawlLimits limits,
             std::unique_ptr<ParsePool> pool, Frontier& frontier, storage::Writer* writer,
             std::int64_t crawl_id, std::int64_t run_id, std::function<void()> wake,
             CrawlCounters& counters);
    ~CrawlJob() override;
    CrawlJob(const CrawlJob&) = delete;
    CrawlJob& operator=(const CrawlJob&) = delete;

    // Set before the engine runs.
    void on_item(ItemCallback callback) { m_on_item = std::move(callback); }
    // `consumer` must outlive the job.
    void add_consumer(ExchangeConsumer& consumer) { m_consumers.push_back(&consumer); }
    // What earlier runs of the crawl fetched (a resume): limits count the whole crawl.
    void set_totals_before(std::uint64_t pages, std::uint64_t bytes);
    // The origins ("http://h:p") whose sitemaps the crawl reads (the seeds' hosts, with
    // sitemaps on): those their robots.txt names, else their /sitemap.xml. Empty: none.
    void set_sitemap_origins(std::set<std::string, std::less<>> origins) {
        m_sitemap_origins = std::move(origins);
    }

    Next next(fetch::Clock::time_point now) override;
    void on_response(fetch::Response&& response) override;
    void on_wake() override;

    // After the engine's run() returned: records the pages still being parsed. `abandon_at`
    // (set on an interrupt): parses not done by then are dropped (their URLs stay queued) and
    // left to finish unobserved. `abandon_now` is polled meanwhile (a second Ctrl-C). Returns
    // how many pages were abandoned.
    std::size_t finish(std::optional<std::chrono::steady_clock::time_point> abandon_at,
                       const std::function<bool()>& abandon_now);
    // The crawl was interrupted (Ctrl-C): the stop reason says so.
    void mark_interrupted() { m_interrupted = true; }

    StopReason stop_reason() const;
    // "finished: frontier exhausted", "stopped: --max-pages 100 reached", ...
    std::string stop_text() const;
    const CrawlCounters& counters() const { return m_counters; }
    // Failed rows by kind, as counted by count() (after run() only).
    const std::map<std::string, std::uint64_t>& errors_by_kind() const { return m_errors_by_kind; }
    // Skips recorded, by kind (after run() only; a tentative skip undone later still counts
    // here: the store's totals do not).
    const std::map<std::string, std::uint64_t>& skipped_by_kind() const {
        return m_skipped_by_kind;
    }
    const std::optional<storage::Error>& store_error() const { return m_store_error; }
    FrontierStats frontier_stats() const; // after run() only
    // CPU seconds the pages committed so far spent in link extraction (ParsedPage::parse_cpu_ns;
    // after run() only).
    double parse_cpu_s() const { return static_cast<double>(m_parse_cpu_ns) / 1e9; }

    // The stall watchdog: asks the loop to describe what it waits on (woken now, so the
    // description is fresh even while every host waits on a timer), and reads the latest
    // description (oldest request in flight, host held back).
    void request_stall_report();
    std::string stall_report() const;

private:
    void commit(ParsedPage&& page);
    void count(const storage::PageRecord& record, std::string_view error_kind);
    void submit(storage::PageRecord&& record);
    void on_robots(FrontierJob&& job, fetch::Response&& response);
    // Offers a seed host's sitemaps; the decisions go with its robots.txt record.
    void offer_sitemaps(const std::vector<std::string>& urls, SitemapRole role,
                        storage::PageRecord& robots);
    // Decisions taken into `r` (accepted URLs, skips, skips undone); clears them.
    void take_decisions(storage::PageRecord& r);
    std::optional<StopReason> limit_reached(fetch::Clock::time_point now) const;
    std::optional<std::string> consumer_error() const;
    void publish_stats();
    void update_stall(fetch::Clock::time_point now);

    const std::shared_ptr<const PageParser> m_parser;
    const CrawlLimits m_limits;
    Frontier& m_frontier;
    storage::Writer* m_writer;
    const std::int64_t m_crawl_id;
    const std::int64_t m_run_id;
    std::function<void()> m_wake;
    ItemCallback m_on_item;
    std::vector<ExchangeConsumer*> m_consumers;
    std::set<std::string, std::less<>> m_sitemap_origins;

    // Loop-thread state.
    std::unordered_map<std::uint64_t, FrontierJob> m_dispatched; // by request id
    std::uint64_t m_next_request_id = 1;
    std::uint64_t m_pages_dispatched = 0; // fetch jobs handed out, this crawl (resumes included)
    std::uint64_t m_bytes_before = 0;
    std::uint64_t m_pages_at_depth_limit = 0; // HTML pages whose links the depth limit cut
    std::uint64_t m_parse_cpu_ns = 0;         // summed ParsedPage::parse_cpu_ns
    std::optional<StopReason> m_stop;
    std::optional<fetch::Clock::time_point> m_deadline;
    std::optional<storage::Error> m_store_error;
    std::map<std::string, std::uint64_t> m_errors_by_kind;
    std::map<std::string, std::uint64_t> m_skipped_by_kind;
    std::atomic<bool> m_interrupted{false};
    CrawlCounters& m_counters;
    std::vector<Discovery> m_discoveries; // reused by commit()
    Decisions m_decisions;                // reused by commit()
    std::vector<ParsedPage> m_parsed;     // reused by on_wake()

    // Without a pool: the one extractor, used on the engine's thread.
    std::unique_ptr<LinkExtractor> m_inline_extractor;
    std::unique_ptr<ParsePool> m_pool;

    // Stall watchdog.
    std::atomic<bool> m_stall_requested{false};
    mutable std::mutex m_stall_mutex;
    std::string m_stall_text;
    std::map<std::uint64_t, std::pair<std::string, fetch::Clock::time_point>> m_in_flight_urls;
};

} // namespace flagcrawl::crawler
