// The config file (~/.config/flagcrawl/config, or $XDG_CONFIG_HOME/flagcrawl/config): defaults
// for the options, overridden by the command line; an unusable line is one line naming the file
// and the line.
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/router.hpp"
#include "server/server.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>

namespace fs = std::filesystem;
using namespace flagcrawl;
using testing_support::count_lines;
using testing_support::flagcrawl_binary;
using testing_support::ProcessResult;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

class CliConfig : public testing::Test {
protected:
    void SetUp() override {
        m_router.add("/", [this](const server::Request& r) {
            std::lock_guard lock(m_mutex);
            m_agents.emplace_back(r.header("User-Agent"));
            return server::Reply::bytes(200, server::make_body(std::string("<a href=\"/a\">a</a>")),
                                        "text/html");
        });
        m_router.add("/a", [this](const server::Request& r) {
            std::lock_guard lock(m_mutex);
            m_agents.emplace_back(r.header("User-Agent"));
            return server::Reply::text(200, "a\n");
        });
        m_server = std::make_unique<server::Server>(m_router.handler());
        ASSERT_FALSE(m_server->start());
        fs::create_directories(m_dir.path() / "home" / ".config" / "flagcrawl");
    }

    // Writes the config file where a user without XDG_CONFIG_HOME has it.
    std::string write_config(const std::string& text) {
        const std::string path = (m_dir.path() / "home" / ".config" / "flagcrawl" / "config");
        std::ofstream(path) << text;
        return path;
    }
    // The command with HOME in the test's folder and no XDG_CONFIG_HOME.
    ProcessResult run(std::vector<std::string> args) {
        args.insert(args.begin(), flagcrawl_binary());
        return run_process(args, {}, {}, {}, std::chrono::seconds(60),
                           {"HOME=" + m_dir.file("home"), "XDG_CONFIG_HOME="});
    }
    std::vector<std::string> agents() {
        std::lock_guard lock(m_mutex);
        return m_agents;
    }
    static nlohmann::json summary(const ProcessResult& r) {
        const auto last = r.out.rfind('\n', r.out.size() - 2);
        return nlohmann::json::parse(r.out.substr(last == std::string::npos ? 0 : last + 1),
                                     nullptr, false);
    }

    TempDir m_dir{"cli-config"};
    server::Router m_router;
    std::unique_ptr<server::Server> m_server;
    std::mutex m_mutex;
    std::vector<std::string> m_agents;
};

TEST_F(CliConfig, SetsTheUserAgentAndTheDelay) {
    write_config("# my defaults\n"
                 "user-agent = \"configbot/1.0 (+https://example.org/bot)\"\n"
                 "db = \"" +
                 m_dir.file("from-config.db") +
                 "\"\n"
                 "\n"
                 "[crawl]\n"
                 "delay = 0.25  # seconds\n");
    const ProcessResult r =
        run({"crawl", m_server->base_url() + "/", "--no-robots", "--json", "--progress", "never"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json s = summary(r);
    ASSERT_TRUE(s.is_object()) << r.out;
    EXPECT_DOUBLE_EQ(s.value("delay_s", -1.0), 0.25) << r.out;
    EXPECT_TRUE(fs::exists(m_dir.file("from-config.db")));
    ASSERT_EQ(agents().size(), 2u);
    for (const std::string& agent : agents())
        EXPECT_EQ(agent, "configbot/1.0 (+https://example.org/bot)");
}

TEST_F(CliConfig, TheCommandLineOverridesIt) {
    write_config("user-agent = \"configbot/1.0\"\n"
                 "[crawl]\n"
                 "delay = 0.25\n");
    const ProcessResult r =
        run({"crawl", m_server->base_url() + "/", "--no-robots", "--json", "--progress", "never",
             "--delay", "0", "--user-agent", "clibot/2.0", "--db", m_dir.file("runs.db")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_DOUBLE_EQ(summary(r).value("delay_s", -1.0), 0.0) << r.out;
    ASSERT_FALSE(agents().empty());
    for (const std::string& agent : agents())
        EXPECT_EQ(agent, "clibot/2.0");
}

TEST_F(CliConfig, ABadKeyIsOneLineNamingTheFileAndTheLine) {
    const std::string path = write_config("user-agent = \"configbot/1.0\"\n"
                                          "\n"
                                          "colour = \"red\"\n");
    const ProcessResult r =
        run({"crawl", m_server->base_url() + "/", "--db", m_dir.file("runs.db")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(path + ":3:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("colour"), std::string::npos) << r.err;
    EXPECT_TRUE(agents().empty()) << "nothing is fetched";
}

TEST_F(CliConfig, ABadValueOrLineIsOneLineNamingTheFileAndTheLine) {
    const std::string path = write_config("[crawl]\ndelay = soon\n");
    ProcessResult r = run({"crawl", m_server->base_url() + "/"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(path + ":2: delay"), std::string::npos) << r.err;

    write_config("user-agent \"no equals sign\"\n");
    r = run({"crawl", m_server->base_url() + "/"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(path + ":1:"), std::string::npos) << r.err;

    write_config("[crawll]\ndelay = 1\n");
    r = run({"crawl", m_server->base_url() + "/"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(path + ":2: [crawll] is not a command"), std::string::npos) << r.err;
}

TEST_F(CliConfig, ConfigNamesAnotherFileAndNoConfigReadsNone) {
    write_config("colour = \"red\"\n"); // the default file is bad: neither run reads it
    const std::string other = m_dir.file("other.toml");
    std::ofstream(other) << "user-agent = 'otherbot'\n";
    ProcessResult r = run({"--config", other, "crawl", m_server->base_url() + "/", "--no-robots",
                           "--progress", "never", "--db", m_dir.file("runs.db")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_FALSE(agents().empty());
    EXPECT_EQ(agents().back(), "otherbot");

    r = run({"--no-config", "crawl", m_server->base_url() + "/", "--no-robots", "--progress",
             "never", "--db", m_dir.file("runs.db")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(agents().back().starts_with("flagcrawl/")) << agents().back();

    r = run({"--config", m_dir.file("missing.toml"), "crawl", m_server->base_url() + "/"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("missing.toml"), std::string::npos) << r.err;
}

} // namespace
