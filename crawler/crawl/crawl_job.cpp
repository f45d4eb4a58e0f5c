#include "crawler/crawl/crawl_job.hpp"

#include "crawler/crawl/robots_policy.hpp"
#include "crawler/html/links.hpp"
#include "crawler/url/url.hpp"
#include "fetch/outcome.hpp"
#include "util/ascii.hpp"

#include <algorithm>

namespace flagcrawl::crawler {

namespace {

// Links a crawler follows as pages; the other non-requisite kinds (alternate: feeds and
// translations, other_link: next/prev/author/manifest) are recorded but not followed.
bool is_page_link(LinkKind kind) {
    return kind == LinkKind::anchor || kind == LinkKind::frame || kind == LinkKind::refresh ||
           kind == LinkKind::canonical;
}

double seconds_between(fetch::Clock::time_point from, fetch::Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

// The pages row's columns that come from the response alone (page and robots.txt rows alike).
// Without a response there is no final URL, status or timings: they stay NULL.
void set_response_columns(storage::PageRecord& r, const fetch::Response& response) {
    r.url = response.url;
    r.bytes = response.bytes;
    r.elapsed_ms = response.timings.elapsed_ms;
    r.attempts = response.attempts;
    if (response.http_status > 0) {
        r.final_url = response.final_url;
        r.http_status = response.http_status;
        r.dns_ms = response.timings.dns_ms;
        r.connect_ms = response.timings.connect_ms;
        r.ttfb_ms = response.timings.ttfb_ms;
    }
    if (!response.content_type.empty()) {
        r.content_type = response.content_type;
    }
}

} // namespace

std::string_view to_string(StopReason reason) {
    switch (reason) {
    case StopReason::frontier_exhausted:
        return "frontier_exhausted";
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

void parse_x_robots_tag(std::string_view header, std::string_view agent_token, bool& noindex,
                        bool& nofollow) {
    bool applies = true;
    std::size_t at = 0;
    for (;;) {
        auto comma = header.find(',', at);
        if (comma == std::string_view::npos) {
            comma = header.size();
        }
        std::string_view part = util::trim(header.substr(at, comma - at));
        // "agent: directive": a new agent section, unless the name is a directive that takes
        // a value ("unavailable_after: date", "max-snippet: 0").
        if (auto colon = part.find(':'); colon != std::string_view::npos) {
            const std::string_view name = util::trim(part.substr(0, colon));
            if (!util::iequals(name, "unavailable_after") && !util::iequals_prefix(name, "max-")) {
                applies = util::iequals(name, agent_token);
                part = part.substr(colon + 1);
            }
        }
        if (applies) {
            // Several directives may also be separated by spaces in one part.
            apply_robots_directives(part, noindex, nofollow);
        }
        if (comma == header.size()) {
            break;
        }
        at = comma + 1;
    }
}

bool is_html(std::string_view content_type, std::string_view body) {
    std::string_view type = util::trim(content_type);
    if (!type.empty()) {
        return util::iequals_prefix(type, "text/html") ||
               util::iequals_prefix(type, "application/xhtml+xml");
    }
    if (body.starts_with("\xEF\xBB\xBF")) {
        body.remove_prefix(3);
    }
    const auto start = body.find_first_not_of(" \t\r\n\f");
    if (start == std::string_view::npos) {
        return false;
    }
    body = body.substr(start);
    for (std::string_view tag :
         {"<!doctype html", "<html", "<head", "<body", "<title", "<a ", "<!--"}) {
        if (util::iequals_prefix(body, tag)) {
            return true;
        }
    }
    return false;
}

CrawlJob::CrawlJob(CrawlOptions options, Frontier& frontier, storage::Writer* writer,
                   std::int64_t crawl_id, std::int64_t run_id, ItemCallback on_item)
    : m_options(std::move(options))
    , m_frontier(frontier)
    , m_writer(writer)
    , m_crawl_id(crawl_id)
    , m_run_id(run_id)
    , m_on_item(std::move(on_item))
    , m_filter(
          m_options.scope,
          [&] {
              std::vector<Url> seeds;
              for (const auto& seed : m_options.seeds) {
                  if (auto url = parse(seed); url) {
                      seeds.push_back(std::move(*url));
                  }
              }
              return seeds;
          }(),
          m_options.include, m_options.exclude) {
    if (m_options.parse_threads <= 0) {
        m_inline_extractor = std::make_unique<LinkExtractor>(extractor_options());
        return;
    }
    for (int i = 0; i < m_options.parse_threads; ++i) {
        m_workers.emplace_back([this] { worker_loop(); });
    }
}

CrawlJob::~CrawlJob() {
    {
        std::lock_guard lock(m_pool_mutex);
        m_pool_stop = true;
    }
    m_pool_cv.notify_all();
    for (auto& worker : m_workers) {
        worker.join();
    }
}

std::vector<storage::FrontierRow> CrawlJob::push_seeds() {
    std::vector<storage::FrontierRow> rows;
    for (const auto& seed : m_options.seeds) {
        auto url = parse(seed);
        if (!url || !url->is_http()) {
            continue;
        }
        const std::uint64_t key = url_key_hash(*url, m_options.canonical_query);
        if (auto entry =
                m_frontier.push(std::string(url->href_without_fragment()), key, 0, 0, false)) {
            rows.push_back({entry->seq, entry->key, entry->url, 0, 0, false});
        }
    }
    publish_stats();
    return rows;
}

void CrawlJob::set_totals_before(std::uint64_t pages, std::uint64_t bytes) {
    m_pages_dispatched = pages;
    m_bytes_before = bytes;
}

// ---- the loop thread ----

fetch::WorkSource::Next CrawlJob::next(fetch::Clock::time_point now) {
    if (!m_deadline && m_options.max_time.count() > 0) {
        m_deadline = now + m_options.max_time;
    }
    drain_parsed();
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
            m_stop = StopReason::frontier_exhausted;
            publish_stats();
            return {};
        }
        if (f.state == FrontierNext::State::waiting) {
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
            job.kind == FrontierJob::Kind::unreachable) {
            record_refused(std::move(job));
            continue;
        }
        Next out;
        out.state = State::ready;
        out.request.id = m_next_request_id++;
        if (job.kind == FrontierJob::Kind::robots) {
            out.request.url = job.origin + "/robots.txt";
            out.request.follow_redirects = true; // RFC 9309 2.3.1.2
        } else {
            out.request.url = job.entry.url;
            out.request.follow_redirects = false; // each hop is checked like a link
            ++m_pages_dispatched;
        }
        if (m_warc) {
            out.request.capture = m_warc->capture();
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

std::optional<StopReason> CrawlJob::limit_reached(fetch::Clock::time_point now) const {
    if (m_store_error || (m_warc && m_warc->error())) {
        return StopReason::failed;
    }
    if (m_options.max_pages > 0 && m_pages_dispatched >= m_options.max_pages) {
        return StopReason::max_pages;
    }
    if (m_options.max_bytes > 0 && m_bytes_before + m_counters.bytes >= m_options.max_bytes) {
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
    m_counters.requests += static_cast<std::uint64_t>(std::max(response.attempts, 0));
    m_counters.last_completion_ns = now.time_since_epoch().count();
    if (m_warc) {
        // Every exchange is archived, deferred 429s and robots.txt included.
        m_warc->archive(std::move(response.capture), !response.error);
    }

    if (job.kind == FrontierJob::Kind::robots) {
        on_robots(std::move(job), std::move(response));
        publish_stats();
        return;
    }
    if (response.error && response.error->kind == fetch::ErrorKind::interrupted) {
        // Cut short by Ctrl-C: not recorded, so the URL stays queued for --resume.
        if (m_pages_dispatched > 0) {
            --m_pages_dispatched;
        }
        m_frontier.complete(job, now);
        publish_stats();
        return;
    }
    const int status = response.error ? 0 : response.http_status;
    if (status == 429 || status == 503) {
        std::optional<Duration> retry_after;
        if (response.retry_after) {
            retry_after = std::chrono::duration_cast<Duration>(*response.retry_after);
        }
        if (m_frontier.defer(job, retry_after, now)) {
            ++m_counters.deferred;
            --m_pages_dispatched;
            publish_stats();
            return;
        }
    }
    if (status >= 200 && status < 300 && is_html(response.content_type, response.body)) {
        const bool links_usable = !job.entry.requisite && (m_options.max_depth < 0 ||
                                                           job.entry.depth < m_options.max_depth ||
                                                           m_options.page_requisites);
        ParseTask task{std::move(job), std::move(response), !links_usable};
        if (m_inline_extractor) {
            commit(parse_page(task, *m_inline_extractor));
            return;
        }
        bool wake_worker = false;
        {
            std::lock_guard lock(m_pool_mutex);
            m_tasks.push_back(std::move(task));
            ++m_parsing;
            wake_worker = m_idle_workers > 0;
        }
        if (wake_worker) {
            m_pool_cv.notify_one();
        }
        return;
    }
    save_to_mirror(response);
    Result result = start_result(job, response);
    if (status == 429 || status == 503) {
        result.record.error = *result.record.error + " (still throttled after " +
                              std::to_string(job.entry.deferrals) + " deferrals)";
        result.error_kind = "throttled";
    }
    add_redirect(result, response);
    if (m_options.save_bodies && !response.error) {
        result.record.body = std::move(response.body);
    }
    commit(std::move(result));
}

CrawlJob::Result CrawlJob::start_result(const FrontierJob& job,
                                        const fetch::Response& response) const {
    Result result;
    result.job.kind = job.kind;
    result.job.host = job.host;
    result.job.entry.seq = job.entry.seq;
    result.job.entry.depth = job.entry.depth;
    result.job.entry.redirects = job.entry.redirects;
    result.job.entry.requisite = job.entry.requisite;
    storage::PageRecord& r = result.record;
    r.crawl_id = m_crawl_id;
    r.run_id = m_run_id;
    r.seq = job.entry.seq;
    r.kind = job.entry.requisite ? storage::PageKind::requisite : storage::PageKind::page;
    set_response_columns(r, response);
    r.depth = job.entry.depth;
    r.fetched_at = std::chrono::system_clock::now();
    if (!response.location.empty()) {
        r.location = response.location;
    }
    const int status = response.http_status;
    if (!response.error && status >= 300 && status < 400) {
        return result; // a redirect is not a failure
    }
    std::string reason;
    const fetch::Outcome outcome = fetch::classify(response, reason);
    if (outcome != fetch::Outcome::ok) {
        r.error = std::move(reason);
        result.failed = true;
        result.error_kind = response.error ? std::string(fetch::to_string(response.error->kind))
                                           : "http_" + std::to_string(status);
    }
    return result;
}

void CrawlJob::add_redirect(Result& result, const fetch::Response& response) const {
    const int status = response.error ? 0 : response.http_status;
    if (status < 300 || status >= 400 || response.location.empty()) {
        return;
    }
    const int hops = result.job.entry.redirects + 1;
    if (hops > m_options.max_redirects) {
        result.record.error = "too many redirects (" + std::to_string(hops) + ")";
        result.failed = true;
        result.error_kind = "too_many_redirects";
        return;
    }
    auto target = parse(response.location);
    if (!target || m_filter.check(*target) != UrlFilter::Verdict::accepted) {
        return;
    }
    result.candidates.push_back({std::string(target->href_without_fragment()), -1,
                                 url_key_hash(*target, m_options.canonical_query),
                                 result.job.entry.depth, hops, result.job.entry.requisite});
}

void CrawlJob::accept(Result& result) {
    for (Candidate& c : result.candidates) {
        if (m_frontier.seen(c.key)) {
            continue;
        }
        const std::string& url =
            c.link < 0 ? c.url : result.record.links[static_cast<std::size_t>(c.link)].to_url;
        if (m_options.robots && !m_frontier.allowed_now(url)) {
            continue;
        }
        if (auto entry = m_frontier.push(c.link < 0 ? std::move(c.url) : url, c.key, c.depth,
                                         c.redirects, c.requisite)) {
            result.record.discovered.push_back({entry->seq, entry->key, std::move(entry->url),
                                                entry->depth, entry->redirects, entry->requisite});
        }
    }
}

void CrawlJob::commit(Result&& result) {
    const auto now = fetch::Clock::now();
    accept(result);
    storage::PageRecord& r = result.record;
    ++m_counters.pages;
    m_counters.bytes += r.bytes;
    if (result.failed) {
        ++m_errors_by_kind[result.error_kind];
        if (r.http_status && (*r.http_status == 404 || *r.http_status == 410)) {
            ++m_counters.not_found;
        } else {
            ++m_counters.errors;
        }
    } else if (r.http_status && *r.http_status >= 300 && *r.http_status < 400) {
        ++m_counters.redirects;
    } else {
        ++m_counters.ok;
    }
    if (m_on_item) {
        m_on_item(CrawlItem{r, result.failed});
    }
    submit(std::move(r));
    m_frontier.complete(result.job, now);
    m_counters.last_completion_ns = now.time_since_epoch().count();
    publish_stats();
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
        rules = RobotsRules::parse(response.body, m_options.agent_token);
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
    } else if (policy == RobotsFetchPolicy::disallow_all_retry_later) {
        r.error = "HTTP " + std::to_string(response.http_status) +
                  ": robots.txt unreachable, fetched again later";
    }
    if (m_options.save_bodies && !response.error) {
        r.body = std::move(response.body);
    }
    const bool interrupted =
        response.error && response.error->kind == fetch::ErrorKind::interrupted;
    // Why robots.txt failed, for the error of the URLs refused if the host is given up.
    const std::string failure =
        response.error ? response.error->message : "HTTP " + std::to_string(response.http_status);
    if (policy == RobotsFetchPolicy::give_up_host) {
        m_frontier.robots_host_down(job, failure, now);
    } else {
        m_frontier.robots_fetched(job, interrupted ? std::nullopt : std::move(rules), failure, now);
    }
    if (!interrupted) {
        submit(std::move(r));
    }
}

void CrawlJob::record_refused(FrontierJob&& job) {
    storage::PageRecord r;
    r.crawl_id = m_crawl_id;
    r.run_id = m_run_id;
    r.seq = job.entry.seq;
    r.kind = job.entry.requisite ? storage::PageKind::requisite : storage::PageKind::page;
    r.url = std::move(job.entry.url);
    r.depth = job.entry.depth;
    r.attempts = 0;
    if (job.kind == FrontierJob::Kind::disallowed) {
        // The site's choice, not a failure (wget and Scrapy only log it).
        r.error = "disallowed by robots.txt";
        ++m_counters.disallowed;
    } else {
        // Never fetched because the host failed: an error, so the exit status says so.
        r.error = "robots.txt unreachable (" + job.reason + "), host given up";
        ++m_errors_by_kind["robots_unreachable"];
        ++m_counters.errors;
        ++m_counters.pages;
        if (m_on_item) {
            m_on_item(CrawlItem{r, true});
        }
    }
    submit(std::move(r));
}

void CrawlJob::drain_parsed() {
    std::vector<Result> parsed;
    {
        std::lock_guard lock(m_pool_mutex);
        if (m_parsed.empty()) {
            return;
        }
        parsed.swap(m_parsed);
    }
    for (Result& result : parsed) {
        commit(std::move(result));
    }
}

void CrawlJob::finish() {
    for (;;) {
        {
            std::unique_lock lock(m_pool_mutex);
            m_finishing = true;
            m_idle_cv.wait(lock, [this] { return m_parsing == 0 || !m_parsed.empty(); });
            if (m_parsing == 0 && m_parsed.empty()) {
                break;
            }
        }
        drain_parsed();
    }
    publish_stats();
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

void CrawlJob::update_stall(fetch::Clock::time_point now) {
    std::string text = m_frontier.waiting_on(now);
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
    if (m_store_error || (m_warc && m_warc->error())) {
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
    case StopReason::max_pages:
        return "stopped: --max-pages " + std::to_string(m_options.max_pages) + " reached";
    case StopReason::max_bytes:
        return "stopped: --max-bytes " + std::to_string(m_options.max_bytes) + " reached";
    case StopReason::max_time: {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%g",
                      std::chrono::duration<double>(m_options.max_time).count());
        return std::string("stopped: --max-time ") + seconds + " reached";
    }
    case StopReason::interrupted:
        return "stopped: interrupted";
    case StopReason::failed:
        if (m_store_error) {
            return "failed: " + m_store_error->message;
        }
        if (auto warc_error = m_warc ? m_warc->error() : std::nullopt) {
            return "failed: WARC: " + *warc_error;
        }
        return "failed: store";
    }
    return {};
}

std::map<std::string, std::uint64_t> CrawlJob::errors_by_kind() const {
    return m_errors_by_kind;
}

// ---- parse workers ----

ExtractorOptions CrawlJob::extractor_options() const {
    ExtractorOptions options;
    options.agent_token = m_options.agent_token;
    return options;
}

// The loop is woken only when a result lands in an empty m_parsed: until it drains them, later
// results join the same batch. A worker is notified only when one sleeps (on_response()).
void CrawlJob::worker_loop() {
    LinkExtractor extractor(extractor_options());
    for (;;) {
        ParseTask task;
        {
            std::unique_lock lock(m_pool_mutex);
            ++m_idle_workers;
            m_pool_cv.wait(lock, [this] { return m_pool_stop || !m_tasks.empty(); });
            --m_idle_workers;
            if (m_tasks.empty()) {
                return;
            }
            task = std::move(m_tasks.front());
            m_tasks.pop_front();
        }
        Result result = parse_page(task, extractor);
        bool wake_loop = false;
        bool finishing = false;
        {
            std::lock_guard lock(m_pool_mutex);
            wake_loop = m_parsed.empty();
            m_parsed.push_back(std::move(result));
            --m_parsing;
            finishing = m_finishing;
        }
        if (finishing) {
            m_idle_cv.notify_all();
        }
        if (wake_loop && m_wake) {
            m_wake();
        }
    }
}

void CrawlJob::save_to_mirror(const fetch::Response& response) const {
    if (m_mirror == nullptr || response.error || response.http_status < 200 ||
        response.http_status >= 300) {
        return;
    }
    if (auto url = parse(response.url)) {
        m_mirror->save(mirror_path(*url), response.body);
    }
}

CrawlJob::Result CrawlJob::parse_page(ParseTask& task, LinkExtractor& extractor) const {
    fetch::Response& response = task.response;
    save_to_mirror(response);
    Result result = start_result(task.job, response);
    bool noindex = false;
    bool nofollow = false;
    if (m_options.robots && !response.x_robots_tag.empty()) {
        parse_x_robots_tag(response.x_robots_tag, m_options.agent_token, noindex, nofollow);
    }
    const PageLinks& page =
        task.facts_only ? extractor.extract_facts(response.body) : extractor.extract(response.body);
    storage::PageRecord& r = result.record;
    if (!page.title.empty()) {
        r.title = std::string(page.title);
    }
    if (m_options.robots) {
        noindex = noindex || page.noindex;
        nofollow = nofollow || page.nofollow;
    }
    r.noindex = noindex;

    auto page_url = parse(response.final_url.empty() ? response.url : response.final_url);
    if (page_url) {
        std::optional<Url> base_from_tag;
        if (page.has_base && !page.base_href.empty()) {
            if (auto b = parse(page.base_href, &*page_url); b && !b->has_opaque_path()) {
                base_from_tag = std::move(*b);
            }
        }
        const Url& base = base_from_tag ? *base_from_tag : *page_url;
        const int child_depth = task.job.entry.depth + 1;
        const bool depth_ok = m_options.max_depth < 0 || child_depth <= m_options.max_depth;
        r.links.reserve(page.links.size());
        for (const Link& link : page.links) {
            auto url = parse(link.url, &base);
            if (!url || !url->is_http()) {
                continue;
            }
            const bool link_nofollow = link.nofollow || nofollow;
            r.links.push_back({std::string(url->href_without_fragment()),
                               std::string(to_string(link.kind)), link_nofollow});
            bool requisite = false;
            if (is_page_link(link.kind)) {
                if (!depth_ok || (m_options.robots && link_nofollow)) {
                    continue;
                }
            } else if (link.requisite && m_options.page_requisites) {
                requisite = true;
            } else {
                continue;
            }
            if (m_filter.check(*url) != UrlFilter::Verdict::accepted) {
                continue;
            }
            result.candidates.push_back({{},
                                         static_cast<std::int32_t>(r.links.size() - 1),
                                         url_key_hash(*url, m_options.canonical_query),
                                         child_depth,
                                         0,
                                         requisite});
        }
    }
    if (m_options.save_bodies && !noindex) {
        r.body = std::move(response.body);
    }
    return result;
}

} // namespace flagcrawl::crawler
