// Crash consistency: a child process writes downloads continuously and is SIGKILLed at various
// moments; the parent then finds an intact database holding whole batches only, a prefix of what
// was submitted, and the child's run left 'running'. Repeated on the same file, so each child
// also recovers the previous one's hot WAL.
#include "temp_dir.hpp"

#include "storage/reader.hpp"
#include "storage/sqlite.hpp"
#include "storage/writer.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace flagcrawl::storage;
using flagcrawl::testing_support::TempDir;

namespace {

constexpr std::size_t k_batch = 100;
constexpr int k_ready_after = 3 * static_cast<int>(k_batch); // rows committed before "ready"

// The child: open, begin a run, then submit numbered rows forever. Batches are cut by count
// only (no deadline), so every commit holds exactly k_batch rows. Never returns.
[[noreturn]] void write_until_killed(const std::string& path, int ready_fd) {
    WriterOptions options;
    options.batch_records = k_batch;
    options.batch_delay = std::chrono::hours(1);
    options.queue_capacity = 1024;
    auto writer = Writer::open(path, options);
    if (!writer) {
        _exit(10);
    }
    RunInfo info;
    info.command = "download";
    info.arguments = "crash test";
    info.strategy = "async";
    auto run = writer->begin_run(info);
    if (!run) {
        _exit(11);
    }
    for (std::int64_t i = 0;; ++i) {
        DownloadRecord d;
        d.run_id = *run;
        d.url = "http://127.0.0.1/" + std::to_string(i);
        d.final_url = d.url;
        d.http_status = 200;
        d.bytes = static_cast<std::uint64_t>(i);
        d.path = "out/" + std::to_string(i);
        d.sha256 = std::string(64, 'f');
        if (!writer->submit(std::move(d))) {
            _exit(12);
        }
        if (i + 1 == k_ready_after) {
            if (!writer->flush() || write(ready_fd, "r", 1) != 1) {
                _exit(13);
            }
        }
    }
}

TEST(StorageCrash, SigkillLeavesWholeBatchesAndARunningRun) {
    TempDir dir("storage");
    const auto path = dir.file("crash.db");
    std::vector<std::int64_t> rows_of_earlier_runs;

    for (int delay_ms : {0, 3, 10, 25, 60}) {
        int pipe_fds[2];
        ASSERT_EQ(pipe(pipe_fds), 0);
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            close(pipe_fds[0]);
            write_until_killed(path, pipe_fds[1]);
        }
        close(pipe_fds[1]);
        char ready = 0;
        const ssize_t got = read(pipe_fds[0], &ready, 1);
        close(pipe_fds[0]);
        if (got == 1) {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        }
        kill(child, SIGKILL);
        int status = 0;
        ASSERT_EQ(waitpid(child, &status, 0), child);
        ASSERT_EQ(got, 1) << "the child failed before it was ready, status " << status;
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

        // Opened as the next invocation would: read-write, recovering the WAL.
        {
            auto db = Database::open(path);
            ASSERT_TRUE(db) << db.error().message;
            Statement check = db->prepare("PRAGMA integrity_check");
            ASSERT_TRUE(check.step().value());
            EXPECT_EQ(check.column_text(0), "ok") << "after a kill " << delay_ms << " ms in";
            check.reset();
            EXPECT_EQ(db->query_int("SELECT count(*) FROM pragma_foreign_key_check").value(), 0);
        }
        auto reader = Reader::open(path);
        ASSERT_TRUE(reader) << reader.error().message;
        auto run = reader->latest_run();
        ASSERT_TRUE(run && *run);
        EXPECT_EQ((*run)->status, RunStatus::running);
        EXPECT_FALSE((*run)->finished_at);

        // This run's rows: a multiple of the batch size, numbered 0..n-1 in order (a prefix of
        // what was submitted: no gap, no torn batch).
        std::int64_t n = 0;
        ASSERT_TRUE(reader->for_each_download((*run)->id, [&](const DownloadRecord& d) {
            EXPECT_EQ(d.url, "http://127.0.0.1/" + std::to_string(n));
            EXPECT_EQ(d.bytes, static_cast<std::uint64_t>(n));
            ++n;
            return true;
        }));
        EXPECT_GE(n, k_ready_after);
        EXPECT_EQ(n % static_cast<std::int64_t>(k_batch), 0) << n << " rows";

        // Earlier runs are untouched by later crashes.
        for (std::size_t i = 0; i < rows_of_earlier_runs.size(); ++i) {
            std::int64_t earlier = 0;
            ASSERT_TRUE(reader->for_each_download(static_cast<std::int64_t>(i) + 1,
                                                  [&](const DownloadRecord&) {
                                                      ++earlier;
                                                      return true;
                                                  }));
            EXPECT_EQ(earlier, rows_of_earlier_runs[i]);
        }
        EXPECT_EQ((*run)->id, static_cast<std::int64_t>(rows_of_earlier_runs.size()) + 1);
        RecordProperty("rows_after_" + std::to_string(delay_ms) + "ms", std::to_string(n));
        rows_of_earlier_runs.push_back(n);
    }
}

} // namespace
