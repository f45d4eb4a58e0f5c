// A run whose process was killed (kill -9) does not stay `running` forever: the next flagcrawl
// that opens the file (`stats --list` here, or a new run) finds its owner dead and marks it
// `killed` (a crawl's record `interrupted`, and `--resume` continues it), under the three
// strategies; a run whose process still works on the file stays `running`, and `crawl --resume`
// refuses to run its crawl a second time at once. Real processes, real SQLite files.
#include "eventually.hpp"
#include "process.hpp"
#include "site_server.hpp"
#include "temp_dir.hpp"

#include "storage/reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::Background;
using testing_support::eventually;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::SiteServer;
using testing_support::TempDir;

namespace {

// A download list of the first `n` pages of `site` (SiteServer: every reply waits its delay, so
// a run of it is still going when killed).
std::string write_list(const SiteServer& site, const std::string& file, std::uint64_t n) {
    std::ofstream out(file);
    for (std::uint64_t i = 0; i < n; ++i) {
        out << "http://" << site.host() << site.site().page_path(i) << '\n';
    }
    return file;
}

// An integer a query of the file returns; -1 while the file or its tables do not exist yet.
std::int64_t query(const std::string& db, const std::string& sql) {
    auto reader = storage::Reader::open(db);
    if (!reader) {
        return -1;
    }
    auto value = reader->database().query_int(sql);
    return value ? *value : -1;
}

std::string text(const std::string& db, const std::string& sql) {
    auto reader = storage::Reader::open(db);
    EXPECT_TRUE(reader);
    std::string out;
    if (reader) {
        auto statement = reader->database().prepare(sql);
        EXPECT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
            out = row.column_text(0);
            return false;
        }));
    }
    return out;
}

// The status `stats --list --json` gives run `id`.
std::string listed_status(const std::string& db, std::int64_t id) {
    auto r = run_process({flagcrawl_binary(), "stats", "--db", db, "--list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.exit_code != 0) {
        return "";
    }
    const auto listed = nlohmann::json::parse(r.out);
    for (const auto& run : listed["runs"]) {
        if (run["id"] == id) {
            return run["status"];
        }
    }
    ADD_FAILURE() << "no run " << id << " in " << r.out;
    return "";
}

std::vector<std::string> download_args(const std::string& list, const std::string& out,
                                       const std::string& db, const std::string& strategy) {
    return {flagcrawl_binary(), "download", "-i", list,         "-o",     out,  "--db", db,
            "--progress",       "never",    "-q", "--strategy", strategy, "-c", "2"};
}

std::vector<std::string> crawl_args(const std::string& seed, const std::string& db,
                                    const std::string& strategy) {
    return {flagcrawl_binary(), "crawl",  seed, "--db", db, "--progress", "never", "-q",
            "--strategy",       strategy, "-c", "2"};
}

// Kills `process` with SIGKILL once `db` has recorded a fetch (`fetched` counts them), and reaps
// it: what a kill -9 in the middle of a run leaves.
void kill_mid_run(Background& process, const std::string& db, const std::string& fetched) {
    EXPECT_TRUE(eventually([&] { return query(db, fetched) > 0; }, 30s))
        << "nothing recorded: " << process.err();
    process.signal(SIGKILL);
    EXPECT_EQ(process.wait(10s), -1);
}

class KilledRun : public ::testing::TestWithParam<const char*> {};

TEST_P(KilledRun, ADownloadKilledWithSigkillIsListedKilled) {
    TempDir dir("runowner");
    SiteServer site(200, 150ms, 7);
    const auto db = dir.file("d.db");
    const auto list = write_list(site, dir.file("list.txt"), 200);
    Background download(download_args(list, dir.file("out"), db, GetParam()));
    kill_mid_run(download, db, "SELECT count(*) FROM downloads");
    // Nothing opened the file since: the row still says what the killed process left.
    EXPECT_EQ(text(db, "SELECT status FROM runs WHERE id = 1"), "running");
    EXPECT_EQ(listed_status(db, 1), "killed");
    EXPECT_EQ(text(db, "SELECT status FROM runs WHERE id = 1"), "killed");
    auto table = run_process({flagcrawl_binary(), "stats", "--db", db, "--list"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find(" killed "), std::string::npos) << table.out;
}

TEST_P(KilledRun, ACrawlKilledWithSigkillIsListedKilledAndResumes) {
    TempDir dir("runowner");
    SiteServer site(60, 60ms, 7);
    const auto db = dir.file("c.db");
    Background crawl(crawl_args(site.seed(), db, GetParam()));
    kill_mid_run(crawl, db, "SELECT count(*) FROM pages WHERE kind = 'page'");
    EXPECT_EQ(listed_status(db, 1), "killed");
    EXPECT_EQ(text(db, "SELECT status || ' ' || stop_reason FROM crawls WHERE id = 1"),
              "interrupted killed");
    auto resumed = run_process({flagcrawl_binary(), "crawl", "--resume", "--db", db, "--progress",
                                "never", "-q", "-c", "4"});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_EQ(text(db, "SELECT status FROM crawls WHERE id = 1"), "finished");
    EXPECT_EQ(text(db, "SELECT group_concat(status) FROM (SELECT status FROM runs ORDER BY id)"),
              "killed,finished");
}

INSTANTIATE_TEST_SUITE_P(Strategies, KilledRun,
                         ::testing::Values("sequential", "threaded", "async"));

// A crawl that still runs in another process (slowly) keeps its `running` through `stats`, a
// download into the same file and a refused `crawl --resume`; killed, it is listed killed.
TEST(RunOwner, ALiveRunInAnotherProcessStaysRunning) {
    TempDir dir("runowner");
    SiteServer site(100, 400ms, 7);
    const auto db = dir.file("c.db");
    Background crawl(crawl_args(site.seed(), db, "async"));
    ASSERT_TRUE(eventually([&] { return query(db, "SELECT count(*) FROM runs") == 1; }, 30s))
        << crawl.err();
    EXPECT_EQ(listed_status(db, 1), "running");

    const auto list = write_list(site, dir.file("list.txt"), 2);
    auto download = run_process(download_args(list, dir.file("out"), db, "sequential"));
    EXPECT_EQ(download.exit_code, 0) << download.err;
    EXPECT_EQ(listed_status(db, 2), "finished");

    auto resumed =
        run_process({flagcrawl_binary(), "crawl", "--resume", "--db", db, "--progress", "never"});
    EXPECT_EQ(resumed.exit_code, 3);
    EXPECT_NE(resumed.err.find("crawl --resume: crawl 1 in " + db + " is still running (pid " +
                               std::to_string(crawl.pid()) + ")"),
              std::string::npos)
        << resumed.err;
    EXPECT_EQ(testing_support::count_lines(resumed.err), 1u) << resumed.err;
    EXPECT_EQ(query(db, "SELECT count(*) FROM runs"), 2) << "the refused resume recorded a run";

    ASSERT_FALSE(crawl.wait(0ms)) << "the crawl ended early: " << crawl.err();
    EXPECT_EQ(listed_status(db, 1), "running");
    EXPECT_EQ(text(db, "SELECT status FROM crawls WHERE id = 1"), "running");
    crawl.signal(SIGKILL);
    EXPECT_EQ(crawl.wait(10s), -1);
    EXPECT_EQ(listed_status(db, 1), "killed");
}

} // namespace
