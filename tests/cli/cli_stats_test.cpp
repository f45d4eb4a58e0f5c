// `flagcrawl stats` and `flagcrawl export` as a user runs them: exit codes and one-line messages
// for a missing file, a file that is not a flagcrawl database and an empty store; the JSON
// summary's shape; CSV and JSONL output; files of older schemas, read as they are and migrated;
// and a reader that closes the pipe early (`| head -1`).
#include "process.hpp"
#include "schema_two_file.hpp"
#include "stats_fixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace flagcrawl;
using namespace flagcrawl::storage;
using testing_support::begin_crawl_run;
using testing_support::begin_run;
using testing_support::count_lines;
using testing_support::download;
using testing_support::Failure;
using testing_support::flagcrawl_binary;
using testing_support::page;
using testing_support::run_process;
using testing_support::SchemaTwoCrawl;
using testing_support::TempDir;
using testing_support::write_schema_two_file;

namespace {

testing_support::ProcessResult flagcrawl(std::vector<std::string> args) {
    args.insert(args.begin(), flagcrawl_binary());
    return run_process(args);
}

// A store with a crawl of `pages` pages over two runs (the second resumes the first) and a
// download run. Page i took i ms, its first byte came after i/2 ms; the crawl ended with 10 URLs
// in a seen-set of 160 bytes.
struct Store {
    explicit Store(const std::string& file, int pages = 4)
        : path(file) {
        auto writer = Writer::open(path);
        EXPECT_TRUE(writer);
        run1 = begin_crawl_run(*writer);
        crawl = run1;
        for (int i = 1; i <= pages; ++i) {
            if (i == pages / 2 + 1) {
                EXPECT_TRUE(writer->finish_run(run1, {}, RunStatus::interrupted));
                run2 = begin_crawl_run(*writer, crawl);
            }
            const bool missing = i % 4 == 0;
            PageRecord p =
                page(crawl, run2 ? run2 : run1, i, "http://a.test/" + std::to_string(i),
                     missing ? 404 : 200, i == 1 ? 0 : 1, i, i * 10,
                     missing ? std::optional<Failure>({"http_status", "HTTP 404 Not Found"})
                             : std::nullopt);
            p.title = "Title " + std::to_string(i) + ", with \"quotes\"";
            p.ttfb_ms = i / 2.0;
            p.links = {{"http://a.test/" + std::to_string(i + 1), "anchor", false}};
            EXPECT_TRUE(writer->submit(std::move(p)));
        }
        EXPECT_TRUE(writer->finish_run(run2, {}, RunStatus::finished));
        EXPECT_TRUE(writer->submit(
            CrawlEndRecord{crawl, CrawlStatus::finished, "frontier exhausted", 10, 160}));
        download_run = begin_run(*writer, "download");
        EXPECT_TRUE(writer->submit(download(download_run, "http://b.test/f", 200, 3)));
        EXPECT_TRUE(
            writer->finish_run(download_run, {.ok = 1, .requests = 1}, RunStatus::finished));
        EXPECT_TRUE(writer->close());
    }
    std::string path;
    std::int64_t crawl = 0, run1 = 0, run2 = 0, download_run = 0;
};

TEST(CliStats, MissingDatabaseIsAUsageErrorNamingTheFile) {
    TempDir dir("stats");
    const auto missing = dir.file("nope.db");
    for (const char* command : {"stats", "export"}) {
        auto r = flagcrawl({command, "--db", missing});
        EXPECT_EQ(r.exit_code, 2) << command;
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(r.err, "flagcrawl: no such database: " + missing + "\n");
    }
    EXPECT_FALSE(std::filesystem::exists(missing)); // reading never creates the file
}

TEST(CliStats, MissingDefaultStoreSaysHowToPickOne) {
    TempDir dir("stats");
    ::setenv("XDG_STATE_HOME", dir.file("state").c_str(), 1);
    auto r = flagcrawl({"stats"});
    ::unsetenv("XDG_STATE_HOME");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("no such database: " + dir.file("state")), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("pass --db FILE"), std::string::npos) << r.err;
    EXPECT_EQ(count_lines(r.err), 1u);
}

TEST(CliStats, FileThatIsNotAFlagcrawlDatabase) {
    TempDir dir("stats");
    const auto text = dir.file("list.txt");
    std::ofstream(text) << "http://a.test/\nhttp://b.test/ and enough text for a database header\n";
    const auto other = dir.file("other.db");
    {
        auto db = Database::open(other);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("CREATE TABLE t (x)"));
    }
    for (const auto& file : {text, other, dir.file("")}) {
        for (const char* command : {"stats", "export"}) {
            auto r = flagcrawl({command, "--db", file});
            EXPECT_EQ(r.exit_code, 2) << command << " " << file << ": " << r.err;
            EXPECT_EQ(r.out, "");
            EXPECT_EQ(count_lines(r.err), 1u) << r.err;
            EXPECT_NE(r.err.find(file.empty() ? dir.file("") : file), std::string::npos) << r.err;
        }
    }
}

TEST(CliStats, EmptyStore) {
    TempDir dir("stats");
    const auto path = dir.file("empty.db");
    {
        auto writer = Writer::open(path);
        ASSERT_TRUE(writer);
        ASSERT_TRUE(writer->close());
    }
    auto stats = flagcrawl({"stats", "--db", path});
    EXPECT_EQ(stats.exit_code, 1);
    EXPECT_EQ(stats.out, "");
    EXPECT_EQ(stats.err, "flagcrawl: no runs recorded in " + path + "\n");
    auto json = flagcrawl({"stats", "--db", path, "--json"});
    EXPECT_EQ(json.exit_code, 1);
    EXPECT_EQ(json.out, "");
    auto list = flagcrawl({"stats", "--db", path, "--list", "--json"});
    EXPECT_EQ(list.exit_code, 0);
    auto listed = nlohmann::json::parse(list.out);
    EXPECT_TRUE(listed["runs"].empty());
    auto csv = flagcrawl({"export", "--db", path, "--format", "csv"});
    EXPECT_EQ(csv.exit_code, 0);
    EXPECT_EQ(csv.out.substr(0, 9), "id,crawl_");
    EXPECT_EQ(count_lines(csv.out), 1u); // the header only
    auto jsonl = flagcrawl({"export", "--db", path});
    EXPECT_EQ(jsonl.exit_code, 0);
    EXPECT_EQ(jsonl.out, "");
}

TEST(CliStats, LatestRunIsSummarizedAndCrawlsAsAWhole) {
    TempDir dir("stats");
    Store store(dir.file("s.db"), 8);
    // The latest run is the download run.
    auto latest = flagcrawl({"stats", "--db", store.path, "--json"});
    ASSERT_EQ(latest.exit_code, 0) << latest.err;
    auto j = nlohmann::json::parse(latest.out);
    EXPECT_EQ(j["source"], "downloads");
    EXPECT_EQ(j["scope"], "run");
    EXPECT_EQ(j["runs"].size(), 1u);
    EXPECT_EQ(j["runs"][0]["id"], store.download_run);
    EXPECT_EQ(j["items"], 1);
    EXPECT_EQ(j["latency_ms"]["elapsed"]["p50"], 3.0);

    auto crawl =
        flagcrawl({"stats", "--db", store.path, "--crawl", std::to_string(store.crawl), "--json"});
    ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
    j = nlohmann::json::parse(crawl.out);
    for (const char* key : {"db",
                            "source",
                            "crawl",
                            "scope",
                            "runs",
                            "items",
                            "fetched",
                            "pages",
                            "requisites",
                            "robots_fetches",
                            "ok",
                            "redirects",
                            "not_found",
                            "errors",
                            "disallowed",
                            "requests",
                            "bytes",
                            "statuses",
                            "top_statuses",
                            "errors_by_kind",
                            "top_reasons",
                            "latency_ms",
                            "first_fetch",
                            "last_fetch",
                            "duration_s",
                            "fetched_per_s",
                            "requests_per_s",
                            "host_count",
                            "hosts",
                            "depths",
                            "seen_urls",
                            "queued_urls",
                            "seen_set_urls",
                            "seen_set_bytes",
                            "ram_bytes_per_seen_url"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["crawl"]["id"], store.crawl);
    EXPECT_EQ(j["crawl"]["status"], "finished");
    EXPECT_EQ(j["crawl"]["seeds"], nlohmann::json::array({"http://a.test/"}));
    EXPECT_EQ(j["scope"], "crawl");
    EXPECT_EQ(j["runs"].size(), 2u);
    EXPECT_EQ(j["items"], 8);
    EXPECT_EQ(j["ok"], 6);
    EXPECT_EQ(j["not_found"], 2);
    EXPECT_EQ(j["statuses"]["2xx"], 6);
    EXPECT_EQ(j["statuses"]["4xx"], 2);
    EXPECT_EQ(j["errors_by_kind"]["http_404"], 2);
    EXPECT_EQ(j["seen_urls"], 0);
    EXPECT_EQ(j["latency_ms"]["elapsed"]["count"], 8);
    EXPECT_EQ(j["latency_ms"]["elapsed"]["p50"], 4.0);
    EXPECT_EQ(j["latency_ms"]["elapsed"]["max"], 8.0);
    EXPECT_EQ(j["latency_ms"]["ttfb"]["count"], 8);
    EXPECT_EQ(j["latency_ms"]["ttfb"]["p50"], 2.0);
    EXPECT_EQ(j["latency_ms"]["ttfb"]["max"], 4.0);
    EXPECT_EQ(j["hosts"][0]["host"], "a.test");
    EXPECT_EQ(j["hosts"][0]["items"], 8);
    EXPECT_EQ(j["depths"],
              nlohmann::json::parse(R"([{"depth":0,"count":1},{"depth":1,"count":7}])"));
    EXPECT_EQ(j["seen_set_urls"], 10);
    EXPECT_EQ(j["seen_set_bytes"], 160);
    EXPECT_EQ(j["ram_bytes_per_seen_url"], 16.0);

    // --run on a crawl's run: that invocation only.
    auto one =
        flagcrawl({"stats", "--db", store.path, "--run", std::to_string(store.run2), "--json"});
    ASSERT_EQ(one.exit_code, 0) << one.err;
    j = nlohmann::json::parse(one.out);
    EXPECT_EQ(j["scope"], "run");
    EXPECT_EQ(j["crawl"]["id"], store.crawl);
    EXPECT_EQ(j["items"], 4);
    EXPECT_TRUE(j["ram_bytes_per_seen_url"].is_null()); // the crawl's, not one run's

    // The human form: the same figures, aligned.
    auto text = flagcrawl({"stats", "--db", store.path, "--crawl", std::to_string(store.crawl)});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(
        text.out.find("crawl " + std::to_string(store.crawl) + ": finished (frontier exhausted)"),
        std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("ok 6, redirects 0, not found 2, errors 0, disallowed by robots.txt 0"),
              std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("a.test"), std::string::npos);
    EXPECT_NE(text.out.find("RAM/seen URL  16.0 B (seen-set 160 B for 10 URLs"), std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("ttfb         8  2.00 ms  4.00 ms  4.00 ms  4.00 ms"),
              std::string::npos)
        << text.out;

    auto list = flagcrawl({"stats", "--db", store.path, "--list"});
    ASSERT_EQ(list.exit_code, 0);
    EXPECT_EQ(count_lines(list.out), 4u); // header + 3 runs
    EXPECT_NE(list.out.find("interrupted"), std::string::npos);
}

TEST(CliStats, UnknownRunOrCrawlAndBadOptions) {
    TempDir dir("stats");
    Store store(dir.file("s.db"));
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"stats", "--run", "999"},
             {"stats", "--crawl", "999"},
             {"stats", "--crawl", std::to_string(store.download_run)},
             {"stats", "--run", "1", "--crawl", "1"},
             {"export", "--run", "999"},
             {"export", "--crawl", "999"},
             {"export", "--format", "xml"},
             {"export", "--table", "secrets"},
             {"export", "--table", "downloads", "--crawl", "1"}}) {
        auto full = args;
        full.push_back("--db");
        full.push_back(store.path);
        auto r = flagcrawl(full);
        EXPECT_EQ(r.exit_code, 2) << args[1] << " " << args[2] << ": " << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    }
}

TEST(CliStats, ExportCsvAndJsonl) {
    TempDir dir("stats");
    Store store(dir.file("s.db"));
    auto csv = flagcrawl(
        {"export", "--db", store.path, "--format", "csv", "--run", std::to_string(store.run2)});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(csv.err, "");
    std::istringstream lines(csv.out);
    std::string header;
    std::getline(lines, header);
    EXPECT_EQ(header.substr(0, 33), "id,crawl_id,run_id,seq,kind,url,f");
    EXPECT_EQ(header.back(), '\r'); // CRLF line ends
    EXPECT_TRUE(header.ends_with(",error,dns_ms,connect_ms,ttfb_ms,error_kind,external\r"))
        << header;
    EXPECT_EQ(header.find("body"), std::string::npos);
    EXPECT_EQ(count_lines(csv.out), 3u); // header + the 2 pages of run 2
    EXPECT_NE(csv.out.find(",\"Title 3, with \"\"quotes\"\"\","), std::string::npos) << csv.out;
    EXPECT_NE(csv.out.find(",,"), std::string::npos); // NULLs are empty fields

    auto jsonl = flagcrawl({"export", "--db", store.path, "--table", "links"});
    ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
    std::istringstream json_lines(jsonl.out);
    std::string line;
    int n = 0;
    while (std::getline(json_lines, line)) {
        auto j = nlohmann::json::parse(line);
        EXPECT_EQ(j["from_url"], "http://a.test/" + std::to_string(++n));
        EXPECT_EQ(j["to_url"], "http://a.test/" + std::to_string(n + 1));
        EXPECT_EQ(j["nofollow"], 0);
    }
    EXPECT_EQ(n, 4);

    auto pages = flagcrawl({"export", "--db", store.path, "--bodies", "--format", "csv"});
    EXPECT_EQ(pages.exit_code, 0);
    EXPECT_EQ(count_lines(pages.err), 1u) << pages.err; // bodies are left out of CSV: said once
    auto runs = flagcrawl({"export", "--db", store.path, "--table", "runs"});
    EXPECT_EQ(count_lines(runs.out), 3u);
    auto first = nlohmann::json::parse(runs.out.substr(0, runs.out.find('\n')));
    EXPECT_EQ(first["command"], "crawl");
    EXPECT_EQ(first["status"], "interrupted");
    EXPECT_TRUE(first["finished_at"].is_string());
    auto crawls = flagcrawl({"export", "--db", store.path, "--table", "crawls"});
    ASSERT_EQ(crawls.exit_code, 0) << crawls.err;
    auto crawl = nlohmann::json::parse(crawls.out);
    EXPECT_EQ(crawl["seen_urls"], 10);
    EXPECT_EQ(crawl["seen_bytes"], 160);
}

// A file of a schema-2 build: stats and export read it as it is (without the timings and the
// seen-set it never recorded); once a writer opened it, export has the new columns, NULL in
// the old rows.
TEST(CliStats, FileFromBeforeTimingsAndSeenSetWereRecorded) {
    TempDir dir("stats");
    const auto path = dir.file("v2.db");
    write_schema_two_file(path);
    const std::string crawl = std::to_string(SchemaTwoCrawl::crawl_id);
    auto text = flagcrawl({"stats", "--db", path, "--crawl", crawl});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("RAM/seen URL  - (not recorded)"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("ttfb         -"), std::string::npos) << text.out;
    auto json = flagcrawl({"stats", "--db", path, "--crawl", crawl, "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    auto j = nlohmann::json::parse(json.out);
    EXPECT_EQ(j["items"], SchemaTwoCrawl::pages);
    EXPECT_TRUE(j["latency_ms"]["ttfb"].is_null());
    EXPECT_TRUE(j["seen_set_bytes"].is_null());
    EXPECT_TRUE(j["ram_bytes_per_seen_url"].is_null());
    const auto first_page = [&] {
        auto r = flagcrawl({"export", "--db", path, "--table", "pages"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
    };
    EXPECT_FALSE(first_page().contains("ttfb_ms"));

    ASSERT_TRUE(Writer::open(path).value().close()); // migrates
    const auto page = first_page();
    for (const char* column : {"dns_ms", "connect_ms", "ttfb_ms"}) {
        ASSERT_TRUE(page.contains(column)) << column;
        EXPECT_TRUE(page[column].is_null()) << column;
    }
    EXPECT_EQ(page["url"], "http://a.test/robots.txt");
    auto migrated = flagcrawl({"stats", "--db", path, "--crawl", crawl, "--json"});
    ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
    j = nlohmann::json::parse(migrated.out);
    EXPECT_EQ(j["items"], SchemaTwoCrawl::pages);
    EXPECT_EQ(j["latency_ms"]["ttfb"]["count"], 0);
    EXPECT_TRUE(j["ram_bytes_per_seen_url"].is_null());
}

TEST(CliStats, FileFromBeforeCrawlsWereRecorded) {
    TempDir dir("stats");
    const auto path = dir.file("v1.db");
    {
        auto db = Database::open(path);
        ASSERT_TRUE(db);
        // What a build with only schema step 1 left behind: runs and downloads.
        ASSERT_TRUE(db->exec(
            "PRAGMA application_id = 1179403090; PRAGMA user_version = 1;"
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, arguments TEXT NOT "
            "NULL, strategy TEXT NOT NULL, concurrency INTEGER NOT NULL, started_at TEXT NOT NULL, "
            "finished_at TEXT, status TEXT NOT NULL, ok INTEGER NOT NULL DEFAULT 0, not_found "
            "INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL "
            "DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0);"
            "CREATE TABLE downloads (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, url TEXT NOT "
            "NULL, final_url TEXT, http_status INTEGER, bytes INTEGER NOT NULL, path TEXT, sha256 "
            "TEXT, elapsed_ms REAL NOT NULL, attempts INTEGER NOT NULL, error TEXT, dns_ms REAL, "
            "connect_ms REAL, ttfb_ms REAL, fetched_at TEXT NOT NULL);"
            "INSERT INTO runs VALUES (1, 'download', 'download x', 'async', 4, "
            "'2026-01-02T03:04:05.000Z', '2026-01-02T03:04:06.000Z', 'finished', 1, 0, 0, 10, 1);"
            "INSERT INTO downloads VALUES (1, 1, 'http://a.test/x', 'http://a.test/x', 200, 10, "
            "NULL, NULL, 12.5, 1, NULL, NULL, NULL, 4.0, '2026-01-02T03:04:05.500Z');"));
    }
    auto stats = flagcrawl({"stats", "--db", path, "--json"});
    ASSERT_EQ(stats.exit_code, 0) << stats.err;
    auto j = nlohmann::json::parse(stats.out);
    EXPECT_EQ(j["source"], "downloads");
    EXPECT_EQ(j["ok"], 1);
    EXPECT_EQ(j["latency_ms"]["elapsed"]["p50"], 12.5);
    EXPECT_EQ(j["latency_ms"]["ttfb"]["max"], 4.0);
    EXPECT_EQ(flagcrawl({"stats", "--db", path, "--list"}).exit_code, 0);
    EXPECT_EQ(count_lines(flagcrawl({"export", "--db", path, "--table", "runs"}).out), 1u);
    EXPECT_EQ(count_lines(flagcrawl({"export", "--db", path, "--table", "downloads"}).out), 1u);
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"stats", "--crawl", "1"},
                                               {"export", "--table", "pages"},
                                               {"export", "--table", "links"},
                                               {"export", "--table", "runs", "--crawl", "1"}}) {
        auto full = args;
        full.push_back("--db");
        full.push_back(path);
        auto r = flagcrawl(full);
        EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[2] << ": " << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    }
}

// Runs `export` with its standard output a pipe, reads one line and closes the pipe, as
// `| head -1` does; returns the exit status and what it wrote on stderr.
std::pair<int, std::string> export_into_closed_pipe(const std::string& db,
                                                    const std::string& format) {
    int out[2];
    int err[2];
    EXPECT_EQ(::pipe(out), 0);
    EXPECT_EQ(::pipe(err), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::close(out[0]);
        ::close(err[0]);
        // Like a shell: the child starts with SIGPIPE at its default (terminate).
        std::signal(SIGPIPE, SIG_DFL);
        ::execl(flagcrawl_binary(), flagcrawl_binary(), "export", "--db", db.c_str(), "--format",
                format.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    std::string first;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') {
        first += c;
    }
    EXPECT_FALSE(first.empty());
    ::close(out[0]);
    std::string errors;
    char buffer[4096];
    for (ssize_t n; (n = ::read(err[0], buffer, sizeof buffer)) > 0;) {
        errors.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {code, errors};
}

TEST(CliStats, ExportStopsQuietlyWhenTheReaderCloses) {
    TempDir dir("stats");
    // Far more than a pipe holds (64 KiB): the export is still writing when the pipe closes.
    Store store(dir.file("big.db"), 20'000);
    for (const char* format : {"jsonl", "csv"}) {
        auto [code, errors] = export_into_closed_pipe(store.path, format);
        EXPECT_EQ(code, 0) << format;
        EXPECT_EQ(errors, "") << format;
    }
}

} // namespace
