#include "crawler/crawl/page_parser.hpp"

#include "crawler/html/links.hpp"
#include "crawler/sitemap/sitemap.hpp"
#include "crawler/url/url.hpp"
#include "fetch/outcome.hpp"
#include "util/ascii.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

namespace flagcrawl::crawler {

namespace {

// Links a crawler follows as pages; the other non-requisite kinds (alternate: feeds and
// translations, other_link: next/prev/author/manifest) are recorded but not followed.
bool is_page_link(LinkKind kind) {
    return kind == LinkKind::anchor || kind == LinkKind::frame || kind == LinkKind::refresh ||
           kind == LinkKind::canonical;
}

// Records why `page` failed: the stored code, and the name summaries count it under.
void set_kind(ParsedPage& page, fetch::FailureKind kind) {
    page.record.error_kind = fetch::code(kind);
    page.error_kind = fetch::count_name(kind, page.record.http_status.value_or(0));
}

// QueryEncoding::encode over html's Transcoder, one per thread; context: the page's Encoding.
void encode_query_in(const void* context, std::string_view text, std::string& out) {
    thread_local Transcoder transcoder;
    transcoder.encode_query(*static_cast<const Encoding*>(context), text, out);
}

// This thread's CPU time in nanoseconds.
std::uint64_t thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

// A link's text as a skips row keeps it: at most k_max_skip_url bytes (a data: URL can be
// megabytes), cut on a UTF-8 boundary and marked.
std::string skip_text(std::string_view text) {
    if (text.size() <= storage::k_max_skip_url) {
        return std::string(text);
    }
    std::size_t end = storage::k_max_skip_url - 3;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
        --end;
    }
    return std::string(text.substr(0, end)) + "...";
}

Candidate skipped(std::string url, std::int32_t link, std::uint64_t key, int depth,
                  fetch::FailureKind kind, std::string rule, bool tentative) {
    Candidate c;
    c.url = std::move(url);
    c.link = link;
    c.key = key;
    c.depth = depth;
    c.skip = kind;
    c.rule = std::move(rule);
    c.tentative = tentative;
    return c;
}

} // namespace

void set_response_columns(storage::PageRecord& r, const fetch::Response& response) {
    r.url = response.url;
    r.bytes = response.bytes;
    r.elapsed_ms = response.timings.elapsed_ms;
    r.attempts = requests_of(response);
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

bool repeats_a_segment(std::string_view path, int max) {
    // Called for every link in scope: the segments are found by memchr, a path's first ones kept
    // on the stack as offsets (the array is not initialized: only [0, count) is read) and counted
    // pairwise, lengths first (paths have a handful); only a path longer than that is copied and
    // sorted.
    constexpr std::size_t k_on_stack = 16;
    struct Segment {
        std::size_t begin;
        std::size_t size;
    };
    std::array<Segment, k_on_stack> first;
    std::vector<std::string_view> all;
    const char* const data = path.data();
    const std::size_t n = path.size();
    std::size_t count = 0;
    std::size_t at = 0;
    while (at <= n) {
        const void* found = at < n ? std::memchr(data + at, '/', n - at) : nullptr;
        const std::size_t slash =
            found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - data) : n;
        if (slash > at) {
            if (count < k_on_stack) {
                first[count] = {at, slash - at};
            } else {
                if (all.empty()) {
                    for (const Segment& segment : first) {
                        all.push_back(path.substr(segment.begin, segment.size));
                    }
                }
                all.push_back(path.substr(at, slash - at));
            }
            ++count;
        }
        at = slash + 1;
    }
    if (count <= static_cast<std::size_t>(max)) {
        return false;
    }
    if (count <= k_on_stack) {
        for (std::size_t i = 0; i < count; ++i) {
            int same = 1;
            for (std::size_t j = i + 1; j < count; ++j) {
                if (first[j].size == first[i].size &&
                    std::memcmp(data + first[j].begin, data + first[i].begin, first[i].size) == 0 &&
                    ++same > max) {
                    return true;
                }
            }
        }
        return false;
    }
    std::sort(all.begin(), all.end());
    int run = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        run = i > 0 && all[i] == all[i - 1] ? run + 1 : 1;
        if (run > max) {
            return true;
        }
    }
    return false;
}

bool is_css(std::string_view content_type) {
    return util::iequals_prefix(util::trim(content_type), "text/css");
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

PageParser::PageParser(PageRules rules, UrlFilter filter)
    : m_rules(std::move(rules))
    , m_filter(std::move(filter)) {}

ExtractorOptions PageParser::extractor_options() const {
    ExtractorOptions options;
    options.agent_token = m_rules.agent_token;
    options.parser = m_rules.html_parser;
    options.css = m_rules.page_requisites;
    return options;
}

bool PageParser::checks_external(const Url& url) const {
    return m_rules.check_external && m_filter.check(url) == UrlFilter::Verdict::out_of_scope;
}

bool PageParser::wants_parse(const fetch::Response& response) const {
    return !response.error && response.http_status >= 200 && response.http_status < 300 &&
           ((m_rules.page_requisites && is_css(response.content_type)) ||
            is_html(response.content_type, response.body));
}

bool PageParser::wants_sitemap(const fetch::Response& response) {
    return !response.error && response.http_status >= 200 && response.http_status < 300;
}

ParseTask PageParser::task(FrontierJob&& job, fetch::Response&& response) const {
    if (job.entry.sitemap != SitemapRole::none) {
        ParseTask sitemap{std::move(job), std::move(response), false, false};
        sitemap.sitemap = true;
        return sitemap;
    }
    // A requisite's links are never followed (a stylesheet's URLs are its requisites). A page
    // at the depth limit is read whole all the same: the links it cuts are recorded as skips.
    const bool css = m_rules.page_requisites && is_css(response.content_type);
    const bool facts_only = job.entry.requisite && !css;
    return ParseTask{std::move(job), std::move(response), facts_only, css};
}

ParsedPage PageParser::other(FrontierJob&& job, fetch::Response&& response, bool throttled) const {
    ParsedPage page = start(job, response);
    if (throttled) {
        page.record.error = *page.record.error + " (still throttled after " +
                            std::to_string(job.entry.deferrals) + " deferrals)";
        set_kind(page, fetch::FailureKind::throttled);
    }
    const int status = response.error ? 0 : response.http_status;
    if (page.job.entry.sitemap == SitemapRole::guessed && status >= 400 && status < 500) {
        // The crawl tried /sitemap.xml unasked: its absence breaks nothing (as a robots.txt
        // 4xx).
        page.record.error.reset();
        page.record.error_kind.reset();
        page.failed = false;
        page.error_kind.clear();
    }
    add_redirect(page, response);
    if (m_rules.save_bodies && !response.error && !job.entry.external) {
        page.record.body = std::move(response.body);
    }
    return page;
}

ParsedPage PageParser::refused(FrontierJob&& job) const {
    ParsedPage page;
    storage::PageRecord& r = page.record;
    r.seq = job.entry.seq;
    r.kind = job.entry.sitemap != SitemapRole::none ? storage::PageKind::sitemap
             : job.entry.requisite                  ? storage::PageKind::requisite
                                                    : storage::PageKind::page;
    r.external = job.entry.external;
    r.url = job.entry.url;
    r.depth = job.entry.depth;
    r.attempts = 0;
    if (job.kind == FrontierJob::Kind::disallowed) {
        // The site's choice, not a failure (wget and Scrapy only log it): a skip, like the
        // links its rules refuse once known.
        r.has_page = false;
        r.skips.push_back({job.entry.key, std::string(fetch::code(fetch::FailureKind::robots)),
                           "robots.txt", job.entry.url, false});
    } else if (job.kind == FrontierJob::Kind::given_up) {
        r.error = job.reason;
        set_kind(page, fetch::FailureKind::given_up);
        page.failed = true;
    } else {
        // Never fetched because the host failed: an error, so the exit status says so.
        r.error = "robots.txt unreachable (" + job.reason + "), host given up";
        set_kind(page, fetch::FailureKind::robots_unreachable);
        page.failed = true;
    }
    page.job = std::move(job);
    return page;
}

ParsedPage PageParser::start(FrontierJob& job, const fetch::Response& response) const {
    ParsedPage result;
    // The job without its URL (the record has it from the response).
    result.job.kind = job.kind;
    result.job.host = job.host;
    result.job.entry.seq = job.entry.seq;
    result.job.entry.key = job.entry.key;
    result.job.entry.depth = job.entry.depth;
    result.job.entry.redirects = job.entry.redirects;
    result.job.entry.requisite = job.entry.requisite;
    result.job.entry.sitemap = job.entry.sitemap;
    result.job.entry.external = job.entry.external;
    result.job.entry.chain_seq = job.entry.chain_seq;
    result.job.entry.chain = job.entry.chain;
    result.job.entry.from_seq = job.entry.from_seq;
    result.job.entry.from_url = std::move(job.entry.from_url);
    result.job.entry.chain_url = std::move(job.entry.chain_url);
    result.job.entry.chain_from_url = std::move(job.entry.chain_from_url);
    storage::PageRecord& r = result.record;
    r.seq = job.entry.seq;
    r.kind = job.entry.sitemap != SitemapRole::none ? storage::PageKind::sitemap
             : job.entry.requisite                  ? storage::PageKind::requisite
                                                    : storage::PageKind::page;
    r.external = job.entry.external;
    set_response_columns(r, response);
    r.attempts += job.entry.deferred_attempts; // the server saw those requests too
    r.depth = job.entry.depth;
    r.fetched_at = std::chrono::system_clock::now();
    if (!response.location.empty()) {
        r.location = response.location;
    }
    const int status = response.http_status;
    if (!response.error && status >= 300 && status < 400) {
        return result; // a redirect is not a failure
    }
    fetch::Verdict verdict = fetch::classify(response);
    if (verdict.outcome != fetch::Outcome::ok) {
        r.error = std::move(verdict.reason);
        result.failed = true;
        set_kind(result, verdict.kind.value_or(fetch::FailureKind::other));
    }
    return result;
}

std::optional<std::string> PageParser::filtered(const Url& url) const {
    switch (m_filter.check(url)) {
    case UrlFilter::Verdict::accepted:
        return std::nullopt;
    case UrlFilter::Verdict::out_of_scope:
        return "scope " + std::string(to_string(m_rules.scope));
    case UrlFilter::Verdict::excluded:
        return std::string("--include/--exclude");
    }
    return std::nullopt;
}

std::optional<std::string> PageParser::trapped(const Url& url) const {
    if (m_rules.max_url_length > 0 && url.href_without_fragment().size() > m_rules.max_url_length) {
        return "--max-url-length " + std::to_string(m_rules.max_url_length);
    }
    if (m_rules.max_segment_repeats > 0 &&
        repeats_a_segment(url.path(), m_rules.max_segment_repeats)) {
        return "--max-segment-repeats " + std::to_string(m_rules.max_segment_repeats);
    }
    return std::nullopt;
}

void PageParser::fail_chain(ParsedPage& page, fetch::FailureKind kind, std::string error) const {
    const FrontierEntry& entry = page.job.entry;
    if (entry.chain_seq == 0) {
        // This URL started the chain: its own row fails.
        page.record.error = std::move(error);
        page.failed = true;
        set_kind(page, kind);
        return;
    }
    // The row of the URL that started the chain fails; this hop stays a redirect.
    page.record.chain_failure =
        storage::ChainFailure{entry.chain_seq, std::move(error), std::string(fetch::code(kind))};
    page.chain_failed = kind;
}

// Each hop of a redirect chain is its own row and its target is offered like a link. What ends
// the chain badly is the failure of the URL that started it (as `download` reports it): a loop
// (a target already in the chain, itself included), more hops than allowed, a target of another
// scheme or that does not parse. A target out of scope is a skip: the site sends its visitors
// elsewhere, which breaks nothing (wget and Scrapy do not follow it either); with
// --check-external, a page's is checked instead (not a sitemap's).
void PageParser::add_redirect(ParsedPage& result, const fetch::Response& response) const {
    const int status = response.error ? 0 : response.http_status;
    if (status < 300 || status >= 400 || response.location.empty()) {
        return;
    }
    const FrontierEntry& entry = result.job.entry;
    const std::string& hop = result.record.url;
    const int hops = entry.redirects + 1;
    if (hops > m_rules.max_redirects) {
        fail_chain(result, fetch::FailureKind::too_many_redirects,
                   "more than " + std::to_string(m_rules.max_redirects) + " redirects (" + hop +
                       ")");
        return;
    }
    auto target = parse(response.location);
    if (!target) {
        fail_chain(result, fetch::FailureKind::invalid_url,
                   "redirect to an invalid URL: " + skip_text(response.location) + " (" + hop +
                       ")");
        return;
    }
    if (!target->is_http()) {
        fail_chain(result, fetch::FailureKind::disallowed_scheme,
                   "redirect to a scheme other than http and https: " +
                       skip_text(target->href_without_fragment()) + " (" + hop + ")");
        return;
    }
    const std::uint64_t key = url_key_hash(*target, m_rules.canonical_query);
    std::string url(target->href_without_fragment());
    if (key == entry.key ||
        std::find(entry.chain.begin(), entry.chain.end(), key) != entry.chain.end()) {
        fail_chain(result, fetch::FailureKind::redirect_loop,
                   "redirect loop back to " + url + " (" + hop + ")");
        return;
    }
    // A sitemap that redirects out of scope is skipped: only a page's links are checked.
    auto out_of_scope = filtered(*target);
    const bool external =
        out_of_scope && entry.sitemap == SitemapRole::none && checks_external(*target);
    if (out_of_scope && !external) {
        result.candidates.push_back(skipped(std::move(url), -1, key, entry.depth,
                                            fetch::FailureKind::out_of_scope,
                                            std::move(*out_of_scope), false));
        return;
    }
    if (auto rule = trapped(*target)) {
        result.candidates.push_back(skipped(skip_text(url), -1, key, entry.depth,
                                            fetch::FailureKind::limit_reached, std::move(*rule),
                                            false));
        return;
    }
    Candidate c;
    c.url = std::move(url);
    c.key = key;
    c.depth = entry.depth;
    c.redirects = hops;
    c.requisite = entry.requisite;
    c.sitemap = entry.sitemap;
    c.external = external;
    c.chain_seq = entry.chain_seq > 0 ? entry.chain_seq : entry.seq;
    c.chain = entry.chain;
    c.chain.push_back(entry.key);
    result.candidates.push_back(std::move(c));
}

std::optional<Candidate> PageParser::sitemap_entry(std::string_view loc, int depth,
                                                   SitemapRole role, bool depth_ok,
                                                   std::vector<Candidate>& skips,
                                                   std::string& href) const {
    // The protocol wants absolute URLs: a relative <loc> is resolved against nothing.
    auto url = parse(loc);
    if (!url) {
        const std::string text = skip_text(util::trim(loc));
        skips.push_back(skipped(text, -1, key_hash(text), depth, fetch::FailureKind::invalid_url,
                                "sitemap: not an absolute URL", false));
        return std::nullopt;
    }
    if (!url->is_http()) {
        skips.push_back(skipped(skip_text(url->href_without_fragment()), -1,
                                url_key_hash(*url, m_rules.canonical_query), depth,
                                fetch::FailureKind::disallowed_scheme, std::string(url->scheme()),
                                false));
        return std::nullopt;
    }
    href = url->href_without_fragment();
    const std::uint64_t key = url_key_hash(*url, m_rules.canonical_query);
    if (auto rule = filtered(*url)) {
        return skipped({}, -1, key, depth, fetch::FailureKind::out_of_scope, std::move(*rule),
                       false);
    }
    if (auto rule = trapped(*url)) {
        return skipped({}, -1, key, depth, fetch::FailureKind::limit_reached, std::move(*rule),
                       false);
    }
    if (!depth_ok) {
        return skipped({}, -1, key, depth, fetch::FailureKind::limit_reached,
                       "--depth " + std::to_string(m_rules.max_depth), true);
    }
    Candidate c;
    c.key = key;
    c.depth = depth;
    c.sitemap = role;
    return c;
}

std::vector<Candidate> PageParser::sitemap_candidates(std::span<const std::string> urls,
                                                      SitemapRole role) const {
    std::vector<Candidate> out;
    std::string href;
    for (const std::string& text : urls) {
        if (auto c = sitemap_entry(text, 0, role, true, out, href)) {
            c->url = std::move(href);
            out.push_back(std::move(*c));
        }
    }
    return out;
}

// A sitemap's URLs are links of kind 'sitemap' of its row, one hop deeper (so `links --broken`
// names the sitemap as their referrer); an index's sitemaps are sitemaps to read at its depth.
ParsedPage PageParser::read_sitemap(ParseTask& task) const {
    fetch::Response& response = task.response;
    ParsedPage result = start(task.job, response);
    const SitemapRole role = task.job.entry.sitemap;
    Sitemap sitemap = parse_sitemap(response.body);
    const bool index = sitemap.kind == SitemapKind::index;
    if (role == SitemapRole::guessed && sitemap.kind == SitemapKind::unknown) {
        sitemap.warnings.clear(); // a /sitemap.xml tried unasked that is none (a soft 404)
    }
    result.warnings = std::move(sitemap.warnings);
    if (index && role == SitemapRole::indexed) {
        result.warnings.emplace_back("a sitemap index listed by a sitemap index: not read (the "
                                     "sitemap protocol allows no nesting)");
        sitemap.locs.clear();
    }
    storage::PageRecord& r = result.record;
    const int depth = index ? task.job.entry.depth : task.job.entry.depth + 1;
    const bool depth_ok = index || m_rules.max_depth < 0 || depth <= m_rules.max_depth;
    const SitemapRole child_role = index ? SitemapRole::indexed : SitemapRole::none;
    std::size_t link_text = 0; // each URL about as listed, and its kind
    for (const std::string& loc : sitemap.locs) {
        link_text += loc.size() + std::string_view("sitemap").size();
    }
    r.links.reserve(sitemap.locs.size(), link_text);
    std::string href;
    for (const std::string& loc : sitemap.locs) {
        auto c = sitemap_entry(loc, depth, child_role, depth_ok, result.candidates, href);
        if (!c) {
            continue;
        }
        r.links.push_back(href, "sitemap", false);
        c->link = static_cast<std::int32_t>(r.links.size() - 1);
        result.depth_cut = result.depth_cut || (c->skip && c->tentative);
        result.candidates.push_back(std::move(*c));
    }
    if (m_rules.save_bodies) {
        r.body = std::move(response.body);
    }
    return result;
}

ParsedPage PageParser::parse_html(ParseTask& task, LinkExtractor& extractor) const {
    if (task.sitemap) {
        return read_sitemap(task);
    }
    fetch::Response& response = task.response;
    ParsedPage result = start(task.job, response);
    bool noindex = false;
    bool nofollow = false;
    if (m_rules.robots && !response.x_robots_tag.empty()) {
        parse_x_robots_tag(response.x_robots_tag, m_rules.agent_token, noindex, nofollow);
    }
    const std::uint64_t parse_started_ns = thread_cpu_ns();
    const PageLinks& page = task.css ? extractor.extract_css(response.body)
                            : task.facts_only
                                ? extractor.extract_facts(response.body, response.content_type)
                                : extractor.extract(response.body, response.content_type);
    result.parse_cpu_ns = thread_cpu_ns() - parse_started_ns;
    if (page.too_complex) {
        result.record.error = "too complex: nesting beyond the full HTML parser's bound "
                              "(--html-parser fast reads any page)";
        result.failed = true;
        set_kind(result, fetch::FailureKind::too_complex);
        return result;
    }
    storage::PageRecord& r = result.record;
    if (!page.title.empty()) {
        r.title = std::string(page.title);
    }
    if (m_rules.robots) {
        noindex = noindex || page.noindex;
        nofollow = nofollow || page.nofollow;
    }
    r.noindex = noindex;

    auto page_url = parse(response.final_url.empty() ? response.url : response.final_url);
    if (page_url) {
        QueryEncoding query_encoding;
        if (page.encoding != Encoding::utf8) {
            query_encoding = {&encode_query_in, &page.encoding};
        }
        // HTML's "frozen base URL": the first <base href> parsed against the page URL, unless
        // that fails or gives a data: or javascript: URL. Any other scheme is the base, even
        // one nothing relative resolves against (mailto:): relative links then fail to parse.
        std::optional<Url> base_from_tag;
        if (page.has_base) {
            if (auto b = parse(page.base_href, &*page_url, query_encoding);
                b && b->scheme() != "data" && b->scheme() != "javascript") {
                base_from_tag = std::move(*b);
            }
        }
        const Url& base = base_from_tag ? *base_from_tag : *page_url;
        const int child_depth = task.job.entry.depth + 1;
        const bool depth_ok = m_rules.max_depth < 0 || child_depth <= m_rules.max_depth;
        const std::string depth_rule = "--depth " + std::to_string(m_rules.max_depth);
        // Why a nofollow link is not followed: the page's own directive, else the link's.
        const std::string_view nofollow_rule =
            !nofollow ? "rel=nofollow" : (page.nofollow ? "meta robots" : "X-Robots-Tag");
        // A relative link resolves to about the base's length; its kind takes a few bytes more.
        r.links.reserve(page.links.size(), page.links.size() * (base.href().size() + 16));
        result.candidates.reserve(page.links.size());
        // Every link is parsed into this one Url, which keeps its storage from link to link.
        Url url;
        for (const Link& link : page.links) {
            // Only links the crawl would follow are candidates (others, such as images without
            // --page-requisites, are not part of it and are no skips).
            const bool page_link = is_page_link(link.kind);
            const bool requisite = !page_link && link.requisite && m_rules.page_requisites;
            const bool candidate = page_link || requisite;
            if (!parse_into(url, link.url, &base, query_encoding)) {
                if (candidate) {
                    const std::string text = skip_text(util::trim(link.url));
                    result.candidates.push_back(skipped(text, -1, key_hash(text), child_depth,
                                                        fetch::FailureKind::invalid_url,
                                                        "not a URL", false));
                }
                continue;
            }
            if (!url.is_http()) {
                if (candidate) {
                    result.candidates.push_back(skipped(
                        skip_text(url.href_without_fragment()), -1,
                        url_key_hash(url, m_rules.canonical_query), child_depth,
                        fetch::FailureKind::disallowed_scheme, std::string(url.scheme()), false));
                }
                continue;
            }
            const bool link_nofollow = link.nofollow || nofollow;
            if (!candidate) {
                r.links.push_back(url.href_without_fragment(), to_string(link.kind), link_nofollow);
                continue;
            }
            const std::uint64_t key = url_key_hash(url, m_rules.canonical_query);
            // The reasons that hold for the URL itself first (recorded for good), then those of
            // this path to it (tentative: another link may still reach it).
            auto out_of_scope = filtered(url);
            const bool external = out_of_scope && checks_external(url);
            std::optional<std::string> trap_rule;
            if (!out_of_scope || external) {
                trap_rule = trapped(url);
            }
            r.links.push_back(url.href_without_fragment(), to_string(link.kind), link_nofollow);
            const auto at = static_cast<std::int32_t>(r.links.size() - 1);
            if (out_of_scope && !external) {
                result.candidates.push_back(skipped({}, at, key, child_depth,
                                                    fetch::FailureKind::out_of_scope,
                                                    std::move(*out_of_scope), false));
                continue;
            }
            if (auto& rule = trap_rule) {
                result.candidates.push_back(skipped({}, at, key, child_depth,
                                                    fetch::FailureKind::limit_reached,
                                                    std::move(*rule), false));
                continue;
            }
            if (page_link && !depth_ok) {
                result.depth_cut = true;
                result.candidates.push_back(skipped(
                    {}, at, key, child_depth, fetch::FailureKind::limit_reached, depth_rule, true));
                continue;
            }
            if (page_link && m_rules.robots && link_nofollow) {
                result.candidates.push_back(skipped({}, at, key, child_depth,
                                                    fetch::FailureKind::nofollow,
                                                    std::string(nofollow_rule), true));
                continue;
            }
            // Built where it stays: most of a page's links end here, and a Candidate moved in
            // costs as much again as one made in place.
            Candidate& c = result.candidates.emplace_back();
            c.link = at;
            c.key = key;
            c.depth = child_depth;
            c.requisite = requisite;
            c.external = external;
        }
    }
    if (m_rules.save_bodies && !noindex) {
        r.body = std::move(response.body);
    }
    return result;
}

} // namespace flagcrawl::crawler
