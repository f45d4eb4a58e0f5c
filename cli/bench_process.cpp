#include "bench_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace flagcrawl::cli {
namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// An anonymous in-memory file for a child's output (no temporary file to clean up).
int memory_file(const char* name) {
    int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        throw_errno("memfd_create");
    }
    return fd;
}

std::string read_all(int fd) {
    std::string text;
    if (::lseek(fd, 0, SEEK_SET) < 0) {
        return text;
    }
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
}

double seconds(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

} // namespace

ChildRun run_child(const std::string& program, const std::vector<std::string>& argv,
                   std::atomic<pid_t>* running) {
    // Everything the child needs is prepared before fork(): in a multi-threaded parent the
    // child may only call async-signal-safe functions until it execs.
    std::vector<char*> args;
    for (const std::string& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    const int out = memory_file("flagcrawl-child-out");
    const int err = memory_file("flagcrawl-child-err");
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0) {
        throw_errno("open /dev/null");
    }
    sigset_t none;
    sigemptyset(&none);

    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int saved = errno;
        ::close(out);
        ::close(err);
        ::close(null);
        throw std::system_error(saved, std::generic_category(), "fork");
    }
    if (pid == 0) {
        // dup2 clears FD_CLOEXEC on the copies.
        ::dup2(null, STDIN_FILENO);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(err, STDERR_FILENO);
        // The parent blocks SIGINT/SIGTERM for its signal-watching thread; the child handles
        // them itself.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGINT, &dfl, nullptr);
        ::sigaction(SIGTERM, &dfl, nullptr);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execv(program.c_str(), args.data());
        ::_exit(127);
    }
    if (running != nullptr) {
        running->store(pid);
    }

    int status = 0;
    rusage usage{};
    pid_t done = 0;
    do {
        done = ::wait4(pid, &status, 0, &usage);
    } while (done < 0 && errno == EINTR);
    const auto ended = std::chrono::steady_clock::now();
    if (running != nullptr) {
        running->store(0);
    }

    ChildRun run;
    run.wall_s = std::chrono::duration<double>(ended - started).count();
    if (done == pid) {
        if (WIFEXITED(status)) {
            run.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            run.signal = WTERMSIG(status);
        }
        run.user_s = seconds(usage.ru_utime);
        run.sys_s = seconds(usage.ru_stime);
        run.peak_rss_kb = usage.ru_maxrss;
    }
    run.out = read_all(out);
    run.err = read_all(err);
    ::close(out);
    ::close(err);
    ::close(null);
    return run;
}

std::string self_executable() {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("/proc/self/exe") : path.string();
}

long self_peak_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    return 0;
}

} // namespace flagcrawl::cli
