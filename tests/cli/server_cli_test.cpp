// `flagcrawl serve` as a user runs it: the one "Serving ..." line, serving until SIGTERM or
// SIGINT and then exiting 0, usage errors (exit 2) and a port already in use (exit 3).
#include "process.hpp"
#include "server/flags.hpp"
#include "server/server.hpp"
#include "server_test_client.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using flagcrawl::server::testing::TestClient;
using flagcrawl::testing_support::count_lines;
using flagcrawl::testing_support::flagcrawl_binary;
using flagcrawl::testing_support::run_process;
using flagcrawl::testing_support::TempDir;
using flagcrawl::testing_support::unused_loopback_port;

namespace {

// Connects once the child listens (it may take a moment to start), or throws.
std::unique_ptr<TestClient> connect_when_up(std::uint16_t port) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
        try {
            return std::make_unique<TestClient>(port);
        } catch (const std::exception&) {
            if (std::chrono::steady_clock::now() > deadline)
                throw;
            std::this_thread::sleep_for(20ms);
        }
    }
}

} // namespace

TEST(ServerCli, ServesFlagsUntilSigterm) {
    const std::uint16_t port = unused_loopback_port();
    std::string gif;
    int metadata_status = 0;
    const auto result = run_process(
        {flagcrawl_binary(), "serve", "--flags", "--port", std::to_string(port)}, {}, {},
        [&](int pid) {
            auto client = connect_when_up(port);
            if (auto r = client->get("/flags/jp/jp.gif"))
                gif = r->body;
            if (auto r = client->get("/flags/jp/metadata.json"))
                metadata_status = r->status;
            ::kill(pid, SIGTERM);
        },
        30s);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "Serving the flags data set (194 countries) on http://127.0.0.1:" +
                              std::to_string(port) + "/\n");
    EXPECT_EQ(gif, flagcrawl::server::flag_gif("JP"));
    EXPECT_EQ(metadata_status, 200);
}

TEST(ServerCli, ServesFilesUntilSigint) {
    const TempDir root("serve");
    std::ofstream(root.file("hello.txt")) << "hi";
    const std::uint16_t port = unused_loopback_port();
    std::string body;
    const auto result = run_process(
        {flagcrawl_binary(), "serve", "--root", root.path().string(), "--port",
         std::to_string(port), "--threads", "2", "--delay", "0.01-0.02", "--error-rate", "0"},
        {}, {},
        [&](int pid) {
            auto client = connect_when_up(port);
            if (auto r = client->get("/hello.txt"))
                body = r->body;
            ::kill(pid, SIGINT);
        },
        30s);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(body, "hi");
    EXPECT_NE(result.out.find("Serving files from "), std::string::npos) << result.out;
    EXPECT_EQ(count_lines(result.out), 1u);
}

TEST(ServerCli, UsageErrorsExit2WithOneLine) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"serve"}, "exactly one of"},
        {{"serve", "--flags", "--site", "10"}, "exactly one of"},
        {{"serve", "--root", "/nonexistent/flagcrawl"}, "not a directory"},
        {{"serve", "--flags", "--delay", "0.3-0.1"}, "--delay"},
        {{"serve", "--flags", "--delay", "soon"}, "--delay"},
        {{"serve", "--flags", "--error-rate", "1.5"}, "--error-rate"},
        {{"serve", "--site", "0"}, "--site"},
        {{"serve", "--flags", "--threads", "0"}, "--threads"},
    };
    for (const auto& [args, expected] : cases) {
        std::vector<std::string> argv{flagcrawl_binary()};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result = run_process(argv, {}, {}, {}, 20s);
        EXPECT_EQ(result.exit_code, 2) << args.back();
        EXPECT_EQ(count_lines(result.err), 1u) << result.err;
        EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
        EXPECT_EQ(result.out, "");
    }
}

TEST(ServerCli, PortInUseExits3NamingTheAddress) {
    flagcrawl::server::Server taken(
        [](const flagcrawl::server::Request&) { return flagcrawl::server::Reply::text(200, ""); });
    ASSERT_FALSE(taken.start());
    const std::string port = std::to_string(taken.port());
    const auto result =
        run_process({flagcrawl_binary(), "serve", "--flags", "--port", port}, {}, {}, {}, 20s);
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_EQ(count_lines(result.err), 1u) << result.err;
    EXPECT_NE(result.err.find("127.0.0.1:" + port), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("in use"), std::string::npos) << result.err;
}
