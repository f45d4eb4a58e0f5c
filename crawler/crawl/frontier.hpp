// The crawl frontier: which URL to fetch next, and when. The interface the crawl loop uses (a
// later backend may share it between processes), and LocalFrontier: per-host queues and
// politeness in memory, a bounded window of queued URLs, the rest paged in from a store.
#pragma once

#include "crawler/robots/robots.hpp"
#include "crawler/url/seen_set.hpp"
#include "storage/sqlite.hpp"
#include "util/hash.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flagcrawl::crawler {

using FrontierClock = std::chrono::steady_clock;
using TimePoint = FrontierClock::time_point;
using Duration = std::chrono::nanoseconds;

// A URL accepted into the crawl. `seq` is its discovery order (1, 2, ...), given by push().
struct FrontierEntry {
    std::int64_t seq = 0;
    std::uint64_t key = 0; // key_hash(normalize_key(url))
    std::string url;       // absolute http(s), no fragment
    int depth = 0;         // link hops from a seed
    int redirects = 0;     // redirect hops that led here
    bool requisite = false;
    int deferrals = 0; // times a 429/503 put it back (not persisted)
};

// What next() hands out.
struct FrontierJob {
    enum class Kind {
        fetch,       // fetch entry.url
        robots,      // fetch `origin` + "/robots.txt" and report it with robots_fetched()
        disallowed,  // entry may not be fetched (robots.txt): record it; nothing to complete
        unreachable, // the host's robots.txt stayed unreachable (given up): record entry as
                     // failed; nothing to complete
    };
    Kind kind = Kind::fetch;
    std::uint32_t host = 0; // the host slot: give it back to complete()/defer()/robots_fetched()
    std::string origin;     // "http://h:p" (robots jobs)
    FrontierEntry entry;    // fetch, disallowed and unreachable jobs
    std::string reason;     // unreachable jobs: why the host's last robots.txt fetch failed
};

struct FrontierNext {
    enum class State {
        ready,    // `job` is set
        waiting,  // nothing ready now: ask again at `wake_at` (if set) or after a completion
        finished, // nothing queued, nothing in flight: the crawl is over
    };
    State state = State::finished;
    FrontierJob job;
    std::optional<TimePoint> wake_at;
};

// Counters for progress lines and summaries.
struct FrontierStats {
    std::uint64_t queued = 0;        // in memory and in the store
    std::uint64_t in_flight = 0;     // handed out, not completed (fetching or being parsed)
    std::uint64_t hosts = 0;         // hosts known
    std::uint64_t hosts_waiting = 0; // hosts with work held back by politeness or backoff
    std::uint64_t seen = 0;          // keys in the seen-set
    std::uint64_t seen_bytes = 0;    // RAM of the seen-set
    std::uint64_t deferred = 0;      // 429/503 deferrals so far
};

// The frontier contract. Not thread-safe: one thread (the crawl loop) calls everything.
class Frontier {
public:
    virtual ~Frontier() = default;

    // Accepts a URL if its key was never seen: gives it the next seq, queues it and returns the
    // entry as stored (for the caller to persist); nullopt when seen. The caller checked scope
    // and robots (allowed_now()).
    virtual std::optional<FrontierEntry> push(std::string url, std::uint64_t key, int depth,
                                              int redirects, bool requisite) = 0;
    virtual bool seen(std::uint64_t key) const = 0;
    // False when the URL's host has robots.txt rules that disallow it (then push() is
    // pointless). True when allowed or not known yet (checked again when it is handed out).
    virtual bool allowed_now(std::string_view url) const = 0;

    virtual FrontierNext next(TimePoint now) = 0;
    // A fetch job is done (its result recorded). `now` starts the host's next interval.
    virtual void complete(const FrontierJob& job, TimePoint now) = 0;
    // The server said 429/503: put the entry back at the head of its host queue and pause the
    // host until now + retry_after (or an exponential backoff). Returns false, and puts
    // nothing back, when the entry was already deferred max_deferrals times: the caller
    // records it as failed and calls complete().
    virtual bool defer(FrontierJob& job, std::optional<Duration> retry_after, TimePoint now) = 0;
    // The outcome of a robots job. rules: parsed rules, allow_all(), or nullopt when robots.txt
    // was unreachable (5xx, 429, no response): the host is held and robots.txt refetched later.
    // failure: why it was unreachable ("HTTP 503", "timeout ..."), given to the host's
    // unreachable jobs if it is given up; ignored with rules.
    virtual void robots_fetched(const FrontierJob& job, std::optional<RobotsRules> rules,
                                std::string_view failure, TimePoint now) = 0;
    // The outcome of a robots job whose host is down (RobotsFetchPolicy::give_up_host): no
    // refetch; the host's URLs are handed out as unreachable at once, with `failure`.
    virtual void robots_host_down(const FrontierJob& job, std::string_view failure,
                                  TimePoint now) = 0;

    virtual FrontierStats stats() const = 0;
    // The first failure of the store behind the frontier (queued URLs could not be read back):
    // the crawl must stop as failed. The frontier keeps handing out what it holds in memory.
    virtual const std::optional<storage::Error>& store_error() const = 0;
    // One line naming what the frontier waits on ("127.0.0.1:8000: politeness until +1.2s"),
    // for the stall watchdog; empty when nothing is held back.
    virtual std::string waiting_on(TimePoint now) const = 0;
};

// Where queued URLs beyond the in-memory window live (the SQLite frontier table).
class FrontierStore {
public:
    virtual ~FrontierStore() = default;
    // Calls on_entry for up to `limit` queued entries with seq > after_seq, in seq order. Every
    // entry pushed before the call must be visible (the SQLite store flushes its writer first).
    // An error (disk full, I/O) may come after some entries were given to on_entry.
    virtual storage::Result<void> page_in(std::int64_t after_seq, std::size_t limit,
                                          const std::function<void(FrontierEntry&&)>& on_entry) = 0;
};

struct PolitenessOptions {
    int per_host = 8;   // requests in flight per host (robots.txt included)
    Duration delay{0};  // minimum interval between requests to one host ...
    bool jitter = true; // ... times a random factor in [0.5, 1.5) (Scrapy's)
    bool robots = true; // fetch and obey robots.txt
    Duration crawl_delay_cap = std::chrono::seconds(10); // robots.txt Crawl-delay honoured up to
    int max_deferrals = 5;                               // 429/503 put-backs per URL
    Duration backoff_base = std::chrono::seconds(1);     // without Retry-After: base * 2^n ...
    Duration backoff_max = std::chrono::seconds(60);     // ... up to this
    Duration retry_after_max = std::chrono::minutes(10); // a longer Retry-After is capped
    // robots.txt unreachable: refetch after these waits, then give up on the host (its URLs
    // are handed out as unreachable: RFC 9309 says to assume complete disallow).
    std::vector<Duration> robots_retry = {std::chrono::seconds(2), std::chrono::seconds(10),
                                          std::chrono::seconds(30)};
};

struct FrontierOptions {
    PolitenessOptions politeness;
    std::size_t window = 10'000; // queued entries kept in memory; the rest stay in the store
    std::uint64_t seed = 0;      // jitter's random generator (tests fix it)
};

// The host slot of an absolute URL as serialized by the URL parser: "scheme://host[:port]"
// (userinfo included when present), the unit of politeness and robots.txt.
std::string_view origin_of(std::string_view url);
// The URL's path and query, as robots.txt rules match them ("/" when the path is empty).
std::string path_and_query_of(std::string_view url);

class LocalFrontier final : public Frontier {
public:
    // store may be null: then everything stays in memory (window ignored).
    LocalFrontier(FrontierOptions options, FrontierStore* store);

    // Resume: the seen-set and the queue as stored. Call before anything else.
    void restore_seen(std::uint64_t key) { m_seen.insert(key); }
    void reserve_seen(std::size_t count) { m_seen.reserve(count); }
    // Seq numbering continues after `max_seq`; `queued` entries wait in the store (paged in).
    void restore_queue(std::int64_t max_seq, std::uint64_t queued);

    std::optional<FrontierEntry> push(std::string url, std::uint64_t key, int depth, int redirects,
                                      bool requisite) override;
    bool seen(std::uint64_t key) const override { return m_seen.contains(key); }
    bool allowed_now(std::string_view url) const override;
    FrontierNext next(TimePoint now) override;
    void complete(const FrontierJob& job, TimePoint now) override;
    bool defer(FrontierJob& job, std::optional<Duration> retry_after, TimePoint now) override;
    void robots_fetched(const FrontierJob& job, std::optional<RobotsRules> rules,
                        std::string_view failure, TimePoint now) override;
    void robots_host_down(const FrontierJob& job, std::string_view failure, TimePoint now) override;
    FrontierStats stats() const override;
    const std::optional<storage::Error>& store_error() const override { return m_store_error; }
    std::string waiting_on(TimePoint now) const override;

    std::size_t in_memory() const { return m_in_memory; }
    std::uint64_t in_store() const { return m_spilled; }

private:
    enum class Robots : std::uint8_t { unknown, fetching, ready, given_up };
    // A queued entry. Its URL is the host's origin followed by `path_size` bytes of the host's
    // `paths` from `path` (path and query): ~48 bytes plus those bytes per queued URL, where a
    // FrontierEntry with its own std::string took ~150 (a 5000-page site peaks at ~4000 queued).
    struct Queued {
        std::int64_t seq = 0;
        std::uint64_t key = 0;
        std::size_t path = 0;
        std::uint32_t path_size = 0;
        std::int32_t depth = 0;
        std::int32_t redirects = 0;
        std::int32_t deferrals = 0;
        bool requisite = false;
    };
    struct Host {
        std::string origin;
        std::deque<Queued> queue;
        // The queued URLs' paths, in no particular order; `paths_dead` bytes belong to entries
        // already handed out. Compacted once they are a quarter of it.
        std::string paths;
        std::size_t paths_dead = 0;
        int in_flight = 0;
        TimePoint next_allowed{}; // politeness interval
        TimePoint paused_until{}; // 429/503 backoff, robots retry
        Duration delay{0};        // effective delay (with Crawl-delay)
        Robots robots = Robots::unknown;
        int robots_failures = 0;
        std::string robots_failure; // why the last robots.txt fetch failed
        int throttle_streak = 0;
        std::shared_ptr<const RobotsRules> rules;
        // Where the host sits in the schedule (exactly one of these, or none).
        std::optional<std::int64_t> ready_key; // in m_ready under (ready_key, id)
        std::optional<TimePoint> timed_key;    // in m_timed under (timed_key, id)
    };

    const Host* find_host(std::string_view origin) const;
    std::uint32_t host_for(std::string_view origin);
    void enqueue(const FrontierEntry& entry);
    // Queues `entry` at the back of its host's queue (or the front: a deferred entry).
    Queued store(Host& host, const FrontierEntry& entry);
    FrontierEntry take_front(Host& host);
    void reschedule(std::uint32_t id, TimePoint now);
    void unschedule(Host& host, std::uint32_t id);
    Duration jittered(Duration delay);
    void page_in_if_low();

    FrontierOptions m_options;
    FrontierStore* m_store;
    SeenSet m_seen;
    std::vector<Host> m_hosts;
    std::unordered_map<std::string, std::uint32_t, util::StringHash, std::equal_to<>> m_host_ids;
    std::set<std::pair<std::int64_t, std::uint32_t>> m_ready; // (head seq, host)
    std::set<std::pair<TimePoint, std::uint32_t>> m_timed;    // (wake time, host)
    std::int64_t m_next_seq = 1;
    std::int64_t m_memory_max_seq = 0; // every queued entry with seq <= this is in memory
    std::size_t m_in_memory = 0;       // queued entries in host queues
    std::uint64_t m_spilled = 0;       // queued entries only in the store
    std::uint64_t m_in_flight = 0;
    std::uint64_t m_deferred = 0;
    std::optional<storage::Error> m_store_error; // the first page_in() failure: no more page-ins
    std::mt19937_64 m_random;
    TimePoint m_now{}; // the latest time given to next()/complete()/defer()
};

} // namespace flagcrawl::crawler
