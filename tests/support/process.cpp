#include "process.hpp"

#include "file_contents.hpp"
#include "temp_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace flagcrawl::testing_support {

const char* flagcrawl_binary() {
    return FLAGCRAWL_BINARY;
}

namespace {

// The environment of a child: this process's, with `env`'s "NAME=value" entries in place of those
// of the same names; XDG_CONFIG_HOME, unless `env` sets it, names `no_config_home` (a folder that
// does not exist), so that no user's config file changes a test.
std::vector<std::string> child_environment(const std::vector<std::string>& env,
                                           const std::string& no_config_home) {
    std::vector<std::string> entries = {"XDG_CONFIG_HOME=" + no_config_home};
    auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
    for (const std::string& entry : env) {
        std::erase_if(entries, [&](const std::string& e) { return name_of(e) == name_of(entry); });
        entries.push_back(entry);
    }
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string entry = *e;
        if (std::none_of(entries.begin(), entries.end(),
                         [&](const std::string& own) { return name_of(own) == name_of(entry); }))
            entries.push_back(entry);
    }
    return entries;
}

// Forks and execs argv in `cwd` (empty: the current folder) with its standard streams on
// these files and the environment `env` (whole "NAME=value" entries); returns the child's pid.
pid_t start_child(const std::vector<std::string>& argv, const std::string& cwd,
                  const std::string& in_path, const std::string& out_path,
                  const std::string& err_path, std::vector<std::string> env) {
    // Built before fork(): the child of a threaded process may only call async-signal-safe
    // functions before it execs.
    std::vector<char*> envp;
    for (std::string& entry : env)
        envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0)
            ::_exit(127);
        int in = ::open(in_path.c_str(), O_RDONLY);
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        // The test runner may block signals; the child starts with the defaults.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}

} // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& cwd,
                          const std::string& input, const std::function<void(int)>& while_running,
                          std::chrono::seconds limit, const std::vector<std::string>& env) {
    const TempDir dir("proc");
    const std::string in_path = dir.file("in"), out_path = dir.file("out"),
                      err_path = dir.file("err");
    std::ofstream(in_path, std::ios::binary) << input;

    const pid_t pid = start_child(argv, cwd, in_path, out_path, err_path,
                                  child_environment(env, dir.file("no-config-home")));
    if (while_running)
        while_running(pid);

    ProcessResult result;
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFEXITED(status))
        result.exit_code = WEXITSTATUS(status);
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    return result;
}

Background::Background(const std::vector<std::string>& argv) {
    std::random_device random;
    m_dir = std::filesystem::temp_directory_path() /
            ("flagcrawl-bg-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(m_dir);
    m_pid = start_child(argv, {}, "/dev/null", (m_dir / "out").string(), (m_dir / "err").string(),
                        child_environment({}, (m_dir / "no-config-home").string()));
}

Background::~Background() {
    if (!m_exit) {
        ::kill(m_pid, SIGKILL);
        ::kill(m_pid, SIGCONT); // a stopped child dies only once continued
        int status = 0;
        ::waitpid(m_pid, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(m_dir, ignored);
}

void Background::signal(int sig) const {
    if (!m_exit)
        ::kill(m_pid, sig);
}

std::optional<int> Background::wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!m_exit) {
        int status = 0;
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return m_exit;
}

std::string Background::out() const {
    return read_file(m_dir / "out");
}

std::string Background::err() const {
    return read_file(m_dir / "err");
}

std::string find_program(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const std::string candidate = std::string(rest.substr(0, colon)) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
    return {};
}

std::uint16_t unused_loopback_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(s);
    return ntohs(addr.sin_port);
}

} // namespace flagcrawl::testing_support
