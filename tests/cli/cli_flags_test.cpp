// `flagcrawl flags` as a user runs it: the book's output, the files (byte for byte), -a, -e
// against the failing server, --metadata names, -v lines, a base URL, the DB record, exit codes
// and one-line usage errors.
#include "eventually.hpp"
#include "file_contents.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/flags.hpp"
#include "server/server.hpp"
#include "storage/reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <map>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace flagcrawl;
using testing_support::count_finished_files;
using testing_support::count_lines;
using testing_support::eventually;
using testing_support::flagcrawl_binary;
using testing_support::read_folder;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    std::string line;
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

class CliFlags : public testing::Test {
protected:
    void SetUp() override { fs::create_directories(m_dir.path() / "work"); }

    std::vector<std::string> args(std::initializer_list<std::string> rest) const {
        std::vector<std::string> a = {flagcrawl_binary(),    "flags",      "--db",
                                      m_dir.file("runs.db"), "--progress", "never"};
        a.insert(a.end(), rest);
        return a;
    }
    std::string work() const { return m_dir.file("work"); }

    TempDir m_dir{"cli-flags"};
};

} // namespace

TEST_F(CliFlags, DefaultDownloadsThePop20IntoDownloadedLikeTheBook) {
    auto r = run_process(args({}), work());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto out = lines(r.out);
    ASSERT_EQ(out.size(), 6u) << r.out;
    EXPECT_EQ(out[0].rfind("EMBEDDED site: http://127.0.0.1:", 0), 0u) << out[0];
    EXPECT_EQ(out[0].substr(out[0].size() - 6), "/flags");
    EXPECT_EQ(out[1], "Searching for 20 flags: from BD to VN");
    EXPECT_EQ(out[2], "5 concurrent connections will be used.");
    EXPECT_EQ(out[3], "--------------------");
    EXPECT_EQ(out[4], " 20 flags downloaded.");
    EXPECT_EQ(out[5].rfind("Elapsed time: ", 0), 0u) << out[5];
    EXPECT_EQ(out[5].back(), 's');

    std::map<std::string, std::string> expected;
    for (const char* cc : {"CN", "IN", "US", "ID", "BR", "PK", "NG", "BD", "RU", "JP",
                           "MX", "PH", "VN", "ET", "EG", "DE", "IR", "TR", "CD", "FR"})
        expected[std::string(cc) + ".gif"] = server::flag_gif(cc);
    EXPECT_EQ(read_folder(m_dir.path() / "work" / "downloaded"), expected);

    // Recorded like download: one run of command "flags", one row per code.
    auto reader = storage::Reader::open(m_dir.file("runs.db"));
    ASSERT_TRUE(reader);
    auto run = reader->latest_run(std::string("flags"));
    ASSERT_TRUE(run && *run);
    EXPECT_EQ((*run)->totals.ok, 20u);
    EXPECT_EQ((*run)->info.strategy, "async");
    EXPECT_EQ((*run)->info.concurrency, 5);
    int rows = 0;
    ASSERT_TRUE(reader->for_each_download((*run)->id, [&](const storage::DownloadRecord& row) {
        ++rows;
        EXPECT_EQ(row.http_status, 200);
        EXPECT_TRUE(row.sha256.has_value());
        return true;
    }));
    EXPECT_EQ(rows, 20);
}

TEST_F(CliFlags, AllWritesTheWholeDataSet) {
    auto r = run_process(args({"-a", "--strategy", "threaded", "-o", "out"}), work());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Searching for 194 flags: from AD to ZW"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("30 concurrent connections will be used."), std::string::npos);
    EXPECT_NE(r.out.find("194 flags downloaded."), std::string::npos) << r.out;
    const auto files = read_folder(m_dir.path() / "work" / "out");
    EXPECT_EQ(files.size(), 194u);
    EXPECT_EQ(files.at("ZW.gif"), server::flag_gif("ZW"));
}

TEST_F(CliFlags, EveryCodeFromTheErrorServer) {
    auto r = run_process(
        args({"-e", "-s", "error", "-m", "100", "--json", "--delay", "0.01", "--retries", "0"}),
        work());
    EXPECT_EQ(r.exit_code, 1) << r.err; // some flags failed
    auto summary = nlohmann::json::parse(r.out);
    const int ok = summary["ok"], not_found = summary["not_found"], errors = summary["errors"];
    EXPECT_EQ(ok + not_found + errors, 676);
    EXPECT_EQ(not_found, 482); // the codes with no flag: never an injected error
    EXPECT_GT(errors, 20);     // about a quarter of 194 (48; sd 6)
    EXPECT_LT(errors, 80);
    EXPECT_EQ(summary["concurrency"], 100);
    EXPECT_EQ(summary["strategy"], "async");
    EXPECT_EQ(summary["server_mode"], "ERROR");
    EXPECT_EQ(summary["codes"], 676);
    EXPECT_EQ(read_folder(m_dir.path() / "work" / "downloaded").size(),
              static_cast<std::size_t>(ok));
}

TEST_F(CliFlags, VerboseLinesAndNotFoundAloneExitsZero) {
    auto r =
        run_process(args({"-v", "cn", "xx", "Us", "--strategy", "sequential", "-m", "9"}), work());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto out = lines(r.out);
    ASSERT_EQ(out.size(), 10u) << r.out;
    EXPECT_EQ(out[1], "Searching for 3 flags: CN, US, XX");
    EXPECT_EQ(out[2], "1 connection will be used.");
    EXPECT_EQ(out[3], "CN ok"); // sequential: in order
    EXPECT_EQ(out[4], "US ok");
    EXPECT_EQ(out[5], "XX not found");
    EXPECT_EQ(out[7], "  2 flags downloaded.");
    EXPECT_EQ(out[8], "  1 not found.");
}

TEST_F(CliFlags, MetadataNamesFilesAfterTheCountry) {
    auto r = run_process(args({"--metadata", "-l", "3", "--json"}), work());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto summary = nlohmann::json::parse(r.out);
    EXPECT_EQ(summary["ok"], 3);
    EXPECT_EQ(summary["requests"], 6); // metadata, then the flag
    EXPECT_EQ(read_folder(m_dir.path() / "work" / "downloaded"),
              (std::map<std::string, std::string>{
                  {"Bangladesh-BD.gif", server::flag_gif("BD")},
                  {"Brazil-BR.gif", server::flag_gif("BR")},
                  {"Democratic_Republic_of_the_Congo-CD.gif", server::flag_gif("CD")}}));
}

TEST_F(CliFlags, BaseUrlOfAnotherServer) {
    server::Server flags(server::flags_handler());
    ASSERT_FALSE(flags.start());
    const std::string base = flags.base_url() + "/flags/";
    auto r = run_process(args({"-s", base, "-v", "B", "--no-db"}), work());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("CUSTOM site: " + flags.base_url() + "/flags\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("Searching for 26 flags: from BA to BZ"), std::string::npos);
    EXPECT_NE(r.out.find("BZ ok"), std::string::npos);
    EXPECT_NE(r.out.find("BC not found"), std::string::npos);
    EXPECT_EQ(flags.stats().requests, 26u);
}

TEST_F(CliFlags, ServerErrorsAreShownPerCodeWithVerbose) {
    // Nothing listens on the port: every code is an error with its reason, exit 1.
    server::Server gone(server::flags_handler());
    ASSERT_FALSE(gone.start());
    const std::string base = gone.base_url() + "/flags";
    gone.stop();
    auto r = run_process(args({"-s", base, "-v", "cn", "--retries", "0"}), work());
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find("CN error: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  1 error."), std::string::npos) << r.out;
}

TEST_F(CliFlags, UsageErrorsAreOneLineAndExitTwo) {
    for (auto bad : {std::vector<std::string>{"USA"}, std::vector<std::string>{"c3"},
                     std::vector<std::string>{"-m", "0"}, std::vector<std::string>{"-l", "0"},
                     std::vector<std::string>{"-s", "lokal"},
                     std::vector<std::string>{"-s", "local", "--delay", "1"},
                     std::vector<std::string>{"--delay", "fast"},
                     std::vector<std::string>{"--strategy", "parallel"}}) {
        auto a = args({});
        a.insert(a.end(), bad.begin(), bad.end());
        auto r = run_process(a, work());
        EXPECT_EQ(r.exit_code, 2) << bad[0] << ": " << r.err;
        EXPECT_EQ(count_lines(r.err), 1u) << r.err;
        EXPECT_NE(r.err.find(bad.back() == "1" ? "local" : bad.back()), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    EXPECT_FALSE(fs::exists(m_dir.path() / "work" / "downloaded"));
}

TEST_F(CliFlags, CtrlCStopsTheRunLeavesNoPartialFileAndExits130) {
    // 676 requests of 0.2 s, 5 at a time: about 27 s uninterrupted. Ctrl-C once a flag is saved,
    // so that the run is cut with files done and requests in flight.
    const fs::path out = m_dir.path() / "work" / "out";
    auto r = run_process(args({"-e", "-s", "delay", "--delay", "0.2", "-m", "5", "-o", "out"}),
                         work(), {}, [&](int pid) {
                             EXPECT_TRUE(eventually([&] { return count_finished_files(out) > 0; }))
                                 << "no flag saved";
                             ::kill(pid, SIGINT);
                         });
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    const auto files = read_folder(out);
    for (const auto& [name, bytes] : files) {
        EXPECT_EQ(name.find(".part"), std::string::npos) << name;
        EXPECT_EQ(bytes, server::flag_gif(name.substr(0, 2)));
    }
    EXPECT_GE(files.size(), 1u);
    EXPECT_LT(files.size(), server::flag_countries().size());
    auto reader = storage::Reader::open(m_dir.file("runs.db"));
    ASSERT_TRUE(reader);
    auto run = reader->latest_run(std::string("flags"));
    ASSERT_TRUE(run && *run);
    EXPECT_EQ((*run)->status, storage::RunStatus::interrupted);
    EXPECT_LT((*run)->totals.ok + (*run)->totals.not_found + (*run)->totals.errors, 676u);
}
