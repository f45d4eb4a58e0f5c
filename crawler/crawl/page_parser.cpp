#include "crawler/crawl/page_parser.hpp"

#include "crawler/html/links.hpp"
#include "crawler/url/url.hpp"
#include "fetch/outcome.hpp"
#include "util/ascii.hpp"

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

bool PageParser::wants_parse(const fetch::Response& response) const {
    return !response.error && response.http_status >= 200 && response.http_status < 300 &&
           ((m_rules.page_requisites && is_css(response.content_type)) ||
            is_html(response.content_type, response.body));
}

ParseTask PageParser::task(FrontierJob&& job, fetch::Response&& response) const {
    const bool links_usable =
        !job.entry.requisite &&
        (m_rules.max_depth < 0 || job.entry.depth < m_rules.max_depth || m_rules.page_requisites);
    const bool css = m_rules.page_requisites && is_css(response.content_type);
    return ParseTask{std::move(job), std::move(response), !links_usable && !css, css};
}

ParsedPage PageParser::other(FrontierJob&& job, fetch::Response&& response, bool throttled) const {
    ParsedPage page = start(job, response);
    if (throttled) {
        page.record.error = *page.record.error + " (still throttled after " +
                            std::to_string(job.entry.deferrals) + " deferrals)";
        set_kind(page, fetch::FailureKind::throttled);
    }
    add_redirect(page, response);
    if (m_rules.save_bodies && !response.error) {
        page.record.body = std::move(response.body);
    }
    return page;
}

ParsedPage PageParser::refused(FrontierJob&& job) const {
    ParsedPage page;
    storage::PageRecord& r = page.record;
    r.seq = job.entry.seq;
    r.kind = job.entry.requisite ? storage::PageKind::requisite : storage::PageKind::page;
    r.url = job.entry.url;
    r.depth = job.entry.depth;
    r.attempts = 0;
    if (job.kind == FrontierJob::Kind::disallowed) {
        // The site's choice, not a failure (wget and Scrapy only log it).
        r.error = "disallowed by robots.txt";
        set_kind(page, fetch::FailureKind::robots);
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

ParsedPage PageParser::start(const FrontierJob& job, const fetch::Response& response) const {
    ParsedPage result;
    // The job without its URL (the record has it from the response).
    result.job.kind = job.kind;
    result.job.host = job.host;
    result.job.entry.seq = job.entry.seq;
    result.job.entry.key = job.entry.key;
    result.job.entry.depth = job.entry.depth;
    result.job.entry.redirects = job.entry.redirects;
    result.job.entry.requisite = job.entry.requisite;
    storage::PageRecord& r = result.record;
    r.seq = job.entry.seq;
    r.kind = job.entry.requisite ? storage::PageKind::requisite : storage::PageKind::page;
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

void PageParser::add_redirect(ParsedPage& result, const fetch::Response& response) const {
    const int status = response.error ? 0 : response.http_status;
    if (status < 300 || status >= 400 || response.location.empty()) {
        return;
    }
    const int hops = result.job.entry.redirects + 1;
    if (hops > m_rules.max_redirects) {
        result.record.error = "too many redirects (" + std::to_string(hops) + ")";
        result.failed = true;
        set_kind(result, fetch::FailureKind::too_many_redirects);
        return;
    }
    auto target = parse(response.location);
    if (!target || m_filter.check(*target) != UrlFilter::Verdict::accepted) {
        return;
    }
    result.candidates.push_back({std::string(target->href_without_fragment()), -1,
                                 url_key_hash(*target, m_rules.canonical_query),
                                 result.job.entry.depth, hops, result.job.entry.requisite});
}

ParsedPage PageParser::parse_html(ParseTask& task, LinkExtractor& extractor) const {
    fetch::Response& response = task.response;
    ParsedPage result = start(task.job, response);
    bool noindex = false;
    bool nofollow = false;
    if (m_rules.robots && !response.x_robots_tag.empty()) {
        parse_x_robots_tag(response.x_robots_tag, m_rules.agent_token, noindex, nofollow);
    }
    const PageLinks& page = task.css ? extractor.extract_css(response.body)
                            : task.facts_only
                                ? extractor.extract_facts(response.body, response.content_type)
                                : extractor.extract(response.body, response.content_type);
    if (page.too_complex) {
        result.record.error = "too complex: nesting beyond the full HTML parser's bound "
                              "(--html-parser fast reads any page)";
        result.failed = true;
        set_kind(result, fetch::FailureKind::too_complex);
        return result;
    }
    // A page at the depth limit is read for its facts only: its links, if any, are cut.
    result.depth_cut = task.facts_only && !task.job.entry.requisite;
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
        r.links.reserve(page.links.size());
        for (const Link& link : page.links) {
            auto url = parse(link.url, &base, query_encoding);
            if (!url || !url->is_http()) {
                continue;
            }
            const bool link_nofollow = link.nofollow || nofollow;
            r.links.push_back({std::string(url->href_without_fragment()),
                               std::string(to_string(link.kind)), link_nofollow});
            bool requisite = false;
            if (is_page_link(link.kind)) {
                if (!depth_ok) {
                    result.depth_cut = true;
                    continue;
                }
                if (m_rules.robots && link_nofollow) {
                    continue;
                }
            } else if (link.requisite && m_rules.page_requisites) {
                requisite = true;
            } else {
                continue;
            }
            if (m_filter.check(*url) != UrlFilter::Verdict::accepted) {
                continue;
            }
            result.candidates.push_back({{},
                                         static_cast<std::int32_t>(r.links.size() - 1),
                                         url_key_hash(*url, m_rules.canonical_query),
                                         child_depth,
                                         0,
                                         requisite});
        }
    }
    if (m_rules.save_bodies && !noindex) {
        r.body = std::move(response.body);
    }
    return result;
}

} // namespace flagcrawl::crawler
