// A worker's side of a crawl shared through PostgreSQL: one thread with its own io_context and
// one connection, off the crawl loop, that claims and renews host leases, fetches the queued URLs
// of the hosts it holds, commits the loop's results in batches, hands hosts back, reconnects
// after an outage, and learns when the crawl is over (LISTEN/NOTIFY, no polling loop).
//
// The crawl loop talks to it through a mailbox: it submits completions and discoveries, asks for
// URLs of its hosts and hands hosts back; it takes Updates (leases granted, renewed or lost, URLs
// delivered, the crawl's verdict). Every public member is thread-safe; the waker is called from
// the coordinator's thread when an Update is ready.
#pragma once

#include "crawler/pgfrontier/shared_crawl.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace flagcrawl::pgfrontier {

using SteadyTime = std::chrono::steady_clock::time_point;

struct CoordinatorOptions {
    std::string conninfo; // given to libpq as is
    std::string crawl_name;
    // Set for the first worker: define the crawl with it. A crawl of that name that exists
    // already is an error (Started::Problem::name_taken), as is a missing one without it.
    std::optional<CrawlDefinition> define;
    std::string label;                       // this worker in flagcrawl.workers ("host:pid")
    Millis lease = std::chrono::seconds(30); // of each host claimed
    // A batch is committed when it holds this many completions, or this long after its first.
    std::size_t batch_pages = 200;
    Millis batch_delay = std::chrono::milliseconds(100);
    int max_hosts = 64;                                // leases held at most
    Millis connect_timeout = std::chrono::seconds(10); // one attempt
    Millis outage_limit = std::chrono::seconds(60);    // reconnecting, then give up
    // Called on the coordinator's thread before each commit: the worker's own records of the
    // batch must be durable first (its SQLite writer flushed). An error fails the crawl.
    std::function<std::optional<std::string>()> before_commit;
};

// A lease as the loop sees it: `deadline` on this process's steady clock, never later than the
// server's lease_until (it is counted from before the claim was sent).
struct Grant {
    std::int32_t host = 0;
    std::string origin;
    std::int32_t epoch = 0;
    SteadyTime deadline;
    SteadyTime not_before; // politeness carried over from the host's previous owner
    bool taken_over = false;
};

struct Verdict {
    CrawlStatus status = CrawlStatus::running;
    std::string stop_reason; // "frontier exhausted", "--max-pages 100 reached"
};

// What happened since the last take_updates().
struct Update {
    std::vector<Grant> granted;
    std::vector<std::pair<std::int32_t, SteadyTime>> renewed; // host, new deadline
    std::vector<std::int32_t> lost;                           // hosts no longer held
    std::vector<Delivered> delivered;                         // in discovery order per host
    std::vector<std::int32_t> exhausted; // held hosts the server has nothing more for now
    std::int64_t surplus = 0;            // hosts held beyond the fair share: hand back as many
    std::uint64_t committed = 0;         // completions committed ...
    std::uint64_t refused = 0;           // ... and refused (fenced out: the host was lost)
    std::optional<Verdict> verdict;      // the crawl ended (for every worker)
    std::optional<std::string> failure;  // the coordinator gave up: the crawl must stop
};

class Coordinator {
public:
    // The outcome of start().
    struct Started {
        enum class Problem { none, name_taken, no_such_crawl, failed };
        Problem problem = Problem::none;
        std::string message; // one line, for failed / no_such_crawl / name_taken
        CrawlInfo crawl;     // with none
        std::int32_t worker = 0;
    };

    explicit Coordinator(CoordinatorOptions options);
    ~Coordinator(); // stops the thread without the goodbyes of close()
    Coordinator(const Coordinator&) = delete;
    Coordinator& operator=(const Coordinator&) = delete;

    // Connects, checks the schema, defines or finds the crawl, registers this worker and starts
    // listening; blocks until done. Call once, before anything else.
    Started start();

    // Called when an Update is ready (from the coordinator's thread).
    void set_waker(std::function<void()> wake);
    // Replaces CoordinatorOptions::before_commit (any time; the next commit uses it).
    void set_before_commit(std::function<std::optional<std::string>()> before_commit);

    // The loop's side.
    void submit(std::vector<Completion> completions, std::vector<UrlRow> discovered);
    // Asks for `count` more URLs of a held host than the loop has taken so far: a standing
    // order, replacing the previous one for the host, kept until the server had that many
    // (what it lacks now comes when other batches add URLs to the host). 0 cancels it.
    void want(std::int32_t host, std::int32_t epoch, int count);
    // Hands a host back (nothing of it in flight, its completions submitted before).
    void release(Release release);
    // The loop has nothing queued and nothing in flight: the coordinator checks whether the
    // crawl is over once its batches are committed.
    void set_idle(bool idle);
    Update take_updates();
    // Completions submitted and not yet committed (the loop stops fetching above a bound).
    std::size_t uncommitted() const;

    // Commits what was submitted, hands back every host still held (with `returned` URLs of
    // each: delivered, never completed), records this worker's verdict and disconnects, waiting
    // at most until `deadline`.
    void close(std::vector<Release> held, const std::string& verdict, SteadyTime deadline);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace flagcrawl::pgfrontier
