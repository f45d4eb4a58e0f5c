// The crawl loop: a WorkSource and ResponseHandler for the fetch engine that takes URLs from a
// Frontier, parses HTML inline or on a small worker pool, feeds discovered URLs back, records
// every page with its links and discoveries in one storage record, and stops at the first limit
// reached.
#pragma once

#include "archive/warc_writer.hpp"
#include "crawler/crawl/frontier.hpp"
#include "crawler/crawl/scope.hpp"
#include "crawler/mirror/mirror.hpp"
#include "fetch/fetch.hpp"
#include "storage/crawl_records.hpp"
#include "storage/writer.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace flagcrawl::crawler {

class LinkExtractor;
struct ExtractorOptions;

struct CrawlOptions {
    std::vector<std::string> seeds; // absolute http(s) URLs (the command validates them)
    int max_depth = -1;             // link hops from a seed; -1: unlimited
    std::uint64_t max_pages = 0;    // pages fetched by the whole crawl (resumes included); 0: none
    std::uint64_t max_bytes = 0;    // body bytes of the whole crawl; 0: none
    std::chrono::milliseconds max_time{0}; // this invocation's time; 0: none
    ScopeKind scope = ScopeKind::host;
    std::vector<std::string> include; // RE2 patterns on the absolute URL
    std::vector<std::string> exclude;
    bool robots = true; // robots.txt, meta robots, X-Robots-Tag, rel=nofollow
    bool canonical_query = false;
    bool save_bodies = false;
    bool page_requisites = false;
    int max_redirects = 10; // redirect hops followed from one URL
    // HTML parser threads. 0: parse on the engine's thread inside on_response() (no hand-off:
    // the cheapest when the process has one CPU, where a pool only adds context switches).
    int parse_threads = 1;
    std::string agent_token = "flagcrawl";
};

enum class StopReason { frontier_exhausted, max_pages, max_bytes, max_time, interrupted, failed };

// Live totals: written on the crawl loop's thread, read from any (progress line).
struct CrawlCounters {
    std::atomic<std::uint64_t> pages{0};      // fetched pages and requisites (robots.txt not)
    std::atomic<std::uint64_t> ok{0};         // 2xx
    std::atomic<std::uint64_t> redirects{0};  // 3xx
    std::atomic<std::uint64_t> not_found{0};  // 404, 410
    std::atomic<std::uint64_t> errors{0};     // other statuses, no response, throttled too often
    std::atomic<std::uint64_t> disallowed{0}; // queued, then refused by robots.txt: not fetched
    std::atomic<std::uint64_t> robots_fetches{0};
    std::atomic<std::uint64_t> bytes{0};    // body bytes of every fetch but robots.txt
    std::atomic<std::uint64_t> requests{0}; // attempts, robots.txt and retries included
    std::atomic<std::uint64_t> deferred{0}; // 429/503 answers put back in the queue
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
};

// Threads: next() and on_response() run serialized on the engine's thread(s). With parse_threads
// 0 they parse too; otherwise parse workers run on their own threads and hand results back
// through a locked queue, waking the engine (Fetcher::wake()) once per batch, not per page.
// counters(), stall_report() and request_stall_report() may be called from any thread.
class CrawlJob final : public fetch::WorkSource, public fetch::ResponseHandler {
public:
    using ItemCallback = std::function<void(const CrawlItem&)>;

    // writer may be null (nothing recorded). The frontier must already hold the seeds (or the
    // restored queue). `pages_before`/`bytes_before`: what earlier runs of the crawl fetched.
    // Throws std::invalid_argument for a bad --include/--exclude pattern.
    CrawlJob(CrawlOptions options, Frontier& frontier, storage::Writer* writer,
             std::int64_t crawl_id, std::int64_t run_id, ItemCallback on_item);
    ~CrawlJob() override;
    CrawlJob(const CrawlJob&) = delete;
    CrawlJob& operator=(const CrawlJob&) = delete;

    // Pushes the seeds into the frontier; returns their frontier rows (for CrawlBeginRecord).
    std::vector<storage::FrontierRow> push_seeds();
    void set_totals_before(std::uint64_t pages, std::uint64_t bytes);
    // Wakes the engine from the parse workers and the stall watchdog; set before run().
    void set_waker(std::function<void()> wake) { m_wake = std::move(wake); }
    // Also archive every exchange, robots.txt included (null: none); set before run(). A failing
    // archive stops the crawl as failed. The writer must outlive the job.
    void set_archive(archive::WarcWriter* warc) { m_warc = warc; }
    // Also save every 2xx body as a file of the mirror (null: none); set before run(). Saved
    // on the thread that has the body (a parse worker for HTML). Must outlive the job.
    void set_mirror(MirrorWriter* mirror) { m_mirror = mirror; }
    // The crawl was interrupted (Ctrl-C): the stop reason says so.
    void mark_interrupted() { m_interrupted = true; }

    Next next(fetch::Clock::time_point now) override;
    void on_response(fetch::Response&& response) override;

    // After Fetcher::run() returned: waits for the parses still running and records them.
    void finish();

    StopReason stop_reason() const;
    // "finished: frontier exhausted", "stopped: --max-pages 100 reached", ...
    std::string stop_text() const;
    const CrawlCounters& counters() const { return m_counters; }
    // Errors by kind ("http_404", "http_503", "connect", "timeout", "throttled", ...).
    std::map<std::string, std::uint64_t> errors_by_kind() const;
    const std::optional<storage::Error>& store_error() const { return m_store_error; }
    FrontierStats frontier_stats() const; // after run() only

    // The stall watchdog: asks the loop to describe what it waits on (woken now, so the
    // description is fresh even while every host waits on a timer), and reads the latest
    // description (oldest request in flight, host held back).
    void request_stall_report() {
        m_stall_requested = true;
        if (m_wake) {
            m_wake();
        }
    }
    std::string stall_report() const;

private:
    // A discovered URL to offer the frontier: a link of the record (`link` indexes
    // record.links, whose to_url it is: not copied) or a redirect target (`url`, link -1).
    struct Candidate {
        std::string url;
        std::int32_t link = -1;
        std::uint64_t key = 0;
        int depth = 0;
        int redirects = 0;
        bool requisite = false;
    };
    struct Result {
        FrontierJob job;
        storage::PageRecord record;
        std::vector<Candidate> candidates;
        bool failed = false;
        std::string error_kind;
    };
    struct ParseTask {
        FrontierJob job;
        fetch::Response response;
        bool facts_only = false;
    };

    ExtractorOptions extractor_options() const;
    void worker_loop();
    Result parse_page(ParseTask& task, LinkExtractor& extractor) const;
    Result start_result(const FrontierJob& job, const fetch::Response& response) const;
    void add_redirect(Result& result, const fetch::Response& response) const;
    void accept(Result& result);
    void commit(Result&& result);
    void drain_parsed();
    void submit(storage::PageRecord&& record);
    void on_robots(FrontierJob&& job, fetch::Response&& response);
    // A URL handed out as disallowed or unreachable: recorded, never fetched.
    void record_refused(FrontierJob&& job);
    std::optional<StopReason> limit_reached(fetch::Clock::time_point now) const;
    // Saves a 2xx body into the mirror, if any (failures are counted by the writer).
    void save_to_mirror(const fetch::Response& response) const;
    void publish_stats();
    void update_stall(fetch::Clock::time_point now);

    const CrawlOptions m_options;
    Frontier& m_frontier;
    storage::Writer* m_writer;
    std::int64_t m_crawl_id;
    std::int64_t m_run_id;
    ItemCallback m_on_item;
    UrlFilter m_filter;
    std::function<void()> m_wake;
    archive::WarcWriter* m_warc = nullptr;
    MirrorWriter* m_mirror = nullptr;

    // Loop-thread state.
    std::unordered_map<std::uint64_t, FrontierJob> m_dispatched; // by request id
    std::uint64_t m_next_request_id = 1;
    std::uint64_t m_pages_dispatched = 0; // fetch jobs handed out, this crawl (resumes included)
    std::uint64_t m_bytes_before = 0;
    std::optional<StopReason> m_stop;
    std::optional<fetch::Clock::time_point> m_deadline;
    std::map<std::string, std::uint64_t> m_errors_by_kind;
    std::optional<storage::Error> m_store_error;
    std::atomic<bool> m_interrupted{false};
    CrawlCounters m_counters;

    // parse_threads 0: the one extractor, used on the engine's thread.
    std::unique_ptr<LinkExtractor> m_inline_extractor;

    // Parse pool.
    std::vector<std::thread> m_workers;
    mutable std::mutex m_pool_mutex;
    std::condition_variable m_pool_cv; // tasks for the workers
    std::condition_variable m_idle_cv; // a result is ready (finish())
    std::deque<ParseTask> m_tasks;
    std::vector<Result> m_parsed;
    std::size_t m_parsing = 0;      // queued or being parsed
    std::size_t m_idle_workers = 0; // waiting on m_pool_cv
    bool m_finishing = false;       // finish() waits on m_idle_cv
    bool m_pool_stop = false;

    // Stall watchdog.
    std::atomic<bool> m_stall_requested{false};
    mutable std::mutex m_stall_mutex;
    std::string m_stall_text;
    std::map<std::uint64_t, std::pair<std::string, fetch::Clock::time_point>> m_in_flight_urls;
};

std::string_view to_string(StopReason reason);

// X-Robots-Tag for our agent: directives without an agent prefix, and those after "TOKEN:"
// (until another agent prefix). Sets noindex/nofollow ("none" sets both).
void parse_x_robots_tag(std::string_view header, std::string_view agent_token, bool& noindex,
                        bool& nofollow);
// Content-Type says HTML (text/html, application/xhtml+xml), or, when there is none, the body
// starts like HTML (optional BOM and whitespace, then "<!doctype html", "<html", "<head",
// "<body", "<title", "<a " or "<!--", case-insensitive).
bool is_html(std::string_view content_type, std::string_view body);

} // namespace flagcrawl::crawler
