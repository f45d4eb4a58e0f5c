// The crawl loop end to end, for each strategy, over a loopback server: the synthetic site's
// pages all found and none fetched twice; robots.txt, nofollow, noindex and X-Robots-Tag
// honoured; redirects followed in scope only; 429 deferred without retries; limits and their
// stop reasons. Real SQLite files in a temp folder.
#include "process.hpp"
#include "temp_dir.hpp"

#include "crawler/crawl/crawl.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "server/site.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sys/resource.h>

using namespace flagcrawl;
using namespace std::chrono_literals;
using flagcrawl::testing_support::TempDir;

namespace {

struct PageRow {
    std::string url;
    int status = 0;
    std::string kind;
    int depth = 0;
    bool noindex = false;
    int attempts = 0;
    std::string error;
};

struct Outcome {
    crawler::StopReason reason = crawler::StopReason::failed;
    std::vector<PageRow> pages; // every pages row, by id
    std::uint64_t deferred = 0;
    std::uint64_t errors = 0;
    std::string stop_text;
    crawler::CrawlTotals totals;
    double parse_cpu_s = 0;
    double process_cpu_s = 0; // this process's user+sys CPU over Crawl::run()
};

double process_cpu_s() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Runs one crawl the way `flagcrawl crawl` does (the same Crawl object), recording into the
// start's db, and reads back its pages rows.
Outcome crawl(fetch::Strategy strategy, crawler::CrawlStart start, int concurrency = 4) {
    start.settings.strategy = strategy;
    start.settings.concurrency = concurrency;
    start.settings.policy.backoff_base = 10ms;
    start.settings.policy.total_timeout = 10'000ms;
    start.frontier.seed = 1;
    Outcome out;
    auto opened = crawler::Crawl::open(start);
    EXPECT_TRUE(opened) << opened.error().message;
    if (!opened) {
        return out;
    }
    auto started = (*opened)->start();
    EXPECT_TRUE(started) << started.error().message;
    if (!started) {
        return out;
    }
    const double cpu_before = process_cpu_s();
    const crawler::CrawlReport report = (*opened)->run();
    out.process_cpu_s = process_cpu_s() - cpu_before;
    out.parse_cpu_s = report.parse_cpu_s;
    out.reason = report.reason;
    out.deferred = report.deferred;
    out.errors = report.totals.errors;
    out.stop_text = report.stop_text;
    out.totals = report.totals;
    auto reader = storage::Reader::open(start.db);
    EXPECT_TRUE(reader);
    auto statement = reader->database().prepare(
        "SELECT url, coalesce(http_status, 0), kind, depth, noindex, attempts, "
        "coalesce(error, '') FROM pages ORDER BY id");
    EXPECT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
        out.pages.push_back({std::string(row.column_text(0)), int(row.column_int64(1)),
                             std::string(row.column_text(2)), int(row.column_int64(3)),
                             row.column_int64(4) != 0, int(row.column_int64(5)),
                             std::string(row.column_text(6))});
        return true;
    }));
    return out;
}

std::string path_of(const std::string& url) {
    auto path = url.substr(url.find('/', url.find("://") + 3));
    path = path.substr(0, path.find('?'));
    if (path.ends_with("/")) {
        path += "index.html";
    }
    return path;
}

class CrawlE2E : public ::testing::TestWithParam<fetch::Strategy> {
protected:
    void start(server::Handler handler) {
        m_server = std::make_unique<server::Server>(std::move(handler));
        ASSERT_FALSE(m_server->start());
        m_base = "http://127.0.0.1:" + std::to_string(m_server->port());
    }
    // A crawl of the seed into `db` (a file of the test's folder), with a parse pool.
    crawler::CrawlStart options(const std::string& db = "c.db",
                                const std::string& seed_path = "/index.html") const {
        crawler::CrawlStart start;
        start.settings.seeds = {m_base + seed_path};
        start.db = m_dir.file(db);
        start.parse_threads = 2;
        return start;
    }

    TempDir m_dir{"crawl"};
    std::unique_ptr<server::Server> m_server;
    std::string m_base;
};

TEST_P(CrawlE2E, EverySitePageOnceAndNothingTwice) {
    auto site = std::make_shared<const server::Site>(server::SiteOptions{.pages = 400, .seed = 3});
    start(server::site_handler(site));
    auto out = crawl(GetParam(), options());
    EXPECT_EQ(out.reason, crawler::StopReason::frontier_exhausted);
    std::set<std::string> urls;
    std::set<std::string> ok_pages;
    for (const auto& p : out.pages) {
        if (p.kind != "page") {
            continue;
        }
        EXPECT_TRUE(urls.insert(p.url).second) << "fetched twice: " << p.url;
        if (p.status == 200) {
            ok_pages.insert(path_of(p.url));
        }
    }
    std::set<std::string> expected;
    for (std::uint64_t i = 0; i < site->pages(); ++i) {
        expected.insert(site->page_path(i));
    }
    EXPECT_EQ(ok_pages, expected);
    // robots.txt was fetched once, and is no page.
    EXPECT_EQ(std::count_if(out.pages.begin(), out.pages.end(),
                            [](const PageRow& p) { return p.kind == "robots"; }),
              1);
    EXPECT_EQ(urls.size(), site->stats().urls_fragment_stripped);
}

// Every links row of a crawl as "page url -> n: to_url kind nofollow", sorted.
std::vector<std::string> links_of(const std::string& db) {
    std::vector<std::string> links;
    auto reader = storage::Reader::open(db);
    EXPECT_TRUE(reader);
    auto statement =
        reader->database().prepare("SELECT pages.url, n, to_url, links.kind, nofollow FROM links "
                                   "JOIN pages ON pages.id = links.page_id");
    EXPECT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
        links.push_back(std::string(row.column_text(0)) + " -> " +
                        std::to_string(row.column_int64(1)) + ": " +
                        std::string(row.column_text(2)) + " " + std::string(row.column_text(3)) +
                        (row.column_int64(4) != 0 ? " nofollow" : ""));
        return true;
    }));
    std::sort(links.begin(), links.end());
    return links;
}

// parse_threads 0 parses on the engine's thread: the same pages and links as a parse pool; the
// parse's CPU is counted on whichever thread parsed, and is part of the process's CPU.
TEST_P(CrawlE2E, InlineParsingRecordsWhatThePoolRecords) {
    auto site = std::make_shared<const server::Site>(server::SiteOptions{.pages = 200, .seed = 5});
    start(server::site_handler(site));
    auto inline_options = options("inline.db");
    inline_options.parse_threads = 0;
    auto inline_out = crawl(GetParam(), inline_options);
    auto pool_out = crawl(GetParam(), options("pool.db"));
    EXPECT_EQ(inline_out.reason, crawler::StopReason::frontier_exhausted);
    auto pages = [](const Outcome& out) {
        std::set<std::string> urls;
        for (const auto& p : out.pages) {
            urls.insert(p.url + " " + std::to_string(p.status)); // depth: by discovery order
        }
        return urls;
    };
    EXPECT_EQ(pages(inline_out), pages(pool_out));
    EXPECT_EQ(inline_out.pages.size(), pool_out.pages.size());
    const auto links = links_of(m_dir.file("inline.db"));
    EXPECT_GT(links.size(), 20 * site->pages());
    EXPECT_EQ(links, links_of(m_dir.file("pool.db")));
    for (const Outcome* out : {&inline_out, &pool_out}) {
        EXPECT_GT(out->parse_cpu_s, 0);
        // rusage and the thread clocks read the same scheduler accounting (microseconds apart).
        EXPECT_LE(out->parse_cpu_s, out->process_cpu_s + 0.001);
    }
}

// A small site that exercises the robots rules, redirects and throttling.
server::Router robots_site(const std::string& base) {
    server::Router router;
    auto html = [](std::string body) {
        return server::Reply::bytes(200, std::make_shared<const std::string>(std::move(body)),
                                    "text/html");
    };
    router.add("/robots.txt", server::Reply::text(200, "User-agent: *\nDisallow: /private/\n"));
    router.add("/index.html",
               html("<title>Home</title>"
                    "<a href='a.html'>a</a> <a href='/private/p.html'>p</a>"
                    "<a rel='nofollow' href='/nofollow-target.html'>n</a>"
                    "<a href='/meta-nofollow.html'>m</a> <a href='/xrobots.html'>x</a>"
                    "<a href='/noindex.html'>ni</a> <a href='/redirect-in'>ri</a>"
                    "<a href='/redirect-out'>ro</a> <a href='/busy.html'>b</a>"
                    "<a href='mailto:x@y'>mail</a> <a href='http://127.0.0.2:1/off'>off</a>"));
    router.add("/a.html", html("<a href='/index.html#top'>home</a>"));
    router.add("/private/p.html", html("secret"));
    router.add("/nofollow-target.html", html("n"));
    router.add("/meta-nofollow.html",
               html("<meta name=robots content=nofollow><a href='/hidden1.html'>h</a>"));
    router.add("/xrobots.html",
               html("<a href='/hidden2.html'>h</a>").with_header("X-Robots-Tag", "nofollow"));
    router.add("/noindex.html", html("<meta name=robots content=noindex><a href='/c.html'>c</a>"));
    router.add("/c.html", html("c"));
    router.add("/b.html", html("b"));
    router.add("/hidden1.html", html("h1"));
    router.add("/hidden2.html", html("h2"));
    router.add("/redirect-in", server::Reply::redirect(301, base + "/b.html"));
    router.add("/redirect-out", server::Reply::redirect(302, "http://127.0.0.2:1/elsewhere"));
    auto calls = std::make_shared<std::atomic<int>>(0);
    router.add("/busy.html", [calls](const server::Request&) {
        if ((*calls)++ == 0) {
            return server::Reply::text(429, "slow down\n").with_header("Retry-After", "1");
        }
        return server::Reply::bytes(200, std::make_shared<const std::string>("<p>now"),
                                    "text/html");
    });
    return router;
}

TEST_P(CrawlE2E, RobotsNofollowNoindexRedirectsAndThrottling) {
    server::Router router;
    start([&router](const server::Request& r) { return router.handler()(r); });
    router = robots_site(m_base);
    auto out = crawl(GetParam(), options());
    EXPECT_EQ(out.reason, crawler::StopReason::frontier_exhausted);
    EXPECT_EQ(router.count("/robots.txt"), 1u);
    EXPECT_EQ(router.count("/private/p.html"), 0u);
    EXPECT_EQ(router.count("/nofollow-target.html"), 0u);
    EXPECT_EQ(router.count("/hidden1.html"), 0u);
    EXPECT_EQ(router.count("/hidden2.html"), 0u);
    EXPECT_EQ(router.count("/c.html"), 1u); // noindex does not stop following
    EXPECT_EQ(router.count("/b.html"), 1u); // redirect target in scope
    EXPECT_EQ(router.count("/a.html"), 1u);
    EXPECT_EQ(router.count("/index.html"), 1u); // "index.html#top" is the same page
    EXPECT_EQ(router.count("/busy.html"), 2u);  // 429, then fetched after Retry-After
    EXPECT_EQ(out.deferred, 1u);
    std::map<std::string, PageRow> by_path;
    for (const auto& p : out.pages) {
        EXPECT_TRUE(by_path.emplace(path_of(p.url), p).second) << "twice: " << p.url;
    }
    EXPECT_TRUE(by_path.at("/noindex.html").noindex);
    EXPECT_FALSE(by_path.at("/a.html").noindex);
    EXPECT_EQ(by_path.at("/redirect-in").status, 301);
    EXPECT_EQ(by_path.at("/b.html").depth, 1); // a redirect hop adds no depth
    EXPECT_EQ(by_path.at("/busy.html").status, 200);
    // The 429 and the 200: both requests the server saw, no retry budget used.
    EXPECT_EQ(by_path.at("/busy.html").attempts, 2);
    EXPECT_FALSE(by_path.count("/elsewhere")); // redirect out of scope: not followed
    EXPECT_FALSE(by_path.count("/off"));
    EXPECT_FALSE(by_path.count("/private/p.html"));
}

TEST_P(CrawlE2E, NoRobotsIgnoresEveryRobotsRule) {
    server::Router router;
    start([&router](const server::Request& r) { return router.handler()(r); });
    router = robots_site(m_base);
    auto o = options();
    o.settings.robots = false;
    auto out = crawl(GetParam(), o);
    EXPECT_EQ(router.count("/robots.txt"), 0u);
    EXPECT_EQ(router.count("/private/p.html"), 1u);
    EXPECT_EQ(router.count("/nofollow-target.html"), 1u);
    EXPECT_EQ(router.count("/hidden1.html"), 1u);
    EXPECT_EQ(router.count("/hidden2.html"), 1u);
}

// RFC 9309: robots.txt unreachable (5xx) means complete disallow; refetched after each wait,
// then the host is given up and its URLs are recorded as failures (not as disallowed by rule).
TEST_P(CrawlE2E, UnreachableRobotsIsRetriedThenTheHostsUrlsFail) {
    server::Router router;
    start([&router](const server::Request& r) { return router.handler()(r); });
    router.add("/robots.txt", server::Reply::text(503, "down"));
    router.add("/index.html", server::Reply::text(200, "never fetched"));
    auto o = options();
    o.frontier.politeness.robots_retry = {20ms, 20ms};
    auto out = crawl(GetParam(), o);
    EXPECT_EQ(out.reason, crawler::StopReason::frontier_exhausted);
    EXPECT_EQ(router.count("/robots.txt"), 3u);
    EXPECT_EQ(router.count("/index.html"), 0u);
    EXPECT_EQ(out.errors, 1u);
    const auto seed = std::find_if(out.pages.begin(), out.pages.end(),
                                   [](const PageRow& p) { return p.kind == "page"; });
    ASSERT_NE(seed, out.pages.end());
    EXPECT_EQ(seed->attempts, 0);
    EXPECT_EQ(seed->error, "robots.txt unreachable (HTTP 503), host given up");
    int robots_rows = 0;
    for (const auto& p : out.pages) {
        if (p.kind == "robots") {
            EXPECT_EQ(p.status, 503);
            EXPECT_EQ(p.error, "HTTP 503: robots.txt unreachable, fetched again later");
            ++robots_rows;
        }
    }
    EXPECT_EQ(robots_rows, 3);
}

// A linked host that refuses connections: its robots.txt gives it up at once (no refetch
// waits), and its URLs are recorded as failures while the rest of the site is crawled.
TEST_P(CrawlE2E, HostDownFailsItsUrlsWithoutWaiting) {
    const std::string down =
        "http://127.0.0.1:" + std::to_string(testing_support::unused_loopback_port());
    server::Router router;
    start([&router](const server::Request& r) { return router.handler()(r); });
    router.add("/robots.txt", server::Reply::text(404, "none"));
    router.add("/index.html",
               server::Reply::bytes(200,
                                    server::make_body("<a href='" + down + "/a'>a</a><a href='" +
                                                      down + "/b'>b</a><a href=/c.html>c</a>"),
                                    "text/html"));
    router.add("/c.html", server::Reply::text(200, "c"));
    auto o = options();
    o.settings.scope = crawler::ScopeKind::any;
    o.frontier.politeness.robots_retry = {std::chrono::seconds(30)}; // would time the test out
    const auto started = std::chrono::steady_clock::now();
    auto out = crawl(GetParam(), o);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
    EXPECT_EQ(out.reason, crawler::StopReason::frontier_exhausted);
    EXPECT_EQ(router.count("/c.html"), 1u);
    EXPECT_EQ(out.errors, 2u);
    int given_up = 0;
    for (const auto& p : out.pages) {
        if (p.kind == "page" && p.url.starts_with(down)) {
            EXPECT_TRUE(p.error.starts_with("robots.txt unreachable (connection refused"))
                << p.url << ": " << p.error;
            ++given_up;
        }
    }
    EXPECT_EQ(given_up, 2);
    // No robots.txt (404) allows everything: recorded with its status, not as a failure.
    const auto robots = std::find_if(out.pages.begin(), out.pages.end(), [&](const PageRow& p) {
        return p.kind == "robots" && p.url == m_base + "/robots.txt";
    });
    ASSERT_NE(robots, out.pages.end());
    EXPECT_EQ(robots->status, 404);
    EXPECT_EQ(robots->error, "");
}

TEST_P(CrawlE2E, MaxPagesStopsAndSaysSo) {
    auto site = std::make_shared<const server::Site>(server::SiteOptions{.pages = 400, .seed = 3});
    start(server::site_handler(site));
    auto o = options();
    o.settings.max_pages = 25;
    auto out = crawl(GetParam(), o);
    EXPECT_EQ(out.reason, crawler::StopReason::max_pages);
    EXPECT_EQ(std::count_if(out.pages.begin(), out.pages.end(),
                            [](const PageRow& p) { return p.kind == "page"; }),
              25);
}

TEST_P(CrawlE2E, DepthLimitKeepsToTheHops) {
    auto site = std::make_shared<const server::Site>(server::SiteOptions{.pages = 400, .seed = 3});
    start(server::site_handler(site));
    auto o = options();
    o.settings.max_depth = 1;
    auto out = crawl(GetParam(), o);
    // The summary names the depth limit: it kept the links of the depth-1 pages out.
    EXPECT_EQ(out.reason, crawler::StopReason::depth_limit);
    EXPECT_TRUE(out.stop_text.starts_with("finished: --depth 1 reached")) << out.stop_text;
    std::set<std::string> depth1;
    for (const auto& p : out.pages) {
        EXPECT_LE(p.depth, 1) << p.url;
        if (p.depth == 1 && p.status == 200) {
            depth1.insert(path_of(p.url));
        }
    }
    std::set<std::string> expected;
    for (const auto& href : site->page_hrefs(0, m_base.substr(7))) {
        auto url = crawler::parse(href, m_base + "/index.html");
        if (url && url->host() == "127.0.0.1" && site->page_id(url->path())) {
            expected.insert(path_of(std::string(url->href_without_fragment())));
        }
    }
    EXPECT_EQ(depth1, expected);
}

TEST_P(CrawlE2E, MaxTimeStopsASlowCrawl) {
    auto site = std::make_shared<const server::Site>(server::SiteOptions{.pages = 400, .seed = 3});
    auto pages = server::site_handler(site);
    start([pages](const server::Request& r) {
        auto reply = pages(r);
        reply.delay = 100ms;
        return reply;
    });
    auto o = options();
    o.settings.max_time = 600ms;
    const auto started = std::chrono::steady_clock::now();
    auto out = crawl(GetParam(), o, 2);
    EXPECT_EQ(out.reason, crawler::StopReason::max_time);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_GT(out.pages.size(), 1u);
    EXPECT_LT(out.pages.size(), 40u);
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlE2E,
                         ::testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                           fetch::Strategy::async),
                         [](const auto& param_info) {
                             return std::string(fetch::to_string(param_info.param));
                         });

} // namespace
