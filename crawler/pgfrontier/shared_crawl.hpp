// The statements of a crawl shared through PostgreSQL (tables: schema.hpp), one round trip each:
// define or find a crawl, register a worker, claim, renew and release host leases, hand out a
// host's queued URLs, commit a batch of results with their discoveries, detect the end.
//
// The rules they keep:
// - Hosts are leased, not URLs: a claim takes hosts with work whose lease is free or lapsed and
//   bumps their epoch. Times are the server's (now()), never the worker's clock.
// - Fencing: a completion applies only where the host's owner and epoch are still the ones it
//   was handed out under; the others are refused (reported back, not applied).
// - No deadlocks: a batch locks every host row it will touch in one pass, in id order, before
//   it touches URLs; URL rows are written in key order.
// - Exactly once: a URL moves from queued to done once (the update requires state 0); a
//   batch also records its sequence number in the worker's row, so a worker that lost its
//   connection during the commit can tell whether it committed.
//
// Every function runs on the connection's thread (pg_connection.hpp) and returns the server's
// error as is: transient ones (connection lost, deadlock) are the caller's to retry.
#pragma once

#include "crawler/pgfrontier/pg_connection.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flagcrawl::pgfrontier {

using Millis = std::chrono::milliseconds;

// A URL as the server stores it: its origin ("http://h:p", the host) and the rest.
struct UrlRow {
    std::uint64_t key = 0;
    std::string origin;
    std::string path; // path and query after the origin: origin + path is the URL
    int depth = 0;
    int redirects = 0;
    bool requisite = false;
};

struct CrawlDefinition {
    std::string name;
    std::string seeds_json;   // JSON array of the seed URLs, as given
    std::string options_json; // JSON object of the defining options
    std::uint64_t max_pages = 0;
    std::uint64_t max_bytes = 0;
    std::vector<UrlRow> seeds; // distinct keys
};

enum class CrawlStatus { running, finished, stopped };

struct CrawlInfo {
    std::int32_t id = 0;
    std::string name;
    std::string seeds_json;
    std::string options_json;
    std::uint64_t max_pages = 0;
    std::uint64_t max_bytes = 0;
    CrawlStatus status = CrawlStatus::running;
    std::string stop_reason; // empty while running
};

// Creates the crawl with its seeds queued, in one transaction; nullopt when the name is taken.
asio::awaitable<PgResult<std::optional<CrawlInfo>>> define_crawl(PgConnection& c,
                                                                 const CrawlDefinition& d);
// The crawl of that name; nullopt when there is none.
asio::awaitable<PgResult<std::optional<CrawlInfo>>> find_crawl(PgConnection& c,
                                                               const std::string& name);

// Adds a workers row; returns its id, the owner id of its leases.
asio::awaitable<PgResult<std::int32_t>> register_worker(PgConnection& c, std::int32_t crawl,
                                                        const std::string& label);
// The worker exits: its row says when and with what verdict.
asio::awaitable<PgResult<void>> end_worker(PgConnection& c, std::int32_t worker,
                                           const std::string& verdict);
// The sequence number of the worker's last committed batch (0: none).
asio::awaitable<PgResult<std::int64_t>> last_batch(PgConnection& c, std::int32_t worker);

// LISTEN on the crawl's channel: the server notifies 'work' when a host with work became free
// and 'status' when the crawl's status changed.
std::string channel_of(std::int32_t crawl);
asio::awaitable<PgResult<void>> listen(PgConnection& c, std::int32_t crawl);

// The crawl as a worker needs to see it between claims.
struct CrawlState {
    CrawlStatus status = CrawlStatus::running;
    std::string stop_reason;
    std::int64_t active_hosts = 0; // hosts with work
    std::int64_t live_workers = 0; // workers that renewed within a lease, not ended
    std::int64_t fair_share = 1;   // ceil(active / live), at least 1
    // The soonest a lapsed lease or a host's next_at could give this worker something to
    // claim (nullopt: nothing foreseeable; wait for a notification).
    std::optional<Millis> next_claimable;
    std::int64_t pages = 0; // totals against the crawl-wide limits (0 without limits)
    std::int64_t bytes = 0;
};

struct HostLease {
    std::int32_t host = 0;
    std::string origin;
    std::int32_t epoch = 0;
    Millis remaining{0}; // of the lease, on the server's clock, when it answered
    Millis wait{0};      // until next_at: politeness carried over from the last owner
    std::int64_t pending = 0;
    bool taken_over = false; // the previous owner's lease lapsed (it stopped or died)
};

// Claims up to `want` hosts with work whose lease is free or lapsed, keeping this worker within
// its fair share (hosts with work / live workers, rounded up) of them, for `lease`; returns the
// leases and the crawl's state.
struct Claim {
    std::vector<HostLease> leases;
    CrawlState state;
};
asio::awaitable<PgResult<Claim>> claim_hosts(PgConnection& c, std::int32_t crawl,
                                             std::int32_t worker, int want, Millis lease);

struct Held {
    std::int32_t host = 0;
    std::int32_t epoch = 0;
};
// Extends the leases still held (same owner and epoch) by `lease` from now; the others are
// lost (not in the answer). Also the worker's heartbeat and the crawl's state.
struct Renewal {
    std::vector<HostLease> held; // origin empty
    CrawlState state;
};
asio::awaitable<PgResult<Renewal>> renew_leases(PgConnection& c, std::int32_t crawl,
                                                std::int32_t worker,
                                                const std::vector<Held>& leases, Millis lease);

// Hands out up to `limit` queued URLs of each host, oldest first, not handed out under the
// same epoch before, counting a delivery on each. Nothing for a host no longer held.
struct DeliveryRequest {
    std::int32_t host = 0;
    std::int32_t epoch = 0;
    int limit = 0;
};
struct Delivered {
    std::int32_t host = 0;
    std::int32_t epoch = 0;
    std::int64_t seq = 0;
    UrlRow url;         // origin empty: the host's
    int deliveries = 0; // including this one
};
asio::awaitable<PgResult<std::vector<Delivered>>>
deliver(PgConnection& c, std::int32_t crawl, std::int32_t worker,
        const std::vector<DeliveryRequest>& requests);

// One result: the URL `key`, handed out under `epoch`.
struct Completion {
    std::uint64_t key = 0;
    std::int32_t host = 0;
    std::int32_t epoch = 0;
    std::optional<std::int32_t> status; // HTTP status; nullopt without a response
    std::int64_t bytes = 0;
    std::optional<std::string> error_kind; // nullopt: not a failure
    bool fetched = true;                   // counts as a page against the crawl-wide limits
};

struct Batch {
    std::int64_t sequence = 0; // the worker's batch counter, from 1
    std::vector<Completion> completions;
    std::vector<UrlRow> discovered; // offered to the seen-set; sorted by key before sending
};

struct BatchResult {
    std::vector<std::uint64_t> accepted; // completions applied; the others were fenced out
    std::uint64_t inserted = 0;          // discoveries new to the crawl
    // This worker's hosts the batch touched, with their undone URLs after it.
    std::vector<std::pair<std::int32_t, std::int64_t>> pending;
    // The crawl's status after the batch (a crawl-wide limit may have stopped it).
    CrawlStatus status = CrawlStatus::running;
    std::string stop_reason;
};
asio::awaitable<PgResult<BatchResult>> commit_batch(PgConnection& c, std::int32_t crawl,
                                                    std::int32_t worker, const Batch& batch);

// Hands hosts back: not owned any more, their next request no sooner than `wait` from now.
// `returned` URLs were handed out under the lease but never completed (not fetched, or cut short
// by Ctrl-C): their delivery is not counted against them.
struct Release {
    std::int32_t host = 0;
    std::int32_t epoch = 0;
    Millis wait{0};
    std::vector<std::uint64_t> returned;
};
asio::awaitable<PgResult<void>> release_hosts(PgConnection& c, std::int32_t crawl,
                                              std::int32_t worker,
                                              const std::vector<Release>& releases);

// Refreshes the planner's statistics of the URL and host tables. A crawl minutes old has none
// (its rows are all new), and the planner then scans all its URLs for each one a batch looks up:
// the coordinator calls this as the crawl grows (every fourfold). Without the right to, the
// server only warns.
asio::awaitable<PgResult<void>> analyze_tables(PgConnection& c);

// Marks the crawl finished when no URL is undone (notifying the others); returns its status.
asio::awaitable<PgResult<CrawlInfo>> finish_if_done(PgConnection& c, std::int32_t crawl);

// Totals of a crawl for `flagcrawl stats --frontier`.
struct SharedStats {
    CrawlInfo crawl;
    std::string created_at;
    std::string ended_at;
    std::int64_t urls = 0;
    std::int64_t done = 0;
    std::int64_t fetched_ok = 0; // done with a 2xx or 3xx and no error
    std::int64_t failed = 0;     // done with an error kind
    std::int64_t bytes = 0;
    std::int64_t hosts = 0;
    std::int64_t hosts_leased = 0;
    std::vector<std::pair<std::string, std::int64_t>> errors_by_kind;
    struct Worker {
        std::int32_t id = 0;
        std::string label;
        std::string started_at;
        std::string ended_at; // empty: running (or died without saying)
        std::string verdict;
        std::int64_t done = 0;
        std::int64_t hosts_leased = 0;
    };
    std::vector<Worker> workers;
    std::int64_t server_bytes = 0; // disk used by the crawl tables (all crawls)
};
asio::awaitable<PgResult<std::optional<SharedStats>>> shared_stats(PgConnection& c,
                                                                   const std::string& name);
// The same from the calling thread: connects to `conninfo`, reads, disconnects. Nothing is
// created on the server (a database without the tables has no crawl); tables newer than this
// build's are refused.
PgResult<std::optional<SharedStats>> read_shared_stats(const std::string& conninfo,
                                                       const std::string& name, Millis timeout);

std::string_view to_string(CrawlStatus status);

} // namespace flagcrawl::pgfrontier
