// `crawl -o DIR` as a user runs it: every page and requisite of the synthetic site is saved as
// DIR/HOST:PORT/PATH with the bytes the server sent, under each strategy, and a crawl killed
// with SIGKILL and resumed completes the mirror; with --convert-links the mirror opens in
// headless Chromium from disk without a request to the site (skipped without Chromium).
#include "chromium.hpp"
#include "eventually.hpp"
#include "file_contents.hpp"
#include "process.hpp"
#include "site_server.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::eventually;
using testing_support::find_chromium;
using testing_support::flagcrawl_binary;
using testing_support::read_file;
using testing_support::run_process;
using testing_support::SiteServer;
using testing_support::TempDir;

namespace {

std::size_t files_below(const std::filesystem::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); ++it)
        n += it->is_regular_file() ? 1 : 0;
    return n;
}

// Every page is in the mirror with the bytes the server renders for it.
void expect_whole_mirror(const SiteServer& s, const std::filesystem::path& dir, bool requisites,
                         bool after_kill) {
    for (std::uint64_t i = 0; i < s.site().pages(); ++i) {
        const auto file = dir / s.host() / s.site().page_path(i).substr(1);
        EXPECT_EQ(read_file(file), s.site().render(i, s.host())) << file;
    }
    EXPECT_EQ(std::filesystem::exists(dir / s.host() / "static" / "site.css"), requisites);
    EXPECT_TRUE(std::filesystem::exists(dir / s.host() / "robots.txt") == false)
        << "robots.txt is the crawler's, not a page of the mirror";
    // A killed crawl may leave a hidden temporary file (documented); a finished one does not.
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
        EXPECT_TRUE(after_kill || !entry.path().filename().string().ends_with(".part"))
            << entry.path();
}

class CliMirror : public ::testing::TestWithParam<const char*> {};

TEST_P(CliMirror, SavesEveryPageAndRequisite) {
    TempDir dir("climirror");
    SiteServer s(80, 0ms);
    auto r = run_process({flagcrawl_binary(), "crawl", s.seed(), "--db", dir.file("c.db"), "-o",
                          dir.file("m"), "--page-requisites", "--strategy", GetParam()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_whole_mirror(s, dir.path() / "m", true, false);
    // Query variants of pages are kept apart from the page itself.
    bool query_names = false;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path() / "m"))
        query_names =
            query_names || entry.path().filename().string().find('?') != std::string::npos;
    EXPECT_TRUE(query_names);
    EXPECT_NE(r.out.find("mirror: "), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Strategies, CliMirror,
                         ::testing::Values("sequential", "threaded", "async"));

TEST(CliMirrorResume, KilledCrawlResumesTheMirror) {
    TempDir dir("climirror");
    SiteServer s(150, 15ms);
    s.hold_after(40); // the first crawl cannot finish before it is killed
    const auto mirror = dir.path() / "m";
    auto first =
        run_process({flagcrawl_binary(), "crawl", s.seed(), "--db", dir.file("c.db"), "-o",
                     mirror.string(), "-c", "4", "--progress", "never"},
                    {}, {}, [&](int pid) {
                        EXPECT_TRUE(eventually([&] { return files_below(mirror) > 10; }, 30s));
                        ::kill(pid, SIGKILL);
                    });
    EXPECT_EQ(first.exit_code, -1);
    EXPECT_LT(files_below(mirror), 150u);
    s.release();
    auto second = run_process(
        {flagcrawl_binary(), "crawl", "--db", dir.file("c.db"), "--resume", "--progress", "never"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    expect_whole_mirror(s, mirror, false, true);
}

TEST(CliMirrorResume, AnUnwritableFolderIsFatal) {
    TempDir dir("climirror");
    std::ofstream(dir.file("file")) << "x";
    auto r = run_process({flagcrawl_binary(), "crawl", "http://127.0.0.1:1/", "--no-db", "-o",
                          dir.file("file") + "/sub"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
}

// Every "url" a Chromium net log names (requests, jobs, redirects).
std::set<std::string> net_log_urls(const std::filesystem::path& log) {
    std::set<std::string> urls;
    const auto json = nlohmann::json::parse(read_file(log), nullptr, false);
    if (json.is_discarded() || !json.contains("events"))
        return urls;
    for (const auto& event : json["events"]) {
        if (!event.contains("params"))
            continue;
        for (const char* key : {"url", "original_url", "location"})
            if (event["params"].contains(key) && event["params"][key].is_string())
                urls.insert(event["params"][key].get<std::string>());
    }
    return urls;
}

TEST(CliMirrorOffline, ConvertedMirrorOpensInChromiumFromDisk) {
    const std::string chromium = find_chromium();
    if (chromium.empty())
        GTEST_SKIP() << "chromium is not installed";
    TempDir dir("climirror");
    const auto mirror = dir.path() / "m";
    std::string host;
    {
        SiteServer s(60, 0ms);
        host = s.host();
        auto r = run_process({flagcrawl_binary(), "crawl", s.seed(), "--db", dir.file("c.db"), "-o",
                              mirror.string(), "--page-requisites", "--convert-links", "--progress",
                              "never"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("links converted in "), std::string::npos) << r.out;
    } // the server is gone: its port is closed while Chromium reads the mirror
    const auto index = mirror / host / "index.html";
    const std::string page = read_file(index);
    EXPECT_EQ(page.find("href=\"/"), std::string::npos) << "a root-relative link is left";
    EXPECT_EQ(page.find("src=\"/"), std::string::npos) << "a root-relative source is left";
    // Every page of the site is in the mirror: no link leads back to the site (a file saved for
    // two URLs, / and /index.html, converted twice made its links absolute).
    EXPECT_EQ(page.find("\"http://" + host + "/"), std::string::npos) << page;

    const auto log = dir.path() / "net.json";
    const auto shot = dir.path() / "shot.png";
    auto r = run_process(
        {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--user-data-dir=" + (dir.path() / "profile").string(), "--log-net-log=" + log.string(),
         "--screenshot=" + shot.string(), "--window-size=1000,800", "file://" + index.string()},
        {}, {}, {}, 90s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(std::filesystem::file_size(shot), 1000u) << "no screenshot";
    for (const auto& url : net_log_urls(log)) {
        // Nothing of the page left the file system: no request to the site, or to any loopback
        // address the site links to. (Chromium's own update checks go elsewhere and fail.)
        EXPECT_FALSE(url.find("://127.") != std::string::npos ||
                     url.find("://localhost") != std::string::npos)
            << url;
    }
    // What the page loads (its stylesheet and images) is a file of the mirror, next to it.
    std::size_t requisites = 0;
    for (const std::string attribute : {"src=\"", "stylesheet\" href=\""}) {
        for (auto at = page.find(attribute); at != std::string::npos;
             at = page.find(attribute, at + 1)) {
            const auto start = at + attribute.size();
            const std::string reference = page.substr(start, page.find('"', start) - start);
            EXPECT_TRUE(std::filesystem::exists(index.parent_path() / reference)) << reference;
            ++requisites;
        }
    }
    EXPECT_GE(requisites, 2u);
}

} // namespace
