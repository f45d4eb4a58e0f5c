// `flagcrawl download`'s conveniences for files already there and for the way to the servers, as
// a user runs them, under each strategy: --skip-existing, --timestamping, --continue,
// --keep-paths, URL<TAB>NAME lists, --cookies, --proxy, the stall timeout and the stall line.
#include "file_contents.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/proxy.hpp"
#include "server/resource.hpp"
#include "server/router.hpp"
#include "server/server.hpp"
#include "util/http_date.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <sys/xattr.h>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::flagcrawl_binary;
using testing_support::ProcessResult;
using testing_support::read_file;
using testing_support::run_process;
using testing_support::TempDir;
using testing_support::unused_loopback_port;

namespace {

constexpr std::time_t k_monday = 1700000000; // Tue, 14 Nov 2023 22:13:20 GMT
constexpr std::time_t k_later = 1700086400;

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (char& c : s)
        c = static_cast<char>(rng());
    return s;
}

std::string sha256_hex(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += k_hex[digest[i] >> 4];
        out += k_hex[digest[i] & 0xF];
    }
    return out;
}

// The headers of every request a route received, in order.
class HeaderLog {
public:
    void add(const server::Request& r) {
        std::map<std::string, std::string> h;
        for (const auto& [name, value] : r.headers)
            h[std::string(name)] = std::string(value);
        std::lock_guard lock(m_mutex);
        m_requests.push_back(std::move(h));
    }
    std::vector<std::map<std::string, std::string>> all() const {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }
    std::size_t size() const {
        std::lock_guard lock(m_mutex);
        return m_requests.size();
    }

private:
    mutable std::mutex m_mutex;
    std::vector<std::map<std::string, std::string>> m_requests;
};

// A resource the test may replace while the server runs.
class LiveResource {
public:
    explicit LiveResource(server::Resource r)
        : m_resource(std::move(r)) {}
    void set(server::Resource r) {
        std::lock_guard lock(m_mutex);
        m_resource = std::move(r);
    }
    server::Handler handler(HeaderLog& log, std::atomic<int>* faults = nullptr) {
        return [this, &log, faults](const server::Request& request) {
            log.add(request);
            server::Resource r;
            {
                std::lock_guard lock(m_mutex);
                r = m_resource;
            }
            server::Reply reply = server::serve_resource(r, request);
            if (faults != nullptr && faults->load() > 0) {
                --*faults;
                reply.fault = server::Fault::close_mid_body;
                reply.fault_after = 100'000;
            }
            return reply;
        };
    }

private:
    std::mutex m_mutex;
    server::Resource m_resource;
};

// Can this file system keep extended attributes (the kept ETag)?
bool has_user_xattrs(const fs::path& dir) {
    const fs::path probe = dir / "xattr-probe";
    std::ofstream(probe) << "x";
    const bool ok = ::setxattr(probe.c_str(), "user.probe", "1", 1, 0) == 0;
    fs::remove(probe);
    return ok;
}

std::string xattr(const fs::path& file, const char* name) {
    char value[256];
    const ssize_t n = ::getxattr(file.c_str(), name, value, sizeof value);
    return n > 0 ? std::string(value, static_cast<std::size_t>(n)) : std::string();
}

class CliDownloadFiles : public testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        for (int i = 0; i < 5; ++i) {
            const std::string name = "f" + std::to_string(i) + ".bin";
            m_files[name] = random_bytes(2000 + 100 * static_cast<std::size_t>(i), 10 + i);
            m_router.add("/files/" + name,
                         server::Reply::bytes(200, server::make_body(m_files[name]),
                                              "application/octet-stream"));
        }
        m_router.add("/doc.txt", m_doc.handler(m_doc_log));
        m_router.add("/big.bin", m_big.handler(m_big_log, &m_big_faults));
        m_router.add("/login", [this](const server::Request& r) {
            m_cookie_log.add(r);
            return server::Reply::text(200, "welcome\n")
                .with_header("Set-Cookie", "session=s3cr3t; Path=/");
        });
        m_router.add("/private", [this](const server::Request& r) {
            m_cookie_log.add(r);
            const std::string_view cookie = r.header("Cookie");
            const bool in = cookie.find("session=s3cr3t") != std::string_view::npos &&
                            cookie.find("token=xyz") != std::string_view::npos;
            return in ? server::Reply::text(200, "private\n")
                      : server::Reply::text(403, "who are you?\n");
        });
        m_router.add("/never", [](const server::Request&) {
            server::Reply reply = server::Reply::text(200, "too late\n");
            reply.delay = 60s;
            return reply;
        });
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        m_out = m_dir.path() / "out";
    }
    void TearDown() override { m_server.reset(); }

    std::string url(const std::string& path) const { return m_server->base_url() + path; }

    ProcessResult download(std::vector<std::string> rest, const std::string& input = {}) {
        std::vector<std::string> a = {
            flagcrawl_binary(), "download", "--db",        m_dir.file("runs.db"),
            "--progress",       "never",    "--strategy",  GetParam(),
            "--json",           "-o",       m_out.string()};
        a.insert(a.end(), rest.begin(), rest.end());
        return run_process(a, {}, input);
    }
    static nlohmann::json summary(const ProcessResult& r) {
        const auto last = r.out.rfind('\n', r.out.size() - 2);
        return nlohmann::json::parse(r.out.substr(last == std::string::npos ? 0 : last + 1));
    }

    TempDir m_dir{"cli-files"};
    fs::path m_out;
    std::map<std::string, std::string> m_files;
    std::string m_doc_v1 = "version 1\n";
    LiveResource m_doc{{.body = server::make_body(m_doc_v1),
                        .content_type = "text/plain",
                        .etag = "\"v1\"",
                        .last_modified = k_monday}};
    HeaderLog m_doc_log;
    std::string m_big_bytes = random_bytes(300'000, 7);
    LiveResource m_big{
        {.body = server::make_body(m_big_bytes), .etag = "\"big1\"", .last_modified = k_monday}};
    HeaderLog m_big_log;
    std::atomic<int> m_big_faults{0};
    HeaderLog m_cookie_log;
    server::Router m_router;
    std::unique_ptr<server::Server> m_server;
};

TEST_P(CliDownloadFiles, SkipExistingSecondRunFetchesNothing) {
    std::vector<std::string> urls;
    for (const auto& [name, body] : m_files)
        urls.push_back(url("/files/" + name));
    auto first = download(urls);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const std::uint64_t served = m_router.total();
    std::ofstream(m_out / "f0.bin", std::ios::binary) << "edited by hand";

    auto second = download([&] {
        auto a = urls;
        a.insert(a.begin(), "--skip-existing");
        return a;
    }());
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(m_router.total(), served) << "nothing fetched the second time";
    const auto s = summary(second);
    EXPECT_EQ(s["ok"], 5);
    EXPECT_EQ(s["skipped"], 5);
    EXPECT_EQ(s["requests"], 0);
    EXPECT_EQ(read_file(m_out / "f0.bin"), "edited by hand") << "a kept file is not touched";
    EXPECT_EQ(read_file(m_out / "f1.bin"), m_files["f1.bin"]);
}

// Without --skip-existing, --continue or --timestamping, what is under a name is not looked at:
// the download replaces it.
TEST_P(CliDownloadFiles, APlainDownloadReplacesWhatIsThere) {
    fs::create_directories(m_out);
    std::ofstream(m_out / "f0.bin", std::ios::binary) << "edited by hand";
    auto run = download({url("/files/f0.bin")});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(read_file(m_out / "f0.bin"), m_files["f0.bin"]);
    EXPECT_EQ(summary(run)["ok"], 1);
}

TEST_P(CliDownloadFiles, TimestampingSendsAConditionalRequestAndKeepsTheFileOn304) {
    const bool xattrs = has_user_xattrs(m_dir.path());
    auto first = download({"--timestamping", url("/doc.txt")});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    struct stat st {};
    ASSERT_EQ(::stat((m_out / "doc.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, k_monday) << "the file has the server's Last-Modified time";
    if (xattrs) {
        EXPECT_EQ(xattr(m_out / "doc.txt", "user.flagcrawl.etag"), "\"v1\"");
    }

    auto second = download({"-N", url("/doc.txt")});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    ASSERT_EQ(m_doc_log.size(), 2u);
    const auto asked = m_doc_log.all()[1];
    EXPECT_EQ(asked.at("If-Modified-Since"), util::format_http_date(k_monday));
    if (xattrs) {
        EXPECT_EQ(asked.at("If-None-Match"), "\"v1\"");
    }
    EXPECT_EQ(summary(second)["unchanged"], 1);
    EXPECT_EQ(summary(second)["ok"], 1);
    EXPECT_EQ(read_file(m_out / "doc.txt"), m_doc_v1);

    // The server's file changes: the next run fetches it and takes its time.
    m_doc.set({.body = server::make_body("version 2\n"),
               .content_type = "text/plain",
               .etag = "\"v2\"",
               .last_modified = k_later});
    auto third = download({"-N", url("/doc.txt")});
    ASSERT_EQ(third.exit_code, 0) << third.err;
    EXPECT_EQ(summary(third)["unchanged"], 0);
    EXPECT_EQ(read_file(m_out / "doc.txt"), "version 2\n");
    ASSERT_EQ(::stat((m_out / "doc.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, k_later);
}

TEST_P(CliDownloadFiles, ContinueCompletesAFileLeftByAnotherTool) {
    fs::create_directories(m_out);
    std::ofstream(m_out / "big.bin", std::ios::binary) << m_big_bytes.substr(0, 100'000);
    auto r = download({"--continue", url("/big.bin")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(m_big_log.size(), 1u);
    EXPECT_EQ(m_big_log.all()[0].at("Range"), "bytes=100000-");
    EXPECT_EQ(read_file(m_out / "big.bin"), m_big_bytes);
    EXPECT_EQ(summary(r)["bytes"], 200'000) << "only the missing bytes were received";
    EXPECT_EQ(fs::directory_iterator(m_out)->path().filename(), "big.bin") << "nothing else";
}

TEST_P(CliDownloadFiles, ContinueResumesThePartOfAnInterruptedTransferWithIfRange) {
    m_big_faults = 1; // the first answer ends after 100,000 bytes, and is not retried
    auto first = download({"--continue", "--retries", "0", url("/big.bin")});
    ASSERT_EQ(first.exit_code, 1) << first.err;
    ASSERT_FALSE(fs::exists(m_out / "big.bin"));
    const std::string part = read_file(m_out / ".big.bin.part");
    ASSERT_GT(part.size(), 0u) << "the bytes received are kept for --continue";
    ASSERT_EQ(part, m_big_bytes.substr(0, part.size()));

    auto second = download({"--continue", url("/big.bin")});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const auto asked = m_big_log.all().back();
    EXPECT_EQ(asked.at("Range"), "bytes=" + std::to_string(part.size()) + "-");
    if (has_user_xattrs(m_dir.path())) {
        EXPECT_EQ(asked.at("If-Range"), "\"big1\"");
    }
    const std::string got = read_file(m_out / "big.bin");
    EXPECT_EQ(sha256_hex(got), sha256_hex(m_big_bytes));
    EXPECT_FALSE(fs::exists(m_out / ".big.bin.part"));
}

TEST_P(CliDownloadFiles, ContinueAfterTheFileChangedFetchesItWhole) {
    fs::create_directories(m_out);
    std::ofstream(m_out / ".big.bin.part", std::ios::binary) << "stale bytes of an old version";
    if (has_user_xattrs(m_dir.path()))
        ::setxattr((m_out / ".big.bin.part").c_str(), "user.flagcrawl.etag", "\"big0\"", 6, 0);
    else
        GTEST_SKIP() << "no user extended attributes here: the kept ETag cannot be tested";
    auto r = download({"--continue", url("/big.bin")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(m_big_log.all().back().at("If-Range"), "\"big0\"");
    EXPECT_EQ(read_file(m_out / "big.bin"), m_big_bytes);
}

TEST_P(CliDownloadFiles, ContinueWithAServerIgnoringRangesStartsOver) {
    server::Resource ignoring{.body = server::make_body(m_big_bytes), .ranges = false};
    m_big.set(ignoring);
    fs::create_directories(m_out);
    std::ofstream(m_out / "big.bin", std::ios::binary) << m_big_bytes.substr(0, 50'000);
    auto r = download({"--continue", url("/big.bin")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_out / "big.bin"), m_big_bytes) << "the whole body, not appended";
}

TEST_P(CliDownloadFiles, ContinueOnACompleteFileIs416AndSuccess) {
    fs::create_directories(m_out);
    std::ofstream(m_out / "big.bin", std::ios::binary) << m_big_bytes;
    auto r = download({"--continue", url("/big.bin")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(summary(r)["unchanged"], 1);
    EXPECT_EQ(read_file(m_out / "big.bin"), m_big_bytes);
}

TEST_P(CliDownloadFiles, KeepPathsMirrorsTheUrlPathInsideTheFolder) {
    auto r = download({"--keep-paths", url("/files/f1.bin"), url("/files/../files/f2.bin"),
                       url("/files/%2e%2e/f3.bin")});
    EXPECT_EQ(r.exit_code, 1) << r.err; // the last one is a 404
    const fs::path host = m_out / ("127.0.0.1:" + std::to_string(m_server->port()));
    EXPECT_EQ(read_file(host / "files" / "f1.bin"), m_files["f1.bin"]);
    EXPECT_EQ(read_file(host / "files" / "f2.bin"), m_files["f2.bin"]);
    // Each row records where its file is, in its folder below -o.
    auto rows = run_process(
        {flagcrawl_binary(), "export", "--db", m_dir.file("runs.db"), "--table", "downloads"});
    ASSERT_EQ(rows.exit_code, 0) << rows.err;
    std::map<std::string, std::string> paths;
    std::istringstream lines(rows.out);
    for (std::string line; std::getline(lines, line);) {
        const auto row = nlohmann::json::parse(line);
        if (row["http_status"] == 200)
            paths[row["url"]] = row["path"];
    }
    EXPECT_EQ(paths[url("/files/f1.bin")], (host / "files" / "f1.bin").string());
    EXPECT_EQ(paths[url("/files/f2.bin")], (host / "files" / "f2.bin").string());
    for (const auto& entry : fs::directory_iterator(m_dir.path())) {
        const std::string name = entry.path().filename().string();
        EXPECT_TRUE(name == "out" || name.starts_with("runs.db")) << "written outside -o: " << name;
    }
}

TEST_P(CliDownloadFiles, ListLinesWithATabSaveUnderTheirName) {
    const std::string list = "\xEF\xBB\xBF" + url("/files/f0.bin") + "\tfirst.bin\n" +
                             url("/files/f1.bin") + "\t flags/second.bin\n" + url("/files/f2.bin") +
                             "\n";
    const std::string path = m_dir.file("list.txt");
    std::ofstream(path) << list;
    auto r = download({"-i", path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(m_out / "first.bin"), m_files["f0.bin"]);
    EXPECT_EQ(read_file(m_out / "flags" / "second.bin"), m_files["f1.bin"]);
    EXPECT_EQ(read_file(m_out / "f2.bin"), m_files["f2.bin"]);
}

TEST_P(CliDownloadFiles, CookiesAreSentBackAndTheFileIsWrittenBack) {
    const std::string jar = m_dir.file("jar.txt");
    // A cookie the user had: for this host, any path, no expiry (a session cookie).
    std::ofstream(jar) << "# Netscape HTTP Cookie File\n"
                       << "127.0.0.1\tFALSE\t/\tFALSE\t0\ttoken\txyz\n";
    auto login = download({"--cookies", jar, url("/login")});
    ASSERT_EQ(login.exit_code, 0) << login.err;
    EXPECT_EQ(m_cookie_log.all()[0].at("Cookie"), "token=xyz");
    const std::string saved = read_file(jar);
    EXPECT_NE(saved.find("\tsession\ts3cr3t"), std::string::npos) << saved;
    EXPECT_NE(saved.find("\ttoken\txyz"), std::string::npos) << saved;
    struct stat st {};
    ASSERT_EQ(::stat(jar.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600) << "cookies are secrets";

    auto in = download({"--cookies", jar, url("/private")});
    EXPECT_EQ(in.exit_code, 0) << in.err;
    EXPECT_EQ(read_file(m_out / "private"), "private\n");
}

TEST_P(CliDownloadFiles, ABadCookieFileIsAUsageErrorNamingTheLine) {
    const std::string jar = m_dir.file("bad-jar.txt");
    std::ofstream(jar) << "# Netscape HTTP Cookie File\n\nnot a cookie line\n";
    auto r = download({"--cookies", jar, url("/login")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bad-jar.txt:3:"), std::string::npos) << r.err;
    EXPECT_EQ(m_cookie_log.size(), 0u);
}

TEST_P(CliDownloadFiles, ProxyCarriesEveryRequestAndItsErrorsNameIt) {
    server::HitCounter seen;
    server::Server proxy(server::proxy_handler(m_router.handler(), &seen));
    ASSERT_FALSE(proxy.start());
    // files.test resolves nowhere: only a proxy reaches it.
    auto r = download({"--proxy", proxy.base_url(), "http://files.test/files/f3.bin"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(seen.count("http://files.test/files/f3.bin"), 1u);
    EXPECT_EQ(read_file(m_out / "f3.bin"), m_files["f3.bin"]);

    const std::string closed = "127.0.0.1:" + std::to_string(unused_loopback_port());
    auto refused = download(
        {"--proxy", "http://" + closed, "--retries", "0", "http://files.test/files/f4.bin"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("proxy " + closed), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find("(files.test"), std::string::npos) << refused.err;
}

// Without --proxy, the environment's proxy variables decide, as in curl and wget.
TEST_P(CliDownloadFiles, WithoutProxyTheEnvironmentsProxyAndNoProxyDecide) {
    server::HitCounter seen;
    server::Server proxy(server::proxy_handler(m_router.handler(), &seen));
    ASSERT_FALSE(proxy.start());
    auto run = [&](std::vector<std::string> env, const std::string& target) {
        std::vector<std::string> a = {flagcrawl_binary(),
                                      "download",
                                      "--db",
                                      m_dir.file("runs.db"),
                                      "--progress",
                                      "never",
                                      "--strategy",
                                      GetParam(),
                                      "--retries",
                                      "0",
                                      "-o",
                                      m_out.string(),
                                      target};
        return run_process(a, {}, {}, {}, std::chrono::seconds(60), env);
    };
    // files.test resolves nowhere: only a proxy reaches it.
    auto proxied = run({"http_proxy=" + proxy.base_url()}, "http://files.test/files/f3.bin");
    ASSERT_EQ(proxied.exit_code, 0) << proxied.err;
    EXPECT_EQ(seen.count("http://files.test/files/f3.bin"), 1u);
    EXPECT_EQ(read_file(m_out / "f3.bin"), m_files["f3.bin"]);

    auto bypassed = run({"http_proxy=" + proxy.base_url(), "no_proxy=files.test"},
                        "http://files.test/files/f4.bin");
    EXPECT_EQ(bypassed.exit_code, 1) << "no_proxy sends it direct, where the name resolves nowhere";
    EXPECT_EQ(seen.count("http://files.test/files/f4.bin"), 0u);
}

TEST_P(CliDownloadFiles, AServerThatNeverAnswersIsCutByTheStallTimeoutAfterAStallLine) {
    auto r = download({"--stall-timeout", "2", "--stall-after", "0.5", url("/never")});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("nothing completed for"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("waiting for " + url("/never")), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("transfer stalled"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Strategies, CliDownloadFiles,
                         testing::Values("sequential", "threaded", "async"));

} // namespace
