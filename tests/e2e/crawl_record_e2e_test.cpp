// What a crawl records about each URL, for each strategy, over a loopback server: depths are
// shortest paths whatever the timing, so --depth keeps the same pages under every strategy and
// run after run. Real SQLite files in a temp folder.
#include "crawl_runner.hpp"
#include "temp_dir.hpp"

#include "server/router.hpp"
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace flagcrawl;
using namespace std::chrono_literals;
using testing_support::query_map;
using testing_support::run_crawl;
using testing_support::TempDir;

namespace {

server::Reply html(std::string body) {
    return server::Reply::bytes(200, server::make_body(std::move(body)), "text/html");
}

// Links as anchors, one page's worth.
std::string anchors(std::initializer_list<const char*> paths) {
    std::string body;
    for (const char* path : paths) {
        body += std::string("<a href='") + path + "'>" + path + "</a>\n";
    }
    return body;
}

class CrawlRecord : public ::testing::TestWithParam<fetch::Strategy> {
protected:
    void SetUp() override {
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        m_base = m_server->base_url();
        m_router.add("/robots.txt", server::Reply::text(404, "none"));
    }
    crawler::CrawlStart start(const std::string& db, const std::string& seed = "/") const {
        crawler::CrawlStart s;
        s.settings.seeds = {m_base + seed};
        s.settings.concurrency = 4;
        s.settings.policy.total_timeout = 10'000ms;
        s.db = m_dir.file(db);
        s.parse_threads = 2;
        return s;
    }

    TempDir m_dir{"crawl-record"};
    server::Router m_router;
    std::unique_ptr<server::Server> m_server;
    std::string m_base;
};

// A slow page of depth 1 links to pages that a chain of fast pages reaches deeper: their
// depth is the slow page's path (2), and --depth 3 therefore reaches /x, under every strategy
// and in every run. First-found depths made the fast chain win (a3 at 3, a4 at 4, x cut).
TEST_P(CrawlRecord, DepthIsTheShortestPathWhateverTheTiming) {
    m_router.add("/", html(anchors({"/slow", "/a1"})));
    auto slow = html(anchors({"/a3", "/a4"}));
    slow.delay = 300ms;
    m_router.add("/slow", slow);
    m_router.add("/a1", html(anchors({"/a2"})));
    m_router.add("/a2", html(anchors({"/a3"})));
    m_router.add("/a3", html(anchors({"/a4"})));
    m_router.add("/a4", html(anchors({"/x"})));
    m_router.add("/x", html(anchors({"/y"})));
    m_router.add("/y", html("end"));
    const std::map<std::string, std::string> all = {{"/", "0"},   {"/slow", "1"}, {"/a1", "1"},
                                                    {"/a2", "2"}, {"/a3", "2"},   {"/a4", "2"},
                                                    {"/x", "3"},  {"/y", "4"}};
    auto upto3 = all;
    upto3.erase("/y");
    const std::string depths =
        "SELECT substr(url, length('" + m_base + "') + 1), depth FROM pages WHERE kind = 'page'";
    for (int run = 0; run < 3; ++run) {
        const std::string db = "unlimited" + std::to_string(run) + ".db";
        auto report = run_crawl(GetParam(), start(db));
        ASSERT_TRUE(report);
        EXPECT_EQ(report->report.reason, crawler::StopReason::frontier_exhausted);
        EXPECT_EQ(query_map(m_dir.file(db), depths), all) << "run " << run;

        const std::string limited = "depth3-" + std::to_string(run) + ".db";
        auto s = start(limited);
        s.settings.max_depth = 3;
        report = run_crawl(GetParam(), s);
        ASSERT_TRUE(report);
        EXPECT_EQ(report->report.reason, crawler::StopReason::depth_limit);
        EXPECT_EQ(query_map(m_dir.file(limited), depths), upto3) << "run " << run;
    }
}

// Every URL the crawl saw and did not fetch has one skips row with its kind and rule: robots.txt
// refusals (of links, and of a seed queued before the rules were known), other schemes, links
// that do not parse, out of scope, filtered out, past the depth, nofollow. A URL linked from
// several pages is recorded once; a nofollow link whose URL another page follows is no skip.
TEST_P(CrawlRecord, EverySkippedUrlIsRecordedOnceWithItsReason) {
    m_router.add("/robots.txt", server::Reply::text(200, "User-agent: *\nDisallow: /private/\n"));
    const std::string off = "http://127.0.0.2:1/off";
    m_router.add("/", html(anchors({"/a", "/deep", "/private/p", "mailto:x@y", "javascript:void(0)",
                                    "http://[bad", "/excluded.pdf"}) +
                           "<a href='" + off + "'>off</a><a rel=nofollow href='/nf'>nf</a>"));
    m_router.add(
        "/a", html(anchors({"/nf", "/private/p", "mailto:x@y"}) + "<a href='" + off + "'>off</a>"));
    m_router.add("/deep", html(anchors({"/deeper"})));
    m_router.add("/deeper", html(anchors({"/deepest", "/a"})));
    m_router.add("/nf", html("followed from /a"));
    m_router.add("/private/seed", html("never"));
    auto s = start("skips.db");
    s.settings.seeds.push_back(m_base + "/private/seed");
    s.settings.max_depth = 2;
    s.settings.exclude = {"\\.pdf$"};
    auto run = run_crawl(GetParam(), s);
    ASSERT_TRUE(run);
    const std::string db = m_dir.file("skips.db");
    const std::map<std::string, std::string> expected = {
        {m_base + "/private/p", "robots robots.txt 0 /"},
        {m_base + "/private/seed", "robots robots.txt 0 -"},
        {"mailto:x@y", "disallowed_scheme mailto 0 /"},
        {"javascript:void(0)", "disallowed_scheme javascript 0 /"},
        {"http://[bad", "invalid_url not a URL 0 /"},
        {off, "out_of_scope scope host 0 /"},
        {m_base + "/excluded.pdf", "out_of_scope --include/--exclude 0 /"},
        {m_base + "/deepest", "limit_reached --depth 2 1 /deeper"},
    };
    EXPECT_EQ(query_map(db, "SELECT s.url, s.kind || ' ' || s.rule || ' ' || s.tentative || ' ' || "
                            "coalesce(substr(p.url, length('" +
                                m_base +
                                "') + 1), '-') FROM skips AS s "
                                "LEFT JOIN pages AS p ON p.id = s.page_id"),
              expected);
    // What was fetched: no row for the refused seed, /nf once (followed from /a).
    EXPECT_EQ(
        query_map(db, "SELECT substr(url, length('" + m_base +
                          "') + 1), http_status FROM pages WHERE kind = 'page'"),
        (std::map<std::string, std::string>{
            {"/", "200"}, {"/a", "200"}, {"/deep", "200"}, {"/deeper", "200"}, {"/nf", "200"}}));
    EXPECT_EQ(m_router.count("/private/seed"), 0u);
    EXPECT_EQ(run->report.totals.skipped, expected.size());
    EXPECT_EQ(run->report.totals.disallowed, 2u);
    EXPECT_EQ(run->report.totals.skipped_by_kind,
              (std::map<std::string, std::uint64_t>{{"disallowed_scheme", 2},
                                                    {"invalid_url", 1},
                                                    {"limit_reached", 1},
                                                    {"out_of_scope", 2},
                                                    {"robots", 2}}));
    EXPECT_EQ(run->report.totals.errors, 0u);
    testing_support::expect_counts_agree(db, run->report, run->run_id);
}

// Redirects are outcomes of the URL that started the chain: a loop (back to a URL of the chain,
// or to itself), a target of another scheme and too many hops fail that URL's row (the hops in
// between stay redirects); a target out of scope is a skip, not an error.
TEST_P(CrawlRecord, RedirectChainsEndAsOutcomesOfTheirFirstUrl) {
    m_router.add("/", html(anchors({"/loop-a", "/self", "/to-file", "/to-js", "/chain1", "/out",
                                    "/fine", "/many"})));
    m_router.add("/loop-a", server::Reply::redirect(302, "/loop-b"));
    m_router.add("/loop-b", server::Reply::redirect(302, "/loop-a"));
    m_router.add("/self", server::Reply::redirect(301, "/self"));
    m_router.add("/to-file", server::Reply::redirect(302, "file:///etc/passwd"));
    m_router.add("/to-js", server::Reply::redirect(302, "javascript:alert(1)"));
    m_router.add("/chain1", server::Reply::redirect(301, "/chain2"));
    m_router.add("/chain2", server::Reply::redirect(301, "ftp://127.0.0.1/x"));
    m_router.add("/out", server::Reply::redirect(302, "http://127.0.0.2:1/elsewhere"));
    m_router.add("/fine", server::Reply::redirect(301, "/target"));
    m_router.add("/target", html("here"));
    m_router.add("/many", server::Reply::redirect(302, "/hop/1"));
    m_router.add_prefix("/hop/", [](const server::Request& r) {
        const int n = std::stoi(std::string(r.path.substr(5)));
        return server::Reply::redirect(302, "/hop/" + std::to_string(n + 1));
    });
    auto s = start("redirects.db");
    s.settings.max_redirects = 3;
    auto run = run_crawl(GetParam(), s);
    ASSERT_TRUE(run);
    const std::string db = m_dir.file("redirects.db");
    const auto rows = query_map(db, "SELECT substr(url, length('" + m_base +
                                        "') + 1), coalesce(error_kind, http_status) FROM pages "
                                        "WHERE kind = 'page'");
    EXPECT_EQ(rows, (std::map<std::string, std::string>{{"/", "200"},
                                                        {"/loop-a", "redirect_loop"},
                                                        {"/loop-b", "302"},
                                                        {"/self", "redirect_loop"},
                                                        {"/to-file", "disallowed_scheme"},
                                                        {"/to-js", "disallowed_scheme"},
                                                        {"/chain1", "disallowed_scheme"},
                                                        {"/chain2", "301"},
                                                        {"/out", "302"},
                                                        {"/fine", "301"},
                                                        {"/target", "200"},
                                                        {"/many", "too_many_redirects"},
                                                        {"/hop/1", "302"},
                                                        {"/hop/2", "302"},
                                                        {"/hop/3", "302"}}));
    EXPECT_EQ(m_router.count("/hop/4"), 0u);
    EXPECT_EQ(query_map(db, "SELECT url, kind || ' ' || rule FROM skips"),
              (std::map<std::string, std::string>{
                  {"http://127.0.0.2:1/elsewhere", "out_of_scope scope host"}}));
    EXPECT_EQ(run->report.totals.errors, 6u);
    EXPECT_EQ(run->report.totals.errors_by_kind,
              (std::map<std::string, std::uint64_t>{
                  {"disallowed_scheme", 3}, {"redirect_loop", 2}, {"too_many_redirects", 1}}));
    EXPECT_EQ(run->report.totals.redirects, 7u);
    const auto loop = query_map(db, "SELECT url, error FROM pages WHERE error_kind = "
                                    "'redirect_loop' AND url LIKE '%/loop-a'");
    ASSERT_EQ(loop.size(), 1u);
    EXPECT_EQ(loop.begin()->second,
              "redirect loop back to " + m_base + "/loop-a (" + m_base + "/loop-b)");
    testing_support::expect_counts_agree(db, run->report, run->run_id);
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlRecord,
                         ::testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                           fetch::Strategy::async),
                         [](const auto& param_info) {
                             return std::string(fetch::to_string(param_info.param));
                         });

} // namespace
