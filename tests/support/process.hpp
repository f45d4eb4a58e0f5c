// Test helpers for the command line: run the flagcrawl binary as a child process with arguments,
// capturing its output and exit code, optionally signalling it while it runs (bounded in time);
// pick a loopback port to give it; count the lines it wrote.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::testing_support {

struct ProcessResult {
    int exit_code = -1; // -1: killed by a signal (or by the time bound)
    std::string out;
    std::string err;
};

// The flagcrawl executable under test (from the build, see tests/CMakeLists.txt).
const char* flagcrawl_binary();

// Runs argv (argv[0] is the program) in `cwd` (empty: the current folder) with `input` on its
// stdin. `while_running` (may be empty) is called once, right after the start, with the child's
// pid. The child is SIGKILLed after `limit`. It gets this process's environment with `env`'s
// "NAME=value" entries in place of those of the same names; XDG_CONFIG_HOME, unless `env` sets
// it, names a folder that does not exist, so that no user's config file changes a test.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd = {},
                          const std::string& input = {},
                          const std::function<void(int pid)>& while_running = {},
                          std::chrono::seconds limit = std::chrono::seconds(60),
                          const std::vector<std::string>& env = {});

// The full path of `program` found in $PATH; "" when it is not there (a test then skips).
std::string find_program(const std::string& program);

// A child process left running in the background, its output in files, for tests that run
// several at once and signal them (kill -9, SIGSTOP). Killed (SIGKILL) and reaped when destroyed
// if still running.
class Background {
public:
    explicit Background(const std::vector<std::string>& argv);
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    int pid() const { return m_pid; }
    void signal(int sig) const;
    // Waits up to `limit` for the child to end: its exit code, -1 when a signal ended it;
    // nullopt while it still runs.
    std::optional<int> wait(std::chrono::milliseconds limit);
    std::string out() const; // what it wrote so far
    std::string err() const;

private:
    std::filesystem::path m_dir;
    int m_pid = -1;
    std::optional<int> m_exit;
};

// A loopback port nothing listened on a moment ago (bound to port 0, then released): for a
// child to listen on, or to be refused on.
std::uint16_t unused_loopback_port();

// The number of '\n' in `text`: the lines of a child's output ("one-line error" checks).
inline std::size_t count_lines(std::string_view text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace flagcrawl::testing_support
