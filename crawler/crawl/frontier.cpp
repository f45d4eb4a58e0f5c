#include "crawler/crawl/frontier.hpp"

#include "crawler/url/url.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace flagcrawl::crawler {

namespace {

constexpr std::string_view k_robots_rule = "robots.txt";
// While a page-in waits for the writer to commit queued URLs, how often the loop looks again.
constexpr Duration k_commit_check = std::chrono::milliseconds(200);

// The key under which a tentative skip is kept in the skipped set, apart from a final one.
std::uint64_t tentative_key(std::uint64_t key) {
    return key ^ 0x7f4a7c159e3779b9ULL;
}

std::string seconds_text(Duration d) {
    const double s = std::chrono::duration<double>(d).count();
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f s", s);
    return buffer;
}

} // namespace

std::string_view origin_of(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) {
        return url;
    }
    // A loop, not find_first_of("/?#"): called for every URL offered and handed out, where
    // libstdc++'s find_first_of (a search of the set for each byte) cost ~500 instructions.
    for (std::size_t at = scheme_end + 3; at < url.size(); ++at) {
        const char c = url[at];
        if (c == '/' || c == '?' || c == '#') {
            return url.substr(0, at);
        }
    }
    return url;
}

std::string path_and_query_of(std::string_view url) {
    std::string_view rest = url.substr(origin_of(url).size());
    if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
        rest = rest.substr(0, hash);
    }
    if (rest.empty() || rest.front() != '/') {
        return "/" + std::string(rest);
    }
    return std::string(rest);
}

namespace {

// Whether `rules` allow `url`, whose origin is its first `origin_size` bytes: its path and query
// as robots.txt rules match them, without a copy where the URL has them as they are.
bool robots_allow(const RobotsRules& rules, std::string_view url, std::size_t origin_size) {
    std::string_view rest = url.substr(origin_size);
    rest = rest.substr(0, rest.find('#'));
    if (rest.empty() || rest.front() == '/') {
        return rules.allowed(rest); // allowed() reads "" as "/"
    }
    return rules.allowed(path_and_query_of(url));
}

} // namespace

std::string_view directory_of(std::string_view url) {
    const std::string_view origin = origin_of(url);
    std::string_view rest = url.substr(origin.size());
    rest = rest.substr(0, rest.find_first_of("?#"));
    const auto slash = rest.rfind('/');
    return url.substr(0, origin.size() + (slash == std::string_view::npos ? 0 : slash + 1));
}

void LocalFrontier::restore_directory(std::string_view url) {
    ++m_directories[key_hash(directory_of(url))];
}

LocalFrontier::LocalFrontier(FrontierOptions options, FrontierStore* store)
    : m_options(std::move(options))
    , m_store(store)
    , m_random(m_options.seed) {
    m_directory_rule = "--max-per-dir " + std::to_string(m_options.max_per_directory);
}

void LocalFrontier::restore_queue(std::int64_t max_seq, std::uint64_t queued) {
    m_next_seq = max_seq + 1;
    m_spilled = queued;
    m_watermark = {};
}

const LocalFrontier::Host* LocalFrontier::find_host(std::string_view origin) const {
    auto found = m_host_ids.find(origin);
    return found == m_host_ids.end() ? nullptr : &m_hosts[found->second];
}

std::uint32_t LocalFrontier::host_for(std::string_view origin) {
    auto found = m_host_ids.find(origin);
    if (found != m_host_ids.end()) {
        return found->second;
    }
    const auto id = static_cast<std::uint32_t>(m_hosts.size());
    Host& host = m_hosts.emplace_back();
    host.origin = origin;
    host.delay = m_options.politeness.delay;
    if (!m_options.politeness.robots) {
        host.robots = Robots::ready; // no rules: everything allowed
    }
    m_host_ids.emplace(host.origin, id);
    return id;
}

void LocalFrontier::set_waker(std::function<void()> wake) {
    m_waker->set(std::move(wake));
}

void LocalFrontier::restore_skipped(std::uint64_t key, bool tentative) {
    m_skipped.insert(tentative ? tentative_key(key) : key);
}

void LocalFrontier::offer(std::span<const Discovery> offers, Decisions& decisions) {
    // A page's links, about 30 on a typical page, each look up the seen-set: in a crawl of a
    // million URLs most lookups miss the CPU's caches, and asking for all their slots first
    // lets the misses overlap (in a table of 1M keys, 37 instead of 58 ns a lookup).
    for (const Discovery& d : offers) {
        m_seen.prefetch(d.key);
    }
    for (const Discovery& d : offers) {
        if (d.skip) {
            skip(d, *d.skip, decisions);
        } else {
            accept(d, decisions);
        }
    }
}

void LocalFrontier::accept(const Discovery& d, Decisions& decisions) {
    if (m_seen.contains(d.key) || m_skipped.contains(d.key)) {
        return;
    }
    if (!allowed_now(d.url)) {
        // The host's rules are known: refused now, recorded once (a URL queued before they
        // were known is refused when handed out, and recorded then).
        skip(d, SkipReason{fetch::FailureKind::robots, k_robots_rule, false}, decisions);
        return;
    }
    std::uint32_t* in_directory = nullptr;
    if (m_options.max_per_directory > 0) {
        in_directory = &m_directories[key_hash(directory_of(d.url))];
        if (*in_directory >= m_options.max_per_directory) {
            skip(d, SkipReason{fetch::FailureKind::limit_reached, m_directory_rule, false},
                 decisions);
            return;
        }
    }
    auto entry = admit(d);
    if (!entry) {
        return;
    }
    if (in_directory != nullptr) {
        ++*in_directory;
    }
    if (m_skipped.contains(tentative_key(d.key))) {
        decisions.unskipped.push_back(d.key);
    }
    decisions.accepted.push_back(std::move(*entry));
}

void LocalFrontier::skip(const Discovery& d, const SkipReason& why, Decisions& decisions) {
    if (m_seen.contains(d.key) || m_skipped.contains(d.key)) {
        return; // accepted, or skipped for good already
    }
    if (why.tentative) {
        if (!m_skipped.insert(tentative_key(d.key))) {
            return;
        }
    } else {
        m_skipped.insert(d.key);
    }
    decisions.skipped.push_back(
        {d.key, std::string(d.url), why.kind, std::string(why.rule), why.tentative});
}

std::optional<FrontierEntry> LocalFrontier::push(std::string_view url, std::uint64_t key, int depth,
                                                 int redirects, bool requisite) {
    if (m_seen.contains(key) || m_skipped.contains(key) || !allowed_now(url)) {
        return std::nullopt;
    }
    Discovery d;
    d.url = url;
    d.key = key;
    d.depth = depth;
    d.redirects = redirects;
    d.requisite = requisite;
    return admit(d);
}

std::optional<FrontierEntry> LocalFrontier::admit(const Discovery& d) {
    if (!m_seen.insert(d.key)) {
        return std::nullopt;
    }
    FrontierEntry entry;
    entry.seq = m_next_seq++;
    entry.key = d.key;
    entry.url = d.url;
    entry.depth = d.depth;
    entry.redirects = d.redirects;
    entry.requisite = d.requisite;
    entry.sitemap = d.sitemap;
    entry.external = d.external;
    entry.chain_seq = d.chain_seq;
    entry.chain.assign(d.chain.begin(), d.chain.end());
    entry.from_seq = d.from_seq;
    entry.chain_url = d.chain_url;
    entry.chain_from_url = d.chain_from_url;
    const QueuePosition at{d.depth, entry.seq};
    // Past the watermark while the store holds entries (or the window is full): only in the
    // store (written by the caller) until paged in. At or before it (a redirect target of the
    // level being crawled): in memory, since page-ins read on after the watermark.
    if (m_store != nullptr && (m_spilled > 0 || m_in_memory >= m_options.window) &&
        m_watermark < at) {
        ++m_spilled;
        std::int64_t& highest = m_uncommitted[at.depth];
        highest = std::max(highest, entry.seq);
        return entry;
    }
    m_watermark = std::max(m_watermark, at);
    enqueue(entry, d.from_url);
    return entry;
}

void LocalFrontier::enqueue(const FrontierEntry& entry, std::string_view from_url) {
    const std::uint32_t id = host_for(origin_of(entry.url));
    Host& host = m_hosts[id];
    const Queued q = store(host, entry, from_url);
    // In (depth, seq) order: entries mostly arrive in that order; a redirect target of the level
    // being crawled goes before the deeper ones already queued.
    auto at = host.queue.end();
    while (at != host.queue.begin()) {
        const Queued& before = *std::prev(at);
        if (QueuePosition{before.depth, before.seq} <= QueuePosition{q.depth, q.seq}) {
            break; // after its equals: entries of one position keep their arrival order
        }
        --at;
    }
    const bool new_head = at == host.queue.begin();
    host.queue.insert(at, q);
    ++m_in_memory;
    ++m_active_by_depth[q.depth];
    if (new_head) {
        reschedule(id, m_now);
    }
}

void LocalFrontier::retire(int depth) {
    auto found = m_active_by_depth.find(depth);
    if (found != m_active_by_depth.end() && --found->second == 0) {
        m_active_by_depth.erase(found);
    }
}

std::optional<int> LocalFrontier::level() const {
    if (m_active_by_depth.empty()) {
        return std::nullopt;
    }
    return m_active_by_depth.begin()->first;
}

LocalFrontier::Queued LocalFrontier::store(Host& host, const FrontierEntry& entry,
                                           std::string_view from_url) {
    const std::string_view path = std::string_view(entry.url).substr(host.origin.size());
    Queued q;
    q.seq = entry.seq;
    q.key = entry.key;
    if (entry.from_seq > 0) {
        q.from_seq = entry.from_seq;
        Referrer& referrer = m_referrers[entry.from_seq];
        if (referrer.queued++ == 0) {
            referrer.url = from_url;
        }
    }
    q.path = static_cast<std::uint32_t>(host.paths.size());
    q.path_size = static_cast<std::uint32_t>(path.size());
    q.depth = entry.depth;
    q.redirects = entry.redirects;
    q.deferrals = static_cast<std::int16_t>(std::min(entry.deferrals, 0x7fff));
    q.deferred_attempts = static_cast<std::int16_t>(std::min(entry.deferred_attempts, 0x7fff));
    q.requisite = entry.requisite;
    q.sitemap = entry.sitemap;
    q.external = entry.external;
    if (entry.chain_seq > 0) {
        q.chained = true;
        m_chains[entry.seq] =
            Chain{entry.chain_seq, entry.chain, entry.chain_url, entry.chain_from_url};
    }
    // Grow by a quarter, not std::string's doubling: the slack is RSS.
    if (host.paths.size() + path.size() > host.paths.capacity()) {
        host.paths.reserve(host.paths.size() + host.paths.size() / 4 + path.size() + 256);
    }
    host.paths.append(path);
    return q;
}

FrontierEntry LocalFrontier::take_front(Host& host) {
    const Queued q = host.queue.front();
    host.queue.pop_front();
    FrontierEntry entry;
    entry.seq = q.seq;
    entry.key = q.key;
    entry.url.reserve(host.origin.size() + q.path_size);
    entry.url.append(host.origin).append(host.paths, q.path, q.path_size);
    entry.depth = q.depth;
    entry.redirects = q.redirects;
    entry.deferrals = q.deferrals;
    entry.deferred_attempts = q.deferred_attempts;
    entry.requisite = q.requisite;
    entry.sitemap = q.sitemap;
    entry.external = q.external;
    if (q.from_seq > 0) {
        entry.from_seq = q.from_seq;
        auto referrer = m_referrers.find(q.from_seq);
        if (referrer != m_referrers.end()) {
            if (--referrer->second.queued == 0) {
                entry.from_url = std::move(referrer->second.url);
                m_referrers.erase(referrer);
            } else {
                entry.from_url = referrer->second.url;
            }
        }
    }
    if (q.chained) {
        auto chain = m_chains.find(q.seq);
        if (chain != m_chains.end()) {
            entry.chain_seq = chain->second.seq;
            entry.chain = std::move(chain->second.keys);
            entry.chain_url = std::move(chain->second.url);
            entry.chain_from_url = std::move(chain->second.from_url);
            m_chains.erase(chain);
        }
    }
    host.paths_dead += q.path_size;
    // Compact once a quarter of `paths` is dead (each compaction copies the live bytes: ~4
    // bytes copied per byte handed out), and free it when the queue is empty, so that a host's
    // queue holds about what it queues now, not its peak.
    constexpr std::size_t k_compact_above = 4096;
    if (host.queue.empty()) {
        std::string().swap(host.paths);
        host.paths_dead = 0;
    } else if (host.paths_dead > k_compact_above && host.paths_dead * 4 > host.paths.size()) {
        std::string live;
        live.reserve(host.paths.size() - host.paths_dead);
        for (Queued& queued : host.queue) {
            const auto at = static_cast<std::uint32_t>(live.size());
            live.append(host.paths, queued.path, queued.path_size);
            queued.path = at;
        }
        host.paths.swap(live);
        host.paths_dead = 0;
    }
    return entry;
}

bool LocalFrontier::allowed_now(std::string_view url) const {
    const std::string_view origin = origin_of(url);
    const Host* host = find_host(origin);
    if (host == nullptr) {
        return true;
    }
    return host->robots != Robots::ready || !host->rules ||
           robots_allow(*host->rules, url, origin.size());
}

void LocalFrontier::unschedule(Host& host, std::uint32_t id) {
    if (host.ready_key) {
        m_ready.erase({*host.ready_key, id});
        host.ready_key.reset();
    }
    if (host.timed_key) {
        m_timed.erase({*host.timed_key, id});
        host.timed_key.reset();
    }
}

void LocalFrontier::reschedule(std::uint32_t id, TimePoint now) {
    Host& host = m_hosts[id];
    unschedule(host, id);
    if (host.queue.empty() || host.robots == Robots::fetching || host.held ||
        host.in_flight >= m_options.politeness.per_host) {
        return;
    }
    TimePoint at = host.paused_until;
    if (host.robots != Robots::unknown) {
        at = std::max(at, host.next_allowed);
    }
    // A host whose URLs will all be handed out as disallowed needs no politeness wait.
    if (host.robots == Robots::given_up) {
        at = TimePoint{};
    }
    if (at > now) {
        host.timed_key = at;
        m_timed.emplace(at, id);
    } else {
        host.ready_key = QueuePosition{host.queue.front().depth, host.queue.front().seq};
        m_ready.emplace(*host.ready_key, id);
    }
}

Duration LocalFrontier::jittered(Duration delay) {
    if (!m_options.politeness.jitter || delay.count() <= 0) {
        return delay;
    }
    std::uniform_real_distribution<double> factor(0.5, 1.5);
    return std::chrono::duration_cast<Duration>(delay * factor(m_random));
}

// Asks the store for queued entries once the window is half empty, so that the answer (read
// on the store's thread) usually arrives before the hosts' queues run dry.
void LocalFrontier::page_in_if_low() {
    if (m_store == nullptr || m_store_error || m_paging || m_spilled == 0 ||
        m_in_memory > m_options.window / 2) {
        return;
    }
    m_paging = true;
    m_asked = m_options.window - m_in_memory;
    m_store->request(m_watermark, m_asked, m_committed_after, [waker = m_waker] { (*waker)(); });
}

void LocalFrontier::on_wake() {
    if (!m_paging) {
        return;
    }
    std::optional<PagedIn> answer = m_store->take();
    if (!answer) {
        return;
    }
    m_paging = false;
    // What the store held when it read: the depths whose spilled entries it all held are done.
    if (answer->committed_through) {
        std::erase_if(m_uncommitted, [&](const auto& depth) {
            return depth.second <= *answer->committed_through;
        });
    } else {
        m_uncommitted.clear();
    }
    // An entry deeper than one not committed yet would move the watermark past that one: the
    // answer is used up to the shallowest depth still waiting for its commit.
    const int cap =
        m_uncommitted.empty() ? std::numeric_limits<int>::max() : m_uncommitted.begin()->first;
    std::uint64_t got = 0;
    bool capped = false;
    for (FrontierEntry& entry : answer->entries) {
        const QueuePosition at{entry.depth, entry.seq};
        if (entry.depth > cap) {
            capped = true; // read again once the shallower entries are committed
            break;
        }
        if (!(m_watermark < at)) {
            continue; // cannot happen: the store reads after the position it was given
        }
        m_watermark = at;
        enqueue(entry, entry.from_url);
        ++got;
    }
    m_spilled -= std::min(m_spilled, got);
    if (answer->error) {
        // The entries read before the failure are queued; the rest stay counted as in the
        // store, never read again: the crawl stops as failed.
        m_store_error = std::move(answer->error);
        return;
    }
    const bool short_answer = answer->entries.size() < m_asked;
    m_committed_after.reset();
    if (short_answer && m_uncommitted.empty()) {
        // The store held every entry spilled and has none after these: the others are gone.
        // Trust it rather than wait for them.
        m_spilled = 0;
    } else if (capped || short_answer) {
        // Some entries were not committed yet: the next page-in waits for the store to hold
        // newer ones instead of reading the same again.
        m_committed_after = answer->committed_through.value_or(0);
    }
}

FrontierNext LocalFrontier::next(TimePoint now) {
    m_now = now;
    page_in_if_low();
    while (!m_timed.empty() && m_timed.begin()->first <= now) {
        reschedule(m_timed.begin()->second, now);
    }
    FrontierNext out;
    // Level by level: a host whose next URL is deeper than the level waits for it to end.
    const bool gated = !m_ready.empty() && m_options.by_level &&
                       m_ready.begin()->first.depth > level().value_or(0);
    if (m_ready.empty() || gated) {
        if (!m_timed.empty()) {
            out.state = FrontierNext::State::waiting;
            out.wake_at = m_timed.begin()->first;
        } else if (m_in_flight > 0 || m_paging || gated) {
            // A completion or the page-in wakes it (gated: the level's URLs are in flight).
            out.state = FrontierNext::State::waiting;
        } else {
            out.state = FrontierNext::State::finished;
        }
        if (m_paging && m_committed_after) {
            // Waiting for the writer to commit: the loop looks again now and then, so that it
            // sees a writer that failed (and will never commit them) instead of waiting forever.
            const TimePoint check = now + k_commit_check;
            if (!out.wake_at || check < *out.wake_at) {
                out.wake_at = check;
            }
        }
        return out;
    }
    const std::uint32_t id = m_ready.begin()->second;
    Host& host = m_hosts[id];
    out.state = FrontierNext::State::ready;
    out.job.host = id;
    if (host.robots == Robots::unknown) {
        host.robots = Robots::fetching;
        ++host.in_flight;
        ++m_in_flight;
        out.job.kind = FrontierJob::Kind::robots;
        out.job.origin = host.origin;
        out.job.delay = host.delay;
        // robots.txt is a request like any other: the host's next one waits the delay.
        if (host.delay.count() > 0) {
            host.next_allowed = now + jittered(host.delay);
        }
        reschedule(id, now);
        return out;
    }
    out.job.entry = take_front(host);
    --m_in_memory;
    if (host.robots == Robots::given_up) {
        out.job.kind = FrontierJob::Kind::unreachable;
        out.job.reason = host.robots_failure;
        reschedule(id, now);
        return out;
    }
    if (host.rules && !robots_allow(*host.rules, out.job.entry.url, host.origin.size())) {
        out.job.kind = FrontierJob::Kind::disallowed;
        reschedule(id, now);
        return out;
    }
    out.job.kind = FrontierJob::Kind::fetch;
    out.job.delay = host.delay;
    ++host.in_flight;
    ++m_in_flight;
    if (host.delay.count() > 0) {
        host.next_allowed = now + jittered(host.delay);
    }
    reschedule(id, now);
    return out;
}

void LocalFrontier::complete(Completion& completion, TimePoint now, Decisions& decisions) {
    offer(completion.discoveries, decisions);
    complete(completion.job, now);
}

void LocalFrontier::complete(const FrontierJob& job, TimePoint now) {
    m_now = now;
    if (job.kind == FrontierJob::Kind::robots) {
        return;
    }
    retire(job.entry.depth);
    if (job.kind != FrontierJob::Kind::fetch) {
        return; // disallowed and unreachable jobs took no slot
    }
    Host& host = m_hosts[job.host];
    --host.in_flight;
    --m_in_flight;
    host.throttle_streak = 0;
    reschedule(job.host, now);
}

bool LocalFrontier::defer(FrontierJob& job, int attempts, std::optional<Duration> retry_after,
                          TimePoint now) {
    m_now = now;
    const PolitenessOptions& p = m_options.politeness;
    if (job.entry.deferrals >= p.max_deferrals) {
        return false;
    }
    Host& host = m_hosts[job.host];
    ++job.entry.deferrals;
    job.entry.deferred_attempts += std::max(attempts, 0);
    ++host.throttle_streak;
    Duration wait;
    if (retry_after) {
        wait = std::min(*retry_after, p.retry_after_max);
    } else {
        const int shift = std::min(host.throttle_streak - 1, 20);
        wait = std::min(p.backoff_base * (std::int64_t{1} << shift), p.backoff_max);
    }
    host.paused_until = std::max(host.paused_until, now + wait);
    host.queue.push_front(store(host, job.entry, job.entry.from_url));
    ++m_in_memory;
    --host.in_flight;
    --m_in_flight;
    ++m_deferred;
    reschedule(job.host, now);
    return true;
}

void LocalFrontier::robots_fetched(const FrontierJob& job, std::optional<RobotsRules> rules,
                                   std::string_view failure, TimePoint now) {
    m_now = now;
    Host& host = m_hosts[job.host];
    --host.in_flight;
    --m_in_flight;
    const PolitenessOptions& p = m_options.politeness;
    if (rules) {
        if (auto crawl_delay = rules->crawl_delay()) {
            const auto asked =
                std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*crawl_delay));
            host.delay = std::max(p.delay, std::min(asked, p.crawl_delay_cap));
            // Known only now: the first page waits it after the robots.txt fetch too.
            host.next_allowed = std::max(host.next_allowed, now + jittered(host.delay));
        }
        host.rules = std::make_shared<const RobotsRules>(std::move(*rules));
        host.robots = Robots::ready;
        host.robots_failure.clear();
    } else if (static_cast<std::size_t>(host.robots_failures) < p.robots_retry.size()) {
        host.paused_until = now + p.robots_retry[static_cast<std::size_t>(host.robots_failures)];
        ++host.robots_failures;
        host.robots = Robots::unknown; // refetched once the pause is over
        host.robots_failure = failure;
    } else {
        host.robots = Robots::given_up;
        host.robots_failure = failure;
    }
    reschedule(job.host, now);
}

void LocalFrontier::robots_host_down(const FrontierJob& job, std::string_view failure,
                                     TimePoint now) {
    m_now = now;
    Host& host = m_hosts[job.host];
    --host.in_flight;
    --m_in_flight;
    host.robots = Robots::given_up;
    host.robots_failure = failure;
    reschedule(job.host, now);
}

FrontierStats LocalFrontier::stats() const {
    FrontierStats s;
    s.queued = m_in_memory + m_spilled;
    s.in_flight = m_in_flight;
    s.hosts = m_hosts.size();
    s.hosts_waiting = m_timed.size();
    s.seen = m_seen.size();
    s.seen_bytes = m_seen.memory_bytes();
    s.skipped = m_skipped.size();
    s.skipped_bytes = m_skipped.memory_bytes();
    s.deferred = m_deferred;
    return s;
}

void LocalFrontier::add_entry(const FrontierEntry& entry) {
    enqueue(entry, entry.from_url);
}

void LocalFrontier::hold_host(std::string_view origin, bool held) {
    const std::uint32_t id = host_for(origin);
    m_hosts[id].held = held;
    reschedule(id, m_now);
}

void LocalFrontier::pause_host(std::string_view origin, TimePoint until) {
    const std::uint32_t id = host_for(origin);
    Host& host = m_hosts[id];
    host.paused_until = std::max(host.paused_until, until);
    reschedule(id, m_now);
}

std::vector<FrontierEntry> LocalFrontier::take_queue(std::string_view origin) {
    std::vector<FrontierEntry> out;
    auto found = m_host_ids.find(origin);
    if (found == m_host_ids.end()) {
        return out;
    }
    Host& host = m_hosts[found->second];
    while (!host.queue.empty()) {
        out.push_back(take_front(host));
        --m_in_memory;
    }
    reschedule(found->second, m_now);
    return out;
}

LocalFrontier::HostLoad LocalFrontier::host_load(std::string_view origin) const {
    const Host* host = find_host(origin);
    if (host == nullptr) {
        return {0, 0, m_options.politeness.delay, TimePoint{}};
    }
    return {host->queue.size(), host->in_flight, host->delay,
            std::max(host->next_allowed, host->paused_until)};
}

void LocalFrontier::close(TimePoint) {
    m_waker->clear(); // the store's answer, if one is still coming, wakes nobody
}

std::string LocalFrontier::waiting_on(TimePoint now) const {
    if (m_timed.empty()) {
        if (m_paging) {
            return m_committed_after ? "waiting for the store to commit queued URLs"
                                     : "reading queued URLs back from the store";
        }
        return {};
    }
    const auto& [at, id] = *m_timed.begin();
    const Host& host = m_hosts[id];
    std::string why;
    if (host.robots == Robots::unknown && host.robots_failures > 0) {
        why = "robots.txt unreachable, refetching";
    } else if (host.paused_until >= at && host.throttle_streak > 0) {
        why = "server asked to slow down (429/503), paused";
    } else {
        why = "politeness delay";
    }
    return host.origin + ": " + why + ", next request in " + seconds_text(at - now) + " (" +
           std::to_string(m_timed.size()) + " host(s) waiting)";
}

} // namespace flagcrawl::crawler
