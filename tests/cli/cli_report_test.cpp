// `flagcrawl report` as a user runs it: after a real crawl of a loopback site with broken links
// (and bench-like download runs), the HTML page has every section, lists the broken links with
// their referrers, and renders in headless Chromium from disk with no console message and no
// request leaving the file (SKIPPED without Chromium).
#include "chromium.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::find_chromium;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

server::Reply site(const server::Request& r) {
    const std::string path(r.path);
    auto html = [](std::string body) {
        return server::Reply::bytes(
            200, server::make_body("<html><body>" + body + "</body></html>"), "text/html");
    };
    if (path == "/") {
        return html(R"(<a href="/a">a</a> <a href="/b">b</a> <a href="/gone">gone</a>
                      <img src="/pic.png"><a href="/list.txt">list</a>)");
    }
    if (path == "/a") {
        return html(R"(<a href="/gone">gone</a> <a href="/deep">deep</a> <a href="/">home</a>)");
    }
    if (path == "/b" || path == "/deep") {
        return html(R"(<a href="/">home</a> <a href="/gone">gone</a>)");
    }
    if (path == "/pic.png") {
        return server::Reply::text(500, "broken");
    }
    if (path == "/list.txt") {
        return server::Reply::text(200, "ok");
    }
    return server::Reply::text(404, "not found");
}

// Every "url" a Chromium net log names.
std::vector<std::string> net_log_urls(const std::filesystem::path& log) {
    std::vector<std::string> urls;
    const auto json = nlohmann::json::parse(read_file(log), nullptr, false);
    if (json.is_discarded() || !json.contains("events")) {
        return urls;
    }
    for (const auto& event : json["events"]) {
        if (event.contains("params") && event["params"].contains("url") &&
            event["params"]["url"].is_string()) {
            urls.push_back(event["params"]["url"].get<std::string>());
        }
    }
    return urls;
}

struct Rendered {
    int exit_code = 0;
    bool screenshot = false;
    std::vector<std::string> console;  // console messages, errors included
    std::vector<std::string> requests; // loopback URLs requested
    std::string err;
};

Rendered render(const std::string& chromium, const std::filesystem::path& page,
                const std::filesystem::path& work) {
    const auto log = work / "net.json";
    const auto shot = work / "shot.png";
    auto r = run_process(
        {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--user-data-dir=" + (work / "profile").string(), "--enable-logging=stderr", "--v=0",
         "--log-net-log=" + log.string(), "--screenshot=" + shot.string(),
         "--window-size=1200,4000", "file://" + page.string()},
        {}, {}, {}, 90s);
    Rendered out;
    out.exit_code = r.exit_code;
    out.err = r.err;
    out.screenshot = std::filesystem::exists(shot) && std::filesystem::file_size(shot) > 1000;
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(":CONSOLE") != std::string::npos) {
            out.console.push_back(line);
        }
    }
    for (const auto& url : net_log_urls(log)) {
        // Requests to loopback are the page's (Chromium's own update and time checks go
        // elsewhere and fail); the page's references to anywhere else are checked in its text.
        if (url.find("://127.") != std::string::npos ||
            url.find("://localhost") != std::string::npos) {
            out.requests.push_back(url);
        }
    }
    return out;
}

TEST(CliReport, EverySectionOfACrawlWithItsBrokenLinksAndTheBenchRuns) {
    TempDir dir("clireport");
    server::Server server(site);
    ASSERT_FALSE(server.start());
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    const std::string db = dir.file("c.db");
    auto crawl = run_process({flagcrawl_binary(), "crawl", base + "/", "--db", db,
                              "--page-requisites", "--retries", "0", "--progress", "never"});
    ASSERT_EQ(crawl.exit_code, 1) << crawl.err;
    // Runs of one download job under two strategies, as bench makes them.
    std::ofstream(dir.file("urls.txt")) << base << "/list.txt\n" << base << "/a\n";
    for (const char* strategy : {"sequential", "async"}) {
        auto d = run_process({flagcrawl_binary(), "download", "-i", dir.file("urls.txt"), "--db",
                              db, "--strategy", strategy, "-o",
                              dir.file(std::string("out-") + strategy), "--progress", "never"});
        ASSERT_EQ(d.exit_code, 0) << d.err;
    }

    const auto page = dir.path() / "report.html";
    auto r = run_process({flagcrawl_binary(), "report", "--db", db, "-o", page.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string html = read_file(page);
    for (const char* id :
         {"summary", "timeline", "outcomes", "latency", "hosts", "depths", "broken", "bench"}) {
        EXPECT_NE(html.find(std::string("<section id=\"") + id + "\">"), std::string::npos) << id;
    }
    // The broken links, each with every page that links it.
    EXPECT_NE(html.find("<div class=\"url\">" + base + "/gone</div>"), std::string::npos);
    EXPECT_NE(html.find("linked as anchor from 4 pages:</div><ul><li>" + base + "/</li><li>" +
                        base + "/a</li><li>" + base + "/b</li><li>" + base + "/deep</li></ul>"),
              std::string::npos)
        << html;
    EXPECT_NE(html.find("<div class=\"url\">" + base + "/pic.png</div>"), std::string::npos);
    EXPECT_NE(html.find("2 broken links, 5 referring pages"), std::string::npos);
    // The charts are inline SVG; the bench chart compares the two strategies.
    EXPECT_NE(html.find("<svg", html.find("<section id=\"timeline\">")), std::string::npos);
    EXPECT_NE(html.find("<svg", html.find("<section id=\"bench\">")), std::string::npos);
    EXPECT_NE(html.find(">sequential<", html.find("<section id=\"bench\">")), std::string::npos);
    EXPECT_NE(html.find(">async<", html.find("<section id=\"bench\">")), std::string::npos);
    // Nothing is fetched from anywhere: no script, no external reference.
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("src=\"http"), std::string::npos);
    EXPECT_EQ(html.find("href=\"http"), std::string::npos);

    const std::string chromium = find_chromium();
    if (chromium.empty()) {
        GTEST_SKIP() << "chromium is not installed: the page was not rendered";
    }
    // The checks below see what they must: a page with a script error and a fetched image
    // is caught.
    const auto bad = dir.path() / "bad.html";
    std::ofstream(bad) << "<html><body><img src=\"" << base
                       << "/pic.png\"><script>missing_function();</script></body></html>";
    const auto bad_render = render(chromium, bad, dir.path() / "bad");
    ASSERT_EQ(bad_render.exit_code, 0) << bad_render.err;
    EXPECT_FALSE(bad_render.console.empty()) << "console messages are not seen";
    EXPECT_FALSE(bad_render.requests.empty()) << "requests are not seen";

    const auto shown = render(chromium, page, dir.path() / "good");
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_TRUE(shown.screenshot) << "no screenshot";
    EXPECT_TRUE(shown.console.empty()) << shown.console.front();
    EXPECT_TRUE(shown.requests.empty()) << shown.requests.front();
}

// A crawl with --check-external (a second loopback host, out of scope: one live link, one
// dead), then `bench crawl` runs recorded in the same file: the page counts the external checks,
// marks the broken external link, and charts the crawl runs' pages/s by strategy and concurrency.
TEST(CliReport, ExternalChecksAndBenchCrawlRuns) {
    TempDir dir("clireport");
    server::ServerOptions other;
    other.host = "127.0.0.2";
    server::Server external(
        [](const server::Request& r) {
            return server::Reply::text(r.path == "/ok" ? 200 : 404, "external");
        },
        other);
    ASSERT_FALSE(external.start());
    const std::string e = external.base_url();
    server::Server server([&](const server::Request& r) {
        return r.path == "/" ? server::Reply::bytes(200,
                                                    server::make_body("<a href=\"" + e +
                                                                      "/ok\">ok</a> <a href=\"" +
                                                                      e + "/gone\">gone</a>"),
                                                    "text/html")
                             : server::Reply::text(404, "not found");
    });
    ASSERT_FALSE(server.start());
    const std::string db = dir.file("c.db");
    auto crawl = run_process({flagcrawl_binary(), "crawl", server.base_url() + "/", "--db", db,
                              "--check-external", "--retries", "0", "--progress", "never"});
    ASSERT_EQ(crawl.exit_code, 1) << crawl.err;
    auto bench = run_process({flagcrawl_binary(), "bench", "crawl", "--pages", "30", "--strategies",
                              "threaded,async", "--concurrency", "2,4", "--repeat", "1", "--db", db,
                              "--progress", "never"});
    ASSERT_EQ(bench.exit_code, 0) << bench.err;

    const auto page = dir.path() / "report.html";
    auto r = run_process(
        {flagcrawl_binary(), "report", "--db", db, "--crawl", "1", "-o", page.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string html = read_file(page);
    EXPECT_NE(html.find("<b>2</b><span>external links checked</span>"), std::string::npos) << html;
    EXPECT_NE(html.find("<b>1</b><span>external broken</span>"), std::string::npos) << html;
    EXPECT_NE(html.find("<div class=\"url\">" + e +
                        "/gone <span class=\"external\">external</span></div>"),
              std::string::npos)
        << html;
    const auto bench_at = html.find("<section id=\"bench\">");
    ASSERT_NE(bench_at, std::string::npos);
    const std::string bench_part =
        html.substr(bench_at, html.find("</section>", bench_at) - bench_at);
    EXPECT_NE(bench_part.find("throughput (pages/s)"), std::string::npos) << bench_part;
    EXPECT_NE(bench_part.find(">threaded<"), std::string::npos) << bench_part;
    EXPECT_NE(bench_part.find(">async<"), std::string::npos) << bench_part;
    EXPECT_NE(bench_part.find(">c=4<"), std::string::npos) << bench_part;
    // No CPU panel: the file records no CPU time.
    EXPECT_EQ(bench_part.find("CPU per page"), std::string::npos) << bench_part;

    const std::string chromium = find_chromium();
    if (chromium.empty()) {
        GTEST_SKIP() << "chromium is not installed: the page was not rendered";
    }
    const auto shown = render(chromium, page, dir.path() / "shown");
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_TRUE(shown.screenshot) << "no screenshot";
    EXPECT_TRUE(shown.console.empty()) << shown.console.front();
    EXPECT_TRUE(shown.requests.empty()) << shown.requests.front();
}

TEST(CliReport, UsageErrors) {
    TempDir dir("clireport");
    auto r = run_process(
        {flagcrawl_binary(), "report", "--db", dir.file("none.db"), "-o", dir.file("r.html")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    r = run_process({flagcrawl_binary(), "report", "--db", dir.file("none.db")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("r.html")));
}

} // namespace
