// The crawl frontier: which URL to fetch next, and when. The interface the crawl loop uses
// (Frontier, with room for a backend shared between processes), and LocalFrontier: per-host
// queues and politeness in memory, a bounded window of queued URLs, the rest paged in from a
// store in the background.
#pragma once

#include "crawler/crawl/shared_waker.hpp"
#include "crawler/robots/robots.hpp"
#include "crawler/url/seen_set.hpp"
#include "fetch/outcome.hpp"
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
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flagcrawl::crawler {

using FrontierClock = std::chrono::steady_clock;
using TimePoint = FrontierClock::time_point;
using Duration = std::chrono::nanoseconds;

// Where a queued URL stands in the crawl's order: shallower first, then in discovery order.
struct QueuePosition {
    int depth = 0;
    std::int64_t seq = 0;
    auto operator<=>(const QueuePosition&) const = default;
};

// What a sitemap URL is to the crawl (its pages row has kind 'sitemap'; the URLs it lists are
// offered as links of kind 'sitemap', one hop deeper). Stored in frontier.sitemap.
enum class SitemapRole : std::uint8_t {
    none = 0,     // not a sitemap
    declared = 1, // named by a seed host's robots.txt (or a redirect of such a URL)
    guessed = 2,  // the seed host's /sitemap.xml, tried unasked: a 4xx is no failure
    indexed = 3,  // listed by a sitemap index: read as a sitemap, never as another index
};

// A URL accepted into the crawl. `seq` is its discovery order (1, 2, ...), given when the
// frontier accepts it.
struct FrontierEntry {
    std::int64_t seq = 0;
    std::uint64_t key = 0; // url_key_hash of the URL
    std::string url;       // absolute http(s), no fragment
    int depth = 0;         // link hops from a seed
    int redirects = 0;     // redirect hops that led here
    bool requisite = false;
    SitemapRole sitemap = SitemapRole::none;
    // Out of the crawl's scope, checked once (crawl --check-external): a HEAD request (a GET
    // where HEAD is refused), never parsed, its links never followed, not counted as a page.
    bool external = false;
    int deferrals = 0;         // times a 429/503 put it back (not persisted)
    int deferred_attempts = 0; // requests those answers took (added to the recorded attempts)
    // A redirect target: the seq of the URL that started its chain, and the keys of the chain's
    // URLs before it (the start first), so that a loop is seen whatever else was crawled.
    std::int64_t chain_seq = 0;
    std::vector<std::uint64_t> chain;
    // The page that first led here (by a link, or the redirect hop before it), for the failure
    // line that names a referrer: its seq (0 for a seed) and, in an entry handed out or paged in,
    // its URL ("" when unknown).
    std::int64_t from_seq = 0;
    std::string from_url;
    // A redirect target: the URL that started its chain and the page that led to that URL, for
    // the failure line of a chain that fails at a later hop ("" when not known).
    std::string chain_url;
    std::string chain_from_url;
};

// Why a URL a page led to is not fetched: a skip, recorded once per URL.
struct SkipReason {
    fetch::FailureKind kind = fetch::FailureKind::out_of_scope;
    std::string_view rule; // what decided it ("scope host", "--depth 3"); read during the call
    // The URL may yet be reached through another link (this one was nofollow, or past the depth
    // on this path): the skip is undone if it is.
    bool tentative = false;
};

// A URL offered to the frontier: a seed, a link of a fetched page, a redirect target, or one
// of those the caller decided not to fetch (`skip`). The caller checked its scope; the frontier
// checks the seen-set and what it knows of the host's robots.txt. `url` and `chain` are only
// read during the call.
struct Discovery {
    std::string_view url; // absolute http(s), no fragment; a skip's may be any text
    std::uint64_t key = 0;
    int depth = 0;
    int redirects = 0;
    bool requisite = false;
    std::int64_t chain_seq = 0; // see FrontierEntry
    std::span<const std::uint64_t> chain;
    std::optional<SkipReason> skip;
    SitemapRole sitemap = SitemapRole::none;
    std::int64_t from_seq = 0; // see FrontierEntry
    std::string_view from_url{};
    bool external = false;        // see FrontierEntry
    std::string_view chain_url{}; // see FrontierEntry
    std::string_view chain_from_url{};
};

// A skip the frontier decided to record: the first of its URL.
struct SkipDecision {
    std::uint64_t key = 0;
    std::string url;
    fetch::FailureKind kind = fetch::FailureKind::out_of_scope;
    std::string rule;
    bool tentative = false;
};

// What a frontier that decides at once decided about the URLs offered to it, for the caller to
// record with the page that found them (see Frontier).
struct Decisions {
    std::vector<FrontierEntry> accepted;  // new URLs, queued
    std::vector<SkipDecision> skipped;    // URLs skipped for the first time
    std::vector<std::uint64_t> unskipped; // accepted URLs whose tentative skip no longer holds
    void clear() {
        accepted.clear();
        skipped.clear();
        unskipped.clear();
    }
};

// What next() hands out.
struct FrontierJob {
    enum class Kind {
        fetch,       // fetch entry.url
        robots,      // fetch `origin` + "/robots.txt" and report it with robots_fetched()
        disallowed,  // entry may not be fetched (robots.txt): record it, then complete() it
        unreachable, // the host's robots.txt stayed unreachable (given up): record entry as
                     // failed, then complete() it
        given_up,    // the frontier gives up on entry without fetching it (a shared frontier:
                     // handed to workers 3 times without a result): record it as failed with
                     // `reason`, then complete() it
    };
    Kind kind = Kind::fetch;
    std::uint32_t host = 0; // the host slot: give it back to complete()/defer()/robots_fetched()
    std::string origin;     // "http://h:p" (robots jobs)
    FrontierEntry entry;    // fetch, disallowed and unreachable jobs
    std::string reason;     // unreachable jobs: why the host's last robots.txt fetch failed;
                            // given_up jobs: why the frontier gave up
    // fetch and robots jobs: the host's delay (Crawl-delay included) when handed out. A retry or
    // a re-sent request goes out from the fetcher, not through the frontier, and waits this long.
    Duration delay{0};
};

struct FrontierNext {
    enum class State {
        ready,    // `job` is set
        waiting,  // nothing ready now: ask again at `wake_at` (if set), after a completion, or
                  // when the frontier's waker is called
        finished, // nothing queued, nothing in flight, nothing pending: the crawl is over
    };
    // Why a frontier is finished: its URLs ran out, or a limit it keeps over the whole crawl (a
    // shared frontier counts every worker's pages) was reached.
    enum class Cause { exhausted, max_pages, max_bytes };
    State state = State::finished;
    Cause cause = Cause::exhausted; // finished only
    FrontierJob job;
    std::optional<TimePoint> wake_at;
};

// How a job handed out by next() ended.
struct JobResult {
    enum class Outcome {
        recorded,    // its result (page, failure, refusal) was recorded: the URL is done
        interrupted, // cut short by Ctrl-C, nothing recorded: the URL stays queued
    };
    Outcome outcome = Outcome::recorded;
    int http_status = 0;         // 0: no response
    std::uint64_t bytes = 0;     // body bytes received
    std::string_view error_kind; // empty when it did not fail; else the recorded kind
};

// A job that ended, with the URLs its page led to.
struct Completion {
    FrontierJob job;
    JobResult result;
    std::vector<Discovery> discoveries; // in document order; read during complete() only
};

// Counters for progress lines and summaries.
struct FrontierStats {
    std::uint64_t queued = 0;        // in memory and in the store
    std::uint64_t in_flight = 0;     // handed out, not completed (fetching or being parsed)
    std::uint64_t hosts = 0;         // hosts known
    std::uint64_t hosts_waiting = 0; // hosts with work held back by politeness or backoff
    std::uint64_t seen = 0;          // keys in the seen-set (URLs accepted)
    std::uint64_t seen_bytes = 0;    // RAM of the seen-set
    std::uint64_t skipped = 0;       // keys of the URLs skipped (the skips recorded)
    std::uint64_t skipped_bytes = 0; // RAM of their set
    std::uint64_t deferred = 0;      // 429/503 deferrals so far
};

// The frontier contract: which URL the crawl fetches next and when (politeness, robots.txt,
// backoff), which URLs are new, and where the crawl's queue lives. The crawl loop drives it;
// the implementations differ in where the queue and the seen-set live:
//
//   LocalFrontier      this process: per-host queues in memory, the overflow and the record in
//                      the crawl's SQLite file (written by the caller, see Decisions below)
//   (a shared one)     a server several processes share; it answers some calls later, and
//                      persists what it accepts itself
//
// Threads: every call but set_waker() comes from the crawl loop's thread (the engine's; never two
// at once). The waker may be called from any thread.
//
// Sync and async: offer() and complete() take the URLs a page led to. A frontier that decides
// at once which are new (the local one) appends its decisions (entries accepted, skips to record
// once, tentative skips undone) to `decisions`, and the caller persists them in the same
// transaction as the page that found them (so a crash never keeps one without the other). A
// frontier that decides later (a round trip to a server) persists its own decisions and appends
// nothing. Likewise next() may say `waiting` without a time while an answer is outstanding: the
// frontier then calls the waker when it arrives, and the loop, woken, calls on_wake(), where the
// frontier takes the answer (the engine's ResponseHandler::on_wake(): the place work finished on
// other threads comes back, not inside next()).

class Frontier {
public:
    virtual ~Frontier() = default;

    // Set before the first next(): called (any thread) when work may have become ready
    // without a call from the loop (an asynchronous answer arrived).
    virtual void set_waker(std::function<void()> wake) = 0;
    // After the waker was called (the loop's thread, between other calls): takes what arrived
    // from other threads (the answers of a store or a server), so that stats() and the next
    // next() see it.
    virtual void on_wake() {}

    // Offers URLs (a new crawl's seeds). Those never seen are accepted: given the next seqs,
    // queued, and appended to `decisions` when the caller must persist them (see above); a skip
    // is recorded once per URL, and never for a URL accepted.
    virtual void offer(std::span<const Discovery> offers, Decisions& decisions) = 0;

    virtual FrontierNext next(TimePoint now) = 0;

    // A fetch, disallowed or unreachable job has ended (every one handed out ends exactly once
    // here, unless defer() took it back). Frees the host's slot (`now` starts its next
    // interval) and offers the completion's discoveries as offer() does.
    virtual void complete(Completion& completion, TimePoint now, Decisions& decisions) = 0;
    // The server said 429/503 to a fetch job: put the entry back at the head of its host queue
    // and pause the host until now + retry_after (or an exponential backoff); `attempts` are the
    // requests the answer took. Returns false, and puts nothing back, when the entry was
    // already deferred max_deferrals times: the caller records it as failed and completes it.
    virtual bool defer(FrontierJob& job, int attempts, std::optional<Duration> retry_after,
                       TimePoint now) = 0;
    // The outcome of a robots job. rules: parsed rules, allow_all(), or nullopt when robots.txt
    // was unreachable (5xx, 429, no response, or interrupted): the host is held and robots.txt
    // refetched later. failure: why it was unreachable ("HTTP 503", "timeout ..."), given to the
    // host's unreachable jobs if it is given up; ignored with rules.
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

    // The crawl loop has ended (finished, a limit, Ctrl-C or a failure): finish or abandon what
    // is outstanding (answers not taken, batches not written, leases held), waiting at most
    // until `deadline`. No other call follows.
    virtual void close(TimePoint deadline) = 0;
};

// The answer of a page-in: the queued entries read, in (depth, seq) order, and the failure that
// ended the read early, if any (the entries read before it are still given).
struct PagedIn {
    std::vector<FrontierEntry> entries;
    std::optional<storage::Error> error;
    // The highest seq the store held before it read the entries: every entry up to it was
    // visible to the read, later ones may not have been. nullopt: every entry pushed before the
    // request was visible.
    std::optional<std::int64_t> committed_through;
};

// Where a LocalFrontier's queued URLs beyond its in-memory window live (the SQLite frontier
// table), read back asynchronously so that the crawl loop never waits for the store.
//
// The store holds what its writer committed: entries reach it in seq order (each with the
// record of the page that found it, records committed in order), so what it holds is every
// entry up to some seq. A page-in reads only that; it never asks the writer to commit, so a
// slow or blocked writer delays only the entries it has not committed yet.
class FrontierStore {
public:
    virtual ~FrontierStore() = default;
    // Asks for up to `limit` queued entries whose position (depth, seq) comes after `after`, in
    // that order, from what the store holds once it holds an entry whose seq is above
    // `committed_after` (nullopt: at once), and calls `ready` once take() has the answer: from
    // another thread, never from within request() (its caller may hold the engine's lock, which
    // `ready` takes). One request at a time: the next only after take() returned it.
    virtual void request(QueuePosition after, std::size_t limit,
                         std::optional<std::int64_t> committed_after,
                         std::function<void()> ready) = 0;
    // The answer of the request, or nullopt while it is not ready.
    virtual std::optional<PagedIn> take() = 0;
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
    // Level by level: a URL at depth d+1 is handed out only once no URL of depth <= d is queued
    // or in flight (fetched, being parsed). Then every URL is first found through a shortest
    // path, so its recorded depth, and what --depth keeps, are the same whatever the timing
    // (a slow page cannot make its children look deeper). The price: at the end of each level
    // the crawl waits for that level's slowest page. Off: URLs go out as soon as politeness
    // allows, shallower first.
    bool by_level = true;
    // Trap defence: at most this many URLs accepted per directory (origin and path up to its
    // last '/', the query aside: /list?page=N is one directory); the next ones are skipped for
    // good (limit_reached, "--max-per-dir N"). 0: no cap. Counted over the whole crawl (a resume
    // counts what the store holds); a shared frontier does not apply it.
    std::uint32_t max_per_directory = 0;
};

// The directory of an absolute URL for FrontierOptions::max_per_directory: "http://h/a/b/" for
// "http://h/a/b/c?x".
std::string_view directory_of(std::string_view url);

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
    // Resume, with a directory cap: a URL the crawl accepted, counted in its directory.
    void restore_directory(std::string_view url);
    bool counts_directories() const { return m_options.max_per_directory > 0; }
    // Resume: a URL the crawl skipped (skips rows).
    void restore_skipped(std::uint64_t key, bool tentative);
    void reserve_seen(std::size_t count) { m_seen.reserve(count); }
    // Seq numbering continues after `max_seq`; `queued` entries wait in the store (paged in,
    // shallowest first).
    void restore_queue(std::int64_t max_seq, std::uint64_t queued);

    void set_waker(std::function<void()> wake) override;
    // Takes a page-in's answer: its entries are queued in memory.
    void on_wake() override;
    void offer(std::span<const Discovery> offers, Decisions& decisions) override;
    FrontierNext next(TimePoint now) override;
    void complete(Completion& completion, TimePoint now, Decisions& decisions) override;
    bool defer(FrontierJob& job, int attempts, std::optional<Duration> retry_after,
               TimePoint now) override;
    void robots_fetched(const FrontierJob& job, std::optional<RobotsRules> rules,
                        std::string_view failure, TimePoint now) override;
    void robots_host_down(const FrontierJob& job, std::string_view failure, TimePoint now) override;
    FrontierStats stats() const override;
    const std::optional<storage::Error>& store_error() const override { return m_store_error; }
    std::string waiting_on(TimePoint now) const override;
    void close(TimePoint deadline) override;

    // Accepts one URL if its key was never seen nor skipped (and its host's known rules allow
    // it): the entry as queued, or nullopt (nothing recorded). offer() for one URL, for tests
    // and tools.
    std::optional<FrontierEntry> push(std::string_view url, std::uint64_t key, int depth,
                                      int redirects, bool requisite);
    // The frontier handed out a fetch, disallowed or unreachable job that ended with nothing
    // discovered (complete() without discoveries).
    void complete(const FrontierJob& job, TimePoint now);

    // For a shared frontier (crawler/pgfrontier) that runs this one's politeness on the hosts
    // it holds: their URLs are added as the server hands them out, not offered.
    // Queues `entry` as it is (its seq orders it among its host's URLs; no seen-set check).
    void add_entry(const FrontierEntry& entry);
    // While held, nothing of the host is handed out (robots.txt included).
    void hold_host(std::string_view origin, bool held);
    // No request to the host before `until` (a delay carried over from another process).
    void pause_host(std::string_view origin, TimePoint until);
    // Removes and returns the host's queued entries (those in flight still complete).
    std::vector<FrontierEntry> take_queue(std::string_view origin);
    struct HostLoad {
        std::size_t queued = 0;
        int in_flight = 0;
        Duration delay{0};      // the interval between its requests, Crawl-delay included
        TimePoint not_before{}; // its next request not before (delay, backoff)
    };
    HostLoad host_load(std::string_view origin) const;
    bool seen(std::uint64_t key) const { return m_seen.contains(key); }
    // False when the URL's host has robots.txt rules that disallow it. True when allowed or
    // not known yet (checked again when it is handed out).
    bool allowed_now(std::string_view url) const;

    std::size_t in_memory() const { return m_in_memory; }
    std::uint64_t in_store() const { return m_spilled; }
    // The depth being crawled (level by level: the shallowest URL queued in memory or in
    // flight); nullopt when none is.
    std::optional<int> level() const;

private:
    enum class Robots : std::uint8_t { unknown, fetching, ready, given_up };
    // A queued entry. Its URL is the host's origin followed by `path_size` bytes of the host's
    // `paths` from `path` (path and query): 48 bytes plus those bytes per queued URL, where a
    // FrontierEntry with its own std::string took ~150 (a 5000-page site peaks at ~4000 queued).
    // Its referrer's URL is kept once per referring page in m_referrers.
    struct Queued {
        std::int64_t seq = 0;
        std::uint64_t key = 0;
        std::int64_t from_seq = 0;
        std::uint32_t path = 0; // a host's queued paths stay far below 4 GiB
        std::uint32_t path_size = 0;
        std::int32_t depth = 0;
        std::int32_t redirects = 0;
        std::int16_t deferrals = 0;
        std::int16_t deferred_attempts = 0;
        bool requisite = false;
        SitemapRole sitemap = SitemapRole::none;
        bool external = false;
        bool chained = false; // a redirect target: its chain is in m_chains under its seq
    };
    struct Chain {
        std::int64_t seq = 0;
        std::vector<std::uint64_t> keys;
        std::string url; // FrontierEntry::chain_url, chain_from_url
        std::string from_url;
    };
    // The URL of a page that led to queued entries, and how many of them are queued in memory.
    struct Referrer {
        std::string url;
        std::uint32_t queued = 0;
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
        bool held = false; // hold_host()
        std::shared_ptr<const RobotsRules> rules;
        // Where the host sits in the schedule (exactly one of these, or none).
        std::optional<QueuePosition> ready_key; // in m_ready under (ready_key, id)
        std::optional<TimePoint> timed_key;     // in m_timed under (timed_key, id)
    };

    // Accepts `d` if new: queued (or spilled), appended to decisions.accepted.
    void accept(const Discovery& d, Decisions& decisions);
    // Records `d`'s skip unless its URL was accepted or already skipped.
    void skip(const Discovery& d, const SkipReason& why, Decisions& decisions);
    std::optional<FrontierEntry> admit(const Discovery& d);
    const Host* find_host(std::string_view origin) const;
    std::uint32_t host_for(std::string_view origin);
    // Queues `entry`, led to by the page at `from_url` (entry.from_seq).
    void enqueue(const FrontierEntry& entry, std::string_view from_url);
    // The queue form of `entry`, its path appended to the host's paths, its referrer counted.
    Queued store(Host& host, const FrontierEntry& entry, std::string_view from_url);
    // An entry leaves the in-memory queue or the flight (counted by depth for level()).
    void retire(int depth);
    FrontierEntry take_front(Host& host);
    void reschedule(std::uint32_t id, TimePoint now);
    void unschedule(Host& host, std::uint32_t id);
    Duration jittered(Duration delay);
    void page_in_if_low();

    FrontierOptions m_options;
    FrontierStore* m_store;
    SeenSet m_seen;
    // The URLs skipped: the key of a final skip, tentative_key() of a tentative one (undone, and
    // the row deleted, if the URL is accepted later). ~10 bytes of RAM per skipped URL.
    SeenSet m_skipped;
    // URLs accepted per directory (by the directory's hash), with max_per_directory only.
    std::unordered_map<std::uint64_t, std::uint32_t> m_directories;
    std::string m_directory_rule; // "--max-per-dir N"
    // The chains of queued redirect targets (in memory), by seq.
    std::unordered_map<std::int64_t, Chain> m_chains;
    // The referrers of the entries queued in memory, by their seq (an entry only in the store
    // has its referrer's URL read back with it).
    std::unordered_map<std::int64_t, Referrer> m_referrers;
    std::vector<Host> m_hosts;
    std::unordered_map<std::string, std::uint32_t, util::StringHash, std::equal_to<>> m_host_ids;
    std::set<std::pair<QueuePosition, std::uint32_t>> m_ready; // (head's position, host)
    std::set<std::pair<TimePoint, std::uint32_t>> m_timed;     // (wake time, host)
    std::int64_t m_next_seq = 1;
    // Every queued entry at or before this position is in memory, every one after it only in
    // the store (page-ins read on from here): so the store never holds a URL shallower than one
    // in memory or in flight, and level() needs no count of what the store holds.
    QueuePosition m_watermark;
    std::size_t m_in_memory = 0; // queued entries in host queues
    std::uint64_t m_spilled = 0; // queued entries only in the store
    // Entries queued in memory or in flight (handed out, not completed), by depth.
    std::map<int, std::uint64_t> m_active_by_depth;
    std::uint64_t m_in_flight = 0;
    std::uint64_t m_deferred = 0;
    std::optional<storage::Error> m_store_error; // the first page-in failure: no more page-ins
    // The page-in asked of the store and not taken yet, and how many entries it asked for.
    bool m_paging = false;
    std::size_t m_asked = 0;
    // Spilled entries the store may not hold yet (its writer has not committed them): the
    // highest such seq at each depth. A page-in's answer is used only up to the shallowest of
    // these depths, so that no entry is passed over while it waits for its commit.
    std::map<int, std::int64_t> m_uncommitted;
    // Set when the last answer stopped short of entries not committed then: the next page-in
    // waits for the store to hold an entry above this seq instead of reading the same again.
    std::optional<std::int64_t> m_committed_after;
    // Shared with the store's callback, which may run on the store's thread after close().
    std::shared_ptr<SharedWaker> m_waker = std::make_shared<SharedWaker>();
    std::mt19937_64 m_random;
    TimePoint m_now{}; // the latest time given to next()/complete()/defer()
};

} // namespace flagcrawl::crawler
