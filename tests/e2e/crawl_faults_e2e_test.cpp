// The crawl side of issue 9's fault classes: one page links to a table of hostile routes (and to
// a second host whose robots.txt fails), and under each strategy the crawl must store every URL's
// failure kind (the error_kind column), count it once in the summary and end on its own. The
// download side is download_faults_e2e_test.cpp. Short limits keep it fast.
#include "crawl_runner.hpp"
#include "gzip.hpp"
#include "temp_dir.hpp"

#include "server/router.hpp"
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace flagcrawl;
using namespace std::chrono_literals;
using Kind = fetch::FailureKind;
using testing_support::query_map;
using testing_support::run_crawl;
using testing_support::TempDir;

namespace {

class CrawlFaults : public ::testing::TestWithParam<fetch::Strategy> {
protected:
    void SetUp() override {
        using server::Reply;
        auto body = [](std::size_t n) { return server::make_body(std::string(n, 'b')); };
        auto with_fault = [&](server::Fault fault) {
            Reply reply = Reply::bytes(200, body(20'000), "application/octet-stream");
            reply.fault = fault;
            return reply;
        };
        m_router.add("/robots.txt", Reply::text(404, "none"));
        m_router.add("/ok", Reply::text(200, "fine\n"));
        m_router.add("/missing", Reply::text(404, "no\n"));
        Reply never = Reply::text(200, "late\n");
        never.delay = 5s; // never answers within the timeout
        m_router.add("/never", never);
        Reply drip = Reply::bytes(200, body(1000), "application/octet-stream");
        drip.drip = {1, 300ms}; // ~3 B/s, far under the policy's 1000 B/s
        m_router.add("/drip", drip);
        m_router.add("/big", Reply::bytes(200, body(300'000), "application/octet-stream"));
        m_router.add(
            "/bomb",
            Reply::bytes(200, server::make_body(testing_support::gzip(std::string(8 << 20, '\0'))),
                         "text/html")
                .with_header("Content-Encoding", "gzip"));
        m_router.add(
            "/garbled",
            Reply::bytes(200, body(5000), "text/html").with_header("Content-Encoding", "gzip"));
        m_router.add_prefix("/hop/", [](const server::Request& request) {
            const int n = std::stoi(std::string(request.path.substr(5)));
            return Reply::redirect(302, "/hop/" + std::to_string(n + 1));
        });
        m_router.add("/loop", Reply::redirect(302, "/loop"));
        m_router.add("/to-file", Reply::redirect(302, "file:///etc/passwd"));
        m_router.add("/reset", with_fault(server::Fault::reset_mid_body));
        m_router.add("/short", with_fault(server::Fault::close_mid_body));
        m_router.add("/empty", with_fault(server::Fault::close_without_reply));
        m_router.add("/http09", with_fault(server::Fault::no_status_line));
        m_router.add("/busy429", Reply::text(429, "later\n").with_header("Retry-After", "1"));
        m_router.add("/busy503", Reply::text(503, "later\n").with_header("Retry-After", "1"));
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        // A second host (same address, another port: in the host scope) whose robots.txt fails.
        m_down_router.add("/robots.txt", Reply::text(503, "down\n"));
        m_down_router.add("/x", Reply::text(200, "never fetched\n"));
        m_down = std::make_unique<server::Server>(m_down_router.handler());
        ASSERT_FALSE(m_down->start());

        const std::string base = m_server->base_url();
        m_expected = {
            {base + "/ok", std::nullopt},
            {base + "/missing", Kind::http_status},
            {base + "/never", Kind::timeout},
            {base + "/drip", Kind::timeout},
            {base + "/big", Kind::too_large},
            {base + "/bomb", Kind::too_large_decoded},
            {base + "/garbled", Kind::protocol},
            {base + "/hop/1", Kind::too_many_redirects},
            {base + "/loop", Kind::redirect_loop},
            {base + "/to-file", Kind::disallowed_scheme},
            {base + "/reset", Kind::reset},
            {base + "/short", Kind::partial_body},
            {base + "/empty", Kind::empty_reply},
            {base + "/http09", Kind::not_http},
            {base + "/busy429", Kind::throttled},
            {base + "/busy503", Kind::throttled},
            {m_down->base_url() + "/x", Kind::robots_unreachable},
        };
        std::string links;
        for (const auto& [url, kind] : m_expected) {
            links += "<a href='" + url + "'>x</a>\n";
        }
        m_router.add("/", Reply::bytes(200, server::make_body(links), "text/html"));
    }

    crawler::CrawlStart start(const std::string& db) const {
        crawler::CrawlStart s;
        s.settings.seeds = {m_server->base_url() + "/"};
        s.settings.concurrency = 8;
        s.settings.per_host = 8;
        s.settings.max_redirects = 3;
        fetch::Policy& p = s.settings.policy;
        p.connect_timeout = 1000ms;
        p.total_timeout = 3000ms; // above the stall window: the drip must stall
        p.low_speed_bytes_per_s = 1000;
        p.low_speed_window = 1000ms;
        p.retries = 1;
        p.backoff_max = 10ms;
        p.max_body_bytes = 100'000;
        s.frontier.politeness.max_deferrals = 1;
        s.frontier.politeness.retry_after_max = 50ms;
        s.frontier.politeness.robots_retry = {20ms, 20ms};
        s.db = m_dir.file(db);
        s.parse_threads = 2;
        return s;
    }

    TempDir m_dir{"crawl-faults"};
    server::Router m_router;
    server::Router m_down_router;
    std::unique_ptr<server::Server> m_server;
    std::unique_ptr<server::Server> m_down;
    std::map<std::string, std::optional<Kind>> m_expected; // by URL
};

TEST_P(CrawlFaults, EachFaultIsStoredWithItsKindOnTheUrlThatFailed) {
    auto run = run_crawl(GetParam(), start("faults.db"));
    ASSERT_TRUE(run);
    EXPECT_EQ(run->report.reason, crawler::StopReason::frontier_exhausted);
    const std::string db = m_dir.file("faults.db");
    const auto stored = query_map(db, "SELECT url, coalesce(error_kind, '-') FROM pages WHERE "
                                      "kind = 'page' AND url != '" +
                                          m_server->base_url() + "/'");
    for (const auto& [url, kind] : m_expected) {
        SCOPED_TRACE(url);
        ASSERT_TRUE(stored.contains(url));
        EXPECT_EQ(stored.at(url), kind ? std::string(fetch::code(*kind)) : "-")
            << query_map(db, "SELECT url, error FROM pages WHERE url = '" + url + "'")[url];
    }
    // The hops of the chains stay redirects; nothing else was recorded.
    for (const auto& [url, kind] : stored) {
        if (!m_expected.contains(url)) {
            EXPECT_NE(url.find("/hop/"), std::string::npos) << url;
            EXPECT_EQ(kind, "-") << url;
        }
    }
    EXPECT_EQ(m_down_router.count("/x"), 0u);
    EXPECT_EQ(m_router.count("/loop"), 1u); // a loop costs one request
    EXPECT_EQ(run->report.totals.errors + run->report.totals.not_found, m_expected.size() - 1);
    testing_support::expect_counts_agree(db, run->report, run->run_id);
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlFaults,
                         ::testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                           fetch::Strategy::async),
                         [](const auto& param_info) {
                             return std::string(fetch::to_string(param_info.param));
                         });

} // namespace
