// The single writer: runs and downloads through the queue, NULL handling, flush semantics,
// backpressure with a tiny queue, concurrent producers, failures. Real SQLite files in a temp
// folder.
#include "storage/reader.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace flagcrawl::storage;

namespace {

class TempDir {
public:
    TempDir() {
        std::random_device random;
        m_path = fs::temp_directory_path() /
                 ("flagcrawl-storage-" + std::to_string(random()) + std::to_string(random()));
        fs::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(m_path, ignored);
    }
    std::string file(const std::string& name) const { return (m_path / name).string(); }

private:
    fs::path m_path;
};

RunInfo download_run() {
    RunInfo info;
    info.command = "download";
    info.arguments = "flagcrawl download -i urls.txt -c 8";
    info.strategy = "async";
    info.concurrency = 8;
    return info;
}

DownloadRecord ok_download(std::int64_t run_id, int n) {
    DownloadRecord d;
    d.run_id = run_id;
    d.url = "http://127.0.0.1:8080/flags/" + std::to_string(n) + ".gif";
    d.final_url = d.url;
    d.http_status = 200;
    d.bytes = 1000 + static_cast<std::uint64_t>(n);
    d.path = "out/" + std::to_string(n) + ".gif";
    d.sha256 = std::string(64, 'a');
    d.elapsed_ms = 1.5;
    d.attempts = 1;
    d.dns_ms = 0.01;
    d.connect_ms = 0.05;
    d.ttfb_ms = 0.9;
    return d;
}

std::int64_t count_downloads(const std::string& path, std::optional<std::int64_t> run_id = {}) {
    auto reader = Reader::open(path);
    EXPECT_TRUE(reader) << (reader ? "" : reader.error().message);
    std::int64_t n = 0;
    auto r = reader->for_each_download(run_id, [&](const DownloadRecord&) {
        ++n;
        return true;
    });
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return n;
}

TEST(StorageWriter, BeginAndFinishRun) {
    TempDir dir;
    const auto path = dir.file("runs.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer) << writer.error().message;
    RunInfo info = download_run();
    info.started_at = *parse_time("2026-11-22T04:11:47.123Z");
    auto id = writer->begin_run(info);
    ASSERT_TRUE(id) << id.error().message;

    // Visible to a reader as soon as begin_run() returns: it is committed.
    {
        auto reader = Reader::open(path);
        ASSERT_TRUE(reader) << reader.error().message;
        auto run = reader->find_run(*id);
        ASSERT_TRUE(run && *run);
        EXPECT_EQ((*run)->status, RunStatus::running);
        EXPECT_FALSE((*run)->finished_at);
        EXPECT_EQ((*run)->info.command, "download");
        EXPECT_EQ((*run)->info.arguments, info.arguments);
        EXPECT_EQ((*run)->info.strategy, "async");
        EXPECT_EQ((*run)->info.concurrency, 8);
        EXPECT_EQ(format_time((*run)->info.started_at), "2026-11-22T04:11:47.123Z");
    }

    RunTotals totals{.ok = 5, .not_found = 2, .errors = 1, .bytes = 12345, .requests = 9};
    const TimePoint finished = *parse_time("2026-11-22T04:12:00.007Z");
    ASSERT_TRUE(writer->finish_run(*id, totals, RunStatus::finished, finished));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    auto run = reader->find_run(*id);
    ASSERT_TRUE(run && *run);
    EXPECT_EQ((*run)->status, RunStatus::finished);
    ASSERT_TRUE((*run)->finished_at);
    EXPECT_EQ(format_time(*(*run)->finished_at), "2026-11-22T04:12:00.007Z");
    EXPECT_EQ((*run)->totals.ok, 5u);
    EXPECT_EQ((*run)->totals.not_found, 2u);
    EXPECT_EQ((*run)->totals.errors, 1u);
    EXPECT_EQ((*run)->totals.bytes, 12345u);
    EXPECT_EQ((*run)->totals.requests, 9u);
    auto missing = reader->find_run(*id + 100);
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TEST(StorageWriter, ManyDownloadsCountedAfterClose) {
    TempDir dir;
    const auto path = dir.file("many.db");
    WriterOptions options;
    options.batch_records = 100; // several batches
    auto writer = Writer::open(path, options);
    ASSERT_TRUE(writer) << writer.error().message;
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);
    constexpr int k_rows = 5000;
    for (int i = 0; i < k_rows; ++i) {
        ASSERT_TRUE(writer->submit(ok_download(*run, i)));
    }
    ASSERT_TRUE(writer->close());
    const WriterStats stats = writer->stats();
    EXPECT_EQ(stats.submitted, static_cast<std::uint64_t>(k_rows));
    EXPECT_EQ(stats.committed, static_cast<std::uint64_t>(k_rows));
    EXPECT_GE(stats.transactions, static_cast<std::uint64_t>(k_rows / 100));
    EXPECT_EQ(count_downloads(path, *run), k_rows);

    // Every field round-trips, in submission order.
    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    int next = 0;
    ASSERT_TRUE(reader->for_each_download(*run, [&](const DownloadRecord& d) {
        const DownloadRecord want = ok_download(*run, next++);
        EXPECT_EQ(d.url, want.url);
        EXPECT_EQ(d.final_url, want.final_url);
        EXPECT_EQ(d.http_status, 200);
        EXPECT_EQ(d.bytes, want.bytes);
        EXPECT_EQ(d.path, want.path);
        EXPECT_EQ(d.sha256, want.sha256);
        EXPECT_DOUBLE_EQ(d.elapsed_ms, 1.5);
        EXPECT_EQ(d.attempts, 1);
        EXPECT_FALSE(d.error);
        EXPECT_EQ(d.dns_ms, 0.01);
        EXPECT_EQ(d.connect_ms, 0.05);
        EXPECT_EQ(d.ttfb_ms, 0.9);
        return true;
    }));
    EXPECT_EQ(next, k_rows);
}

TEST(StorageWriter, NullHandling) {
    TempDir dir;
    const auto path = dir.file("nulls.db");
    auto writer = Writer::open(path);
    ASSERT_TRUE(writer);
    auto run = writer->begin_run(download_run());
    ASSERT_TRUE(run);

    DownloadRecord refused; // no response at all
    refused.run_id = *run;
    refused.url = "http://127.0.0.1:1/refused";
    refused.elapsed_ms = 0.2;
    refused.attempts = 3;
    refused.error = "connect: Connection refused";
    ASSERT_TRUE(writer->submit(refused));

    DownloadRecord not_found = ok_download(*run, 1); // a response, but no file
    not_found.http_status = 404;
    not_found.path.reset();
    not_found.sha256.reset();
    not_found.error = ""; // empty text is stored as text, not as NULL
    ASSERT_TRUE(writer->submit(not_found));
    ASSERT_TRUE(writer->close());

    auto reader = Reader::open(path);
    ASSERT_TRUE(reader);
    std::vector<DownloadRecord> rows;
    ASSERT_TRUE(reader->for_each_download(*run, [&](const DownloadRecord& d) {
        rows.push_back(d);
        return true;
    }));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_FALSE(rows[0].http_status);
    EXPECT_FALSE(rows[0].final_url);
    EXPECT_FALSE(rows[0].path);
    EXPECT_FALSE(rows[0].sha256);
    EXPECT_FALSE(rows[0].dns_ms);
    EXPECT_FALSE(rows[0].ttfb_ms);
    EXPECT_EQ(rows[0].error, "connect: Connection refused");
    EXPECT_EQ(rows[0].attempts, 3);
    EXPECT_EQ(rows[1].http_status, 404);
    EXPECT_FALSE(rows[1].path);
    EXPECT_EQ(rows[1].error, std::optional<std::string>(""));

    // The NULLs are real SQL NULLs, not empty strings or zeros.
    auto& db = reader->database();
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE http_status IS NULL"), 1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE error IS NULL"), 0);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE error = ''"), 1);
    EXPECT_EQ(*db.query_int("SELECT count(*) FROM downloads WHERE path IS NULL"), 2);
}

} // namespace
