// `crawl --warc` and `download --warc` as a user runs them, checked by a real WARC reader (the
// warcio npm package, through tests/warc/run_check.sh; skipped when node, npm or the package is
// missing): every record parses, digests verify, the CDXJ index points at the right records —
// for a 1000-page crawl, for each strategy, and for a crawl killed with SIGKILL and resumed.
#include "eventually.hpp"
#include "process.hpp"
#include "site_server.hpp"
#include "temp_dir.hpp"

#include "storage/reader.hpp"
#include "storage/sqlite.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::eventually;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::SiteServer;
using testing_support::TempDir;

namespace {

constexpr int k_skipped = 77;

// The WARC files of NAME (NAME.warc.gz or its series), in order.
std::vector<std::string> warc_files(const std::filesystem::path& name) {
    std::vector<std::string> files;
    if (std::filesystem::exists(name.string() + ".warc.gz"))
        files.push_back(name.string() + ".warc.gz");
    for (int i = 0;; ++i) {
        char suffix[32];
        std::snprintf(suffix, sizeof suffix, "-%05d.warc.gz", i);
        if (!std::filesystem::exists(name.string() + suffix))
            break;
        files.push_back(name.string() + suffix);
    }
    return files;
}

struct ReaderResult {
    bool skipped = false;
    bool ok = false;
    nlohmann::json summary;
    std::string detail;
};

// Runs the warcio check on NAME's files and index. `crashed`: the last file may end in a
// record cut short (a killed writer), which the reader must reach only after all the others.
ReaderResult check_with_warcio(const std::filesystem::path& name, bool crashed = false) {
    std::vector<std::string> argv = {"/bin/bash", FLAGCRAWL_WARC_CHECK, FLAGCRAWL_WARCIO_DIR};
    if (crashed)
        argv.push_back("--crashed");
    argv.push_back(name.string() + ".cdxj");
    for (const auto& f : warc_files(name))
        argv.push_back(f);
    auto r = run_process(argv, {}, {}, {}, 600s);
    ReaderResult out;
    out.skipped = r.exit_code == k_skipped;
    out.ok = r.exit_code == 0;
    out.detail = r.err + r.out;
    const auto line = r.out.substr(0, r.out.find('\n'));
    out.summary = nlohmann::json::parse(line, nullptr, false);
    return out;
}

std::vector<std::string> crawl_args(const TempDir& dir, std::vector<std::string> extra) {
    std::vector<std::string> argv = {flagcrawl_binary(), "crawl",      "--db",
                                     dir.file("c.db"),   "--progress", "never"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

TEST(CliWarc, ThousandPageCrawlPassesTheReader) {
    TempDir dir("cliwarc");
    SiteServer site(1000, 0ms);
    const auto name = dir.path() / "site";
    auto r = run_process(
        crawl_args(dir, {site.seed(), "--warc", name.string(), "--json", "--page-requisites"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto summary = nlohmann::json::parse(r.out);
    const auto check = check_with_warcio(name);
    if (check.skipped)
        GTEST_SKIP() << "no WARC reader: " << check.detail;
    ASSERT_TRUE(check.ok) << check.detail;
    // Every fetch is archived: pages, requisites, robots.txt and the /sitemap.xml tried since
    // robots.txt names no sitemap (one exchange each: the crawl follows redirects itself).
    const std::uint64_t fetches =
        summary["pages"].get<std::uint64_t>() + summary["robots_fetches"].get<std::uint64_t>() + 1;
    EXPECT_GE(summary["pages"].get<std::uint64_t>(), 1000u);
    EXPECT_EQ(check.summary["requests"].get<std::uint64_t>(), fetches);
    EXPECT_EQ(check.summary["responses"].get<std::uint64_t>() +
                  check.summary["revisits"].get<std::uint64_t>(),
              fetches);
    // The site names pages in several ways ("/sec01/" and "/sec01/index.html"): revisits.
    EXPECT_GT(check.summary["revisits"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(check.summary["indexed"], check.summary["responses"].get<std::uint64_t>() +
                                            check.summary["revisits"].get<std::uint64_t>());
}

class CliWarcStrategies : public ::testing::TestWithParam<const char*> {};

TEST_P(CliWarcStrategies, CrawlAndDownloadArchivesPassTheReader) {
    TempDir dir("cliwarc");
    SiteServer site(60, 0ms);
    const auto crawl_name = dir.path() / "crawl";
    auto r = run_process(crawl_args(dir, {site.seed(), "--warc", crawl_name.string(),
                                          "--warc-max-size", "64K", "--strategy", GetParam()}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GT(warc_files(crawl_name).size(), 1u) << "rolled over at --warc-max-size";
    auto check = check_with_warcio(crawl_name);
    if (check.skipped)
        GTEST_SKIP() << "no WARC reader: " << check.detail;
    EXPECT_TRUE(check.ok) << check.detail;

    // download follows redirects itself: each hop is an exchange; a 404 is archived too.
    const std::string base = site.seed().substr(0, site.seed().rfind('/'));
    const auto download_name = dir.path() / "download.warc.gz";
    r = run_process({flagcrawl_binary(), "download", "--db", dir.file("d.db"), "-o",
                     dir.file("out"), "--warc", download_name.string(), "--strategy", GetParam(),
                     base + "/sec01", base + "/static/site.css", base + "/missing"});
    EXPECT_EQ(r.exit_code, 1) << r.err; // the 404
    check = check_with_warcio(dir.path() / "download");
    ASSERT_TRUE(check.ok) << check.detail;
    EXPECT_EQ(check.summary["requests"], 4); // /sec01 -> /sec01/, the stylesheet, the 404
    EXPECT_NE(r.out.find("WARC: 4 responses"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Strategies, CliWarcStrategies,
                         ::testing::Values("sequential", "threaded", "async"));

// Killed mid-crawl: the files hold every complete record (the reader reaches the cut only at
// the end of the last file); resumed, the series goes on in a new file and passes the reader.
TEST(CliWarc, KilledCrawlResumesIntoAValidArchive) {
    TempDir dir("cliwarc");
    SiteServer site(200, 15ms);
    site.hold_after(80); // the first crawl cannot finish before it is killed
    const auto name = dir.path() / "k";
    auto first =
        run_process(crawl_args(dir, {site.seed(), "--warc", name.string(), "--warc-max-size", "32K",
                                     "-c", "4"}),
                    {}, {}, [&](int pid) {
                        EXPECT_TRUE(eventually([&] { return warc_files(name).size() >= 2; }, 30s));
                        ::kill(pid, SIGKILL);
                    });
    EXPECT_EQ(first.exit_code, -1) << first.err;
    const auto cut_files = warc_files(name).size();
    auto check = check_with_warcio(name, true);
    if (check.skipped)
        GTEST_SKIP() << "no WARC reader: " << check.detail;
    EXPECT_TRUE(check.ok) << check.detail;

    site.release();
    auto second = run_process(crawl_args(dir, {"--resume"}));
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_GT(warc_files(name).size(), cut_files);
    check = check_with_warcio(name);
    EXPECT_TRUE(check.ok) << check.detail;
    EXPECT_GE(check.summary["responses"].get<std::uint64_t>() +
                  check.summary["revisits"].get<std::uint64_t>(),
              200u);
}

// Every line of `path` (a file still being written may end in a partial one, left out).
std::vector<std::string> complete_lines(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> lines;
    for (std::size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
        lines.push_back(text.substr(at, end - at));
    return lines;
}

class CliWarcKilled : public ::testing::TestWithParam<const char*> {};

// The pages with a response that the crawl's database holds (committed), or 0 before it has any.
std::int64_t recorded_pages(const std::string& db) {
    auto reader = storage::Reader::open(db);
    if (!reader) {
        return 0;
    }
    auto count =
        reader->database().query_int("SELECT count(*) FROM pages WHERE http_status IS NOT NULL");
    return count ? *count : 0;
}

// The WARC writer lags the crawl (it compresses and digests every body); a crawl killed while it
// lags must not have recorded a page whose response the archive lacks: --resume would never fetch
// it again, and the archive would miss it for good. Killed once its index has 300 lines and its
// database 100 pages (the database's writer may lag too, on a loaded machine), every page the
// database holds with a response is in the index.
TEST_P(CliWarcKilled, NoPageIsRecordedBeforeItsResponseIsArchived) {
    TempDir dir("cliwarc");
    SiteServer site(3000, 0ms);
    site.hold_after(2000); // it cannot finish before it is killed
    const auto name = dir.path() / "k";
    auto crawl = run_process(
        crawl_args(dir, {site.seed(), "--warc", name.string(), "--strategy", GetParam()}), {}, {},
        [&](int pid) {
            EXPECT_TRUE(eventually(
                [&] { return complete_lines(name.string() + ".cdxj").size() >= 300; }, 60s));
            EXPECT_TRUE(eventually([&] { return recorded_pages(dir.file("c.db")) >= 100; }, 60s));
            ::kill(pid, SIGKILL);
        });
    EXPECT_EQ(crawl.exit_code, -1) << crawl.err;
    site.release();
    std::set<std::string> archived;
    for (const std::string& line : complete_lines(name.string() + ".cdxj")) {
        const auto json = nlohmann::json::parse(line.substr(line.find('{')), nullptr, false);
        if (json.is_object() && json.contains("url"))
            archived.insert(json["url"].get<std::string>());
    }
    auto pages = run_process({flagcrawl_binary(), "export", "--db", dir.file("c.db"), "--table",
                              "pages", "--format", "jsonl"});
    ASSERT_EQ(pages.exit_code, 0) << pages.err;
    std::size_t recorded = 0;
    std::vector<std::string> missing;
    std::istringstream rows(pages.out);
    for (std::string line; std::getline(rows, line);) {
        const auto row = nlohmann::json::parse(line);
        if (row["http_status"].is_null())
            continue;
        ++recorded;
        if (!archived.contains(row["url"].get<std::string>()))
            missing.push_back(row["url"].get<std::string>());
    }
    EXPECT_GE(recorded, 100u);
    EXPECT_TRUE(missing.empty()) << missing.size() << " of " << recorded
                                 << " recorded pages not archived, e.g. " << missing.front();
}

INSTANTIATE_TEST_SUITE_P(Strategies, CliWarcKilled,
                         ::testing::Values("sequential", "threaded", "async"));

TEST(CliWarc, UsageErrors) {
    TempDir dir("cliwarc");
    std::ofstream(dir.file("taken.warc.gz")) << "x";
    auto r = run_process({flagcrawl_binary(), "download", "--no-db", "-o", dir.file("o"), "--warc",
                          dir.file("taken"), "http://127.0.0.1:1/"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
    r = run_process({flagcrawl_binary(), "download", "--no-db", "-o", dir.file("o"),
                     "--warc-max-size", "1M", "http://127.0.0.1:1/"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    r = run_process({flagcrawl_binary(), "crawl", "--db", dir.file("c.db"), "--resume", "--warc",
                     dir.file("w")});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    r = run_process({flagcrawl_binary(), "download", "--no-db", "-o", dir.file("o"), "--warc",
                     dir.file("z"), "--warc-gzip-level", "0", "http://127.0.0.1:1/"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
}

} // namespace
