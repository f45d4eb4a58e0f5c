// One crawl, one set of counts: the requests the server answered, runs.requests, the crawl's
// JSON summary and `stats --json` agree, and so do the summary's and stats's outcome counts,
// on a site that answers 429 and 503 (deferred by the frontier), 500 and a reset connection
// (retried by the fetch), a 404, a body reset every time, a connection closed
// without a reply every time (libcurl re-sends such a request once on a new connection), and
// robots.txt rules that refuse a seed and a linked page. Under all three strategies.
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/server.hpp"
#include "storage/reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <mutex>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

// Answers by path and by how many times that path was asked for (from 1).
class TroubleSite {
public:
    TroubleSite() {
        m_server = std::make_unique<server::Server>([this](const server::Request& r) {
            int n = 0;
            {
                std::lock_guard lock(m_mutex);
                n = ++m_hits[std::string(r.path)];
            }
            return reply(r.path, n);
        });
        EXPECT_FALSE(m_server->start());
    }
    std::string seed() const { return m_server->base_url() + "/index.html"; }
    std::string disallowed_seed() const { return m_server->base_url() + "/private/seed.html"; }
    std::uint64_t requests() const { return m_server->stats().requests; }

private:
    static server::Reply reply(std::string_view path, int n) {
        if (path == "/robots.txt") {
            return server::Reply::text(200, "User-agent: *\nDisallow: /private\n");
        }
        if (path == "/index.html") {
            return server::Reply::bytes(
                200,
                server::make_body("<a href=/a.html>a</a><a href=/b.html>b</a>"
                                  "<a href=/c.html>c</a><a href=/r.html>r</a>"
                                  "<a href=/private/x.html>x</a><a href=/missing.html>m</a>"
                                  "<a href=/broken.html>b</a><a href=/silent.html>s</a>"),
                "text/html");
        }
        if (path == "/a.html" && n <= 2) { // deferred twice
            return server::Reply::text(429, "slow down").with_header("Retry-After", "0");
        }
        if (path == "/b.html" && n == 1) { // deferred once
            return server::Reply::text(503, "busy").with_header("Retry-After", "0");
        }
        if (path == "/c.html" && n == 1) { // retried by the fetch
            return server::Reply::text(500, "oops");
        }
        if (path == "/r.html" && n == 1) { // retried by the fetch
            server::Reply reset = server::Reply::text(200, std::string(4000, 'r'));
            reset.fault = server::Fault::reset_mid_body;
            return reset;
        }
        if (path == "/silent.html") { // libcurl re-sends it on a new connection when reused
            server::Reply silent = server::Reply::text(200, "never");
            silent.fault = server::Fault::close_without_reply;
            return silent;
        }
        if (path == "/broken.html") { // an error after every retry
            server::Reply broken = server::Reply::text(200, std::string(4000, 'b'));
            broken.fault = server::Fault::reset_mid_body;
            return broken;
        }
        if (path == "/missing.html" || path.starts_with("/private")) {
            return server::Reply::text(404, "none");
        }
        return server::Reply::bytes(200, server::make_body("<title>t</title>"), "text/html");
    }

    std::mutex m_mutex;
    std::map<std::string, int, std::less<>> m_hits;
    std::unique_ptr<server::Server> m_server;
};

nlohmann::json parse_json(const std::string& text) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << text;
    return json;
}

std::int64_t runs_requests(const std::string& db) {
    auto reader = storage::Reader::open(db);
    EXPECT_TRUE(reader);
    if (!reader) {
        return -1;
    }
    auto requests = reader->database().query_int("SELECT requests FROM runs ORDER BY id DESC");
    return requests ? *requests : -1;
}

class CrawlCounts : public ::testing::TestWithParam<const char*> {};

TEST_P(CrawlCounts, ServerRunsSummaryAndStatsAgree) {
    TempDir dir("clicounts");
    const auto db = dir.file("c.db");
    TroubleSite site;
    auto crawl =
        run_process({flagcrawl_binary(), "crawl", site.seed(), site.disallowed_seed(), "--db", db,
                     "--strategy", GetParam(), "--retries", "2", "--json", "--progress", "never"});
    ASSERT_EQ(crawl.exit_code, 1) << crawl.err; // some URLs failed
    const auto summary = parse_json(crawl.out);
    auto stats = run_process({flagcrawl_binary(), "stats", "--db", db, "--json"});
    ASSERT_EQ(stats.exit_code, 0) << stats.err;
    const auto report = parse_json(stats.out);

    // robots.txt 1, index 1, a 3, b 2, c 2, r 2, missing 1, broken 3, silent 3 and libcurl's
    // re-sends of it (no /private request).
    const std::uint64_t sent = site.requests();
    EXPECT_GE(sent, 18U);
    EXPECT_EQ(summary.value("requests", std::uint64_t{0}), sent) << crawl.out;
    EXPECT_EQ(runs_requests(db), static_cast<std::int64_t>(sent));
    EXPECT_EQ(report.value("requests", std::uint64_t{0}), sent) << stats.out;

    for (const char* field : {"ok", "redirects", "not_found", "errors", "disallowed", "bytes"}) {
        EXPECT_EQ(summary.value(field, std::uint64_t{0}), report.value(field, std::uint64_t{0}))
            << field << "\n"
            << crawl.out << "\n"
            << stats.out;
    }
    EXPECT_GE(summary.value("disallowed", 0), 1) << crawl.out; // the seed at least
    EXPECT_EQ(summary.value("not_found", 0), 1) << crawl.out;
    EXPECT_EQ(summary.value("errors", 0), 2) << crawl.out; // broken.html, silent.html
    EXPECT_EQ(summary.value("deferred", 0), 3) << crawl.out;
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlCounts,
                         ::testing::Values("sequential", "threaded", "async"),
                         [](const auto& param_info) { return std::string(param_info.param); });

} // namespace
