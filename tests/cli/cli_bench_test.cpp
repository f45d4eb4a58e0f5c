// `flagcrawl bench` as a user runs it: one row per strategy with sane measures (never speed
// ratios: those are benchmark figures), the runs recorded, a well-formed SVG chart, a download
// list, a crawl of the synthetic site with its own columns, and usage errors (its own and those
// of the job's options) with exit 2.
#include "eventually.hpp"
#include "file_contents.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/router.hpp"
#include "server/server.hpp"
#include "server/site.hpp"
#include "storage/reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace flagcrawl;
using testing_support::count_finished_files;
using testing_support::count_lines;
using testing_support::eventually;
using testing_support::flagcrawl_binary;
using testing_support::read_file;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

// A small XML well-formedness check (enough for the SVG we write): every tag closes in order,
// attribute values are quoted, '&' starts an entity, '<' never appears in text. Returns "" when
// well-formed, else what is wrong. `elements` gets every element name seen.
std::string xml_problem(const std::string& xml, std::vector<std::string>& elements) {
    std::vector<std::string> open;
    std::size_t i = 0;
    auto entity_ok = [&](std::size_t at) {
        for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
            if (xml.compare(at, std::strlen(e), e) == 0)
                return true;
        return xml.compare(at, 2, "&#") == 0;
    };
    if (xml.rfind("<?xml", 0) == 0)
        i = xml.find("?>") + 2;
    while (i < xml.size()) {
        if (xml[i] == '&' && !entity_ok(i))
            return "bare & at " + std::to_string(i);
        if (xml[i] != '<') {
            ++i;
            continue;
        }
        const std::size_t end = xml.find('>', i);
        if (end == std::string::npos)
            return "unclosed tag at " + std::to_string(i);
        std::string tag = xml.substr(i + 1, end - i - 1);
        i = end + 1;
        if (tag.empty())
            return "empty tag";
        if (tag[0] == '/') {
            if (open.empty() || open.back() != tag.substr(1))
                return "mismatched </" + tag.substr(1) + ">";
            open.pop_back();
            continue;
        }
        const bool self_closing = tag.back() == '/';
        if (self_closing)
            tag.pop_back();
        const std::string name = tag.substr(0, tag.find_first_of(" \n\t"));
        elements.push_back(name);
        // Attributes: name="value" pairs, values without '<' and with entities only.
        std::size_t p = name.size();
        while (p < tag.size()) {
            while (p < tag.size() && std::isspace(static_cast<unsigned char>(tag[p])))
                ++p;
            if (p >= tag.size())
                break;
            const std::size_t eq = tag.find('=', p);
            if (eq == std::string::npos || eq + 1 >= tag.size() || tag[eq + 1] != '"')
                return "unquoted attribute in <" + name + ">";
            const std::size_t close = tag.find('"', eq + 2);
            if (close == std::string::npos)
                return "unterminated attribute in <" + name + ">";
            p = close + 1;
        }
        if (!self_closing)
            open.push_back(name);
    }
    return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

// Sets an environment variable (for the children started meanwhile) until the end of the scope.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value)
        : m_name(name) {
        if (const char* before = std::getenv(name))
            m_before = before;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (m_before)
            ::setenv(m_name, m_before->c_str(), 1);
        else
            ::unsetenv(m_name);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
    std::optional<std::string> m_before;
};

class CliBench : public testing::Test {
protected:
    std::vector<std::string> args(std::initializer_list<std::string> rest) const {
        std::vector<std::string> a = {flagcrawl_binary(), "bench"};
        a.insert(a.end(), rest);
        a.insert(a.end(), {"--db", m_dir.file("runs.db")});
        return a;
    }

    TempDir m_dir{"cli-bench"};
};

} // namespace

TEST_F(CliBench, FlagsRowsForTheThreeStrategiesWithSaneNumbersAndAChart) {
    const auto svg = m_dir.path() / "chart.svg";
    auto r = run_process(args({"flags", "--json", "--delay", "0.05", "--repeat", "1", "--plot",
                               svg.string(), "--progress", "never"}),
                         m_dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto report = nlohmann::json::parse(r.out);
    EXPECT_EQ(report["job"]["command"], "flags");
    EXPECT_EQ(report["job"]["fixed_delay_s"], 0.05);
    const auto& results = report["results"];
    ASSERT_EQ(results.size(), 3u) << r.out;
    const std::vector<std::pair<std::string, int>> expected = {
        {"sequential", 1}, {"threaded", 20}, {"async", 20}};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& row = results[i];
        EXPECT_EQ(row["strategy"], expected[i].first);
        EXPECT_EQ(row["concurrency"], expected[i].second);
        EXPECT_EQ(row["ok"], 20);
        EXPECT_EQ(row["not_found"], 0);
        EXPECT_EQ(row["errors"], 0);
        const double wall = row["wall_s"];
        // Nothing finishes before its requests' delays have passed: 20 in a row, or all at once.
        EXPECT_GE(wall, i == 0 ? 1.0 : 0.05) << row;
        EXPECT_LT(wall, 30.0) << row;
        EXPECT_GE(row["job_s"].get<double>(), i == 0 ? 1.0 : 0.05);
        EXPECT_LE(row["job_s"].get<double>(), wall);
        EXPECT_NEAR(row["requests_per_s"].get<double>(), 20 / wall, 1e-6);
        EXPECT_NEAR(row["speedup"].get<double>(), results[0]["wall_s"].get<double>() / wall, 1e-6);
        EXPECT_EQ(row["ideal_s"], i == 0 ? 1.0 : 0.05);
        const double efficiency = row["efficiency"];
        EXPECT_GT(efficiency, 0);
        EXPECT_LE(efficiency, 1.0);
        EXPECT_GE(row["cpu_s"].get<double>(), 0);
        EXPECT_GT(row["peak_rss_kb"].get<long>(), 1000); // a real process: megabytes
    }

    // Each run was an ordinary flags run, recorded in the DB.
    auto reader = storage::Reader::open(m_dir.file("runs.db"));
    ASSERT_TRUE(reader);
    int runs = 0;
    ASSERT_TRUE(reader->for_each_run([&](const storage::RunRow& run) {
        ++runs;
        EXPECT_EQ(run.info.command, "flags");
        EXPECT_EQ(run.totals.ok, 20u);
        return true;
    }));
    EXPECT_EQ(runs, 3);
    // The temporary output folders are gone; the working folder got no files.
    EXPECT_FALSE(fs::exists(m_dir.path() / "downloaded"));

    const std::string text = read_file(svg);
    std::vector<std::string> elements;
    EXPECT_EQ(xml_problem(text, elements), "") << text;
    ASSERT_FALSE(elements.empty());
    EXPECT_EQ(elements.front(), "svg");
    EXPECT_EQ(std::count(elements.begin(), elements.end(), "script"), 0);
    EXPECT_GE(std::count(elements.begin(), elements.end(), "rect"), 7); // background + 2x3 bars
    EXPECT_NE(text.find("wall time (s)"), std::string::npos);
    EXPECT_NE(text.find("throughput (requests/s)"), std::string::npos);
    EXPECT_NE(text.find(">sequential<"), std::string::npos);
    EXPECT_NE(text.find(">async<"), std::string::npos);
}

TEST_F(CliBench, TextTableAndAConcurrencySweep) {
    auto r = run_process(args({"flags", "--strategies", "async,threaded", "--concurrency", "2,5",
                               "--repeat", "2", "--delay", "0.01", "-l", "5", "--no-db"}),
                         m_dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("strategy"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("efficiency"), std::string::npos);
    // Rows: for each concurrency, the strategies in the order given; no sequential row.
    const auto async2 = r.out.find("\nasync          2 ");
    const auto threaded2 = r.out.find("\nthreaded       2 ");
    const auto async5 = r.out.find("\nasync          5 ");
    const auto threaded5 = r.out.find("\nthreaded       5 ");
    ASSERT_NE(async2, std::string::npos) << r.out;
    ASSERT_NE(threaded5, std::string::npos) << r.out;
    EXPECT_LT(async2, threaded2);
    EXPECT_LT(threaded2, async5);
    EXPECT_LT(async5, threaded5);
    EXPECT_EQ(r.out.find("\nsequential"), std::string::npos);
    EXPECT_NE(r.out.find("median of 2 runs"), std::string::npos);
    EXPECT_NE(r.out.find("5 items per run"), std::string::npos);
}

// flags runs at most one request per code: a concurrency above the number of codes would only
// repeat the row it really ran at, so that row is left out, with a note.
TEST_F(CliBench, ConcurrencyAboveTheItemsIsLeftOut) {
    auto r = run_process(args({"flags", "--strategies", "async", "--concurrency", "2,8", "--repeat",
                               "1", "--delay", "0.01", "-l", "5", "--json", "--no-db"}),
                         m_dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto report = nlohmann::json::parse(r.out);
    ASSERT_EQ(report["results"].size(), 1u) << r.out;
    EXPECT_EQ(report["results"][0]["concurrency"], 2);
    EXPECT_NE(r.err.find("async c=8 ran at c=5 (5 items): row left out"), std::string::npos)
        << r.err;
}

TEST_F(CliBench, DownloadList) {
    server::Router routes;
    std::string list;
    for (int i = 0; i < 10; ++i) {
        routes.add("/f" + std::to_string(i), server::Reply::text(200, "x"));
        list += "/f" + std::to_string(i) + "\n";
    }
    server::Server site(routes.handler());
    ASSERT_FALSE(site.start());
    std::string urls;
    std::stringstream in(list);
    std::string path;
    while (std::getline(in, path))
        urls += site.base_url() + path + "\n";
    std::ofstream(m_dir.path() / "urls.txt") << urls;
    auto r = run_process(args({"download", "-i", m_dir.file("urls.txt"), "--repeat", "1",
                               "--concurrency", "4", "--json", "--no-db"}),
                         m_dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto report = nlohmann::json::parse(r.out);
    ASSERT_EQ(report["results"].size(), 3u);
    for (const auto& row : report["results"]) {
        EXPECT_EQ(row["ok"], 10);
        EXPECT_TRUE(row["efficiency"].is_null()); // no known delay: no ideal
    }
    EXPECT_EQ(routes.total(), 30u);
}

TEST_F(CliBench, UsageErrorsExitTwo) {
    for (auto bad : {std::vector<std::string>{"flags", "--strategies", "parallel"},
                     std::vector<std::string>{"flags", "--concurrency", "0"},
                     std::vector<std::string>{"flags", "--repeat", "0"},
                     std::vector<std::string>{"flags", "--strategy", "async"},
                     std::vector<std::string>{"flags", "-m", "5"},
                     std::vector<std::string>{"flags", "--delay", "soon"},
                     std::vector<std::string>{"flags", "USA"},        // the job's own check
                     std::vector<std::string>{"download"},            // no URLs
                     std::vector<std::string>{"download", "-i", "-"}, // runs get no stdin
                     std::vector<std::string>{"crawl", "--concurrency", "101"},
                     std::vector<std::string>{"crawl", "--per-host", "4"},
                     std::vector<std::string>{"crawl", "-o", "mirror"},
                     std::vector<std::string>{"crawl", "--out=mirror"},
                     std::vector<std::string>{"crawl", "--delay", "soon"},
                     std::vector<std::string>{"crawl", "--pages", "0"},
                     std::vector<std::string>{"crawl", "--max-pages", "none"}, // the run's check
                     std::vector<std::string>{}}) {
        auto a = args({});
        a.insert(a.begin() + 2, bad.begin(), bad.end());
        auto r = run_process(a, m_dir.path().string());
        EXPECT_EQ(r.exit_code, 2) << testing::PrintToString(bad) << ": " << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    }
}

// bench crawl's runs crawl only the site it serves: a seed URL given to it is refused, where it
// stands among the options passed on (an option's value is not taken for a seed).
TEST_F(CliBench, CrawlRefusesSeedUrls) {
    for (auto bad : {std::vector<std::string>{"crawl", "http://127.0.0.1:9/"},
                     std::vector<std::string>{"crawl", "--html-parser", "full", "127.0.0.1:9"},
                     std::vector<std::string>{"crawl", "--depth=2", "-d", "3", "http://a.test/"}}) {
        auto a = args({});
        a.insert(a.begin() + 2, bad.begin(), bad.end());
        auto r = run_process(a, m_dir.path().string());
        EXPECT_EQ(r.exit_code, 2) << testing::PrintToString(bad) << ": " << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
        EXPECT_NE(r.err.find("seed " + bad.back()), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out; // refused before any run
    }
    // Options with values (the DB's path among them) are no seeds: the run goes ahead.
    auto r = run_process(
        args({"crawl", "--pages", "5", "--strategies", "async", "--concurrency", "2", "--repeat",
              "1", "--html-parser", "full", "-d", "3", "--json", "--progress", "never"}),
        m_dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["results"].size(), 1u) << r.out;
}

TEST_F(CliBench, CtrlCStopsTheRunningChildAndExits130) {
    // The signal goes to bench alone (not its process group): it passes it on to the run. It is
    // sent once a run has saved a flag, so that a child is surely running: bench gives each run a
    // fresh folder under the temporary folder, here pointed (TMPDIR, inherited) at our own.
    const fs::path tmp = m_dir.path() / "tmp";
    fs::create_directories(tmp);
    const ScopedEnv tmpdir("TMPDIR", tmp.string());
    bool child_saved_a_flag = false;
    const auto started = std::chrono::steady_clock::now();
    auto r = run_process(
        args({"flags", "--delay", "1", "--repeat", "1", "--no-db"}), m_dir.path().string(), {},
        [&](int pid) {
            child_saved_a_flag = eventually([&] {
                std::error_code error;
                for (fs::directory_iterator it(tmp, error), end; !error && it != end;
                     it.increment(error))
                    if (it->path().filename().string().starts_with("flagcrawl-bench-") &&
                        count_finished_files(it->path()) > 0)
                        return true;
                return false;
            });
            ::kill(pid, SIGINT);
        });
    EXPECT_TRUE(child_saved_a_flag);
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15)); // not 20 s
}

namespace {

// The pids of `pid`'s children (Linux: /proc/PID/task/PID/children).
std::vector<int> children_of(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<int> out;
    for (int child = 0; in >> child;)
        out.push_back(child);
    return out;
}

} // namespace

TEST_F(CliBench, RunsStayOutOfTheHistoryDb) {
    server::Router routes;
    routes.add("/f", server::Reply::text(200, "x"));
    server::Server site(routes.handler());
    ASSERT_FALSE(site.start());
    const fs::path home = m_dir.path() / "home";
    fs::create_directories(home);
    auto r = run_process({flagcrawl_binary(), "bench", "download", site.base_url() + "/f",
                          "--repeat", "1", "--concurrency", "2", "--json"},
                         m_dir.path().string(), {}, {}, std::chrono::seconds(60),
                         {"HOME=" + home.string(), "XDG_STATE_HOME="});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(routes.total(), 3u);
    // The default DB (~/.local/state/flagcrawl/flagcrawl.db) was neither created nor written.
    EXPECT_FALSE(fs::exists(home / ".local" / "state" / "flagcrawl" / "flagcrawl.db"));
    std::vector<std::string> left;
    for (const auto& entry : fs::recursive_directory_iterator(home))
        left.push_back(entry.path().string());
    EXPECT_TRUE(left.empty()) << testing::PrintToString(left);
}

namespace {

// The JSON row of the sequential run, once a bench of sequential then threaded runs of
// `command` saw its threaded run killed: it failed (exit 3, saying so) but kept that row, and
// wrote its chart whole (`chart`, in the test's folder). Null when not.
nlohmann::json only_the_sequential_row(const testing_support::ProcessResult& r,
                                       const std::string& command, const std::string& chart) {
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("a " + command + " run was killed by signal 9"), std::string::npos)
        << r.err;
    const auto report = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(report.is_object()) << r.out;
    if (!report.is_object() || report["results"].size() != 1) {
        ADD_FAILURE() << "not one row: " << r.out;
        return nullptr;
    }
    EXPECT_EQ(report["results"][0]["strategy"], "sequential");
    EXPECT_TRUE(report["job"].contains("failed")) << r.out;
    std::vector<std::string> elements;
    const std::string svg = read_file(chart);
    EXPECT_FALSE(svg.empty());
    EXPECT_EQ(xml_problem(svg, elements), "");
    const fs::path path(chart);
    EXPECT_FALSE(fs::exists(path.parent_path() / ("." + path.filename().string() + ".part")));
    return report["results"][0];
}

} // namespace

TEST_F(CliBench, AFailedRunKeepsTheMeasuredRowsAndAWholeChart) {
    // The sequential run is answered; the threaded run's requests hang, and that run is killed.
    server::Router routes;
    std::atomic<int> requests{0};
    std::string list;
    for (int i = 0; i < 4; ++i) {
        routes.add("/f" + std::to_string(i), [&requests](const server::Request&) {
            server::Reply reply = server::Reply::text(200, "x");
            if (++requests > 4)
                reply.delay = std::chrono::seconds(60);
            return reply;
        });
    }
    server::Server site(routes.handler());
    ASSERT_FALSE(site.start());
    for (int i = 0; i < 4; ++i)
        list += site.base_url() + "/f" + std::to_string(i) + "\n";
    std::ofstream(m_dir.path() / "urls.txt") << list;
    const std::string chart = m_dir.file("chart.svg");
    bool killed = false;
    auto r = run_process(
        args({"download", "-i", m_dir.file("urls.txt"), "--strategies", "sequential,threaded",
              "--concurrency", "2", "--repeat", "1", "--json", "--plot", chart}),
        m_dir.path().string(), {}, [&](int pid) {
            killed = eventually(
                [&] {
                    if (requests.load() <= 4)
                        return false;
                    const std::vector<int> runs = children_of(pid);
                    for (const int run : runs)
                        ::kill(run, SIGKILL);
                    return !runs.empty();
                },
                std::chrono::seconds(30));
        });
    ASSERT_TRUE(killed) << r.err;
    const nlohmann::json row = only_the_sequential_row(r, "download", chart);
    EXPECT_EQ(row["ok"], 4);
}

TEST_F(CliBench, AFirstRunThatFailsLeavesNoChart) {
    const std::string chart = m_dir.file("chart.svg");
    auto r = run_process(
        args({"download", "-i", m_dir.file("missing.txt"), "--repeat", "1", "--plot", chart}),
        m_dir.path().string());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_FALSE(fs::exists(chart));
    EXPECT_FALSE(fs::exists(m_dir.path() / ".chart.svg.part"));
}

namespace {

// The pages a crawl of the bench's site (`serve --site N`, seed 0) fetches: every URL of a page
// (directory and query forms included), robots.txt aside.
std::uint64_t crawl_pages(std::uint64_t site_pages) {
    return server::Site(server::SiteOptions{.pages = site_pages, .seed = 0})
        .stats()
        .urls_fragment_stripped;
}

} // namespace

TEST_F(CliBench, CrawlRowsWithPagesCpuPerPageAndParseShareAndAChart) {
    const auto svg = m_dir.path() / "crawl.svg";
    auto r = run_process(args({"crawl", "--pages", "50", "--concurrency", "4", "--repeat", "1",
                               "--json", "--plot", svg.string(), "--progress", "never"}),
                         m_dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto report = nlohmann::json::parse(r.out);
    EXPECT_EQ(report["job"]["command"], "crawl");
    EXPECT_EQ(report["job"]["server_mode"], "site");
    const std::uint64_t pages = crawl_pages(50);
    EXPECT_EQ(report["job"]["items"], pages);
    const auto& results = report["results"];
    ASSERT_EQ(results.size(), 3u) << r.out;
    const std::vector<std::pair<std::string, int>> expected = {
        {"sequential", 1}, {"threaded", 4}, {"async", 4}};
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& row = results[i];
        EXPECT_EQ(row["strategy"], expected[i].first);
        EXPECT_EQ(row["concurrency"], expected[i].second);
        // Every strategy crawled the whole site, each URL once.
        EXPECT_EQ(row["pages"], pages) << row;
        EXPECT_EQ(row["ok"], pages) << row;
        EXPECT_EQ(row["errors"], 0);
        EXPECT_EQ(row["requests"], pages + 1); // and robots.txt
        const double wall = row["wall_s"];
        EXPECT_GT(wall, 0);
        EXPECT_NEAR(row["pages_per_s"].get<double>(), double(pages) / wall, 1e-6);
        const double cpu = row["cpu_s"];
        EXPECT_NEAR(row["cpu_ms_per_page"].get<double>(), cpu / double(pages) * 1000, 1e-9);
        // Every page was parsed, on some thread: a share of the run's CPU, never more.
        const double parse = row["parse_cpu_s"];
        EXPECT_GT(parse, 0) << row;
        const double share = row["parse_share"];
        EXPECT_GT(share, 0) << row;
        EXPECT_LE(share, 1.0) << row;
        EXPECT_NEAR(share, std::min(1.0, parse / cpu), 1e-9);
        EXPECT_TRUE(row["efficiency"].is_null()); // no ideal time for a crawl
        EXPECT_GT(row["peak_rss_kb"].get<long>(), 1000);
    }

    // Each run was an ordinary crawl, recorded in the DB --db named.
    auto reader = storage::Reader::open(m_dir.file("runs.db"));
    ASSERT_TRUE(reader);
    std::vector<std::string> runs;
    ASSERT_TRUE(reader->for_each_run([&](const storage::RunRow& run) {
        runs.push_back(run.info.command + " " + run.info.strategy);
        return true;
    }));
    EXPECT_EQ(runs,
              (std::vector<std::string>{"crawl sequential", "crawl threaded", "crawl async"}));

    const std::string text = read_file(svg);
    std::vector<std::string> elements;
    EXPECT_EQ(xml_problem(text, elements), "") << text;
    ASSERT_FALSE(elements.empty());
    EXPECT_EQ(elements.front(), "svg");
    EXPECT_GE(std::count(elements.begin(), elements.end(), "rect"), 10); // background + 3x3 bars
    EXPECT_NE(text.find("throughput (pages/s)"), std::string::npos);
    EXPECT_NE(text.find("CPU per page (ms)"), std::string::npos);
    EXPECT_NE(text.find(">parse "), std::string::npos);
    EXPECT_NE(text.find(">async<"), std::string::npos);
}

TEST_F(CliBench, CrawlTableHasTheCrawlColumns) {
    auto r = run_process(
        args({"crawl", "--pages", "30", "--strategies", "sequential,async", "--concurrency", "3",
              "--repeat", "1", "--delay", "0.001", "--no-db", "--progress", "never"}),
        m_dir.path().string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* column : {"strategy", "pages/s", "CPU ms/page", "parse", "peak RSS", "pages"})
        EXPECT_NE(r.out.find(column), std::string::npos) << column << "\n" << r.out;
    EXPECT_EQ(r.out.find("efficiency"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("embedded site server (30 pages, 0.001 s per response)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find(std::to_string(crawl_pages(30)) + " pages per run"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("\nsequential     1 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nasync          3 "), std::string::npos) << r.out;
}

TEST_F(CliBench, AKilledCrawlRunKeepsTheMeasuredRowsAndAWholeChart) {
    // The sequential run ends; the threaded run, slowed by the server's delay, is killed.
    const std::string chart = m_dir.file("chart.svg");
    bool killed = false;
    auto r = run_process(
        args({"crawl", "--pages", "20", "--delay", "0.02", "--strategies", "sequential,threaded",
              "--concurrency", "2", "--repeat", "1", "--json", "--plot", chart}),
        m_dir.path().string(), {}, [&](int pid) {
            int first = 0;
            killed = eventually(
                [&] {
                    for (const int run : children_of(pid)) {
                        if (first == 0)
                            first = run;
                        else if (run != first)
                            return ::kill(run, SIGKILL) == 0;
                    }
                    return false;
                },
                std::chrono::seconds(30));
        });
    ASSERT_TRUE(killed) << r.err;
    const nlohmann::json row = only_the_sequential_row(r, "crawl", chart);
    EXPECT_EQ(row["pages"], crawl_pages(20));
}
