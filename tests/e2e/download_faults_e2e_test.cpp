// The failure kinds a user sees, one served fault each (issue 9's fault classes): the download
// job over a table of hostile routes, under each strategy, must report and store every URL's
// kind (fetch::FailureKind, the error_kind column). Short limits keep it fast.
#include "closed_port.hpp"
#include "gzip.hpp"
#include "temp_dir.hpp"

#include "crawler/jobs/download_job.hpp"
#include "fetch/fetch.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace flagcrawl;
using Kind = fetch::FailureKind;
using testing_support::closed_port;
using testing_support::TempDir;

namespace {

class DownloadFaults : public testing::TestWithParam<fetch::Strategy> {
protected:
    void SetUp() override {
        fs::create_directories(m_dir.path() / "out" / "taken.bin"); // a folder where a file goes
        using server::Reply;
        auto body = [](std::size_t n) { return server::make_body(std::string(n, 'b')); };
        auto with_fault = [&](server::Fault fault) {
            Reply reply = Reply::bytes(200, body(20'000), "application/octet-stream");
            reply.fault = fault;
            return reply;
        };
        m_router.add("/ok.bin", Reply::bytes(200, body(100), "application/octet-stream"));
        m_router.add("/missing.bin", Reply::text(404, "no\n"));
        Reply slow = Reply::text(200, "late\n");
        slow.delay = 5s;
        m_router.add("/slow.bin", slow);
        Reply drip = Reply::bytes(200, body(1000), "application/octet-stream");
        drip.drip = {1, 300ms}; // ~3 B/s, far under the policy's 1000 B/s
        m_router.add("/drip.bin", drip);
        drip.framing = server::Framing::until_close; // no length: only the stall guard can tell
        m_router.add("/drip-close.bin", drip);
        m_router.add("/big.bin", Reply::bytes(200, body(300'000), "application/octet-stream"));
        m_router.add(
            "/bomb.bin",
            Reply::bytes(200, server::make_body(testing_support::gzip(std::string(8 << 20, '\0'))),
                         "application/octet-stream")
                .with_header("Content-Encoding", "gzip"));
        m_router.add("/garbled.bin",
                     Reply::bytes(200, body(5000), "application/octet-stream")
                         .with_header("Content-Encoding", "gzip")); // not gzip at all
        m_router.add_prefix("/hop/", [](const server::Request& request) {
            const int n = std::stoi(std::string(request.path.substr(5)));
            return Reply::redirect(302, "/hop/" + std::to_string(n + 1));
        });
        m_router.add("/loop.bin", Reply::redirect(302, "/loop.bin"));
        m_router.add("/to-file.bin", Reply::redirect(302, "file:///etc/passwd"));
        m_router.add("/reset.bin", with_fault(server::Fault::reset_mid_body));
        m_router.add("/short.bin", with_fault(server::Fault::close_mid_body));
        m_router.add("/empty.bin", with_fault(server::Fault::close_without_reply));
        m_router.add("/http09.bin", with_fault(server::Fault::no_status_line));
        m_router.add("/taken.bin", Reply::bytes(200, body(10), "application/octet-stream"));
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        const std::string base = m_server->base_url();
        const std::string https =
            "https://127.0.0.1:" + std::to_string(m_server->port()) + "/tls.bin";
        m_expected = {
            {base + "/ok.bin", std::nullopt},
            {base + "/missing.bin", Kind::http_status},
            {"http://127.0.0.1:" + std::to_string(closed_port()) + "/x.bin", Kind::connect},
            {base + "/slow.bin", Kind::timeout},
            {base + "/drip.bin", Kind::timeout},
            {base + "/drip-close.bin", Kind::timeout},
            {base + "/big.bin", Kind::too_large},
            {base + "/bomb.bin", Kind::too_large_decoded},
            {base + "/garbled.bin", Kind::protocol},
            {base + "/hop/1", Kind::too_many_redirects},
            {base + "/loop.bin", Kind::redirect_loop},
            {base + "/to-file.bin", Kind::disallowed_scheme},
            {base + "/reset.bin", Kind::reset},
            {base + "/short.bin", Kind::partial_body},
            {base + "/empty.bin", Kind::empty_reply},
            {base + "/http09.bin", Kind::not_http},
            {https, Kind::tls},
            {base + "/taken.bin", Kind::write_failed},
            {"http://[::1/x", Kind::invalid_url},
            {"ftp://127.0.0.1/x.bin", Kind::disallowed_scheme},
        };
    }
    void TearDown() override { m_server.reset(); }

    fetch::Policy policy() const {
        fetch::Policy p;
        // The whole bound: the https:// row's connect phase holds the TLS handshake, which loads
        // the CA bundle and under a sanitizer on a loaded machine can pass 1 s; a connect timeout
        // there is retried and the server then counts a second handshake. No row needs a connect
        // timeout (the closed port refuses at once).
        p.connect_timeout = 3000ms;
        p.total_timeout = 3000ms; // above the stall window: the drip must stall
        p.low_speed_bytes_per_s = 1000;
        p.low_speed_window = 1000ms;
        p.retries = 1;
        p.backoff_base = 5ms;
        p.backoff_max = 10ms;
        p.max_redirects = 3;
        p.max_body_bytes = 100'000;
        return p;
    }

    server::Router m_router;
    std::unique_ptr<server::Server> m_server;
    TempDir m_dir{"faults"};
    std::map<std::string, std::optional<Kind>> m_expected; // by URL as given
};

TEST_P(DownloadFaults, EachFaultIsReportedAndStoredWithItsKind) {
    // The slow routes first, so that they overlap under the concurrent strategies.
    std::vector<std::string> urls;
    for (const auto& [url, kind] : m_expected)
        if (url.find("slow") != std::string::npos || url.find("drip") != std::string::npos)
            urls.push_back(url);
    for (const auto& [url, kind] : m_expected)
        if (url.find("slow") == std::string::npos && url.find("drip") == std::string::npos)
            urls.push_back(url);

    const std::string db = m_dir.file("faults.db");
    auto writer = storage::Writer::open(db);
    ASSERT_TRUE(writer) << writer.error().message;
    auto run_id = writer->begin_run(
        {.command = "download", .arguments = "", .strategy = "x", .concurrency = 8});
    ASSERT_TRUE(run_id);
    std::map<std::string, crawler::ItemReport> reports;
    std::map<std::string, std::string> reasons;
    crawler::Recorder recorder(&*writer, *run_id, [&](const crawler::ItemReport& item) {
        reports[std::string(item.url)] = item;
        reasons[std::string(item.url)] = std::string(item.reason);
    });
    std::vector<crawler::ListLine> lines;
    for (const std::string& url : urls)
        lines.push_back({.url = url});
    crawler::DownloadJob job(std::move(lines), nullptr, m_dir.path() / "out", recorder);
    auto fetcher = fetch::make_fetcher(GetParam(), policy(), 8);
    fetcher->run(job, job);
    ASSERT_TRUE(writer->finish_run(*run_id, recorder.totals(), storage::RunStatus::finished));
    ASSERT_TRUE(writer->close());

    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader) << reader.error().message;
    std::map<std::string, std::optional<std::string>> stored;
    ASSERT_TRUE(reader->for_each_download(*run_id, [&](const storage::DownloadRecord& row) {
        stored[row.url] = row.error_kind;
        return true;
    }));

    ASSERT_EQ(reports.size(), m_expected.size());
    ASSERT_EQ(stored.size(), m_expected.size());
    for (const auto& [url, kind] : m_expected) {
        SCOPED_TRACE(url);
        ASSERT_TRUE(reports.count(url));
        EXPECT_EQ(reports.at(url).kind, kind) << reasons[url];
        EXPECT_EQ(stored.at(url),
                  kind ? std::optional<std::string>(fetch::code(*kind)) : std::nullopt);
    }
    // A failed item leaves nothing under its final name (the drip, the partial and the bomb
    // included); the folder where taken.bin would go is untouched.
    for (const auto& [url, kind] : m_expected) {
        if (!kind || *kind == Kind::write_failed)
            continue;
        const fs::path name = m_dir.path() / "out" / fs::path(url).filename();
        EXPECT_FALSE(fs::exists(name)) << url;
    }
    EXPECT_TRUE(fs::is_regular_file(m_dir.path() / "out" / "ok.bin"));
    EXPECT_TRUE(fs::is_directory(m_dir.path() / "out" / "taken.bin"));
    // The run's request count is what the server answered: retries, redirect hops and
    // re-sends included. The server also answered the TLS handshake (400, bad request), which
    // was never an HTTP request.
    EXPECT_EQ(recorder.totals().requests + 1, m_server->stats().requests);
    // The announced size alone refused the big body: nothing of it was read.
    EXPECT_EQ(reports.at(m_server->base_url() + "/big.bin").bytes, 0u);
    EXPECT_NE(reasons.at(m_server->base_url() + "/drip.bin").find("stalled"), std::string::npos)
        << reasons.at(m_server->base_url() + "/drip.bin");
    // A loop costs one request, not max_redirects.
    EXPECT_EQ(m_router.count("/loop.bin"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Strategies, DownloadFaults,
                         testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                         fetch::Strategy::async),
                         [](const auto& param) {
                             return std::string(fetch::to_string(param.param));
                         });

} // namespace
