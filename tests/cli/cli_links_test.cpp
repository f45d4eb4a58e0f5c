// `flagcrawl links --broken` as a user runs it, after a real crawl of a loopback site with broken
// links: 404 pages linked from several pages, a failing image, a frame, a redirect to a 404, a
// redirect loop, a host that refuses connections; every format lists exactly those, each once,
// with all their referrers, and the crawl's own failure lines name a referring page.
#include "closed_port.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

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
    // Before the server: the handler reads it until the server's threads are joined.
    const std::string m_dead = "http://127.0.0.1:" + std::to_string(closed_port()) + "/page";
    std::unique_ptr<server::Server> m_server;
};

// The line of `text` that holds `needle` ("" when none does).
std::string line_with(const std::string& text, const std::string& needle) {
    const auto at = text.find(needle);
    if (at == std::string::npos) {
        return {};
    }
    const auto start = text.rfind('\n', at);
    const auto end = text.find('\n', at);
    return text.substr(start == std::string::npos ? 0 : start + 1,
                       end == std::string::npos
                           ? std::string::npos
                           : end - (start == std::string::npos ? 0 : start + 1));
}

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
    const std::string b = site.base();
    // The crawl's failure lines name the page that first led to each URL.
    EXPECT_NE(line_with(crawl.err, b + "/missing: HTTP 404").find(" (linked from " + b + "/)"),
              std::string::npos)
        << crawl.err;
    EXPECT_NE(line_with(crawl.err, b + "/gone: HTTP 404").find(" (linked from " + b + "/b.html)"),
              std::string::npos)
        << crawl.err;
    EXPECT_NE(line_with(crawl.err, b + "/moved: HTTP 404").find(" (redirected from " + b + "/old)"),
              std::string::npos)
        << crawl.err;
    EXPECT_NE(line_with(crawl.err, site.dead() + ": ").find(" (linked from " + b + "/a.html)"),
              std::string::npos)
        << crawl.err;

    auto r =
        run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--format", "jsonl"});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    std::map<std::string, nlohmann::json> by_url;
    for (const auto& link : json_lines(r.out)) {
        const std::string url = link["url"];
        EXPECT_FALSE(by_url.contains(url)) << "listed twice: " << url;
        by_url[url] = link;
    }
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
    EXPECT_EQ(missing["external"], false);

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
    EXPECT_NE(dead["reason"].get<std::string>().find("onnect"), std::string::npos) << dead;
    EXPECT_EQ(dead["link_kinds"], nlohmann::json::array({"anchor"}));
    EXPECT_EQ(dead["referrers"], nlohmann::json::array({b + "/a.html"}));

    // CSV: a header, then one row per (link, referring page).
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find("\r\n")),
              "url,status,error_kind,reason,redirects_to,link_kinds,referrer_count,referrer,"
              "external");
    std::size_t rows = 0;
    for (std::size_t at = 0; (at = r.out.find("\r\n", at)) != std::string::npos; at += 2) {
        ++rows;
    }
    // missing 3, logo 2, gone 1, old 1, loop 2, dead 1 (+ the header)
    EXPECT_EQ(rows, 1u + 10u) << r.out;
    EXPECT_NE(r.out.find(b + "/missing,404,http_status,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("," + b + "/b.html,false\r\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(",true\r\n"), std::string::npos) << r.out;

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

// A URL queued when the crawl stopped is read back from the store on --resume: its failure
// still names the page that linked it.
TEST_P(CliLinks, ResumedFailuresNameTheirReferrer) {
    TempDir dir("clilinks");
    BrokenSite site;
    const std::string db = dir.file("c.db");
    auto crawl =
        run_process({flagcrawl_binary(), "crawl", site.seed(), "--db", db, "--strategy", GetParam(),
                     "--retries", "0", "--max-pages", "2", "--progress", "never"});
    ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
    EXPECT_EQ(crawl.err.find("/missing"), std::string::npos) << crawl.err;
    auto resumed = run_process({flagcrawl_binary(), "crawl", "--resume", "--db", db, "--max-pages",
                                "0", "--progress", "never"});
    EXPECT_EQ(resumed.exit_code, 1) << resumed.err;
    const std::string b = site.base();
    EXPECT_NE(line_with(resumed.err, b + "/missing: HTTP 404").find(" (linked from " + b + "/)"),
              std::string::npos)
        << resumed.err;
    EXPECT_NE(line_with(resumed.err, b + "/gone: HTTP 404").find(" (linked from " + b + "/b.html)"),
              std::string::npos)
        << resumed.err;
}

// How many lines of `text` hold `needle`.
std::size_t lines_with(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        n += line.find(needle) != std::string::npos ? 1 : 0;
    }
    return n;
}

// /loop redirects to /loop2, which redirects back: the loop is seen at the second hop, and fails
// the URL that started the chain. Its failure line names that URL and the page linking it, once,
// also when the hop is read back from the store by --resume (stopped after the 6 pages of depths
// 0 and 1: /loop fetched, its target /loop2 still queued).
TEST_P(CliLinks, ALoopSeenAtALaterHopPrintsTheChainStartsLine) {
    TempDir dir("clilinks");
    BrokenSite site;
    const std::string b = site.base();
    const std::string loop_line =
        b + "/loop: redirect loop back to " + b + "/loop (" + b + "/loop2)";
    auto crawl = run_process({flagcrawl_binary(), "crawl", site.seed(), "--db", dir.file("c.db"),
                              "--strategy", GetParam(), "--retries", "0", "--progress", "never"});
    EXPECT_EQ(crawl.exit_code, 1) << crawl.err;
    EXPECT_EQ(lines_with(crawl.err, "redirect loop"), 1u) << crawl.err;
    EXPECT_EQ(line_with(crawl.err, "redirect loop"),
              "flagcrawl: " + loop_line + " (linked from " + b + "/)")
        << crawl.err;

    const std::string db = dir.file("r.db");
    crawl = run_process({flagcrawl_binary(), "crawl", site.seed(), "--db", db, "--strategy",
                         GetParam(), "--retries", "0", "--max-pages", "6", "--progress", "never"});
    EXPECT_EQ(crawl.exit_code, 1) << crawl.err; // /missing
    EXPECT_EQ(crawl.err.find("redirect loop"), std::string::npos) << crawl.err;
    auto resumed = run_process({flagcrawl_binary(), "crawl", "--resume", "--db", db, "--max-pages",
                                "0", "--progress", "never"});
    EXPECT_EQ(resumed.exit_code, 1) << resumed.err;
    EXPECT_EQ(line_with(resumed.err, "redirect loop"),
              "flagcrawl: " + loop_line + " (linked from " + b + "/)")
        << resumed.err;
}

// Another host, out of the crawl's scope (127.0.0.2): its answers by path, and every request it
// got ("HEAD /ok", "GET /nohead", ...).
class ExternalHost {
public:
    ExternalHost() {
        server::ServerOptions options;
        options.host = "127.0.0.2";
        m_server = std::make_unique<server::Server>(
            [this](const server::Request& r) { return reply(r); }, options);
        EXPECT_FALSE(m_server->start());
    }
    std::string base() const { return m_server->base_url(); }
    std::vector<std::string> requests() const {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }

private:
    server::Reply reply(const server::Request& r) {
        const std::string path(r.path);
        {
            std::lock_guard lock(m_mutex);
            m_requests.push_back(std::string(r.method) + " " + path);
        }
        if (path == "/robots.txt") {
            return server::Reply::text(200, "User-agent: *\nDisallow: /private\n");
        }
        if (path == "/ok") {
            return server::Reply::bytes(
                200, server::make_body(R"(<html><a href="/deeper">deeper</a></html>)"),
                "text/html");
        }
        if (path == "/nohead") {
            return r.is_head() ? server::Reply::text(405, "no HEAD here")
                               : server::Reply::text(200, std::string(100'000, 'x'));
        }
        if (path == "/moved") {
            return server::Reply::redirect(301, "/ok");
        }
        return server::Reply::text(404, "not here");
    }
    mutable std::mutex m_mutex;
    std::vector<std::string> m_requests;
    std::unique_ptr<server::Server> m_server;
};

// A site whose pages link another host: live, refusing HEAD, redirecting, missing, disallowed
// by its robots.txt, and a host where nothing listens.
class LinksOut {
public:
    LinksOut(const ExternalHost& external)
        : m_dead("http://127.0.0.3:" + std::to_string(closed_port()) + "/x") {
        const std::string e = external.base();
        m_home = "<a href=\"/p.html\">p</a> <a href=\"" + e + "/ok\">ok</a> <a href=\"" + e +
                 "/nohead\">nohead</a> <a href=\"" + e + "/gone\">gone</a>";
        m_page = "<a href=\"" + e + "/gone\">gone</a> <a href=\"" + e +
                 "/moved\">moved</a> <a href=\"" + e + "/private\">private</a> <a href=\"" +
                 m_dead + "\">dead</a>";
        m_server = std::make_unique<server::Server>([this](const server::Request& r) {
            const std::string path(r.path);
            if (path == "/") {
                return html(m_home);
            }
            if (path == "/p.html") {
                return html(m_page);
            }
            return server::Reply::text(404, "none");
        });
        EXPECT_FALSE(m_server->start());
    }
    std::string base() const { return m_server->base_url(); }
    std::string dead() const { return m_dead; }

private:
    static server::Reply html(const std::string& body) {
        return server::Reply::bytes(
            200, server::make_body("<html><body>" + body + "</body></html>"), "text/html");
    }
    std::string m_dead;
    std::string m_home;
    std::string m_page;
    std::unique_ptr<server::Server> m_server;
};

std::multiset<std::string> as_multiset(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
}

TEST_P(CliLinks, CheckExternalChecksEachOutOfScopeTargetOnce) {
    TempDir dir("clilinks");
    ExternalHost external;
    LinksOut site(external);
    const std::string b = site.base();
    const std::string e = external.base();

    // Without the option, the other hosts are skips: nothing is asked of them.
    auto plain = run_process({flagcrawl_binary(), "crawl", b + "/", "--db", dir.file("plain.db"),
                              "--strategy", GetParam(), "--progress", "never"});
    EXPECT_EQ(plain.exit_code, 0) << plain.err;
    EXPECT_TRUE(external.requests().empty());

    const std::string db = dir.file("c.db");
    auto crawl =
        run_process({flagcrawl_binary(), "crawl", b + "/", "--db", db, "--strategy", GetParam(),
                     "--retries", "0", "--check-external", "--progress", "never"});
    EXPECT_EQ(crawl.exit_code, 1) << crawl.err; // broken external links fail the crawl
    // HEAD; GET where HEAD was refused; robots.txt first; the redirect's target checked too;
    // nothing an external page links is fetched, nothing robots.txt disallows.
    EXPECT_EQ(as_multiset(external.requests()),
              (std::multiset<std::string>{"GET /robots.txt", "HEAD /ok", "HEAD /nohead",
                                          "GET /nohead", "HEAD /gone", "HEAD /moved"}))
        << crawl.err;
    // Pages and external checks are counted apart: 2 pages; 5 checked (ok, nohead, gone, moved,
    // the dead host: /moved's target /ok was checked already), 2 broken (gone, the dead host).
    EXPECT_NE(crawl.out.find("2 pages (2 ok,"), std::string::npos) << crawl.out;
    EXPECT_NE(crawl.out.find("5 external links checked, 2 broken"), std::string::npos) << crawl.out;
    EXPECT_NE(line_with(crawl.err, e + "/gone: HTTP 404").find(" (linked from " + b + "/)"),
              std::string::npos)
        << crawl.err;

    auto r =
        run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--format", "jsonl"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::map<std::string, nlohmann::json> by_url;
    for (const auto& link : json_lines(r.out)) {
        by_url[link["url"]] = link;
    }
    ASSERT_EQ(by_url.size(), 2u) << r.out;
    EXPECT_EQ(by_url[e + "/gone"]["status"], 404);
    EXPECT_EQ(by_url[e + "/gone"]["referrers"], nlohmann::json::array({b + "/", b + "/p.html"}));
    EXPECT_EQ(by_url[site.dead()]["error_kind"], "robots_unreachable");
    EXPECT_EQ(by_url[site.dead()]["referrers"], nlohmann::json::array({b + "/p.html"}));
    // Both are out of the crawl's scope: marked external in every format.
    EXPECT_EQ(by_url[e + "/gone"]["external"], true);
    EXPECT_EQ(by_url[site.dead()]["external"], true);
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--format", "csv"});
    EXPECT_NE(r.out.find(e + "/gone,404,http_status,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("," + b + "/p.html,true\r\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(",false\r\n"), std::string::npos) << r.out;
    r = run_process({flagcrawl_binary(), "links", "--broken", "--db", db});
    EXPECT_NE(r.out.find(e + "/gone (external)\n    HTTP 404"), std::string::npos) << r.out;

    r = run_process({flagcrawl_binary(), "stats", "--db", db, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto stats = nlohmann::json::parse(r.out);
    EXPECT_EQ(stats["external_checked"], 5) << r.out;
    EXPECT_EQ(stats["external_broken"], 2) << r.out;
    EXPECT_EQ(stats["items"], 2) << r.out;
}

// A GET sent again where HEAD was refused is a second request to the external host: it waits
// the host's delay after the HEAD's answer left the server (exact whatever the load: it cannot
// arrive sooner), instead of going out at once.
TEST_P(CliLinks, AGetSentAgainAfterARefusedHeadKeepsTheDelay) {
    TempDir dir("clilinks");
    std::mutex mutex;
    std::map<std::string, std::chrono::steady_clock::time_point> seen; // guarded by mutex
    server::ServerOptions options;
    options.host = "127.0.0.2";
    server::Server external(
        [&](const server::Request& r) {
            {
                std::lock_guard lock(mutex);
                seen.emplace(std::string(r.method) + " " + std::string(r.path),
                             std::chrono::steady_clock::now());
            }
            if (r.path == "/nohead") {
                return r.is_head() ? server::Reply::text(405, "no HEAD here")
                                   : server::Reply::text(200, "here");
            }
            return server::Reply::text(404, "none");
        },
        options);
    ASSERT_FALSE(external.start());
    const std::string link = "<a href=\"" + external.base_url() + "/nohead\">x</a>";
    server::Server site([&](const server::Request& r) {
        return r.path == "/" ? server::Reply::bytes(200, server::make_body(link), "text/html")
                             : server::Reply::text(404, "none");
    });
    ASSERT_FALSE(site.start());
    auto crawl = run_process({flagcrawl_binary(), "crawl", site.base_url() + "/", "--db",
                              dir.file("c.db"), "--strategy", GetParam(), "--check-external",
                              "--delay", "0.3", "--progress", "never"});
    EXPECT_EQ(crawl.exit_code, 0) << crawl.err;
    std::lock_guard lock(mutex);
    ASSERT_TRUE(seen.count("HEAD /nohead") && seen.count("GET /nohead")) << crawl.err;
    EXPECT_GE(seen["GET /nohead"] - seen["HEAD /nohead"], std::chrono::milliseconds(300));
}

// External checks are queued like any URL: a crawl stopped before them (--max-pages counts pages
// only, but once reached nothing more is fetched) checks them on --resume.
TEST_P(CliLinks, CheckExternalGoesOnAfterResume) {
    TempDir dir("clilinks");
    ExternalHost external;
    LinksOut site(external);
    const std::string db = dir.file("c.db");
    auto crawl =
        run_process({flagcrawl_binary(), "crawl", site.base() + "/", "--db", db, "--strategy",
                     GetParam(), "--check-external", "--max-pages", "1", "--progress", "never"});
    EXPECT_EQ(crawl.exit_code, 0) << crawl.err;
    auto resumed = run_process({flagcrawl_binary(), "crawl", "--resume", "--db", db, "--max-pages",
                                "0", "--progress", "never"});
    EXPECT_EQ(resumed.exit_code, 1) << resumed.err;
    EXPECT_NE(resumed.err.find(external.base() + "/gone: HTTP 404"), std::string::npos)
        << resumed.err;
    auto r =
        run_process({flagcrawl_binary(), "links", "--broken", "--db", db, "--format", "jsonl"});
    EXPECT_EQ(json_lines(r.out).size(), 2u) << r.out;
}

// A URL a sitemap lists names the sitemap as its referrer; an out-of-scope one is a skip even
// with --check-external (a sitemap lists its own site's pages: it is no page linking out).
TEST_P(CliLinks, SitemapUrlsNameTheirSitemapAndAreNotCheckedExternally) {
    TempDir dir("clilinks");
    ExternalHost external;
    const std::string e = external.base();
    // Set once the server's port is known. Guarded: nothing else orders this thread's write
    // before the server thread's read (the request comes from another process).
    std::mutex b_mutex;
    std::string b;
    server::Server site([&](const server::Request& r) {
        const std::string path(r.path);
        if (path == "/sitemap.xml") {
            std::lock_guard lock(b_mutex);
            return server::Reply::bytes(
                200,
                server::make_body("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
                                  "<url><loc>" +
                                  b + "/listed</loc></url><url><loc>" + b +
                                  "/gone</loc></url><url><loc>" + e + "/ok</loc></url></urlset>"),
                "application/xml");
        }
        if (path == "/" || path == "/listed") {
            return server::Reply::bytes(200, server::make_body("<html>page</html>"), "text/html");
        }
        return server::Reply::text(404, "none");
    });
    ASSERT_FALSE(site.start());
    {
        std::lock_guard lock(b_mutex);
        b = site.base_url();
    }
    auto crawl = run_process({flagcrawl_binary(), "crawl", b + "/", "--db", dir.file("c.db"),
                              "--strategy", GetParam(), "--retries", "0", "--check-external",
                              "--progress", "never", "-q"});
    EXPECT_EQ(crawl.exit_code, 1) << crawl.err;
    EXPECT_NE(
        line_with(crawl.err, b + "/gone: HTTP 404").find(" (linked from " + b + "/sitemap.xml)"),
        std::string::npos)
        << crawl.err;
    EXPECT_EQ(crawl.err.find("/listed"), std::string::npos) << crawl.err;
    EXPECT_TRUE(external.requests().empty());
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
    // External checks are not offered in a shared crawl: refused before anything is opened.
    r = run_process({flagcrawl_binary(), "crawl", "http://127.0.0.1:9/", "--check-external",
                     "--frontier", "postgresql://nobody@127.0.0.1:9/none", "--crawl-name", "x",
                     "--db", dir.file("shared.db")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--check-external"), std::string::npos) << r.err;

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
