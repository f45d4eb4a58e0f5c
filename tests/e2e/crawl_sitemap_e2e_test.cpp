// Sitemaps in a crawl, under each strategy, over a loopback server: a page only a sitemap lists
// is crawled (its sitemap recorded as its referrer); robots.txt Sitemap: lines, gzip files and
// indexes; scope and the protocol's 50,000-URL cut; --no-sitemaps reads none. Real SQLite files.
#include "crawl_runner.hpp"
#include "gzip.hpp"
#include "temp_dir.hpp"

#include "server/router.hpp"
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

using namespace flagcrawl;
using namespace std::chrono_literals;
using testing_support::query;
using testing_support::query_map;
using testing_support::run_crawl;
using testing_support::TempDir;

namespace {

server::Reply html(std::string body) {
    return server::Reply::bytes(200, server::make_body(std::move(body)), "text/html");
}

server::Reply xml(std::string body) {
    return server::Reply::bytes(200, server::make_body(std::move(body)), "application/xml");
}

std::string urlset(const std::vector<std::string>& locs) {
    std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
    for (const std::string& loc : locs) {
        body += "<url><loc>" + loc + "</loc></url>\n";
    }
    return body + "</urlset>\n";
}

class CrawlSitemap : public ::testing::TestWithParam<fetch::Strategy> {
protected:
    void SetUp() override {
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        m_base = m_server->base_url();
        m_router.add("/", html("<a href='/linked'>linked</a>"));
        m_router.add("/linked", html("no links"));
    }
    crawler::CrawlStart start(const std::string& db) const {
        crawler::CrawlStart s;
        s.settings.seeds = {m_base + "/"};
        s.settings.sitemaps = true;
        s.settings.concurrency = 4;
        s.settings.policy.total_timeout = 10'000ms;
        s.db = m_dir.file(db);
        s.parse_threads = 2;
        return s;
    }
    // url (without the base) -> "kind depth error" of every pages row.
    std::map<std::string, std::string> rows(const std::string& db) const {
        return query_map(m_dir.file(db),
                         "SELECT substr(url, length('" + m_base +
                             "') + 1), kind || ' ' || depth || ' ' || coalesce(error_kind, '-') "
                             "FROM pages");
    }

    TempDir m_dir{"crawl-sitemap"};
    server::Router m_router;
    std::unique_ptr<server::Server> m_server;
    std::string m_base;
};

// The acceptance: a site whose page only its /sitemap.xml lists gets it crawled, at depth 1,
// with the sitemap as its referrer (a broken one shows it); a relative <loc> (the protocol wants
// absolute ones) and one out of scope are skips.
TEST_P(CrawlSitemap, APageOnlyTheSitemapListsIsCrawled) {
    m_router.add("/robots.txt", server::Reply::text(404, "none"));
    m_router.add("/hidden", html("<a href='/deeper'>deeper</a>"));
    m_router.add("/deeper", html("end"));
    m_router.add("/sitemap.xml",
                 xml(urlset({m_base + "/hidden", m_base + "/linked", m_base + "/gone?a=1&amp;b=2",
                             "relative/page", "http://elsewhere.invalid/x"})));
    auto run = run_crawl(GetParam(), start("only.db"));
    ASSERT_TRUE(run);
    EXPECT_EQ(run->report.reason, crawler::StopReason::frontier_exhausted);
    const std::map<std::string, std::string> expected = {
        {"/robots.txt", "robots 0 -"},   {"/", "page 0 -"},
        {"/sitemap.xml", "sitemap 0 -"}, {"/linked", "page 1 -"},
        {"/hidden", "page 1 -"},         {"/gone?a=1&b=2", "page 1 http_status"},
        {"/deeper", "page 2 -"}};
    EXPECT_EQ(rows("only.db"), expected);
    // Found by the sitemap: its links, as `links --broken` reads them.
    EXPECT_EQ(
        query_map(m_dir.file("only.db"),
                  "SELECT l.to_url, p.url || ' ' || l.kind FROM links l JOIN pages p ON "
                  "p.id = l.page_id WHERE l.to_url LIKE '%/gone%' OR l.to_url LIKE '%/hidden'"),
        (std::map<std::string, std::string>{
            {m_base + "/hidden", m_base + "/sitemap.xml sitemap"},
            {m_base + "/gone?a=1&b=2", m_base + "/sitemap.xml sitemap"}}));
    EXPECT_EQ(query_map(m_dir.file("only.db"), "SELECT url, kind || ' ' || rule FROM skips"),
              (std::map<std::string, std::string>{
                  {"relative/page", "invalid_url sitemap: not an absolute URL"},
                  {"http://elsewhere.invalid/x", "out_of_scope scope host"}}));
    // A sitemap is no page: the totals and `stats` agree without it.
    EXPECT_EQ(run->report.totals.pages, 5U);
    EXPECT_EQ(run->report.totals.not_found, 1U);
    testing_support::expect_counts_agree(m_dir.file("only.db"), run->report, run->run_id);
}

// robots.txt names an index (on the seed host) whose sitemaps are a gzip file and a plain one
// (so /sitemap.xml is not tried); an index listed by an index is not read; robots.txt applies
// to the URLs listed.
TEST_P(CrawlSitemap, RobotsSitemapLineGzipAndIndex) {
    m_router.add("/robots.txt",
                 server::Reply::text(200, "User-agent: *\nDisallow: /private\n\nSitemap: " +
                                              m_base + "/index.xml\nSitemap: /not-absolute.xml\n"));
    m_router.add("/index.xml",
                 xml("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                     "<sitemap><loc>" +
                     m_base +
                     "/a.xml.gz</loc></sitemap>"
                     "<sitemap><loc>" +
                     m_base +
                     "/b.xml</loc></sitemap>"
                     "<sitemap><loc>" +
                     m_base + "/nested.xml</loc></sitemap></sitemapindex>"));
    m_router.add("/a.xml.gz",
                 server::Reply::bytes(
                     200, server::make_body(testing_support::gzip(urlset({m_base + "/p1"}))),
                     "application/gzip"));
    m_router.add("/b.xml", xml(urlset({m_base + "/p2", m_base + "/private/p3"})));
    m_router.add("/nested.xml", xml("<sitemapindex><sitemap><loc>" + m_base +
                                    "/never.xml</loc></sitemap></sitemapindex>"));
    m_router.add("/p1", html("p1"));
    m_router.add("/p2", html("p2"));
    auto run = run_crawl(GetParam(), start("robots.db"));
    ASSERT_TRUE(run);
    const std::map<std::string, std::string> expected = {
        {"/robots.txt", "robots 0 -"}, {"/", "page 0 -"},         {"/index.xml", "sitemap 0 -"},
        {"/a.xml.gz", "sitemap 0 -"},  {"/b.xml", "sitemap 0 -"}, {"/nested.xml", "sitemap 0 -"},
        {"/linked", "page 1 -"},       {"/p1", "page 1 -"},       {"/p2", "page 1 -"}};
    EXPECT_EQ(rows("robots.db"), expected);
    EXPECT_EQ(query_map(m_dir.file("robots.db"), "SELECT url, kind || ' ' || rule FROM skips"),
              (std::map<std::string, std::string>{
                  {"/not-absolute.xml", "invalid_url sitemap: not an absolute URL"},
                  {m_base + "/private/p3", "robots robots.txt"}}));
    EXPECT_EQ(query_map(m_dir.file("robots.db"), "SELECT substr(url, length('" + m_base +
                                                     "') + 1), sitemap FROM frontier "
                                                     "WHERE sitemap > 0"),
              (std::map<std::string, std::string>{
                  {"/index.xml", "1"}, {"/a.xml.gz", "3"}, {"/b.xml", "3"}, {"/nested.xml", "3"}}));
    EXPECT_EQ(run->report.totals.errors + run->report.totals.not_found, 0U);
    testing_support::expect_counts_agree(m_dir.file("robots.db"), run->report, run->run_id);
}

// The protocol's bound: a 60,000-URL sitemap is read up to its 50,000th URL, with a warning.
TEST_P(CrawlSitemap, SixtyThousandUrlsAreCutAtFiftyThousandWithAWarning) {
    m_router.add("/robots.txt", server::Reply::text(404, "none"));
    std::vector<std::string> locs;
    for (int i = 0; i < 60'000; ++i) {
        locs.push_back(m_base + "/u/" + std::to_string(i));
    }
    m_router.add("/sitemap.xml", xml(urlset(locs)));
    auto s = start("cut.db");
    s.settings.max_pages = 3; // the cut is what counts, not 50,000 fetches
    auto opened = crawler::Crawl::open(std::move(s));
    ASSERT_TRUE(opened) << opened.error().message;
    std::vector<std::string> warnings;
    (*opened)->on_item([&](const crawler::CrawlItem& item) {
        for (const std::string& w : item.warnings) {
            warnings.push_back(item.record.url + ": " + w);
        }
    });
    ASSERT_TRUE((*opened)->start());
    (void)(*opened)->run();
    EXPECT_EQ(warnings, std::vector<std::string>{m_base + "/sitemap.xml: more than 50000 URLs: the "
                                                          "rest ignored (the sitemap protocol's "
                                                          "limit)"});
    EXPECT_EQ(query(m_dir.file("cut.db"),
                    "SELECT count(*), min(depth), max(depth) FROM frontier WHERE url LIKE '%/u/%'"),
              (std::vector<std::vector<std::string>>{{"50000", "1", "1"}}));
    EXPECT_EQ(query(m_dir.file("cut.db"), "SELECT count(*) FROM frontier WHERE url = '" + m_base +
                                              "/u/49999' OR url = '" + m_base + "/u/50000'"),
              (std::vector<std::vector<std::string>>{{"1"}}));
}

// Without robots.txt (--no-robots) /sitemap.xml is tried with the seeds; its 404 is recorded
// (a sitemap row with its status) and is no failure, as a robots.txt 404 is none.
TEST_P(CrawlSitemap, AMissingSitemapXmlIsNoFailure) {
    auto s = start("missing.db");
    s.settings.robots = false;
    auto run = run_crawl(GetParam(), std::move(s));
    ASSERT_TRUE(run);
    EXPECT_EQ(rows("missing.db"),
              (std::map<std::string, std::string>{
                  {"/", "page 0 -"}, {"/sitemap.xml", "sitemap 0 -"}, {"/linked", "page 1 -"}}));
    EXPECT_EQ(
        query(m_dir.file("missing.db"), "SELECT http_status FROM pages WHERE kind = 'sitemap'"),
        (std::vector<std::vector<std::string>>{{"404"}}));
    EXPECT_EQ(run->report.totals.not_found + run->report.totals.errors, 0U);
    EXPECT_EQ(run->report.totals.pages, 2U);
    testing_support::expect_counts_agree(m_dir.file("missing.db"), run->report, run->run_id);
}

// --resume: a sitemap still queued when a limit stopped the crawl is read by the resume, and
// none is read twice (the resume reads robots.txt again: its sitemap is already seen).
TEST_P(CrawlSitemap, AResumeReadsEachSitemapOnce) {
    m_router.add("/robots.txt", server::Reply::text(404, "none"));
    m_router.add("/hidden", html("hidden"));
    std::atomic<int> reads{0};
    m_router.add("/sitemap.xml", [&](const server::Request&) {
        ++reads;
        return xml(urlset({m_base + "/hidden"}));
    });
    auto s = start("resume.db");
    s.settings.max_pages = 1;
    auto first = run_crawl(GetParam(), s);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->report.reason, crawler::StopReason::max_pages);
    auto again = start("resume.db");
    again.resume = true;
    again.settings.max_pages = 0;
    again.given_options = {"--max-pages"};
    auto second = run_crawl(GetParam(), again);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->report.reason, crawler::StopReason::frontier_exhausted);
    EXPECT_EQ(reads, 1);
    EXPECT_EQ(query_map(m_dir.file("resume.db"), "SELECT substr(url, length('" + m_base +
                                                     "') + 1), count(*) FROM pages GROUP BY url"),
              (std::map<std::string, std::string>{{"/robots.txt", "2"},
                                                  {"/", "1"},
                                                  {"/sitemap.xml", "1"},
                                                  {"/linked", "1"},
                                                  {"/hidden", "1"}}));
}

// --no-sitemaps (settings.sitemaps off): neither robots.txt's sitemaps nor /sitemap.xml.
TEST_P(CrawlSitemap, NoSitemapsReadsNone) {
    std::atomic<int> sitemap_requests{0};
    m_router.add("/robots.txt", server::Reply::text(200, "Sitemap: " + m_base + "/listed.xml\n"));
    m_router.add("/hidden", html("hidden"));
    auto count = [&](const server::Request&) {
        ++sitemap_requests;
        return xml(urlset({m_base + "/hidden"}));
    };
    m_router.add("/sitemap.xml", count);
    m_router.add("/listed.xml", count);
    auto s = start("none.db");
    s.settings.sitemaps = false;
    auto run = run_crawl(GetParam(), std::move(s));
    ASSERT_TRUE(run);
    EXPECT_EQ(sitemap_requests, 0);
    EXPECT_EQ(rows("none.db"),
              (std::map<std::string, std::string>{
                  {"/robots.txt", "robots 0 -"}, {"/", "page 0 -"}, {"/linked", "page 1 -"}}));
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlSitemap,
                         ::testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                           fetch::Strategy::async),
                         [](const auto& param_info) {
                             return std::string(fetch::to_string(param_info.param));
                         });

} // namespace
