// Scope rules (host, domain, prefix, any), registrable domains, --include/--exclude, and the
// small HTTP helpers of the crawl loop (X-Robots-Tag, HTML sniffing), and which redirect
// targets out of scope --check-external checks.
#include "crawler/crawl/crawl_job.hpp"
#include "crawler/crawl/scope.hpp"

#include <gtest/gtest.h>

using namespace flagcrawl::crawler;

namespace {

Url url(std::string_view text) {
    return parse(text).value();
}

UrlFilter::Verdict check(ScopeKind scope, std::string_view seed, std::string_view target,
                         std::vector<std::string> include = {},
                         std::vector<std::string> exclude = {}) {
    UrlFilter filter(scope, {url(seed)}, include, exclude);
    return filter.check(url(target));
}

constexpr auto accepted = UrlFilter::Verdict::accepted;
constexpr auto out = UrlFilter::Verdict::out_of_scope;
constexpr auto excluded = UrlFilter::Verdict::excluded;

TEST(CrawlScope, Table) {
    struct Case {
        ScopeKind scope;
        const char* seed;
        const char* target;
        UrlFilter::Verdict verdict;
    };
    const Case cases[] = {
        {ScopeKind::host, "http://example.com/a/", "http://example.com/b", accepted},
        {ScopeKind::host, "http://example.com/", "https://example.com:8443/x", accepted},
        {ScopeKind::host, "http://example.com/", "http://www.example.com/", out},
        {ScopeKind::host, "http://127.0.0.1:8000/", "http://127.0.0.2:8000/", out},
        {ScopeKind::host, "http://127.0.0.1:8000/", "http://localhost:8000/", out},
        {ScopeKind::host, "http://example.com/", "ftp://example.com/x", out},
        {ScopeKind::host, "http://example.com/", "mailto:a@example.com", out},
        {ScopeKind::domain, "http://www.example.com/", "http://static.example.com/x", accepted},
        {ScopeKind::domain, "http://www.example.com/", "http://example.com/", accepted},
        {ScopeKind::domain, "http://www.example.com/", "http://example.org/", out},
        {ScopeKind::domain, "http://www.example.com/", "http://badexample.com/", out},
        {ScopeKind::domain, "http://news.bbc.co.uk/", "http://www.bbc.co.uk/", accepted},
        {ScopeKind::domain, "http://news.bbc.co.uk/", "http://other.co.uk/", out},
        {ScopeKind::domain, "http://127.0.0.1/", "http://127.0.0.1:81/", accepted},
        {ScopeKind::domain, "http://127.0.0.1/", "http://127.0.0.2/", out},
        {ScopeKind::prefix, "http://h/docs/guide/index.html", "http://h/docs/guide/p2", accepted},
        {ScopeKind::prefix, "http://h/docs/guide/index.html", "http://h/docs/other", out},
        {ScopeKind::prefix, "http://h/docs/guide/", "http://h/docs/guide/", accepted},
        {ScopeKind::prefix, "http://h/docs/guide/", "http://g/docs/guide/x", out},
        {ScopeKind::any, "http://h/", "https://anything.example/x", accepted},
        {ScopeKind::any, "http://h/", "javascript:void(0)", out},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(check(c.scope, c.seed, c.target), c.verdict)
            << to_string(c.scope) << " " << c.seed << " -> " << c.target;
    }
}

TEST(CrawlScope, RegistrableDomains) {
    EXPECT_EQ(registrable_domain("www.example.com"), "example.com");
    EXPECT_EQ(registrable_domain("a.b.example.co.uk"), "example.co.uk");
    EXPECT_EQ(registrable_domain("localhost"), "localhost");
    EXPECT_EQ(registrable_domain("127.0.0.1"), "127.0.0.1");
    EXPECT_EQ(registrable_domain("[::1]"), "[::1]");
}

TEST(CrawlScope, IncludeAndExclude) {
    const char* seed = "http://h/";
    EXPECT_EQ(check(ScopeKind::host, seed, "http://h/blog/1", {"/blog/"}), accepted);
    EXPECT_EQ(check(ScopeKind::host, seed, "http://h/shop/1", {"/blog/"}), excluded);
    EXPECT_EQ(check(ScopeKind::host, seed, "http://h/shop/1", {"/blog/", "/shop/"}), accepted);
    EXPECT_EQ(check(ScopeKind::host, seed, "http://h/blog/1?print=1", {"/blog/"}, {"print="}),
              excluded);
    // Scope first: an include does not widen it.
    EXPECT_EQ(check(ScopeKind::host, seed, "http://x/blog/1", {"/blog/"}), out);
    // The fragment is not part of what is matched.
    EXPECT_EQ(check(ScopeKind::host, seed, "http://h/a#secret", {}, {"secret"}), accepted);
}

TEST(CrawlScope, BadPatternNamesTheOption) {
    try {
        UrlFilter filter(ScopeKind::host, {url("http://h/")}, {"ok"}, {"(unclosed"});
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("--exclude '(unclosed'"), std::string::npos)
            << e.what();
    }
}

TEST(CrawlHelpers, XRobotsTag) {
    struct Case {
        const char* header;
        bool noindex;
        bool nofollow;
    };
    const Case cases[] = {
        {"noindex", true, false},
        {"NoFollow", false, true},
        {"none", true, true},
        {"noindex, nofollow", true, true},
        {"googlebot: noindex", false, false},
        {"flagcrawl: nofollow", false, true},
        {"googlebot: noindex, flagcrawl: nofollow", false, true},
        {"unavailable_after: 25 Jun 2010 15:00:00 PST", false, false},
        {"max-snippet: 0, noindex", true, false},
        {"all", false, false},
    };
    for (const Case& c : cases) {
        bool noindex = false;
        bool nofollow = false;
        parse_x_robots_tag(c.header, "flagcrawl", noindex, nofollow);
        EXPECT_EQ(noindex, c.noindex) << c.header;
        EXPECT_EQ(nofollow, c.nofollow) << c.header;
    }
}

TEST(CrawlHelpers, HtmlByTypeOrSniffed) {
    EXPECT_TRUE(is_html("text/html; charset=utf-8", ""));
    EXPECT_TRUE(is_html("application/xhtml+xml", ""));
    EXPECT_FALSE(is_html("text/plain", "<html>"));
    EXPECT_FALSE(is_html("image/gif", "GIF89a"));
    EXPECT_TRUE(is_html("", "\xEF\xBB\xBF  <!DOCTYPE html><p>"));
    EXPECT_TRUE(is_html("", "\n<HTML lang=en>"));
    EXPECT_FALSE(is_html("", "GIF89a"));
    EXPECT_FALSE(is_html("", ""));
}

} // namespace

// --check-external checks a page's redirect target out of scope; a sitemap's stays a skip (a
// sitemap lists its own site's pages).
TEST(CrawlHelpers, CheckExternalTakesAPagesRedirectOutOfScopeNotASitemaps) {
    PageRules rules;
    rules.check_external = true;
    const PageParser parser(rules, UrlFilter(ScopeKind::host, {url("http://a.test/")}, {}, {}));
    auto redirect_of = [&](SitemapRole role) {
        FrontierJob job;
        job.entry.seq = 2;
        job.entry.key = 2;
        job.entry.url = "http://a.test/moved";
        job.entry.sitemap = role;
        flagcrawl::fetch::Response response;
        response.url = job.entry.url;
        response.http_status = 301;
        response.location = "http://b.test/there";
        ParsedPage page = parser.other(std::move(job), std::move(response), false);
        EXPECT_EQ(page.candidates.size(), 1u);
        return page.candidates.empty() ? Candidate{} : page.candidates.front();
    };
    const Candidate page = redirect_of(SitemapRole::none);
    EXPECT_TRUE(page.external);
    EXPECT_FALSE(page.skip);
    EXPECT_EQ(page.url, "http://b.test/there");
    const Candidate sitemap = redirect_of(SitemapRole::declared);
    EXPECT_FALSE(sitemap.external);
    EXPECT_EQ(sitemap.skip, flagcrawl::fetch::FailureKind::out_of_scope);
}
