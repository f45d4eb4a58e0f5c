// `flagcrawl links --broken` as a user runs it, after a real crawl of a loopback site with broken
// links: 404 pages linked from several pages, a failing image, a frame, a redirect to a 404, a
// redirect loop, a host that refuses connections; every format lists exactly those, each once,
// with all their referrers.
#include "closed_port.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>

using namespace flagcrawl;
using testing_support::closed_port;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

// A small site with broken links.
class BrokenSite {
public:
    BrokenSite() {
        m_server = std::make_unique<server::Server>(
            [this](const server::Request& r) { return reply(std::string(r.path)); });
        EXPECT_FALSE(m_server->start());
    }
    std::string base() const { return "http://127.0.0.1:" + std::to_string(m_server->port()); }
    std::string seed() const { return base() + "/"; }
    // A page on the same host (in scope) at a port where nothing listens.
    std::string dead() const { return m_dead; }

private:
    server::Reply page(const std::string& body) const {
        return server::Reply::bytes(
            200, server::make_body("<html><body>" + body + "</body></html>"), "text/html");
    }
    server::Reply reply(const std::string& path) const {
        if (path == "/robots.txt") {
            return server::Reply::text(404, "none");
        }
        if (path == "/") {
            return page(R"(<a href="/a.html">a</a> <a href="/b.html">b</a> <a href="/missing">m</a>
                <img src="/logo.png"> <a href="/old">old</a> <a href="/loop">loop</a>)");
        }
        if (path == "/a.html") {
            return page(R"(<a href="/missing">m</a> <img src="/logo.png"> <a href="/">home</a>
                <a href=")" +
                        m_dead + R"(">dead</a> <a href="/loop">loop</a>)");
        }
        if (path == "/loop") {
            return server::Reply::redirect(302, "/loop2");
        }
        if (path == "/loop2") {
            return server::Reply::redirect(302, "/loop");
        }
        if (path == "/b.html") {
            return page(R"(<a href="/missing#part">m</a> <iframe src="/gone"></iframe>)");
        }
        if (path == "/old") {
            return server::Reply::redirect(301, "/moved");
        }
        if (path == "/moved") {
            return server::Reply::text(404, "not here");
        }
        if (path == "/logo.png") {
            return server::Reply::text(500, "broken");
        }
        return server::Reply::text(404, "not found");
    }
    std::unique_ptr<server::Server> m_server;
    const std::string m_dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/page";
};

std::vector<nlohmann::json> json_lines(const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(nlohmann::json::parse(line));
    }
    return out;
}

class CliLinks : public ::testing::TestWithParam<const char*> {};

TEST_P(CliLinks, BrokenListsEachFailingTargetOnceWithAllItsReferrers) {
    TempDir dir("clilinks");
    BrokenSite site;
    const std::string db = dir.file("c.db");
    auto crawl =
        run_process({flagcrawl_binary(), "crawl", site.seed(), "--db", db, "--page-requisites",
                     "--strategy", GetParam(), "--retries", "0", "--progress", "never"});
    EXPECT_EQ(crawl.exit_code, 1) << crawl.err;

    auto r =
        run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--format", "jsonl"});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    std::map<std::string, nlohmann::json> by_url;
    for (const auto& link : json_lines(r.out)) {
        const std::string url = link["url"];
        EXPECT_FALSE(by_url.contains(url)) << "listed twice: " << url;
        by_url[url] = link;
    }
    const std::string b = site.base();
    EXPECT_EQ((std::set<std::string>{}), [&] {
        std::set<std::string> extra;
        for (const auto& [url, _] : by_url) {
            if (url != b + "/missing" && url != b + "/gone" && url != b + "/logo.png" &&
                url != b + "/old" && url != b + "/loop" && url != site.dead()) {
                extra.insert(url);
            }
        }
        return extra;
    }()) << r.out;
    ASSERT_EQ(by_url.size(), 6u) << r.out;

    const auto& missing = by_url[b + "/missing"];
    EXPECT_EQ(missing["status"], 404);
    EXPECT_EQ(missing["error_kind"], "http_status");
    EXPECT_EQ(missing["referrers"], nlohmann::json::array({b + "/", b + "/a.html", b + "/b.html"}));
    EXPECT_EQ(missing["referrer_count"], 3);
    EXPECT_EQ(missing["link_kinds"], nlohmann::json::array({"anchor"}));

    const auto& logo = by_url[b + "/logo.png"];
    EXPECT_EQ(logo["status"], 500);
    EXPECT_EQ(logo["page_kind"], "requisite");
    EXPECT_EQ(logo["link_kinds"], nlohmann::json::array({"image"}));
    EXPECT_EQ(logo["referrers"], nlohmann::json::array({b + "/", b + "/a.html"}));

    EXPECT_EQ(by_url[b + "/gone"]["link_kinds"], nlohmann::json::array({"frame"}));
    EXPECT_EQ(by_url[b + "/gone"]["referrers"], nlohmann::json::array({b + "/b.html"}));

    const auto& old = by_url[b + "/old"];
    EXPECT_EQ(old["status"], 404);
    EXPECT_EQ(old["redirects_to"], b + "/moved");

    // The loop is listed once, under the URL the pages link (not its hop /loop2).
    const auto& loop = by_url[b + "/loop"];
    EXPECT_EQ(loop["error_kind"], "redirect_loop");
    EXPECT_NE(loop["reason"].get<std::string>().find("redirect loop back to " + b + "/loop"),
              std::string::npos)
        << loop;
    EXPECT_EQ(loop["link_kinds"], nlohmann::json::array({"anchor"}));
    EXPECT_EQ(loop["referrers"], nlohmann::json::array({b + "/", b + "/a.html"}));

    // The host that refuses connections: its robots.txt could not be asked for, so its URLs are
    // failed at once with that reason.
    const auto& dead = by_url[site.dead()];
    EXPECT_EQ(dead["error_kind"], "robots_unreachable");
    EXPECT_TRUE(dead["status"].is_null()) << dead;
    EXPECT_NE(dead["reason"].get<std::string>().find("connection refused"), std::string::npos)
        << dead;
    EXPECT_EQ(dead["link_kinds"], nlohmann::json::array({"anchor"}));
    EXPECT_EQ(dead["referrers"], nlohmann::json::array({b + "/a.html"}));

    // CSV: a header, then one row per (link, referring page).
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find("\r\n")),
              "url,status,error_kind,reason,redirects_to,link_kinds,referrer_count,referrer");
    std::size_t rows = 0;
    for (std::size_t at = 0; (at = r.out.find("\r\n", at)) != std::string::npos; at += 2) {
        ++rows;
    }
    // missing 3, logo 2, gone 1, old 1, loop 2, dead 1 (+ the header)
    EXPECT_EQ(rows, 1u + 10u) << r.out;
    EXPECT_NE(r.out.find(b + "/missing,404,http_status,"), std::string::npos) << r.out;

    // Text: each link, its failure, how and where it is linked; the total last.
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find(b + "/missing\n    HTTP 404"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("linked as anchor from 3 pages:\n      " + b + "/\n      " + b +
                         "/a.html\n      " + b + "/b.html\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("redirects to " + b + "/moved (1 hop)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("6 broken links in crawl 1 (10 referring pages)\n"), std::string::npos)
        << r.out;

    // A long list of referrers is cut, with the count.
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--referrers", "1"});
    EXPECT_NE(r.out.find("... and 2 more"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Strategies, CliLinks,
                         ::testing::Values("sequential", "threaded", "async"));

TEST(CliLinksUsage, ErrorsAndACleanCrawl) {
    TempDir dir("clilinks");
    auto r = run_process({flagcrawl_binary(), "links", "--db", dir.file("none.db"), "--broken"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    r = run_process({flagcrawl_binary(), "links", "--db", dir.file("none.db")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    r = run_process({flagcrawl_binary(), "links", "--broken", "--format", "xml"});
    EXPECT_EQ(r.exit_code, 2) << r.err;

    server::Server ok([](const server::Request& req) {
        return req.path == "/"
                   ? server::Reply::bytes(200, server::make_body("<a href=/x>x</a>"), "text/html")
                   : server::Reply::text(200, "fine");
    });
    ASSERT_FALSE(ok.start());
    const std::string db = dir.file("ok.db");
    auto crawl = run_process({flagcrawl_binary(), "crawl",
                              "http://127.0.0.1:" + std::to_string(ok.port()) + "/", "--db", db,
                              "--progress", "never"});
    ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "no broken links in crawl 1\n");
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--crawl", "7"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
}

} // namespace
