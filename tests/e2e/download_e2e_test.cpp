// The project's core guarantee: the three strategies, run by the download job over the same
// table of served routes, produce the same outcomes, the same records and byte-identical files.
#include "file_contents.hpp"
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
#include <random>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace flagcrawl;
using fetch::Outcome;
using Kind = fetch::FailureKind;
using testing_support::read_folder;
using testing_support::TempDir;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (char& c : s)
        c = static_cast<char>(rng());
    return s;
}

// What each route must end as, whatever the strategy.
struct Expected {
    Outcome outcome;
    int http_status;         // 0: no response
    std::string reason_part; // a substring of the recorded reason ("" when ok)
    const std::string* body; // the file's expected content when ok
    std::optional<fetch::FailureKind> kind = std::nullopt; // reported and stored unless ok
};

class DownloadE2E : public testing::TestWithParam<fetch::Strategy> {
protected:
    void SetUp() override {
        fs::create_directories(m_dir.path() / "out");

        auto bytes = [&](int status, const std::string& body) {
            return server::Reply::bytes(status, server::make_body(body),
                                        "application/octet-stream");
        };
        m_router.add("/files/small.bin", bytes(200, m_small));
        m_router.add("/files/empty.bin", bytes(200, ""));
        m_router.add("/files/large.bin", bytes(200, m_large));
        m_router.add("/dup/small.bin", bytes(200, m_other)); // same file name as /files/small.bin
        m_router.add("/missing.gif", server::Reply::text(404, "no such flag"));
        m_router.add("/teapot.gif", server::Reply::text(418, "I'm a teapot"));
        m_router.add("/flaky.bin", [this](const server::Request&) {
            return m_flaky_hits++ == 0 ? server::Reply::text(500, "oops")
                                       : server::Reply::bytes(200, server::make_body(m_small),
                                                              "application/octet-stream");
        });
        m_router.add("/redirect/1", server::Reply::redirect(302, "/redirect/2"));
        m_router.add("/slow.bin", [this](const server::Request&) {
            auto reply = server::Reply::bytes(200, server::make_body(m_small), "text/plain");
            reply.delay = 5s; // well past the policy's 400 ms total timeout
            return reply;
        });
        m_router.add("/huge.bin", bytes(200, std::string(3 << 20, 'x'))); // over the 1 MiB limit
        m_router.add("/reset.bin", [this](const server::Request&) {
            auto reply = server::Reply::bytes(200, server::make_body(m_large), "text/plain");
            reply.fault = server::Fault::reset_mid_body;
            return reply;
        });
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        m_base = m_server->base_url();
        // The absolute redirect needs the port, known only now.
        m_router.add("/redirect/2", server::Reply::redirect(301, m_base + "/redirect/3"));
        m_router.add("/redirect/3", bytes(200, m_other));

        m_expected = {
            {"/files/small.bin", {Outcome::ok, 200, "", &m_small}},
            {"/files/empty.bin", {Outcome::ok, 200, "", &m_empty}},
            {"/files/large.bin", {Outcome::ok, 200, "", &m_large}},
            {"/dup/small.bin", {Outcome::ok, 200, "", &m_other}},
            {"/missing.gif",
             {Outcome::not_found, 404, "HTTP 404 Not Found", nullptr, Kind::http_status}},
            {"/teapot.gif", {Outcome::error, 418, "HTTP 418", nullptr, Kind::http_status}},
            {"/flaky.bin", {Outcome::ok, 200, "", &m_small}},
            {"/redirect/1", {Outcome::ok, 200, "", &m_other}},
            {"/slow.bin", {Outcome::error, 0, "", nullptr, Kind::timeout}},
            {"/huge.bin", {Outcome::error, 200, "", nullptr, Kind::too_large}},
            {"/reset.bin", {Outcome::error, 200, "", nullptr, Kind::reset}},
        };
    }
    void TearDown() override { m_server.reset(); }

    fetch::Policy policy() const {
        fetch::Policy p;
        p.connect_timeout = 1000ms;
        p.total_timeout = 400ms;
        p.retries = 2;
        p.backoff_base = 5ms;
        p.backoff_max = 20ms;
        p.max_body_bytes = 1 << 20;
        return p;
    }

    std::string m_small = random_bytes(3000, 1);
    std::string m_large = random_bytes(700'000, 2);
    std::string m_other = random_bytes(1234, 3);
    std::string m_empty;
    std::atomic<int> m_flaky_hits{0};
    server::Router m_router;
    std::unique_ptr<server::Server> m_server;
    std::string m_base;
    TempDir m_dir{"e2e"};
    std::map<std::string, Expected> m_expected;
};

TEST_P(DownloadE2E, SameOutcomesRecordsAndFilesForEveryStrategy) {
    std::vector<crawler::ListLine> urls;
    for (const auto& [path, expected] : m_expected)
        urls.push_back({.url = m_base + path});
    urls.push_back({.url = m_base + "/files/small.bin"}); // a repeat: fetched once

    const std::string db = m_dir.file("run.db");
    auto writer = storage::Writer::open(db);
    ASSERT_TRUE(writer) << writer.error().message;
    auto run_id = writer->begin_run(
        {.command = "download", .arguments = "", .strategy = "x", .concurrency = 4});
    ASSERT_TRUE(run_id);

    std::map<std::string, crawler::ItemReport> reports;
    std::map<std::string, std::string> reasons;
    crawler::Recorder recorder(&*writer, *run_id, [&](const crawler::ItemReport& item) {
        std::string path(item.url.substr(m_base.size()));
        reports[path] = item;
        reasons[path] = std::string(item.reason);
    });
    crawler::DownloadJob job(std::move(urls), nullptr, m_dir.path() / "out", recorder);

    auto fetcher = fetch::make_fetcher(GetParam(), policy(), 4);
    fetcher->run(job, job);
    EXPECT_EQ(job.duplicates(), 1u);
    ASSERT_TRUE(writer->finish_run(*run_id, recorder.totals(), storage::RunStatus::finished));
    ASSERT_TRUE(writer->close());

    // Outcomes.
    ASSERT_EQ(reports.size(), m_expected.size());
    for (const auto& [path, expected] : m_expected) {
        SCOPED_TRACE(path);
        const auto& got = reports.at(path);
        EXPECT_EQ(got.outcome, expected.outcome) << reasons[path];
        EXPECT_EQ(got.http_status, expected.http_status);
        EXPECT_NE(reasons[path].find(expected.reason_part), std::string::npos) << reasons[path];
        EXPECT_EQ(got.kind, expected.kind) << reasons[path];
    }
    EXPECT_EQ(reports.at("/flaky.bin").attempts, 2);
    EXPECT_EQ(reports.at("/missing.gif").attempts, 1) << "a 404 is not retried";
    EXPECT_EQ(reports.at("/teapot.gif").attempts, 1) << "a 418 is not retried";
    EXPECT_EQ(reports.at("/reset.bin").attempts, 3) << "a reset mid-body is retried";
    EXPECT_EQ(m_router.count("/reset.bin"), 3u);

    // Files: exactly the ok ones, byte-identical, no temporary file left.
    auto files = read_folder(m_dir.path() / "out");
    // Names follow input order: "/dup/small.bin" comes first, so it keeps "small.bin".
    std::map<std::string, std::string> expected_files = {
        {"small.bin", m_other},   {"empty.bin", ""},      {"large.bin", m_large},
        {"small.1.bin", m_small}, {"flaky.bin", m_small}, {"1", m_other},
    };
    EXPECT_EQ(files.size(), expected_files.size());
    for (const auto& [name, body] : expected_files) {
        ASSERT_TRUE(files.count(name)) << name;
        EXPECT_TRUE(files[name] == body) << name << " differs";
    }

    // Records: one row per item, NULL status when there was no response.
    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader) << reader.error().message;
    std::map<std::string, storage::DownloadRecord> rows;
    auto read = reader->for_each_download(*run_id, [&](const storage::DownloadRecord& row) {
        rows[row.url.substr(m_base.size())] = row;
        return true;
    });
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(rows.size(), m_expected.size());
    for (const auto& [path, expected] : m_expected) {
        SCOPED_TRACE(path);
        const auto& row = rows.at(path);
        EXPECT_EQ(row.http_status.value_or(0), expected.http_status);
        EXPECT_EQ(row.error.has_value(), expected.outcome != Outcome::ok);
        EXPECT_EQ(row.path.has_value(), expected.outcome == Outcome::ok);
        EXPECT_EQ(row.sha256.has_value(), expected.outcome == Outcome::ok);
        EXPECT_EQ(row.error_kind, expected.kind
                                      ? std::optional<std::string>(fetch::code(*expected.kind))
                                      : std::nullopt);
    }
    EXPECT_EQ(rows.at("/redirect/1").final_url, m_base + "/redirect/3");
    EXPECT_FALSE(rows.at("/slow.bin").http_status.has_value());
}

INSTANTIATE_TEST_SUITE_P(Strategies, DownloadE2E,
                         testing::Values(fetch::Strategy::sequential, fetch::Strategy::threaded,
                                         fetch::Strategy::async),
                         [](const auto& param) {
                             return std::string(fetch::to_string(param.param));
                         });

} // namespace
