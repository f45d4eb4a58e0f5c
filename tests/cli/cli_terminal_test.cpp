// The progress line in a narrow terminal: run in a 60-column tmux pane, it stays one line that is
// redrawn in place, instead of wrapping and leaving a trail of stale lines. Skipped when tmux is
// not installed.
#include "process.hpp"
#include "temp_dir.hpp"

#include "server/router.hpp"
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using namespace flagcrawl;
using testing_support::find_program;
using testing_support::flagcrawl_binary;
using testing_support::run_process;
using testing_support::TempDir;

namespace {

std::string quoted(const std::string& arg) {
    std::string out = "'";
    for (char c : arg)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

class Tmux {
public:
    Tmux(std::string program, const TempDir& dir)
        : m_program(std::move(program))
        , m_socket(dir.file("tmux.sock")) {}
    ~Tmux() { run({"kill-server"}); }
    testing_support::ProcessResult run(std::vector<std::string> args) const {
        args.insert(args.begin(), {m_program, "-S", m_socket, "-f", "/dev/null"});
        return run_process(args, {}, {}, {}, 20s, {"TERM=xterm"});
    }

private:
    std::string m_program;
    std::string m_socket;
};

TEST(CliTerminal, TheProgressLineStaysOneLineInASixtyColumnTerminal) {
    const std::string tmux_program = find_program("tmux");
    if (tmux_program.empty())
        GTEST_SKIP() << "tmux is not installed (Debian: apt-get install tmux)";
    server::Router router;
    std::string list;
    for (int i = 0; i < 12; ++i) {
        auto reply = server::Reply::text(200, std::string(1000, 'x'));
        reply.delay = 250ms;
        router.add("/slow/" + std::to_string(i) + ".txt", reply);
    }
    server::Server server(router.handler());
    ASSERT_FALSE(server.start());
    TempDir dir("terminal");
    for (int i = 0; i < 12; ++i)
        list += server.base_url() + "/slow/" + std::to_string(i) + ".txt\n";
    std::ofstream(dir.file("urls.txt")) << list;

    const std::string command = quoted(flagcrawl_binary()) + " download --no-db -c 2 -i " +
                                quoted(dir.file("urls.txt")) + " -o " + quoted(dir.file("out")) +
                                "; echo FLAGCRAWL-DONE; sleep 60";
    Tmux tmux(tmux_program, dir);
    auto started = tmux.run({"new-session", "-d", "-x", "60", "-y", "20", command});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    std::string screen;
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (screen.find("FLAGCRAWL-DONE") == std::string::npos &&
           std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(100ms);
        // -J joins the rows a wrapped line took: a line wider than the pane shows as one.
        screen = tmux.run({"capture-pane", "-p", "-J"}).out;
    }
    ASSERT_NE(screen.find("FLAGCRAWL-DONE"), std::string::npos) << screen;
    std::istringstream lines(screen);
    std::string line;
    int progress_lines = 0;
    while (std::getline(lines, line)) {
        if (line.find("ETA") == std::string::npos)
            continue;
        ++progress_lines;
        EXPECT_LT(line.size(), 60u) << "the progress line wraps:\n" << screen;
    }
    EXPECT_EQ(progress_lines, 1) << screen;
}

} // namespace
