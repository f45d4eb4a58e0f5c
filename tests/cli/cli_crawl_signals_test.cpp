// `flagcrawl crawl` under limits and signals, as real child processes: a thread that cannot start
// (address-space limit) is one line and exit 3, never a hang; SIGTERM is obeyed within its grace
// whatever the crawl is doing: a parser busy on a deeply nested page (abandoned, the run marked
// interrupted), a parse on the fetch thread (the watcher ends the process after recording), a
// store locked by another process.
#include "eventually.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/server.hpp"
#include "storage/reader.hpp"
#include "storage/sqlite.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::count_lines;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool k_sanitized = true; // sanitizers reserve terabytes of address space
#else
constexpr bool k_sanitized = false;
#endif

const char* prlimit_binary() {
    for (const char* path : {"/usr/bin/prlimit", "/bin/prlimit"}) {
        if (std::filesystem::exists(path)) {
            return path;
        }
    }
    return nullptr;
}

// True once the process blocks SIGTERM (its signal watcher runs): a signal sent earlier would
// kill it by the default action.
bool blocks_sigterm(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("SigBlk:")) {
            const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
            return (mask >> (SIGTERM - 1)) & 1U;
        }
    }
    return false;
}

struct RunRecord {
    std::int64_t runs = 0;
    std::string run_status;                         // of the latest run
    std::optional<storage::TimePoint> run_finished; // of the latest run
    std::string crawl_status;                       // of the latest crawl
    std::string crawl_stop;                         // its stop_reason
};

RunRecord read_record(const std::string& db) {
    RunRecord out;
    auto reader = storage::Reader::open(db);
    if (!reader) {
        return out;
    }
    auto count = reader->database().query_int("SELECT count(*) FROM runs");
    out.runs = count ? *count : -1;
    auto run = reader->latest_run();
    if (run && *run) {
        out.run_status = storage::to_string((*run)->status);
        out.run_finished = (*run)->finished_at;
    }
    auto statement = reader->database().prepare(
        "SELECT status, coalesce(stop_reason, '') FROM crawls ORDER BY id DESC");
    (void)storage::for_each_row(statement, [&](const storage::Statement& row) {
        out.crawl_status = row.column_text(0);
        out.crawl_stop = row.column_text(1);
        return false;
    });
    return out;
}

// A site whose index links to four pages of 30,000 nested <div>, each just under the full
// parser's bound (ExtractorOptions::max_full_parse_work: 4.5e8 of 5e8 units, seconds of gumbo's
// time each), so that with --html-parser full one of them is being parsed for seconds after it
// went out. `served` turns true once the first one went out.
class DeepPageSite {
public:
    DeepPageSite() {
        std::string body = "<title>deep</title>";
        for (int i = 0; i < 30'000; ++i) {
            body += "<div>";
        }
        auto page = server::make_body(std::move(body));
        auto index = server::make_body("<a href=/d1.html></a><a href=/d2.html></a>"
                                       "<a href=/d3.html></a><a href=/d4.html></a>");
        m_server = std::make_unique<server::Server>([this, page, index](const server::Request& r) {
            if (r.path == "/index.html") {
                return server::Reply::bytes(200, index, "text/html");
            }
            if (r.path.starts_with("/d")) {
                m_served = true;
                return server::Reply::bytes(200, page, "text/html");
            }
            return server::Reply::text(404, "none");
        });
        EXPECT_FALSE(m_server->start());
    }
    std::string seed() const {
        return "http://127.0.0.1:" + std::to_string(m_server->port()) + "/index.html";
    }
    bool served() const { return m_served; }

private:
    std::atomic<bool> m_served{false};
    std::unique_ptr<server::Server> m_server;
};

struct Terminated {
    testing_support::ProcessResult result;
    std::chrono::steady_clock::duration took{}; // from the signal to the process's end
    storage::TimePoint signalled{};             // by the clock the store's times use
};

// Runs the crawl, sends SIGTERM once the deep page is being parsed, and returns the result and
// when the signal went and how long the process took to end after it.
Terminated terminate_while_parsing(const std::string& db, const std::vector<std::string>& extra) {
    DeepPageSite site;
    std::vector<std::string> args = {flagcrawl_binary(), "crawl", site.seed(),     "--db", db,
                                     "--progress",       "never", "--html-parser", "full"};
    args.insert(args.end(), extra.begin(), extra.end());
    Terminated out;
    std::chrono::steady_clock::time_point signalled;
    out.result = run_process(args, {}, {}, [&](int pid) {
        EXPECT_TRUE(testing_support::eventually([&] { return site.served(); }));
        EXPECT_TRUE(blocks_sigterm(pid));
        std::this_thread::sleep_for(300ms); // the parse has begun
        out.signalled = std::chrono::system_clock::now();
        signalled = std::chrono::steady_clock::now();
        ::kill(pid, SIGTERM);
    });
    out.took = std::chrono::steady_clock::now() - signalled;
    return out;
}

class CrawlSignals : public ::testing::TestWithParam<const char*> {};

// A parse pool busy on a page past the grace: when the 2 s grace ends the parse is abandoned (its
// URL stays queued) and the crawl itself records the run and the crawl as interrupted, not after
// the parse nor through the watcher's last words 1 s later; exit 130.
// What is timed is that record (the run's finished_at), not the process's end: the store's close
// after it flushes to disk, and a process cannot die while one of its threads waits on a flush,
// which a busy disk stretches past a second (seen at load 10; reproduced with the writes
// throttled to 5 per second). The end is bounded only loosely: the hard exit plus such a flush.
TEST_P(CrawlSignals, SigtermAbandonsABusyParseWithinTheGrace) {
    TempDir dir("clisignals");
    const auto db = dir.file("c.db");
    const Terminated t =
        terminate_while_parsing(db, {"--strategy", GetParam(), "--parse-threads", "1", "-q"});
    EXPECT_EQ(t.result.exit_code, 130) << t.result.err;
    EXPECT_LT(t.took, 2s + 1s + 10s);
    const RunRecord record = read_record(db);
    EXPECT_EQ(record.run_status, "interrupted");
    EXPECT_EQ(record.crawl_status, "interrupted");
    ASSERT_TRUE(record.run_finished);
    EXPECT_LT(*record.run_finished - t.signalled, 2s + 1s);
    EXPECT_EQ(record.crawl_stop.find("ended without finishing"), std::string::npos)
        << record.crawl_stop;
}

// Parsing on the fetch thread (--parse-threads 0) cannot be abandoned: the watcher ends the
// process 1 s after the abort, having marked the run and the crawl interrupted. (On a machine
// fast enough to finish the bounded parse before that, the crawl ends on its own after it,
// interrupted all the same.)
TEST_P(CrawlSignals, SigtermEndsAParseOnTheFetchThreadAfterTheGrace) {
    TempDir dir("clisignals");
    const auto db = dir.file("c.db");
    const Terminated t =
        terminate_while_parsing(db, {"--strategy", GetParam(), "--parse-threads", "0", "-q"});
    const auto& r = t.result;
    const auto took = t.took;
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_LT(took, 2s + 1s + 1500ms);
    if (took >= 2s + 1s) {
        EXPECT_NE(r.err.find("flagcrawl: interrupted, stopped without finishing"),
                  std::string::npos)
            << r.err;
    }
    const RunRecord record = read_record(db);
    EXPECT_EQ(record.run_status, "interrupted");
    EXPECT_EQ(record.crawl_status, "interrupted");
}

INSTANTIATE_TEST_SUITE_P(Strategies, CrawlSignals,
                         ::testing::Values("sequential", "threaded", "async"),
                         [](const auto& param_info) { return std::string(param_info.param); });

// The signal watcher runs before anything that could block: with the store locked by another
// process (the crawl waits up to 5 s for its lock), SIGTERM ends the crawl within the grace and
// the hard exit after it (2 s + 1 s), exit 130, not when the lock wait gives up (exit 3).
TEST(CrawlSignalsStore, SigtermEndsACrawlWaitingForALockedStore) {
    TempDir dir("clisignals");
    const auto db = dir.file("c.db");
    auto first = run_process({flagcrawl_binary(), "crawl", "http://127.0.0.1:1/", "--db", db,
                              "--progress", "never", "-q", "--retries", "0"});
    ASSERT_EQ(first.exit_code, 1) << first.err; // the store exists, the URL failed
    auto blocker = storage::Database::open(db);
    ASSERT_TRUE(blocker);
    ASSERT_TRUE(blocker->exec("BEGIN IMMEDIATE"));
    std::chrono::steady_clock::time_point signalled;
    auto r = run_process({flagcrawl_binary(), "crawl", "http://127.0.0.1:1/", "--db", db,
                          "--progress", "never", "-q"},
                         {}, {}, [&](int pid) {
                             EXPECT_TRUE(
                                 testing_support::eventually([&] { return blocks_sigterm(pid); }));
                             std::this_thread::sleep_for(200ms); // waiting for the lock
                             signalled = std::chrono::steady_clock::now();
                             ::kill(pid, SIGTERM);
                         });
    const auto took = std::chrono::steady_clock::now() - signalled;
    ASSERT_TRUE(blocker->exec("ROLLBACK"));
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_NE(r.err.find("stopped without finishing"), std::string::npos) << r.err;
    EXPECT_LT(took, 2s + 1s + 1500ms); // the lock wait alone lasts 5 s
}

// A thread that cannot start (here: the address space is too small for 64 parser stacks, or
// for a thread per request in flight) is one line and exit 3, never a hang, and no run is left
// `running`: the parse pool starts before the run is recorded; the strategy's threads start
// after it (then the run is failed), unless memory ran out before the run was recorded.
TEST(CrawlThreads, AThreadThatCannotStartIsOneLineAndExit3) {
    const char* prlimit = prlimit_binary();
    if (prlimit == nullptr) {
        GTEST_SKIP() << "prlimit (util-linux) is not installed";
    }
    if (k_sanitized) {
        GTEST_SKIP() << "an address-space limit cannot be set under a sanitizer";
    }
    TempDir dir("clithreads");
    server::Server site([](const server::Request&) {
        return server::Reply::bytes(200, server::make_body("<a href=/a>a</a><a href=/b>b</a>"),
                                    "text/html");
    });
    ASSERT_FALSE(site.start());
    const std::string seed = "http://127.0.0.1:" + std::to_string(site.port()) + "/";
    const std::vector<std::string> limited = {prlimit, "--as=209715200", "--stack=8388608", "--"};
    struct Case {
        std::vector<std::string> options;
        std::string db;
        std::set<std::string> run_status; // "": no run was recorded
    };
    const std::vector<Case> cases = {
        {{"--parse-threads", "64"}, dir.file("pool.db"), {""}},
        {{"--strategy", "threaded", "-c", "1000", "--per-host", "100", "--parse-threads", "1"},
         dir.file("threaded.db"),
         {"", "failed"}},
    };
    for (const Case& c : cases) {
        std::vector<std::string> args = limited;
        for (const std::string& a :
             {std::string(flagcrawl_binary()), std::string("crawl"), seed, std::string("--db"),
              c.db, std::string("--progress"), std::string("never")}) {
            args.push_back(a);
        }
        args.insert(args.end(), c.options.begin(), c.options.end());
        auto r = run_process(args, {}, {}, {}, std::chrono::seconds(30));
        EXPECT_EQ(r.exit_code, 3) << c.options[0] << ": " << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
        EXPECT_TRUE(r.err.starts_with("flagcrawl: cannot start a thread: ") ||
                    r.err == "flagcrawl: out of memory\n")
            << r.err;
        const RunRecord record = read_record(c.db);
        EXPECT_TRUE(c.run_status.contains(record.run_status))
            << c.options[0] << ": " << record.run_status;
    }
}

} // namespace
