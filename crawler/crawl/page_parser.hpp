// What a fetched URL becomes: its pages record (status, title, links) and the URLs it leads to
// (links in scope, a redirect target), by the crawl's rules. Immutable once built, so that the
// parse pool's threads share one.
#pragma once

#include "crawler/crawl/frontier.hpp"
#include "crawler/crawl/scope.hpp"
#include "crawler/html/links.hpp"
#include "fetch/fetch.hpp"
#include "fetch/outcome.hpp"
#include "storage/crawl_records.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

// The crawl's rules for reading a page.
struct PageRules {
    ScopeKind scope = ScopeKind::host; // as the filter applies it (named in skips)
    int max_depth = -1;                // link hops from a seed; -1: unlimited
    bool robots = true;                // meta robots, X-Robots-Tag, rel=nofollow
    bool canonical_query = false;
    bool save_bodies = false;
    bool page_requisites = false;
    // A link or redirect target out of scope (the scope rule, not --include/--exclude) is
    // checked instead of skipped: queued as an external check (FrontierEntry::external), past the
    // same depth, trap and nofollow rules as a page link.
    bool check_external = false;
    int max_redirects = 10;
    // Trap defences (0: off): a link or redirect target longer than max_url_length bytes, or
    // whose path has one segment more than max_segment_repeats times (/a/b/a/b/a/), is skipped
    // for good (limit_reached, the option as its rule).
    std::size_t max_url_length = 0;
    int max_segment_repeats = 0;
    std::string agent_token = "flagcrawl";
    HtmlParser html_parser = HtmlParser::fast; // full may refuse a page as too complex
};

// A URL a page led to, before the frontier saw it: a link of the record (`link` indexes
// record.links, whose to_url it is: not copied) or another URL (`url`, link -1: a redirect
// target, a link that is not http(s) or does not parse). With `skip` set, the page's rules say
// not to fetch it, and why: the frontier records that once per URL.
struct Candidate {
    std::string url;
    std::int32_t link = -1;
    std::uint64_t key = 0;
    int depth = 0;
    int redirects = 0;
    bool requisite = false;
    SitemapRole sitemap = SitemapRole::none; // a sitemap to read (FrontierEntry)
    bool external = false;                   // an external check (FrontierEntry)
    std::int64_t chain_seq = 0;              // a redirect target's chain (FrontierEntry)
    std::vector<std::uint64_t> chain;
    std::optional<fetch::FailureKind> skip;
    std::string rule; // with skip: what decided it
    bool tentative = false;
};

// A fetched (or failed) URL, ready to be recorded (the crawl loop fills in its crawl and run).
struct ParsedPage {
    FrontierJob job;
    storage::PageRecord record;
    std::vector<Candidate> candidates;
    bool failed = false;
    // When failed: the name summaries and stats count it under (fetch::count_name); the record
    // has the kind's code.
    std::string error_kind;
    bool depth_cut = false; // the depth limit kept some of its links out
    // The redirect chain this hop continues ended badly: the kind of the failure recorded on
    // the chain's first URL (record.chain_failure).
    std::optional<fetch::FailureKind> chain_failed;
    // CPU time the link extraction of an HTML page or stylesheet took, in nanoseconds, on the
    // thread that parsed it (CLOCK_THREAD_CPUTIME_ID); 0 for a page that was not parsed.
    std::uint64_t parse_cpu_ns = 0;
    // A sitemap read in part: why, one line each (sitemap.hpp), for the crawl's stderr.
    std::vector<std::string> warnings;
};

// An HTML page (or, with page requisites, a stylesheet) to parse.
struct ParseTask {
    FrontierJob job;
    fetch::Response response;
    bool facts_only = false; // its links would not be followed: title and robots only
    bool css = false;        // a stylesheet: its @import and url()s
    bool sitemap = false;    // a sitemap file: the URLs or sitemaps it lists
};

// Thread-safe: every member is const.
class PageParser {
public:
    PageParser(PageRules rules, UrlFilter filter);

    const PageRules& rules() const { return m_rules; }
    ExtractorOptions extractor_options() const;

    // True when the response is an HTML page whose links or facts are worth a parse, or a
    // stylesheet whose URLs are page requisites.
    bool wants_parse(const fetch::Response& response) const;
    // True when the response of a sitemap URL (FrontierEntry::sitemap) is one to read: 2xx.
    static bool wants_sitemap(const fetch::Response& response);
    // The task for such a page (facts only at the depth limit, for requisites).
    ParseTask task(FrontierJob&& job, fetch::Response&& response) const;
    // Parses an HTML page (decoded by its charset) or a stylesheet with `extractor` (one per
    // thread).
    ParsedPage parse_html(ParseTask& task, LinkExtractor& extractor) const;
    // Any other response: its record, the redirect target it leads to, the failure it is.
    // `throttled`: a 429/503 the frontier would not defer any more.
    ParsedPage other(FrontierJob&& job, fetch::Response&& response, bool throttled) const;
    // A URL the frontier handed out as disallowed (recorded as a skip), unreachable or given
    // up (as failures): never fetched.
    ParsedPage refused(FrontierJob&& job) const;
    // Sitemaps of a seed host (those its robots.txt names, as written, or its /sitemap.xml), as
    // URLs to offer at depth 0 with `role`, or skips: not an absolute http(s) URL, out of
    // scope or caught by a trap defence, as links are.
    std::vector<Candidate> sitemap_candidates(std::span<const std::string> urls,
                                              SitemapRole role) const;

private:
    // The page's record and job; moves the job's referrer URL into it.
    ParsedPage start(FrontierJob& job, const fetch::Response& response) const;
    ParsedPage read_sitemap(ParseTask& task) const;
    // The candidate a sitemap's <loc> (or a robots.txt Sitemap: line) is, or nullopt when it
    // is no URL to keep as a link (not absolute, not http(s): a skip is added to `page`).
    std::optional<Candidate> sitemap_entry(std::string_view loc, int depth, SitemapRole role,
                                           bool depth_ok, std::vector<Candidate>& skips,
                                           std::string& href) const;
    void add_redirect(ParsedPage& page, const fetch::Response& response) const;
    // The chain `page` continues ended badly: the failure of the URL that started it.
    void fail_chain(ParsedPage& page, fetch::FailureKind kind, std::string error) const;
    // The reason a URL in the crawl's scope rules is not fetched (scope, filters), if any.
    std::optional<std::string> filtered(const Url& url) const;
    // True when `url`, which filtered() refused, is to be checked as external.
    bool checks_external(const Url& url) const;
    // The trap defence a URL falls foul of (its option, as a skip's rule), if any.
    std::optional<std::string> trapped(const Url& url) const;

    const PageRules m_rules;
    const UrlFilter m_filter;
};

// The pages row's columns that come from the response alone (page and robots.txt rows alike).
void set_response_columns(storage::PageRecord& record, const fetch::Response& response);

// A response's count for pages.attempts and the crawl's requests: the requests the servers saw
// (retries, libcurl's re-sends, robots.txt's redirect hops), and an attempt that never reached
// a server (no connection) as the request it was for.
inline int requests_of(const fetch::Response& response) {
    return std::max({response.attempts, response.requests, 0});
}

// X-Robots-Tag for our agent: directives without an agent prefix, and those after "TOKEN:"
// (until another agent prefix). Sets noindex/nofollow ("none" sets both).
void parse_x_robots_tag(std::string_view header, std::string_view agent_token, bool& noindex,
                        bool& nofollow);
// Content-Type says HTML (text/html, application/xhtml+xml), or, when there is none, the body
// starts like HTML (optional BOM and whitespace, then "<!doctype html", "<html", "<head",
// "<body", "<title", "<a " or "<!--", case-insensitive).
bool is_html(std::string_view content_type, std::string_view body);
// Content-Type text/css: a stylesheet.
bool is_css(std::string_view content_type);
// True when one segment of `path` ("/a/b/a/") occurs more than `max` times (empty segments
// aside).
bool repeats_a_segment(std::string_view path, int max);

} // namespace flagcrawl::crawler
