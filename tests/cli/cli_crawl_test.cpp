// `flagcrawl crawl` as a user runs it: usage errors, the JSON summary and stop reason, what
// `stats` then reports of its seen-set and timings, a crawl killed with SIGKILL or interrupted
// with Ctrl-C and then resumed ends with exactly the pages of an uninterrupted crawl, none
// fetched twice.
#include "eventually.hpp"
#include "process.hpp"
#include "stats_fixture.hpp"
#include "temp_dir.hpp"

#include "server/router.hpp"
#include "server/server.hpp"
#include "server/site.hpp"
#include "server/trap.hpp"
#include "storage/reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::count_lines;
using testing_support::eventually;
using testing_support::expect_latest_run_row_agrees_with_its_rows;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

// A synthetic site whose replies take `delay`, so that a crawl can be cut in the middle.
class SlowSite {
public:
    SlowSite(std::uint64_t pages, std::chrono::milliseconds delay)
        : m_site(std::make_shared<const server::Site>(server::SiteOptions{pages, 7})) {
        auto handler = server::site_handler(m_site);
        m_server = std::make_unique<server::Server>([handler, delay](const server::Request& r) {
            auto reply = handler(r);
            reply.delay = delay;
            return reply;
        });
        EXPECT_FALSE(m_server->start());
    }
    std::string seed() const {
        return "http://127.0.0.1:" + std::to_string(m_server->port()) + "/index.html";
    }
    std::set<std::string> page_paths() const {
        std::set<std::string> paths;
        for (std::uint64_t i = 0; i < m_site->pages(); ++i) {
            paths.insert(m_site->page_path(i));
        }
        return paths;
    }

private:
    std::shared_ptr<const server::Site> m_site;
    std::unique_ptr<server::Server> m_server;
};

struct DbPages {
    std::set<std::string> ok_paths; // 200 pages, query dropped, "dir/" = "dir/index.html"
    std::size_t rows = 0;           // fetched page rows
    std::size_t distinct_urls = 0;
    std::string crawl_status;
    std::int64_t runs = 0;
};

DbPages read_pages(const std::string& db) {
    DbPages out;
    auto reader = storage::Reader::open(db);
    EXPECT_TRUE(reader);
    if (!reader) {
        return out;
    }
    auto statement = reader->database().prepare(
        "SELECT url, coalesce(http_status, 0) FROM pages WHERE kind = 'page' AND attempts > 0");
    std::set<std::string> urls;
    EXPECT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
        std::string url(row.column_text(0));
        ++out.rows;
        urls.insert(url);
        if (row.column_int64(1) == 200) {
            auto path = url.substr(url.find('/', url.find("://") + 3));
            path = path.substr(0, path.find('?'));
            if (path.ends_with("/")) {
                path += "index.html";
            }
            out.ok_paths.insert(path);
        }
        return true;
    }));
    out.distinct_urls = urls.size();
    auto crawl = reader->latest_resumable_crawl();
    out.crawl_status =
        crawl && *crawl ? std::string(storage::to_string((*crawl)->status)) : "finished";
    auto runs = reader->database().query_int("SELECT count(*) FROM crawl_runs");
    out.runs = runs ? *runs : -1;
    return out;
}

// A crawl that finished with every page of `site` fetched, none twice.
void expect_whole_site_once(const DbPages& done, const SlowSite& site) {
    EXPECT_EQ(done.ok_paths, site.page_paths());
    EXPECT_EQ(done.rows, done.distinct_urls) << "a URL was fetched twice";
    EXPECT_EQ(done.crawl_status, "finished");
}

std::vector<std::string> crawl_args(const std::string& db, std::vector<std::string> extra) {
    std::vector<std::string> args = {flagcrawl_binary(), "crawl", "--db", db,
                                     "--progress",       "never", "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// `flagcrawl stats --json` of the store's latest crawl.
nlohmann::json crawl_stats(const std::string& db) {
    auto r = run_process({flagcrawl_binary(), "stats", "--db", db, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

// stats shows the seen-set the crawl's latest run reported in its --json summary, and a TTFB
// for every page fetched.
void expect_stats_of_run(const std::string& db, const nlohmann::json& summary) {
    const nlohmann::json stats = crawl_stats(db);
    EXPECT_GT(summary["seen_bytes"], 0);
    EXPECT_EQ(stats["seen_set_urls"], summary["seen"]);
    EXPECT_EQ(stats["seen_set_bytes"], summary["seen_bytes"]);
    EXPECT_DOUBLE_EQ(stats["ram_bytes_per_seen_url"].get<double>(),
                     summary["seen_bytes"].get<double>() / summary["seen"].get<double>());
    EXPECT_EQ(stats["latency_ms"]["ttfb"]["count"], stats["fetched"]);
    EXPECT_GT(stats["latency_ms"]["ttfb"]["max"], 0);
}

// Issue 9 acceptance: a crawl of an endless site with the defaults ends on its own (depth 5, the
// cap per directory, the URL length and segment rules), every URL kept out a skip with its rule.
TEST(CliCrawl, AnEndlessSiteWithTheDefaultsEndsOnItsOwn) {
    TempDir dir("clicrawl");
    server::Router router;
    router.add("/robots.txt", server::Reply::text(404, "none"));
    router.add_prefix("/trap/", server::trap_handler("/trap/"));
    server::Server server(router.handler());
    ASSERT_FALSE(server.start());
    const std::string db = dir.file("endless.db");
    auto r = run_process({flagcrawl_binary(), "crawl", server.base_url() + "/trap/", "--db", db,
                          "--progress", "never", "--json"},
                         {}, {}, {}, 120s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto summary = nlohmann::json::parse(r.out);
    EXPECT_LT(summary["pages"].get<int>(), 1500);
    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader);
    std::set<std::string> rules;
    auto statement =
        reader->database().prepare("SELECT DISTINCT rule FROM skips WHERE kind = 'limit_reached'");
    ASSERT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
        rules.insert(std::string(row.column_text(0)));
        return true;
    }));
    EXPECT_EQ(rules, (std::set<std::string>{"--depth 5", "--max-per-dir 1000",
                                            "--max-segment-repeats 2"}));
}

TEST(CliCrawl, UsageErrorsAreOneLineAndExit2) {
    TempDir dir("clicrawl");
    const std::vector<std::vector<std::string>> cases = {
        {"http://127.0.0.1:1/", "--exclude", "(unclosed"},
        {"http://127.0.0.1:1/", "--scope", "planet"},
        {"ftp://127.0.0.1/x"},
        {"not a url"},
        {},
        {"http://127.0.0.1:1/", "--resume"},
        {"http://127.0.0.1:1/", "--parse-threads", "-2"},
        {"http://127.0.0.1:1/", "--parse-threads", "-1"},
        {"http://127.0.0.1:1/", "--parse-threads", "100000"},
        {"http://127.0.0.1:1/", "-c", "100000"},
        {"http://127.0.0.1:1/", "-c", "-1"},
        {"http://127.0.0.1:1/", "--per-host", "100000"},
        {"http://127.0.0.1:1/", "--per-host", "-1"},
        {"http://127.0.0.1:1/", "--max-redirect", "-1"},
        {"http://127.0.0.1:1/", "--delay", "-1"},
        {"http://127.0.0.1:1/", "--stall-after", "-1"},
        {"--resume", "--depth", "2"}, // a resumed crawl keeps the options it was started with
    };
    for (const auto& extra : cases) {
        std::vector<std::string> args = {flagcrawl_binary(), "crawl", "--db", dir.file("u.db")};
        args.insert(args.end(), extra.begin(), extra.end());
        auto r = run_process(args);
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    }
    // The bounds are said in --help.
    auto help = run_process({flagcrawl_binary(), "crawl", "--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* bound : {"HTML parser threads, 0-64", "Requests in flight at most (1-1000)",
                              "Requests in flight per host (1-100)"}) {
        EXPECT_NE(help.out.find(bound), std::string::npos) << bound;
    }
    // Nothing to resume: fatal, exit 3.
    auto r = run_process({flagcrawl_binary(), "crawl", "--resume", "--db", dir.file("none.db")});
    EXPECT_EQ(r.exit_code, 3) << r.err;
}

TEST(CliCrawl, JsonSummaryNamesTheLimit) {
    TempDir dir("clicrawl");
    SlowSite site(200, 0ms);
    auto r =
        run_process(crawl_args(dir.file("c.db"), {site.seed(), "--max-pages", "30", "--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto summary = nlohmann::json::parse(r.out);
    EXPECT_EQ(summary["pages"], 30);
    EXPECT_EQ(summary["stop_reason"], "max_pages");
    EXPECT_EQ(summary["stop"], "stopped: --max-pages 30 reached");
    EXPECT_EQ(read_pages(dir.file("c.db")).crawl_status, "stopped");
    expect_stats_of_run(dir.file("c.db"), summary);
    // Resuming a crawl stopped by its page limit: the limit covers the whole crawl.
    r = run_process(crawl_args(dir.file("c.db"), {"--resume", "--max-pages", "50", "--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    summary = nlohmann::json::parse(r.out);
    EXPECT_EQ(summary["pages"], 20);
    EXPECT_EQ(summary["resumed"], true);
    EXPECT_EQ(read_pages(dir.file("c.db")).rows, 50u);
    expect_stats_of_run(dir.file("c.db"),
                        summary); // the resumed run's seen-set replaced the first's
}

// The stall watchdog: while the only pending request hangs, the crawl says once what it waits
// on (the URL); with --stall-after 0 it says nothing.
TEST(CliCrawl, StallWatchdogNamesTheUrlEverythingWaitsOn) {
    TempDir dir("clicrawl");
    server::Server hanging([](const server::Request& r) {
        if (r.path == "/") {
            return server::Reply::bytes(200, server::make_body("<a href=/hangs>x</a>"),
                                        "text/html");
        }
        if (r.path == "/hangs") {
            auto reply = server::Reply::text(200, "late");
            reply.delay = 2500ms; // beyond the crawl's --timeout
            return reply;
        }
        return server::Reply::text(404, "no");
    });
    ASSERT_FALSE(hanging.start());
    const std::string seed = "http://127.0.0.1:" + std::to_string(hanging.port()) + "/";
    for (const char* stall_after : {"0.3", "0"}) {
        auto r = run_process({flagcrawl_binary(), "crawl", seed, "--db", dir.file("s.db"),
                              "--progress", "never", "--retries", "0", "--timeout", "1.5",
                              "--stall-after", stall_after});
        EXPECT_EQ(r.exit_code, 1) << r.err; // /hangs timed out
        const bool reported = r.err.find("nothing completed for") != std::string::npos;
        EXPECT_EQ(reported, std::string_view(stall_after) != "0") << r.err;
        if (reported) {
            EXPECT_NE(r.err.find("waiting for " + seed + "hangs"), std::string::npos) << r.err;
            EXPECT_EQ(r.err.find("nothing completed for"), r.err.rfind("nothing completed for"))
                << "reported once per stall: " << r.err;
        }
    }
}

// -q hides the progress and the summary but not the failed URLs: one line each on stderr (as
// curl -sS and wget -nv), with the page that linked it, nothing for the pages that are fine.
TEST(CliCrawl, QuietStillPrintsEachFailedUrl) {
    TempDir dir("clicrawl");
    server::Server site([](const server::Request& r) {
        if (r.path == "/") {
            return server::Reply::bytes(
                200, server::make_body("<a href=/gone>g</a><a href=/ok>o</a>"), "text/html");
        }
        if (r.path == "/ok") {
            return server::Reply::text(200, "fine");
        }
        return server::Reply::text(404, "no");
    });
    ASSERT_FALSE(site.start());
    const std::string base = "http://127.0.0.1:" + std::to_string(site.port());
    auto r = run_process(crawl_args(dir.file("q.db"), {base + "/"}));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err,
              "flagcrawl: " + base + "/gone: HTTP 404 Not Found (linked from " + base + "/)\n");
}

// --parse-threads 0 (the default on one usable CPU): pages are parsed on the fetch thread.
TEST(CliCrawl, ParseThreadsZeroCrawlsTheWholeSite) {
    TempDir dir("clicrawl");
    SlowSite site(120, 0ms);
    auto r = run_process(crawl_args(dir.file("c.db"), {site.seed(), "--parse-threads", "0"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const DbPages done = read_pages(dir.file("c.db"));
    expect_whole_site_once(done, site);
}

// A crawl that ended leaves a database file that holds everything on its own: a copy of the
// .db file alone (as a user copies a result) has every page (before, most of them were still
// in the -wal file beside it, which the crawl's read-only connections, closing last, kept).
void the_db_file_alone_holds_the_crawl(const char* strategy) {
    TempDir dir("clicrawl");
    SlowSite site(120, 0ms);
    auto r = run_process(crawl_args(dir.file("c.db"), {site.seed(), "--strategy", strategy}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::filesystem::create_directory(dir.file("copy"));
    std::filesystem::copy_file(dir.file("c.db"), dir.file("copy/c.db"));
    const DbPages copied = read_pages(dir.file("copy/c.db"));
    EXPECT_EQ(copied.ok_paths, site.page_paths());
    EXPECT_EQ(copied.crawl_status, "finished");
}

TEST(CliCrawl, TheDbFileAloneHoldsTheCrawlSequential) {
    the_db_file_alone_holds_the_crawl("sequential");
}
TEST(CliCrawl, TheDbFileAloneHoldsTheCrawlThreaded) {
    the_db_file_alone_holds_the_crawl("threaded");
}
TEST(CliCrawl, TheDbFileAloneHoldsTheCrawlAsync) {
    the_db_file_alone_holds_the_crawl("async");
}

// The pages fetched so far, as read_pages() counts them (0 while the store is not there yet).
std::int64_t fetched_pages(const std::string& db) {
    auto reader = storage::Reader::open(db);
    if (!reader)
        return 0;
    auto pages = reader->database().query_int(
        "SELECT count(*) FROM pages WHERE kind = 'page' AND attempts > 0");
    return pages ? *pages : 0;
}

void interrupted_then_resumed(int signal_number, int expected_exit, const char* strategy) {
    TempDir dir("clicrawl");
    SlowSite site(150, 20ms);
    const auto db = dir.file("c.db");
    // Cut once the store holds a fetched page (the crawl's writer commits every 50 ms; reading
    // the WAL store meanwhile is fine).
    auto first = run_process(
        crawl_args(db, {site.seed(), "-c", "4", "--strategy", strategy}), {}, {}, [&](int pid) {
            EXPECT_TRUE(eventually([&] { return fetched_pages(db) > 0; })) << "no page fetched";
            ::kill(pid, signal_number);
        });
    EXPECT_EQ(first.exit_code, expected_exit) << first.err;
    const DbPages cut = read_pages(db);
    EXPECT_GT(cut.rows, 0u);
    EXPECT_LT(cut.ok_paths.size(), 150u);
    EXPECT_NE(cut.crawl_status, "finished");
    if (signal_number == SIGINT) {
        // Its last batch was committed while the crawl shut down: in its totals too.
        expect_latest_run_row_agrees_with_its_rows(db);
    }

    auto second = run_process(crawl_args(db, {"--resume", "-c", "8", "--strategy", strategy}));
    EXPECT_EQ(second.exit_code, 0) << second.err;
    const DbPages done = read_pages(db);
    expect_whole_site_once(done, site);
    EXPECT_EQ(done.runs, 2);
    expect_latest_run_row_agrees_with_its_rows(db);
}

// After Ctrl-C the crawl prints the exact command that continues it; run as printed, it does.
TEST(CliCrawl, CtrlCPrintsTheCommandThatResumesIt) {
    TempDir dir("clicrawl");
    SlowSite site(150, 20ms);
    const auto db = dir.file("c.db");
    auto first = run_process(
        {flagcrawl_binary(), "crawl", site.seed(), "--db", db, "--progress", "never", "-c", "4"},
        {}, {}, [&](int pid) {
            EXPECT_TRUE(eventually([&] { return fetched_pages(db) > 0; }));
            ::kill(pid, SIGINT);
        });
    ASSERT_EQ(first.exit_code, 130) << first.err;
    const std::string expected = std::string(flagcrawl_binary()) + " crawl --resume --db " + db;
    EXPECT_NE(first.err.find("flagcrawl: interrupted; to continue: " + expected + "\n"),
              std::string::npos)
        << first.err;

    std::vector<std::string> words;
    std::istringstream printed(expected);
    for (std::string word; printed >> word;)
        words.push_back(word);
    words.insert(words.end(), {"--progress", "never", "-q"});
    auto second = run_process(words);
    EXPECT_EQ(second.exit_code, 0) << second.err;
    const DbPages done = read_pages(db);
    EXPECT_EQ(done.ok_paths, site.page_paths());
    EXPECT_EQ(done.crawl_status, "finished");
}

// A six-page site (an index and five pages it links to) that notes when each request's handler
// ran, by the server's clock, and its path.
class TimedSite {
public:
    TimedSite() {
        m_server = std::make_unique<server::Server>([this](const server::Request& r) {
            {
                std::lock_guard lock(m_mutex);
                m_times.push_back(std::chrono::steady_clock::now());
                m_paths.emplace_back(r.path);
            }
            if (r.path == "/index.html") {
                return server::Reply::bytes(
                    200,
                    server::make_body(
                        "<a href=p1.html>1</a><a href=p2.html>2</a><a "
                        "href=p3.html>3</a><a href=p4.html>4</a><a href=p5.html>5</a>"),
                    "text/html");
            }
            if (r.path.starts_with("/p")) {
                return server::Reply::bytes(200, server::make_body("<p>page"), "text/html");
            }
            return server::Reply::text(404, "none");
        });
        EXPECT_FALSE(m_server->start());
    }
    std::string seed() const {
        return "http://127.0.0.1:" + std::to_string(m_server->port()) + "/index.html";
    }
    std::vector<std::chrono::steady_clock::time_point> take_times() {
        std::lock_guard lock(m_mutex);
        m_paths.clear();
        return std::exchange(m_times, {});
    }
    // The requests seen since the last take_times(): "+0 ms /robots.txt, +312 ms /index.html".
    std::string timeline() {
        std::lock_guard lock(m_mutex);
        std::string out;
        for (std::size_t i = 0; i < m_times.size(); ++i) {
            const auto ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(m_times[i] - m_times[0]);
            out += (i == 0 ? "+" : ", +") + std::to_string(ms.count()) + " ms " + m_paths[i];
        }
        return out;
    }

private:
    std::mutex m_mutex;
    std::vector<std::chrono::steady_clock::time_point> m_times; // guarded by m_mutex
    std::vector<std::string> m_paths;                           // guarded by m_mutex
    std::unique_ptr<server::Server> m_server;
};

// The crawls row's stored options.
nlohmann::json stored_options(const std::string& db) {
    auto reader = storage::Reader::open(db);
    EXPECT_TRUE(reader);
    auto crawl =
        reader
            ? reader->find_crawl(1)
            : storage::Result<std::optional<storage::CrawlRow>>(std::optional<storage::CrawlRow>());
    EXPECT_TRUE(crawl && *crawl);
    return crawl && *crawl ? nlohmann::json::parse((*crawl)->options) : nlohmann::json::object();
}

// A crawl started with a delay, interrupted, then resumed with a plain --resume runs under the
// same politeness (strategy, concurrency, per-host limit and delay as it was started with) and
// the server sees it: the frontier hands the requests (robots.txt included) out at least the
// jittered delay apart (x0.5-1.5: 0.15 s for 0.3 s), so the n requests span at least
// (n - 1) x 0.15 s, less how late the first one reached the handler; half of that is asserted.
// Single gaps are not: the server's clock is when a handler ran, and under load one request can
// reach it late and the next on time (a long gap then a short one: seen at load 10 as 24 ms,
// reproduced in a CPU-starved cgroup as 682 ms then 16 ms), which says nothing of the crawler.
// Each gap is checked with a fake clock in the frontier's tests; this checks that a resume
// applies the stored delay at all (one that dropped it sends them within milliseconds).
void resume_keeps_politeness(const char* strategy) {
    TempDir dir("clicrawl");
    TimedSite site;
    const auto db = dir.file("c.db");
    auto first = run_process(crawl_args(db, {site.seed(), "--delay", "0.3", "--strategy", strategy,
                                             "-c", "3", "--per-host", "2"}),
                             {}, {}, [&](int pid) {
                                 EXPECT_TRUE(eventually([&] { return fetched_pages(db) > 0; }));
                                 ::kill(pid, SIGINT);
                             });
    ASSERT_EQ(first.exit_code, 130) << first.err;
    site.take_times();

    auto resumed = run_process(crawl_args(db, {"--resume", "--json"}));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto summary = nlohmann::json::parse(resumed.out);
    EXPECT_EQ(summary["delay_s"], 0.3);
    EXPECT_EQ(summary["strategy"], strategy);
    EXPECT_EQ(summary["concurrency"], std::string_view(strategy) == "sequential" ? 1 : 3);
    EXPECT_EQ(summary["per_host"], 2);
    const std::string timeline = site.timeline();
    const auto times = site.take_times();
    ASSERT_GE(times.size(), 3u) << timeline;
    const auto gaps = static_cast<std::int64_t>(times.size() - 1);
    EXPECT_GE(times.back() - times.front(), gaps * 150ms / 2) << timeline;
}

TEST(CliCrawl, ResumeKeepsThePolitenessSequential) {
    resume_keeps_politeness("sequential");
}

TEST(CliCrawl, ResumeKeepsThePolitenessThreaded) {
    resume_keeps_politeness("threaded");
}

TEST(CliCrawl, ResumeKeepsThePolitenessAsync) {
    resume_keeps_politeness("async");
}

// A retry is a request to the same host: it keeps the host's delay (--delay, or robots.txt's
// Crawl-delay when that is longer), even when the server's Retry-After (here 0) or the backoff's
// full jitter would send it at once. The page answers 500 once; its retry cannot reach the server
// before the failed attempt's answer left it plus the delay, so the gap is exact whatever the
// load (without the floor it is a few milliseconds).
enum class DelayFrom { option, crawl_delay };

class CliCrawlRetry : public ::testing::TestWithParam<std::tuple<const char*, DelayFrom>> {};

TEST_P(CliCrawlRetry, KeepsTheHostsDelay) {
    const char* const strategy = std::get<0>(GetParam());
    const DelayFrom from = std::get<1>(GetParam());
    TempDir dir("clicrawl");
    std::mutex mutex;
    std::vector<std::chrono::steady_clock::time_point> page_times; // guarded by mutex
    server::Server site([&](const server::Request& r) {
        if (r.path == "/robots.txt" && from == DelayFrom::crawl_delay) {
            return server::Reply::text(200, "User-agent: *\nCrawl-delay: 0.3\n");
        }
        if (r.path != "/") {
            return server::Reply::text(404, "none"); // robots.txt, sitemap.xml
        }
        std::lock_guard lock(mutex);
        page_times.push_back(std::chrono::steady_clock::now());
        if (page_times.size() == 1) {
            return server::Reply::text(500, "once").with_header("Retry-After", "0");
        }
        return server::Reply::bytes(200, server::make_body("<p>page"), "text/html");
    });
    ASSERT_FALSE(site.start());
    std::vector<std::string> args = {site.base_url() + "/", "--strategy", strategy, "--retries",
                                     "1"};
    if (from == DelayFrom::option) {
        args.insert(args.end(), {"--delay", "0.3"});
    }
    auto r = run_process(crawl_args(dir.file("c.db"), args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::lock_guard lock(mutex);
    ASSERT_EQ(page_times.size(), 2u);
    EXPECT_GE(page_times[1] - page_times[0], 300ms);
}

INSTANTIATE_TEST_SUITE_P(
    Strategies, CliCrawlRetry,
    ::testing::Combine(::testing::Values("sequential", "threaded", "async"),
                       ::testing::Values(DelayFrom::option, DelayFrom::crawl_delay)),
    [](const auto& param_info) {
        return std::string(std::get<0>(param_info.param)) +
               (std::get<1>(param_info.param) == DelayFrom::option ? "_Delay" : "_CrawlDelay");
    });

// A value changed on a resume must be given: it is said on stderr and stored for the next one.
TEST(CliCrawl, AResumeSaysWhatItChangesAndStoresIt) {
    TempDir dir("clicrawl");
    SlowSite site(40, 20ms);
    const auto db = dir.file("c.db");
    auto first = run_process(crawl_args(db, {site.seed(), "--delay", "0.05", "--max-pages", "3"}));
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(stored_options(db)["delay_s"], 0.05);
    auto resumed = run_process({flagcrawl_binary(), "crawl", "--resume", "--db", db, "--progress",
                                "never", "--delay", "0.01", "--max-pages", "6", "--per-host", "8"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    EXPECT_NE(resumed.err.find("flagcrawl: resuming crawl 1 with --delay 0.01 (was 0.05), "
                               "--max-pages 6 (was 3)\n"),
              std::string::npos)
        << resumed.err; // --per-host 8 is what it was: no change to report
    const auto options = stored_options(db);
    EXPECT_EQ(options["delay_s"], 0.01);
    EXPECT_EQ(options["max_pages"], 6);
    EXPECT_EQ(read_pages(db).rows, 6u);
}

// The stall and decompression guards are kept by a resume like the other timeouts and limits.
TEST(CliCrawl, AResumeKeepsTheGuards) {
    TempDir dir("clicrawl");
    SlowSite site(40, 20ms);
    const auto db = dir.file("c.db");
    auto first = run_process(
        crawl_args(db, {site.seed(), "--max-pages", "2", "--stall-timeout", "7", "--min-speed",
                        "2K", "--max-decoded", "10M", "--max-ratio", "50"}));
    ASSERT_EQ(first.exit_code, 0) << first.err;
    auto resumed = run_process({flagcrawl_binary(), "crawl", "--resume", "--db", db, "--progress",
                                "never", "--max-pages", "4"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto options = stored_options(db);
    EXPECT_EQ(options["stall_timeout_s"], 7);
    EXPECT_EQ(options["min_speed"], 2048);
    EXPECT_EQ(options["max_decoded"], 10 << 20);
    EXPECT_EQ(options["max_ratio"], 50);
    EXPECT_EQ(read_pages(db).rows, 4u);
}

TEST(CliCrawl, ResumeAfterSigkillCompletesTheCrawl) {
    interrupted_then_resumed(SIGKILL, -1, "async");
}

TEST(CliCrawl, CtrlCExits130AndTheCrawlResumes) {
    interrupted_then_resumed(SIGINT, 130, "threaded");
}

// A crawl killed while far more URLs are queued than its window keeps in memory (most wait in
// the store, paged back in, their rows written several pages to a statement) resumes and
// fetches every page once, shallowest first: the pages' depths never go down, in either run.
void killed_with_many_queued_then_resumed(const char* strategy) {
    TempDir dir("clicrawl");
    SlowSite site(300, 5ms);
    const auto db = dir.file("c.db");
    const std::vector<std::string> options = {"--strategy", strategy, "--frontier-window", "8"};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.end(), options.begin(), options.end());
        return crawl_args(db, args);
    };
    auto first = run_process(with({site.seed(), "-c", "4"}), {}, {}, [&](int pid) {
        EXPECT_TRUE(eventually([&] { return fetched_pages(db) > 30; })) << "30 pages not fetched";
        ::kill(pid, SIGKILL);
    });
    EXPECT_EQ(first.exit_code, -1) << first.err;
    EXPECT_LT(read_pages(db).ok_paths.size(), 300u);
    {
        auto reader = storage::Reader::open(db);
        ASSERT_TRUE(reader);
        auto queued = reader->database().query_int("SELECT count(*) FROM frontier WHERE state = 0");
        ASSERT_TRUE(queued);
        EXPECT_GT(*queued, 8) << "the kill came with no more queued than the window";
    }
    auto second = run_process(with({"--resume", "-c", "8"}));
    EXPECT_EQ(second.exit_code, 0) << second.err;
    const DbPages done = read_pages(db);
    expect_whole_site_once(done, site);
    EXPECT_EQ(done.runs, 2);
    auto reader = storage::Reader::open(db);
    ASSERT_TRUE(reader);
    auto deeper_first = reader->database().query_int(
        "SELECT count(*) FROM pages a JOIN pages b ON b.id > a.id "
        "WHERE a.kind = 'page' AND b.kind = 'page' AND b.depth < a.depth");
    ASSERT_TRUE(deeper_first);
    EXPECT_EQ(*deeper_first, 0) << "a page was fetched before a shallower one";
}

TEST(CliCrawl, ResumeAfterSigkillWithManyQueuedSequential) {
    killed_with_many_queued_then_resumed("sequential");
}

TEST(CliCrawl, ResumeAfterSigkillWithManyQueuedThreaded) {
    killed_with_many_queued_then_resumed("threaded");
}

TEST(CliCrawl, ResumeAfterSigkillWithManyQueuedAsync) {
    killed_with_many_queued_then_resumed("async");
}

} // namespace

namespace {

// A 2.2 MB page of 200,000 nested <div> with a link at the bottom: the default parser (the
// scanner, linear) reads it and follows the link; the full parser refuses it at once as too
// complex (gumbo's tree building would take minutes), recorded as the page's error, exit 1.
TEST(CliCrawl, DeeplyNestedPageIsBoundedUnderBothParsers) {
    TempDir dir("clicrawl");
    std::string deep;
    for (int i = 0; i < 200'000; ++i) {
        deep += "<div>";
    }
    deep += "<a href=/leaf>leaf</a>";
    const auto body = server::make_body(deep);
    server::Server site([body](const server::Request& r) {
        if (r.path == "/") {
            return server::Reply::bytes(200, body, "text/html");
        }
        return server::Reply::bytes(200, server::make_body("<title>leaf</title>"), "text/html");
    });
    ASSERT_FALSE(site.start());
    const std::string seed = "http://127.0.0.1:" + std::to_string(site.port()) + "/";
    for (const char* parser : {"fast", "full"}) {
        const std::string db = dir.file(std::string(parser) + ".db");
        auto r = run_process({flagcrawl_binary(), "crawl", seed, "--db", db, "--progress", "never",
                              "--html-parser", parser});
        auto reader = storage::Reader::open(db);
        ASSERT_TRUE(reader);
        auto statement = reader->database().prepare(
            "SELECT url, coalesce(error, '') || '|' || coalesce(error_kind, '') FROM pages "
            "WHERE kind = 'page' ORDER BY url");
        std::vector<std::pair<std::string, std::string>> rows;
        ASSERT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
            rows.emplace_back(row.column_text(0), row.column_text(1));
            return true;
        }));
        if (std::string_view(parser) == "fast") {
            EXPECT_EQ(r.exit_code, 0) << r.err;
            ASSERT_EQ(rows.size(), 2u);
            EXPECT_EQ(rows[1].first, seed + "leaf");
        } else {
            EXPECT_EQ(r.exit_code, 1) << r.err;
            ASSERT_EQ(rows.size(), 1u);
            EXPECT_NE(rows[0].second.find("too complex"), std::string::npos) << rows[0].second;
            EXPECT_TRUE(rows[0].second.ends_with("|too_complex")) << rows[0].second;
        }
    }
}

} // namespace

namespace {

// The targets a server was asked for, in any order (handlers run on the server's threads).
class RecordingSite {
public:
    explicit RecordingSite(std::function<server::Reply(const server::Request&)> handler)
        : m_server([this, handler](const server::Request& r) {
            {
                std::lock_guard lock(m_mutex);
                m_targets.insert(std::string(r.target));
            }
            return handler(r);
        }) {
        EXPECT_FALSE(m_server.start());
    }
    std::string root() const { return "http://127.0.0.1:" + std::to_string(m_server.port()); }
    std::set<std::string> targets() {
        std::lock_guard lock(m_mutex);
        return m_targets;
    }

private:
    std::mutex m_mutex;
    std::set<std::string> m_targets;
    server::Server m_server;
};

// Pages in Shift_JIS (declared by the header or by <meta>) and windows-1252 (declared by
// nothing): paths are UTF-8 percent-encoded as always, queries in the page's encoding (the
// URL Standard), and 表's second byte 0x5C is never read as a path separator.
TEST(CliCrawl, PagesAreDecodedByTheirCharset) {
    const std::string sjis_links = "<a href='/\x95\x5C?q=\x95\x5C'>h</a><title>\x95\x5C</title>";
    RecordingSite site([&](const server::Request& r) {
        if (r.path == "/header") {
            return server::Reply::bytes(200, server::make_body(sjis_links),
                                        "text/html; charset=Shift_JIS");
        }
        if (r.path == "/meta") {
            return server::Reply::bytes(
                200, server::make_body("<meta charset='shift_jis'>" + sjis_links), "text/html");
        }
        if (r.path == "/latin") {
            return server::Reply::bytes(200, server::make_body("<a href='caf\xE9?x=\xE9'>c</a>"),
                                        "text/html");
        }
        return server::Reply::bytes(200, server::make_body("<p>leaf"), "text/html");
    });
    for (const char* strategy : {"sequential", "threaded", "async"}) {
        TempDir dir("clicrawl");
        auto r = run_process({flagcrawl_binary(), "crawl", site.root() + "/header",
                              site.root() + "/meta", site.root() + "/latin", "--db",
                              dir.file("c.db"), "--progress", "never", "--strategy", strategy});
        EXPECT_EQ(r.exit_code, 0) << strategy << ": " << r.err;
        const auto targets = site.targets();
        // 表 is 95 5C in Shift_JIS; the query percent-encode set leaves the '\' byte as is.
        EXPECT_TRUE(targets.contains("/%E8%A1%A8?q=%95\\"))
            << strategy << ::testing::PrintToString(targets);
        EXPECT_TRUE(targets.contains("/caf%C3%A9?x=%E9")) << strategy;
        for (const std::string& t : targets) {
            EXPECT_EQ(t.find("%5C/"), std::string::npos) << t;
            EXPECT_EQ(t.find("%EF%BF%BD"), std::string::npos) << t;
        }
        auto reader = storage::Reader::open(dir.file("c.db"));
        ASSERT_TRUE(reader);
        auto statement = reader->database().prepare("SELECT title FROM pages WHERE url = ?");
        statement.bind(1, site.root() + "/header");
        std::string title;
        ASSERT_TRUE(storage::for_each_row(statement, [&](const storage::Statement& row) {
            title = std::string(row.column_text(0));
            return true;
        }));
        EXPECT_EQ(title, "\xE8\xA1\xA8") << strategy;
    }
}

// A <base href> with a scheme nothing relative resolves against (mailto:) is the page's base
// all the same: relative links (root-relative ones too) resolve to nothing, as `url resolve`
// says; a data: or
// javascript: base is ignored (HTML's frozen base URL), so links resolve against the page.
TEST(CliCrawl, NonHttpBaseFollowsTheUrlStandard) {
    RecordingSite site([](const server::Request& r) {
        if (r.path == "/mailto") {
            // Only an absolute link survives such a base ("/abs-m" is relative too).
            return server::Reply::bytes(
                200,
                server::make_body("<base href='mailto:x@example.org'><a href='rel-m'>r</a>"
                                  "<a href='/root-m'>a</a><a href='http://" +
                                  std::string(r.header("Host")) + "/abs-m'>a</a>"),
                "text/html");
        }
        if (r.path == "/data") {
            return server::Reply::bytes(
                200, server::make_body("<base href='data:text/plain,x'><a href='rel-d'>r</a>"),
                "text/html");
        }
        return server::Reply::bytes(200, server::make_body("<p>leaf"), "text/html");
    });
    auto resolve =
        run_process({flagcrawl_binary(), "url", "resolve"}, {}, "rel-m\tmailto:x@example.org\n");
    ASSERT_EQ(resolve.exit_code, 0) << resolve.err;
    EXPECT_EQ(resolve.out, "rel-m\tmailto:x@example.org\tERROR\n");
    for (const char* strategy : {"sequential", "threaded", "async"}) {
        TempDir dir("clicrawl");
        auto r = run_process({flagcrawl_binary(), "crawl", site.root() + "/mailto",
                              site.root() + "/data", "--db", dir.file("c.db"), "--progress",
                              "never", "--strategy", strategy});
        EXPECT_EQ(r.exit_code, 0) << strategy << ": " << r.err;
        const auto targets = site.targets();
        EXPECT_TRUE(targets.contains("/abs-m")) << strategy;
        EXPECT_TRUE(targets.contains("/rel-d")) << strategy;
        EXPECT_FALSE(targets.contains("/rel-m")) << strategy;
        EXPECT_FALSE(targets.contains("/root-m")) << strategy;
    }
}

} // namespace

namespace {

// --page-requisites fetches the URLs of CSS, as wget2 does: url() in <style> and style
// attributes (resolved against the page), and in stylesheets, whose @import is followed
// (resolved against the stylesheet's URL).
TEST(CliCrawl, PageRequisitesIncludeCssUrls) {
    RecordingSite site([](const server::Request& r) {
        if (r.path == "/") {
            return server::Reply::bytes(
                200,
                server::make_body("<link rel=stylesheet href=/css/a.css><style>p{x:url(s.png)}"
                                  "</style><div style='background:url(/d.png)'>d</div>"),
                "text/html");
        }
        if (r.path == "/css/a.css") {
            return server::Reply::bytes(
                200, server::make_body("@import 'b.css'; x{y:url(img/a.png)}"), "text/css");
        }
        if (r.path == "/css/b.css") {
            return server::Reply::bytes(200, server::make_body("z{w:url(/b.png)}"),
                                        "text/css; charset=utf-8");
        }
        return server::Reply::bytes(200, server::make_body("x"), "image/png");
    });
    TempDir dir("clicrawl");
    auto r = run_process({flagcrawl_binary(), "crawl", site.root() + "/", "--db", dir.file("c.db"),
                          "--progress", "never", "--page-requisites"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // And /sitemap.xml: robots.txt names no sitemap.
    const std::set<std::string> want = {"/",           "/css/a.css", "/css/b.css", "/css/img/a.png",
                                        "/b.png",      "/s.png",     "/d.png",     "/robots.txt",
                                        "/sitemap.xml"};
    EXPECT_EQ(site.targets(), want);
}

} // namespace

// Sitemaps as a user meets them: a 60,000-URL /sitemap.xml is read up to its 50,000th URL with a
// warning on stderr (even with -q); --no-sitemaps asks for no sitemap at all.
TEST(CliCrawl, SitemapCutAt50000WithAWarningAndNoSitemapsAsksForNone) {
    TempDir dir("clicrawl");
    // Set once the server's port is known. Guarded: nothing else orders this thread's write
    // before the server thread's read (the request comes from another process).
    std::mutex sitemap_mutex;
    server::Body sitemap;
    std::atomic<int> sitemap_requests{0};
    server::Server site([&](const server::Request& r) {
        if (r.path == "/sitemap.xml") {
            ++sitemap_requests;
            std::lock_guard lock(sitemap_mutex);
            return server::Reply::bytes(200, sitemap, "application/xml");
        }
        if (r.path == "/robots.txt") {
            return server::Reply::text(404, "none");
        }
        return server::Reply::bytes(200, server::make_body("page"), "text/html");
    });
    ASSERT_FALSE(site.start());
    const std::string base = "http://127.0.0.1:" + std::to_string(site.port());
    std::string xml = "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
    for (int i = 0; i < 60'000; ++i) {
        xml += "<url><loc>" + base + "/" + std::to_string(i) + "</loc></url>\n";
    }
    {
        std::lock_guard lock(sitemap_mutex);
        sitemap = server::make_body(xml + "</urlset>\n");
    }
    auto r = run_process(crawl_args(dir.file("s.db"), {base + "/", "--max-pages", "3"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "flagcrawl: warning: sitemap " + base +
                         "/sitemap.xml: more than 50000 URLs: the rest ignored (the sitemap "
                         "protocol's limit)\n");
    EXPECT_EQ(sitemap_requests, 1);

    auto none = run_process(crawl_args(dir.file("n.db"), {base + "/", "--no-sitemaps"}));
    EXPECT_EQ(none.exit_code, 0) << none.err;
    EXPECT_EQ(sitemap_requests, 1);
    auto both =
        run_process(crawl_args(dir.file("b.db"), {base + "/", "--sitemaps", "--no-sitemaps"}));
    EXPECT_EQ(both.exit_code, 2);
}
