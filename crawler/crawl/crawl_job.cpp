#include "crawler/crawl/crawl_job.hpp"

#include "crawler/crawl/robots_policy.hpp"
#include "crawler/html/links.hpp"
#include "fetch/outcome.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

namespace flagcrawl::crawler {

namespace {

const std::vector<ExchangeConsumer*> k_no_consumers;

// A request --max-pages counts: neither a sitemap (no page, as robots.txt) nor an external
// check (checked, not crawled).
bool counts_as_page(const FrontierEntry& entry) {
    return entry.sitemap == SitemapRole::none && !entry.external;
}

double seconds_between(fetch::Clock::time_point from, fetch::Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

} // namespace

std::string_view to_string(StopReason reason) {
    switch (reason) {
    case StopReason::frontier_exhausted:
        return "frontier_exhausted";
    case StopReason::depth_limit:
        return "depth_limit";
    case StopReason::max_pages:
        return "max_pages";
    case StopReason::max_bytes:
        return "max_bytes";
    case StopReason::max_time:
        return "max_time";
    case StopReason::interrupted:
        return "interrupted";
    case StopReason::failed:
        return "failed";
    }
    return "failed";
}

CrawlJob::CrawlJob(std::shared_ptr<const PageParser> parser, CrawlLimits limits,
                   std::unique_ptr<ParsePool> pool, Frontier& frontier, storage::Writer* writer,
                   std::int64_t crawl_id, std::int64_t run_id, std::function<void()> wake,
                   CrawlCounters& counters)
    : m_parser(std::move(parser))
    , m_limits(limits)
    , m_frontier(frontier)
    , m_writer(writer)
    , m_crawl_id(crawl_id)
    , m_run_id(run_id)
    , m_wake(std::move(wake))
    , m_counters(counters)
    , m_pool(std::move(pool)) {
    if (!m_pool) {
        m_inline_extractor = std::make_unique<LinkExtractor>(m_parser->extractor_options());
    }
    publish_stats();
}

CrawlJob::~CrawlJob() = default;

void CrawlJob::set_totals_before(std::uint64_t pages, std::uint64_t bytes) {
    m_pages_dispatched = pages;
    m_bytes_before = bytes;
}

// ---- the loop thread ----

fetch::WorkSource::Next CrawlJob::next(fetch::Clock::time_point now) {
    if (!m_deadline && m_limits.max_time.count() > 0) {
        m_deadline = now + m_limits.max_time;
    }
    if (m_stall_requested.exchange(false)) {
        update_stall(now);
    }
    for (;;) {
        if (!m_stop) {
            m_stop = limit_reached(now);
        }
        if (m_stop) {
            publish_stats();
            return {};
        }
        FrontierNext f = m_frontier.next(now);
        if (m_frontier.store_error() && !m_store_error) {
            // Queued URLs could not be read back: stop as failed. A job handed out now is
            // dropped unrecorded: it stays queued in the store.
            m_store_error = m_frontier.store_error();
            continue;
        }
        if (f.state == FrontierNext::State::finished) {
            m_stop = f.cause == FrontierNext::Cause::max_pages   ? StopReason::max_pages
                     : f.cause == FrontierNext::Cause::max_bytes ? StopReason::max_bytes
                     : m_pages_at_depth_limit > 0                ? StopReason::depth_limit
                                                                 : StopReason::frontier_exhausted;
            publish_stats();
            return {};
        }
        if (f.state == FrontierNext::State::waiting) {
            if (m_writer != nullptr && !m_store_error) {
                // A writer that failed commits nothing more: what the frontier waits for from
                // the store (queued URLs not committed yet) would never come.
                if (auto failed = m_writer->failure()) {
                    m_store_error = std::move(failed);
                    continue;
                }
            }
            Next out;
            out.state = State::waiting;
            out.wake_at = f.wake_at;
            if (m_deadline && (!out.wake_at || *m_deadline < *out.wake_at)) {
                out.wake_at = m_deadline;
            }
            publish_stats();
            return out;
        }
        FrontierJob& job = f.job;
        if (job.kind == FrontierJob::Kind::disallowed ||
            job.kind == FrontierJob::Kind::unreachable || job.kind == FrontierJob::Kind::given_up) {
            commit(m_parser->refused(std::move(job)));
            continue;
        }
        Next out;
        out.state = State::ready;
        out.request.id = m_next_request_id++;
        out.request.resend_wait_min = std::chrono::ceil<fetch::Millis>(job.delay);
        if (job.kind == FrontierJob::Kind::robots) {
            out.request.url = job.origin + "/robots.txt";
            out.request.follow_redirects = true; // RFC 9309 2.3.1.2
        } else {
            out.request.url = job.entry.url;
            out.request.follow_redirects = false;  // each hop is checked like a link
            out.request.head = job.entry.external; // checked, not crawled: no body needed
            m_pages_dispatched += counts_as_page(job.entry) ? 1 : 0;
        }
        // An external check is no content of the crawl: neither archived nor mirrored.
        for (ExchangeConsumer* consumer : job.entry.external ? k_no_consumers : m_consumers) {
            consumer->prepare(out.request);
        }
        {
            std::lock_guard lock(m_stall_mutex);
            m_in_flight_urls.emplace(out.request.id, std::make_pair(out.request.url, now));
        }
        m_dispatched.emplace(out.request.id, std::move(job));
        publish_stats();
        return out;
    }
}

std::optional<std::string> CrawlJob::consumer_error() const {
    for (const ExchangeConsumer* consumer : m_consumers) {
        if (auto error = consumer->error()) {
            return error;
        }
    }
    return std::nullopt;
}

std::optional<StopReason> CrawlJob::limit_reached(fetch::Clock::time_point now) const {
    if (m_store_error || consumer_error()) {
        return StopReason::failed;
    }
    if (m_limits.max_pages > 0 && m_pages_dispatched >= m_limits.max_pages) {
        return StopReason::max_pages;
    }
    if (m_limits.max_bytes > 0 && m_bytes_before + m_counters.bytes >= m_limits.max_bytes) {
        return StopReason::max_bytes;
    }
    if (m_deadline && now >= *m_deadline) {
        return StopReason::max_time;
    }
    return std::nullopt;
}

void CrawlJob::on_response(fetch::Response&& response) {
    const auto now = fetch::Clock::now();
    auto found = m_dispatched.find(response.id);
    if (found == m_dispatched.end()) {
        return; // not ours: cannot happen with one engine per job
    }
    FrontierJob job = std::move(found->second);
    m_dispatched.erase(found);
    {
        std::lock_guard lock(m_stall_mutex);
        m_in_flight_urls.erase(response.id);
    }
    m_counters.requests += static_cast<std::uint64_t>(requests_of(response));
    m_counters.last_completion_ns = now.time_since_epoch().count();
    for (ExchangeConsumer* consumer : job.entry.external ? k_no_consumers : m_consumers) {
        consumer->consume(job, response);
    }

    if (job.kind == FrontierJob::Kind::robots) {
        on_robots(std::move(job), std::move(response));
        publish_stats();
        return;
    }
    if (response.error && response.error->kind == fetch::ErrorKind::interrupted) {
        // Cut short by Ctrl-C: not recorded, so the URL stays queued for --resume.
        if (counts_as_page(job.entry)) {
            m_pages_dispatched -= std::min<std::uint64_t>(m_pages_dispatched, 1);
        }
        Completion interrupted{std::move(job), {JobResult::Outcome::interrupted, 0, 0, {}}, {}};
        m_frontier.complete(interrupted, now, m_decisions);
        m_decisions.clear();
        publish_stats();
        return;
    }
    const int status = response.error ? 0 : response.http_status;
    const bool throttled = status == 429 || status == 503;
    if (throttled) {
        std::optional<Duration> retry_after;
        if (response.retry_after) {
            retry_after = std::chrono::duration_cast<Duration>(*response.retry_after);
        }
        const bool page = counts_as_page(job.entry);
        if (m_frontier.defer(job, requests_of(response), retry_after, now)) {
            m_pages_dispatched -= page ? 1 : 0;
            publish_stats();
            return;
        }
    }
    // An external check is never parsed (its body is not read).
    const bool parse = job.entry.sitemap != SitemapRole::none
                           ? PageParser::wants_sitemap(response)
                           : !job.entry.external && m_parser->wants_parse(response);
    if (parse) {
        ParseTask task = m_parser->task(std::move(job), std::move(response));
        if (m_inline_extractor) {
            commit(m_parser->parse_html(task, *m_inline_extractor));
        } else {
            m_pool->submit(std::move(task));
        }
        return;
    }
    commit(m_parser->other(std::move(job), std::move(response), throttled));
}

// Where work finished on other threads comes back to the loop: the frontier's answers (queued
// URLs paged in) and the pages the pool parsed, committed here, never inside next().
void CrawlJob::on_wake() {
    m_frontier.on_wake();
    if (!m_pool) {
        return;
    }
    m_pool->take(m_parsed);
    for (ParsedPage& page : m_parsed) {
        commit(std::move(page));
    }
    m_parsed.clear();
}

// The one place a result ends: the frontier learns it (and the URLs it led to), the record
// gets the URLs accepted, the command hears of it, the store records it.
void CrawlJob::commit(ParsedPage&& page) {
    const auto now = fetch::Clock::now();
    storage::PageRecord& r = page.record;
    r.crawl_id = m_crawl_id;
    r.run_id = m_run_id;
    m_discoveries.clear();
    // A redirect target's chain: its start and the start's referrer (this page when it started
    // the chain). Copies: page.job is moved into the completion while the discoveries view them.
    std::string chain_url;
    std::string chain_from_url;
    for (const Candidate& c : page.candidates) {
        const std::string_view url =
            c.link < 0 ? std::string_view(c.url) : r.links[static_cast<std::size_t>(c.link)].to_url;
        Discovery d{url,         c.key,   c.depth,      c.redirects, c.requisite,
                    c.chain_seq, c.chain, std::nullopt, c.sitemap};
        // Its referrer: the page (or sitemap) whose link or redirect it is.
        d.from_seq = r.seq.value_or(0);
        d.from_url = r.url;
        d.external = c.external;
        if (c.chain_seq > 0 && !c.skip) {
            const FrontierEntry& entry = page.job.entry;
            chain_url = entry.chain_seq > 0 ? entry.chain_url : r.url;
            chain_from_url = entry.chain_seq > 0 ? entry.chain_from_url : entry.from_url;
            d.chain_url = chain_url;
            d.chain_from_url = chain_from_url;
        }
        if (c.skip) {
            d.skip = SkipReason{*c.skip, c.rule, c.tentative};
        }
        m_discoveries.push_back(d);
    }
    Completion completion{
        std::move(page.job),
        {JobResult::Outcome::recorded, r.http_status.value_or(0), r.bytes,
         page.failed || r.error ? std::string_view(page.error_kind) : std::string_view()},
        std::move(m_discoveries)};
    m_decisions.clear();
    m_frontier.complete(completion, now, m_decisions);
    m_discoveries = std::move(completion.discoveries);
    take_decisions(r);
    m_pages_at_depth_limit += page.depth_cut ? 1 : 0;
    m_parse_cpu_ns += page.parse_cpu_ns;
    count(r, page.error_kind);
    if (page.chain_failed) {
        // The chain's first URL was counted as a redirect when it was recorded.
        if (m_counters.redirects > 0) {
            --m_counters.redirects;
        }
        ++m_counters.errors;
        ++m_errors_by_kind[std::string(fetch::code(*page.chain_failed))];
    }
    if (m_on_item) {
        const FrontierEntry& entry = completion.job.entry;
        CrawlItem item{r, page.failed, page.warnings, entry.from_url, entry.redirects > 0};
        if (page.chain_failed) {
            item.chain_failed = true;
            item.chain_url = entry.chain_url;
            item.chain_referrer = entry.chain_from_url;
        }
        m_on_item(item);
    }
    submit(std::move(r));
    m_counters.last_completion_ns = now.time_since_epoch().count();
    publish_stats();
}

void CrawlJob::take_decisions(storage::PageRecord& r) {
    for (FrontierEntry& entry : m_decisions.accepted) {
        r.discovered.push_back({entry.seq,
                                entry.key,
                                std::move(entry.url),
                                entry.depth,
                                entry.redirects,
                                entry.requisite,
                                static_cast<int>(entry.sitemap),
                                entry.chain_seq,
                                std::move(entry.chain),
                                entry.from_seq,
                                {},
                                entry.external});
    }
    for (SkipDecision& skip : m_decisions.skipped) {
        // A tentative skip undone by a later link of the same page is never written.
        if (skip.tentative && std::find(m_decisions.unskipped.begin(), m_decisions.unskipped.end(),
                                        skip.key) != m_decisions.unskipped.end()) {
            std::erase(m_decisions.unskipped, skip.key);
            continue;
        }
        r.skips.push_back({skip.key, std::string(fetch::code(skip.kind)), std::move(skip.rule),
                           std::move(skip.url), skip.tentative});
    }
    r.unskipped = std::move(m_decisions.unskipped);
    m_decisions.clear();
}

// Each row is exactly one outcome, as `stats` counts them (storage/stats.hpp); each skip one
// skip.
void CrawlJob::count(const storage::PageRecord& r, std::string_view error_kind) {
    for (const storage::SkipRow& skip : r.skips) {
        ++m_counters.skipped;
        ++m_skipped_by_kind[skip.kind];
        if (skip.kind == fetch::code(fetch::FailureKind::robots)) {
            ++m_counters.disallowed;
        }
    }
    // Undone tentative skips (of earlier pages: their kind is not kept, only the total).
    m_counters.skipped -= std::min<std::uint64_t>(m_counters.skipped, r.unskipped.size());
    if (!r.has_page || r.kind == storage::PageKind::robots ||
        r.kind == storage::PageKind::sitemap) {
        return; // no page (stats counts the same)
    }
    if (r.external) {
        ++m_counters.external_checked;
        m_counters.external_broken += r.error ? 1 : 0;
        return;
    }
    ++m_counters.pages;
    m_counters.bytes += r.bytes;
    const int status = r.http_status.value_or(0);
    if (!r.error) {
        ++(status >= 300 && status < 400 ? m_counters.redirects : m_counters.ok);
    } else {
        ++(status == 404 || status == 410 ? m_counters.not_found : m_counters.errors);
        ++m_errors_by_kind[std::string(error_kind)];
    }
}

void CrawlJob::submit(storage::PageRecord&& record) {
    if (m_writer == nullptr || m_store_error) {
        return;
    }
    if (auto r = m_writer->submit(std::move(record)); !r) {
        m_store_error = r.error();
    }
}

void CrawlJob::on_robots(FrontierJob&& job, fetch::Response&& response) {
    const auto now = fetch::Clock::now();
    ++m_counters.robots_fetches;
    RobotsFetchPolicy policy = response.error ? robots_policy_for_error(response.error->kind)
                                              : robots_policy_for_status(response.http_status);
    std::optional<RobotsRules> rules;
    if (policy == RobotsFetchPolicy::parse) {
        rules = RobotsRules::parse(response.body, m_parser->rules().agent_token);
    } else if (policy == RobotsFetchPolicy::allow_all) {
        rules = RobotsRules::allow_all();
    }
    storage::PageRecord r;
    r.crawl_id = m_crawl_id;
    r.run_id = m_run_id;
    r.kind = storage::PageKind::robots;
    set_response_columns(r, response);
    // A status that means "no robots.txt" (4xx: everything allowed, the status says it) is no
    // failure; an unreachable one (5xx, 429) is.
    if (response.error) {
        r.error = response.error->message;
        r.error_kind = fetch::to_string(response.error->kind);
    } else if (policy == RobotsFetchPolicy::disallow_all_retry_later) {
        r.error = "HTTP " + std::to_string(response.http_status) +
                  ": robots.txt unreachable, fetched again later";
        r.error_kind = fetch::code(fetch::FailureKind::http_status);
    }
    if (m_parser->rules().save_bodies && !response.error) {
        r.body = std::move(response.body);
    }
    const bool interrupted =
        response.error && response.error->kind == fetch::ErrorKind::interrupted;
    // Why robots.txt failed, for the error of the URLs refused if the host is given up.
    const std::string failure =
        response.error ? response.error->message : "HTTP " + std::to_string(response.http_status);
    // The sitemaps robots.txt names; /sitemap.xml when it names none (as a fallback: a site
    // that names its sitemaps is not asked for another).
    std::vector<std::string> sitemaps;
    SitemapRole role = SitemapRole::declared;
    if (rules && !interrupted && m_sitemap_origins.contains(job.origin)) {
        sitemaps = rules->sitemaps();
        if (sitemaps.empty()) {
            sitemaps.push_back(job.origin + "/sitemap.xml");
            role = SitemapRole::guessed;
        }
    }
    if (policy == RobotsFetchPolicy::give_up_host) {
        m_frontier.robots_host_down(job, failure, now);
    } else {
        m_frontier.robots_fetched(job, interrupted ? std::nullopt : std::move(rules), failure, now);
    }
    if (!interrupted) {
        offer_sitemaps(sitemaps, role, r);
        count(r, {});
        submit(std::move(r));
    }
}

// After robots_fetched(), so that the frontier knows the host's rules (a sitemap they disallow
// is a skip like any URL). A resume reads robots.txt again: the sitemaps it already accepted
// are seen, not read twice.
void CrawlJob::offer_sitemaps(const std::vector<std::string>& urls, SitemapRole role,
                              storage::PageRecord& robots) {
    if (urls.empty()) {
        return;
    }
    std::vector<Candidate> candidates = m_parser->sitemap_candidates(urls, role);
    m_discoveries.clear();
    for (const Candidate& c : candidates) {
        Discovery d{c.url, c.key, c.depth, 0, false, 0, {}, std::nullopt, c.sitemap};
        if (c.skip) {
            d.skip = SkipReason{*c.skip, c.rule, c.tentative};
        }
        m_discoveries.push_back(d);
    }
    m_decisions.clear();
    m_frontier.offer(m_discoveries, m_decisions);
    m_discoveries.clear();
    take_decisions(robots);
}

std::size_t CrawlJob::finish(std::optional<std::chrono::steady_clock::time_point> abandon_at,
                             const std::function<bool()>& abandon_now) {
    std::size_t abandoned = 0;
    if (m_pool) {
        // Short waits, so that a second Ctrl-C is seen at once.
        constexpr auto k_poll = std::chrono::milliseconds(50);
        while (m_pool->pending() > 0) {
            const auto now = std::chrono::steady_clock::now();
            if ((abandon_at && now >= *abandon_at) || (abandon_now && abandon_now())) {
                abandoned = m_pool->abandon();
                break;
            }
            auto until = now + k_poll;
            if (abandon_at) {
                until = std::min(until, *abandon_at);
            }
            m_pool->wait_for_result(until);
            on_wake();
        }
    }
    publish_stats();
    return abandoned;
}

void CrawlJob::publish_stats() {
    const FrontierStats s = m_frontier.stats();
    m_counters.queued = s.queued;
    m_counters.in_flight = s.in_flight;
    m_counters.hosts_waiting = s.hosts_waiting;
}

FrontierStats CrawlJob::frontier_stats() const {
    return m_frontier.stats();
}

void CrawlJob::request_stall_report() {
    m_stall_requested = true;
    m_wake();
}

void CrawlJob::update_stall(fetch::Clock::time_point now) {
    std::string text = m_frontier.waiting_on(now);
    if (m_pool) {
        if (const std::size_t parsing = m_pool->pending(); parsing > 0) {
            text += (text.empty() ? "" : "; ") + std::to_string(parsing) + " page(s) being parsed";
        }
    }
    std::lock_guard lock(m_stall_mutex);
    m_stall_text = std::move(text);
}

std::string CrawlJob::stall_report() const {
    const auto now = fetch::Clock::now();
    std::lock_guard lock(m_stall_mutex);
    std::string report;
    if (!m_in_flight_urls.empty()) {
        const auto& [url, started] = m_in_flight_urls.begin()->second;
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f", seconds_between(started, now));
        report = "waiting for " + url + " (in flight for " + seconds + " s, " +
                 std::to_string(m_in_flight_urls.size()) + " request(s) in flight)";
    }
    if (!m_stall_text.empty()) {
        report += report.empty() ? m_stall_text : "; " + m_stall_text;
    }
    return report;
}

StopReason CrawlJob::stop_reason() const {
    if (m_store_error || consumer_error()) {
        return StopReason::failed;
    }
    if (m_interrupted) {
        return StopReason::interrupted;
    }
    return m_stop.value_or(StopReason::frontier_exhausted);
}

std::string CrawlJob::stop_text() const {
    switch (stop_reason()) {
    case StopReason::frontier_exhausted:
        return "finished: frontier exhausted";
    case StopReason::depth_limit:
        return "finished: --depth " + std::to_string(m_limits.max_depth) +
               " reached (the links of " + std::to_string(m_pages_at_depth_limit) +
               " page(s) at that depth were not followed)";
    case StopReason::max_pages:
        return "stopped: --max-pages " + std::to_string(m_limits.max_pages) + " reached";
    case StopReason::max_bytes:
        return "stopped: --max-bytes " + std::to_string(m_limits.max_bytes) + " reached";
    case StopReason::max_time: {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g",
                      std::chrono::duration<double>(m_limits.max_time).count());
        return std::string("stopped: --max-time ") + seconds + " reached";
    }
    case StopReason::interrupted:
        return "stopped: interrupted";
    case StopReason::failed:
        if (m_store_error) {
            return "failed: " + m_store_error->message;
        }
        return "failed: " + consumer_error().value_or("store");
    }
    return {};
}

} // namespace flagcrawl::crawler
