// The crawl's Frontier when the crawl is shared through PostgreSQL (`crawl --frontier URL
// --crawl-name NAME`): the worker fetches the URLs of the hosts it leases, under the local
// frontier's politeness rules (per-host concurrency, delay, Crawl-delay, robots.txt, 429/503
// backoff), so that politeness holds across all workers; its results and discoveries go to the
// server in batches through the Coordinator, which runs on its own thread.
//
// SharedCrawl opens the crawl before it starts (defines it, or joins it and reads its settings);
// make_frontier() then gives the crawl its frontier.
#pragma once

#include "crawler/crawl/crawl_settings.hpp"
#include "crawler/crawl/frontier.hpp"
#include "crawler/pgfrontier/coordinator.hpp"
#include "crawler/url/seen_set.hpp"
#include "storage/writer.hpp"

#include <boost/system/result.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace flagcrawl::pgfrontier {

struct SharedCrawlOptions {
    std::string conninfo;                    // given to libpq as is
    std::string name;                        // the crawl's name on the server
    Millis lease = std::chrono::seconds(30); // of each host this worker claims
    std::string label;                       // this worker in flagcrawl.workers
    Millis outage_limit = std::chrono::seconds(60);
};

struct SharedCrawlError {
    enum class Kind {
        usage, // as given, it cannot run: defining options when joining, a name taken
        fatal, // the server refused or cannot be reached, no such crawl
    };
    Kind kind = Kind::fatal;
    std::string message; // one line, without the password
};

// The options a worker keeps for itself when it joins (its own outputs), and those a join
// refuses besides the defining ones: the crawl-wide limits, kept on the server.
const std::vector<std::string_view>& own_output_options();
const std::vector<std::string_view>& crawl_wide_limit_options();

class SharedCrawl {
public:
    // `define`: a new crawl of given.seeds, defined on the server under `options.name` (a name
    // taken is a usage error). Otherwise joins the crawl of that name: its settings are the
    // stored ones, with those of `given_options` that a join may change (the others are a
    // usage error, as for --resume). Blocks until the server answered.
    static boost::system::result<std::unique_ptr<SharedCrawl>, SharedCrawlError>
    open(SharedCrawlOptions options, const crawler::CrawlSettings& given,
         const std::set<std::string, std::less<>>& given_options, bool define);

    const crawler::CrawlSettings& settings() const { return m_settings; }
    const std::vector<crawler::SettingChange>& changes() const { return m_changes; }
    bool defined() const { return m_defined; } // this worker defined the crawl
    std::int32_t worker_id() const { return m_worker; }

    // The crawl's frontier (CrawlStart::make_frontier), once. `writer` (may be null) is flushed
    // before each batch reaches the server, so that the worker's own records come first.
    std::unique_ptr<crawler::Frontier> make_frontier(const crawler::FrontierOptions& options,
                                                     storage::Writer* writer);

private:
    SharedCrawl() = default;

    SharedCrawlOptions m_options;
    std::unique_ptr<Coordinator> m_coordinator;
    crawler::CrawlSettings m_settings;
    std::vector<crawler::SettingChange> m_changes;
    bool m_defined = false;
    std::int32_t m_worker = 0;
};

// Threads: as the Frontier contract says (the crawl loop's thread); the coordinator's updates
// arrive through its mailbox and wake the loop with the waker.
class PgFrontier final : public crawler::Frontier {
public:
    PgFrontier(std::unique_ptr<Coordinator> coordinator, const crawler::FrontierOptions& options);
    ~PgFrontier() override;

    void set_waker(std::function<void()> wake) override;
    // The seeds were stored with the crawl's definition: nothing to do.
    void offer(std::span<const crawler::Discovery> offers, crawler::Decisions& decisions) override;
    crawler::FrontierNext next(crawler::TimePoint now) override;
    // The skips among the discoveries go to `decisions` (this worker records them); the URLs
    // go to the shared crawl.
    void complete(crawler::Completion& completion, crawler::TimePoint now,
                  crawler::Decisions& decisions) override;
    bool defer(crawler::FrontierJob& job, int attempts,
               std::optional<crawler::Duration> retry_after, crawler::TimePoint now) override;
    void robots_fetched(const crawler::FrontierJob& job, std::optional<crawler::RobotsRules> rules,
                        std::string_view failure, crawler::TimePoint now) override;
    void robots_host_down(const crawler::FrontierJob& job, std::string_view failure,
                          crawler::TimePoint now) override;
    crawler::FrontierStats stats() const override;
    const std::optional<storage::Error>& store_error() const override { return m_failure; }
    std::string waiting_on(crawler::TimePoint now) const override;
    void close(crawler::TimePoint deadline) override;

private:
    // A host this worker leases.
    struct Held {
        std::int32_t id = 0;
        std::int32_t epoch = 0;
        std::string origin;
        crawler::TimePoint deadline; // of the lease, on this clock
        bool lease_hold = false;     // held back: the lease ends too soon for another request
        bool releasing = false;      // handed back once nothing of it is in flight
        bool exhausted = false;      // the server had nothing more for it
        int wanted = 0;              // URLs asked of the coordinator, not delivered yet
    };
    // A URL delivered and not completed: under which lease.
    struct Delivery {
        std::int32_t host = 0;
        std::int32_t epoch = 0;
    };

    void take_updates(crawler::TimePoint now);
    void grant(const Grant& grant);
    void lose(std::int32_t host);
    void deliver(const Delivered& d);
    void start_release(Held& held);
    void release_if_done(Held& held, crawler::TimePoint now);
    void want_more(Held& held);
    void check_leases(crawler::TimePoint now);
    void flush_to_coordinator();
    std::vector<std::uint64_t> delivered_keys(std::int32_t host) const;
    crawler::Duration margin(const Held& held) const;
    Held* held_by_origin(std::string_view origin);

    std::unique_ptr<Coordinator> m_coordinator;
    crawler::LocalFrontier m_local; // politeness and queues of the held hosts, in memory
    const crawler::FrontierOptions m_options;
    const int m_read_ahead; // URLs kept queued per held host
    std::function<void()> m_wake;
    std::shared_ptr<std::atomic<bool>> m_updates = std::make_shared<std::atomic<bool>>(true);

    std::unordered_map<std::int32_t, Held> m_held;
    std::unordered_map<std::string, std::int32_t, util::StringHash, std::equal_to<>> m_hosts;
    std::unordered_map<std::uint64_t, Delivery> m_delivered;
    std::deque<crawler::FrontierJob> m_given_up; // handed out before anything else
    crawler::SeenSet m_seen;    // keys known to be in the crawl: only grows, so never wrong
    crawler::SeenSet m_skipped; // keys this worker recorded as skips
    // Completed since the last flush: sent to the coordinator at the next call from the loop,
    // after the crawl submitted the page to its own store (which the coordinator flushes
    // before committing).
    std::vector<Completion> m_completions;
    std::vector<UrlRow> m_discovered;
    std::optional<Verdict> m_verdict;
    std::optional<storage::Error> m_failure;
    bool m_idle = false;
    bool m_release_check = false; // a completion came: may a host go back?
    bool m_closed = false;
    crawler::TimePoint m_next_lease_check{};
    std::uint64_t m_refused = 0;
};

} // namespace flagcrawl::pgfrontier
