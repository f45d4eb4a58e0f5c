#include "crawler/pgfrontier/pg_frontier.hpp"

#include "crawler/url/url.hpp"

#include <algorithm>
#include <unistd.h>

namespace flagcrawl::pgfrontier {
namespace {

using crawler::Duration;
using crawler::FrontierJob;
using crawler::FrontierNext;
using crawler::TimePoint;

// Completions not committed yet, at most: above it the loop waits for the server (a server away
// for a while must not make the worker hold an unbounded backlog in memory).
constexpr std::size_t k_max_uncommitted = 5000;
// A request is sent only if the host's lease outlasts it by the host's delay (times the jitter's
// 1.5) plus this: the next owner, which starts when the lease ends, then keeps the delay too.
constexpr Duration k_lease_safety = std::chrono::milliseconds(100);

constexpr const char* k_given_up_reason =
    "handed to workers 3 times without a result (each stopped before recording it): given up";

std::string_view path_of(std::string_view url, std::string_view origin) {
    return url.substr(origin.size());
}

SharedCrawlError usage(std::string message) {
    return {SharedCrawlError::Kind::usage, std::move(message)};
}

SharedCrawlError fatal(std::string message) {
    return {SharedCrawlError::Kind::fatal, std::move(message)};
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// The settings of a crawl joined: the stored ones, with what a worker may give for itself.
boost::system::result<crawler::ResumedSettings, SharedCrawlError>
join_settings(const CrawlInfo& crawl, const crawler::CrawlSettings& given,
              const std::set<std::string, std::less<>>& given_options) {
    const std::string prefix = "crawl --frontier: joining crawl '" + crawl.name + "': ";
    for (std::string_view option : crawler::defining_options()) {
        if (given_options.contains(option) && !contains(own_output_options(), option)) {
            return usage(prefix + std::string(option) +
                         " cannot be given (the crawl keeps the options it was defined with)");
        }
    }
    for (std::string_view option : crawl_wide_limit_options()) {
        if (given_options.contains(option)) {
            return usage(prefix + std::string(option) +
                         " cannot be given (a limit over the whole crawl, set when it was "
                         "defined)");
        }
    }
    std::set<std::string, std::less<>> kept = given_options;
    for (std::string_view option : own_output_options()) {
        kept.erase(std::string(option));
    }
    auto joined = crawler::resume_settings(crawl.seeds_json, crawl.options_json, given, kept);
    if (!joined) {
        return fatal(prefix + joined.error());
    }
    // Each worker writes its own outputs, on its own machine.
    joined->settings.warc = given.warc;
    joined->settings.warc_max_size = given.warc_max_size;
    joined->settings.mirror = given.mirror;
    return std::move(*joined);
}

// The server's rows of a new crawl's definition, from its settings.
boost::system::result<CrawlDefinition, SharedCrawlError>
definition(const std::string& name, const crawler::CrawlSettings& s) {
    CrawlDefinition d;
    d.name = name;
    d.seeds_json = crawler::seeds_json(s);
    d.options_json = crawler::options_json(s);
    d.max_pages = s.max_pages;
    d.max_bytes = s.max_bytes;
    std::set<std::uint64_t> keys;
    for (const std::string& text : s.seeds) {
        auto url = crawler::parse(text);
        if (!url || !url->is_http()) {
            return usage("crawl: not an http(s) URL: '" + text + "'");
        }
        const std::string href(url->href_without_fragment());
        const std::uint64_t key = crawler::url_key_hash(*url, s.canonical_query);
        if (!keys.insert(key).second) {
            continue;
        }
        const std::string_view origin = crawler::origin_of(href);
        d.seeds.push_back(
            {key, std::string(origin), std::string(path_of(href, origin)), 0, 0, false});
    }
    return d;
}

} // namespace

const std::vector<std::string_view>& own_output_options() {
    static const std::vector<std::string_view> names = {"--warc", "--warc-max-size", "--out"};
    return names;
}

const std::vector<std::string_view>& crawl_wide_limit_options() {
    static const std::vector<std::string_view> names = {"--max-pages", "--max-bytes"};
    return names;
}

// ---- SharedCrawl ----

boost::system::result<std::unique_ptr<SharedCrawl>, SharedCrawlError>
SharedCrawl::open(SharedCrawlOptions options, const crawler::CrawlSettings& given,
                  const std::set<std::string, std::less<>>& given_options, bool define) {
    if (auto problem = conninfo_problem(options.conninfo)) {
        return fatal("crawl --frontier: " + *problem);
    }
    std::unique_ptr<SharedCrawl> shared(new SharedCrawl());
    CoordinatorOptions c;
    c.conninfo = options.conninfo;
    c.crawl_name = options.name;
    c.label = options.label;
    c.lease = options.lease;
    c.outage_limit = options.outage_limit;
    if (define) {
        auto d = definition(options.name, given);
        if (!d) {
            return d.error();
        }
        c.define = std::move(*d);
    }
    auto coordinator = std::make_unique<Coordinator>(std::move(c));
    const Coordinator::Started started = coordinator->start();
    switch (started.problem) {
    case Coordinator::Started::Problem::none:
        break;
    case Coordinator::Started::Problem::name_taken:
        return usage("crawl --frontier: " + started.message +
                     ": join it with no seeds and no option that defines a crawl, or choose "
                     "another --crawl-name");
    case Coordinator::Started::Problem::no_such_crawl:
        return fatal("crawl --frontier: " + started.message +
                     " (the first worker defines it: give it the seed URLs)");
    case Coordinator::Started::Problem::failed:
        return fatal("crawl --frontier: " + started.message);
    }
    shared->m_defined = define;
    shared->m_worker = started.worker;
    if (define) {
        shared->m_settings = given;
    } else {
        auto joined = join_settings(started.crawl, given, given_options);
        if (!joined) {
            coordinator->close({}, "refused its options",
                               std::chrono::steady_clock::now() + std::chrono::seconds(5));
            return joined.error();
        }
        shared->m_settings = std::move(joined->settings);
        shared->m_changes = std::move(joined->changes);
    }
    shared->m_options = std::move(options);
    shared->m_coordinator = std::move(coordinator);
    return shared;
}

std::unique_ptr<crawler::Frontier> SharedCrawl::make_frontier(const crawler::FrontierOptions& o,
                                                              storage::Writer* writer) {
    if (writer != nullptr) {
        // Runs on the coordinator's thread; the writer's flush() may be called from any.
        m_coordinator->set_before_commit([writer]() -> std::optional<std::string> {
            if (auto flushed = writer->flush(); !flushed) {
                return "the worker's database: " + flushed.error().message;
            }
            return std::nullopt;
        });
    }
    return std::make_unique<PgFrontier>(std::move(m_coordinator), o);
}

// ---- PgFrontier ----

namespace {

// The local frontier runs the politeness of the hosts this worker leases; the order of levels is
// the shared crawl's (a URL of a held host must not hold back the others).
crawler::FrontierOptions local_options(crawler::FrontierOptions options) {
    options.by_level = false;
    return options;
}

} // namespace

PgFrontier::PgFrontier(std::unique_ptr<Coordinator> coordinator,
                       const crawler::FrontierOptions& options)
    : m_coordinator(std::move(coordinator))
    , m_local(local_options(options), nullptr)
    , m_options(options)
    , m_read_ahead(std::clamp(4 * options.politeness.per_host, 8, 64)) {}

PgFrontier::~PgFrontier() {
    close(TimePoint{});
}

void PgFrontier::set_waker(std::function<void()> wake) {
    m_wake = wake;
    m_coordinator->set_waker([updates = m_updates, wake = std::move(wake)] {
        *updates = true;
        if (wake) {
            wake();
        }
    });
}

void PgFrontier::offer(std::span<const crawler::Discovery>, crawler::Decisions&) {}

PgFrontier::Held* PgFrontier::held_by_origin(std::string_view origin) {
    auto found = m_hosts.find(origin);
    if (found == m_hosts.end()) {
        return nullptr;
    }
    auto held = m_held.find(found->second);
    return held == m_held.end() ? nullptr : &held->second;
}

Duration PgFrontier::margin(const Held& held) const {
    const Duration delay = m_local.host_load(held.origin).delay;
    return delay + delay / 2 + k_lease_safety;
}

void PgFrontier::grant(const Grant& g) {
    Held& held = m_held[g.host];
    held = Held{};
    held.id = g.host;
    held.epoch = g.epoch;
    held.origin = g.origin;
    held.deadline = g.deadline;
    m_hosts[g.origin] = g.host;
    m_local.hold_host(g.origin, false);
    // The last owner's delay carries over (a lapsed lease needs none: its owner sent nothing in
    // the lease's last margin).
    m_local.pause_host(g.origin, g.not_before);
    want_more(held);
}

void PgFrontier::lose(std::int32_t host) {
    auto found = m_held.find(host);
    if (found == m_held.end()) {
        return;
    }
    Held& held = found->second;
    m_local.hold_host(held.origin, true);
    // Its queued URLs belong to the next owner; their delivery to us is not held against them.
    Release stray{held.id, held.epoch, Millis(0), {}};
    for (const crawler::FrontierEntry& e : m_local.take_queue(held.origin)) {
        stray.returned.push_back(e.key);
        m_delivered.erase(e.key);
    }
    if (!stray.returned.empty()) {
        m_coordinator->release(std::move(stray));
    }
    m_hosts.erase(held.origin);
    m_held.erase(found);
}

void PgFrontier::deliver(const Delivered& d) {
    auto found = m_held.find(d.host);
    if (found == m_held.end() || found->second.epoch != d.epoch || found->second.releasing) {
        // For a host handed back meanwhile: returned at once.
        m_coordinator->release(Release{d.host, d.epoch, Millis(0), {d.url.key}});
        return;
    }
    Held& held = found->second;
    held.wanted = std::max(held.wanted - 1, 0);
    m_seen.insert(d.url.key);
    m_delivered[d.url.key] = Delivery{d.host, d.epoch};
    crawler::FrontierEntry entry;
    entry.seq = d.seq;
    entry.key = d.url.key;
    entry.url = held.origin + d.url.path;
    entry.depth = d.url.depth;
    entry.redirects = d.url.redirects;
    entry.requisite = d.url.requisite;
    if (d.deliveries > 3) {
        FrontierJob job;
        job.kind = FrontierJob::Kind::given_up;
        job.entry = std::move(entry);
        job.reason = k_given_up_reason;
        m_given_up.push_back(std::move(job));
        return;
    }
    m_local.add_entry(entry);
}

void PgFrontier::want_more(Held& held) {
    if (held.releasing) {
        return;
    }
    const auto queued = static_cast<int>(m_local.host_load(held.origin).queued);
    if (queued + held.wanted >= m_read_ahead / 2) {
        return;
    }
    held.wanted = m_read_ahead - queued;
    m_coordinator->want(held.id, held.epoch, held.wanted);
}

std::vector<std::uint64_t> PgFrontier::delivered_keys(std::int32_t host) const {
    std::vector<std::uint64_t> keys;
    for (const auto& [key, d] : m_delivered) {
        if (d.host == host) {
            keys.push_back(key);
        }
    }
    return keys;
}

void PgFrontier::start_release(Held& held) {
    held.releasing = true;
    m_local.hold_host(held.origin, true);
    m_coordinator->want(held.id, held.epoch, 0);
}

void PgFrontier::release_if_done(Held& held, TimePoint now) {
    const auto load = m_local.host_load(held.origin);
    const bool done = held.exhausted && load.queued == 0 && m_given_up.empty();
    if ((!held.releasing && !done) || load.in_flight > 0) {
        return;
    }
    // Handed back with what it still had queued (not fetched: its delivery not counted) and
    // the wait its next request owes the site.
    Release r{held.id,
              held.epoch,
              std::chrono::duration_cast<Millis>(std::max(load.not_before - now, Duration(0))),
              {}};
    for (const crawler::FrontierEntry& e : m_local.take_queue(held.origin)) {
        (void)e;
    }
    r.returned = delivered_keys(held.id);
    for (std::uint64_t key : r.returned) {
        m_delivered.erase(key);
    }
    m_local.hold_host(held.origin, true);
    m_coordinator->release(std::move(r));
    m_hosts.erase(held.origin);
    m_held.erase(held.id);
}

void PgFrontier::take_updates(TimePoint now) {
    if (!m_updates->exchange(false)) {
        return;
    }
    Update u = m_coordinator->take_updates();
    for (const Grant& g : u.granted) {
        grant(g);
    }
    for (const auto& [host, deadline] : u.renewed) {
        if (auto found = m_held.find(host); found != m_held.end()) {
            found->second.deadline = deadline;
        }
    }
    if (!u.renewed.empty()) {
        m_next_lease_check = TimePoint{}; // deadlines moved: look again now
    }
    for (std::int32_t host : u.lost) {
        lose(host);
    }
    for (const Delivered& d : u.delivered) {
        deliver(d);
    }
    for (std::int32_t host : u.exhausted) {
        if (auto found = m_held.find(host); found != m_held.end()) {
            found->second.exhausted = true;
        }
    }
    // Hosts beyond this worker's fair share go back, those with the least queued first.
    if (u.surplus > 0) {
        std::vector<Held*> candidates;
        for (auto& [id, held] : m_held) {
            if (!held.releasing && !held.exhausted) {
                candidates.push_back(&held);
            }
        }
        std::sort(candidates.begin(), candidates.end(), [this](const Held* a, const Held* b) {
            return m_local.host_load(a->origin).queued < m_local.host_load(b->origin).queued;
        });
        for (std::int64_t n = 0; n < u.surplus && n < static_cast<std::int64_t>(candidates.size());
             ++n) {
            start_release(*candidates[static_cast<std::size_t>(n)]);
        }
    }
    m_refused += u.refused;
    if (u.verdict && !m_verdict) {
        m_verdict = u.verdict;
    }
    if (u.failure && !m_failure) {
        m_failure = storage::Error{std::make_error_code(std::errc::io_error),
                                   "the shared frontier: " + *u.failure};
    }
    std::vector<std::int32_t> ids;
    for (const auto& [id, held] : m_held) {
        ids.push_back(id);
    }
    for (std::int32_t id : ids) {
        if (auto found = m_held.find(id); found != m_held.end()) {
            want_more(found->second);
            release_if_done(found->second, now);
        }
    }
}

void PgFrontier::check_leases(TimePoint now) {
    if (now < m_next_lease_check) {
        return;
    }
    TimePoint next = TimePoint::max();
    for (auto& [id, held] : m_held) {
        const TimePoint last_start = held.deadline - margin(held);
        const bool hold = now >= last_start;
        if (hold != held.lease_hold && !held.releasing) {
            held.lease_hold = hold;
            m_local.hold_host(held.origin, hold);
        }
        if (!hold) {
            next = std::min(next, last_start);
        }
    }
    m_next_lease_check = next;
}

void PgFrontier::flush_to_coordinator() {
    if (m_completions.empty() && m_discovered.empty()) {
        return;
    }
    m_coordinator->submit(std::move(m_completions), std::move(m_discovered));
    m_completions.clear();
    m_discovered.clear();
}

FrontierNext PgFrontier::next(TimePoint now) {
    flush_to_coordinator();
    take_updates(now);
    if (m_release_check) {
        m_release_check = false;
        std::vector<std::int32_t> ids;
        for (const auto& [id, held] : m_held) {
            ids.push_back(id);
        }
        for (std::int32_t id : ids) {
            if (auto found = m_held.find(id); found != m_held.end()) {
                release_if_done(found->second, now);
            }
        }
    }
    check_leases(now);
    FrontierNext out;
    out.state = FrontierNext::State::waiting;
    if (m_failure) {
        return out; // the crawl reads store_error() and stops as failed
    }
    if (!m_given_up.empty()) {
        out.state = FrontierNext::State::ready;
        out.job = std::move(m_given_up.front());
        m_given_up.pop_front();
        return out;
    }
    const crawler::FrontierStats local = m_local.stats();
    if (m_verdict) {
        // The crawl is over for every worker: nothing new goes out; what is in flight ends.
        for (auto& [id, held] : m_held) {
            m_local.hold_host(held.origin, true);
        }
        if (local.in_flight == 0) {
            out.state = FrontierNext::State::finished;
            out.cause = m_verdict->stop_reason.starts_with("--max-pages")
                            ? FrontierNext::Cause::max_pages
                        : m_verdict->stop_reason.starts_with("--max-bytes")
                            ? FrontierNext::Cause::max_bytes
                            : FrontierNext::Cause::exhausted;
        }
        return out;
    }
    if (m_coordinator->uncommitted() > k_max_uncommitted) {
        out.wake_at = now + std::chrono::milliseconds(50); // the server is behind: wait for it
        return out;
    }
    FrontierNext f = m_local.next(now);
    const bool idle = f.state == FrontierNext::State::finished && local.queued == 0;
    if (idle != m_idle) {
        m_idle = idle;
        m_coordinator->set_idle(idle);
    }
    if (f.state == FrontierNext::State::ready) {
        const std::string_view origin = f.job.kind == FrontierJob::Kind::robots
                                            ? std::string_view(f.job.origin)
                                            : crawler::origin_of(f.job.entry.url);
        if (Held* held = held_by_origin(origin)) {
            want_more(*held);
        }
        return f;
    }
    out.wake_at = f.wake_at;
    if (m_next_lease_check != TimePoint::max() && !m_held.empty() &&
        (!out.wake_at || m_next_lease_check < *out.wake_at)) {
        out.wake_at = m_next_lease_check;
    }
    return out;
}

void PgFrontier::complete(crawler::Completion& c, TimePoint now, crawler::Decisions& decisions) {
    const FrontierJob& job = c.job;
    if (job.kind != FrontierJob::Kind::given_up) {
        m_local.complete(job, now);
    }
    const std::uint64_t key = job.entry.key;
    auto delivery = m_delivered.find(key);
    if (delivery == m_delivered.end()) {
        return; // its host was lost and its URLs returned meanwhile
    }
    const Delivery d = delivery->second;
    if (c.result.outcome == crawler::JobResult::Outcome::interrupted) {
        return; // stays delivered: returned with its host at close()
    }
    m_delivered.erase(delivery);
    Completion done;
    done.key = key;
    done.host = d.host;
    done.epoch = d.epoch;
    if (c.result.http_status > 0) {
        done.status = c.result.http_status;
    }
    done.bytes = static_cast<std::int64_t>(c.result.bytes);
    if (!c.result.error_kind.empty()) {
        done.error_kind = std::string(c.result.error_kind);
    }
    done.fetched = job.kind == FrontierJob::Kind::fetch;
    m_completions.push_back(std::move(done));
    // Skips are recorded in this worker's own store, once per worker (another worker may record
    // the same URL in its own); a tentative skip is not undone when another worker's page leads
    // to the URL.
    const auto record_skip = [&](const crawler::Discovery& found, fetch::FailureKind kind,
                                 std::string_view rule, bool tentative) {
        if (!m_seen.contains(found.key) && m_skipped.insert(found.key)) {
            decisions.skipped.push_back(
                {found.key, std::string(found.url), kind, std::string(rule), tentative});
        }
    };
    for (const crawler::Discovery& found : c.discoveries) {
        if (found.skip) {
            record_skip(found, found.skip->kind, found.skip->rule, found.skip->tentative);
            continue;
        }
        if (m_seen.contains(found.key)) {
            continue; // known to the crawl already
        }
        if (!m_local.allowed_now(found.url)) {
            // Refused by the rules of a host this worker knows.
            record_skip(found, fetch::FailureKind::robots, "robots.txt", false);
            continue;
        }
        m_seen.insert(found.key);
        const std::string_view origin = crawler::origin_of(found.url);
        m_discovered.push_back({found.key, std::string(origin),
                                std::string(path_of(found.url, origin)), found.depth,
                                found.redirects, found.requisite});
    }
    // Whether the host can go back is decided at the next call from the loop, once this
    // completion went to the coordinator (a release overtaking it would fence it out).
    m_release_check = true;
}

bool PgFrontier::defer(FrontierJob& job, int attempts, std::optional<Duration> retry_after,
                       TimePoint now) {
    return m_local.defer(job, attempts, retry_after, now);
}

void PgFrontier::robots_fetched(const FrontierJob& job, std::optional<crawler::RobotsRules> rules,
                                std::string_view failure, TimePoint now) {
    m_local.robots_fetched(job, std::move(rules), failure, now);
}

void PgFrontier::robots_host_down(const FrontierJob& job, std::string_view failure, TimePoint now) {
    m_local.robots_host_down(job, failure, now);
}

crawler::FrontierStats PgFrontier::stats() const {
    crawler::FrontierStats s = m_local.stats();
    s.hosts = m_held.size();
    s.seen = m_seen.size();
    s.seen_bytes = m_seen.memory_bytes();
    s.skipped = m_skipped.size();
    s.skipped_bytes = m_skipped.memory_bytes();
    return s;
}

std::string PgFrontier::waiting_on(TimePoint now) const {
    std::string local = m_local.waiting_on(now);
    if (!local.empty()) {
        return local;
    }
    if (m_held.empty()) {
        return "the shared frontier: no host leased (the other workers hold every host with "
               "work, or none is due)";
    }
    return "the shared frontier: waiting for URLs of the " + std::to_string(m_held.size()) +
           " host(s) leased";
}

void PgFrontier::close(TimePoint deadline) {
    if (m_closed) {
        return;
    }
    m_closed = true;
    flush_to_coordinator();
    // Every host still held goes back with the URLs delivered and not completed (queued, or
    // cut short by Ctrl-C): their delivery is not counted against them.
    std::vector<Release> held;
    const TimePoint now = std::chrono::steady_clock::now();
    for (auto& [id, h] : m_held) {
        const auto load = m_local.host_load(h.origin);
        held.push_back(Release{
            h.id, h.epoch,
            std::chrono::duration_cast<Millis>(std::max(load.not_before - now, Duration(0))),
            delivered_keys(h.id)});
    }
    std::string verdict =
        m_failure ? "failed: " + m_failure->message
        : m_verdict
            ? std::string(m_verdict->status == CrawlStatus::finished ? "finished: " : "stopped: ") +
                  m_verdict->stop_reason
            : std::string("left before the end");
    m_coordinator->close(std::move(held), verdict, deadline);
}

} // namespace flagcrawl::pgfrontier
