// Measuring a run honestly: the run is a child process of its own, timed by the parent (wall)
// and measured by the kernel (wait4's rusage: user and system CPU, peak resident set).
#pragma once

#include <atomic>
#include <string>
#include <sys/types.h>
#include <vector>

namespace flagcrawl::cli {

struct ChildRun {
    int exit_code = -1; // -1 when ended by a signal
    int signal = 0;     // the signal that ended it, else 0
    double wall_s = 0;  // from just before fork() to wait4()'s return
    double user_s = 0;
    double sys_s = 0;
    long peak_rss_kb = 0; // ru_maxrss
    std::string out;      // its standard output
    std::string err;      // its standard error
};

// Runs `program` with `argv` (argv[0] is what the child sees as its name) with the default signal
// mask and dispositions and waits for it; stdin is /dev/null, stdout and stderr are captured. While
// it runs, `running` (may be null) holds its pid (0 otherwise), so that another thread can signal
// it. Throws std::system_error if it cannot be started. Not to be called from two threads at once.
//
// fork() is used rather than vfork()/posix_spawn(): at exec the kernel carries the peak RSS of
// the address space being replaced into the child's ru_maxrss, and a vfork child's is the whole
// parent's, while a fork child's is only what it copied of it (the parent's anonymous memory
// mapped at the time: a few MB here, see the report of `bench`).
ChildRun run_child(const std::string& program, const std::vector<std::string>& argv,
                   std::atomic<pid_t>* running);

// To run this program again as a child: "/proc/self/exe" (which works even if the file was
// replaced since), and its resolved path, for the child's argv[0].
inline constexpr const char* k_self_exe = "/proc/self/exe";
std::string self_executable();

// This process's own peak resident set in KiB (VmHWM of /proc/self/status; 0 if unknown).
long self_peak_rss_kb();

} // namespace flagcrawl::cli
