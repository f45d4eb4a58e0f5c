// Test helper: runs a function in a forked child, for what must not touch the test process
// (setuid, resource limits), and hands back the text it returned and how the child ended.
#pragma once

#include <gtest/gtest.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace flagcrawl::testing_support {

struct ChildResult {
    int status = -1; // as waitpid gives it; -1 when the child could not be run or waited for
    std::string out; // what `body` returned
};

// `body` runs in the child, which then _exits 0 (`body` may _exit itself with another code).
// Failures to pipe, fork or wait are test failures.
inline ChildResult run_in_child(const std::function<std::string()>& body) {
    ChildResult result;
    int fds[2];
    if (::pipe(fds) != 0) {
        ADD_FAILURE() << "pipe failed";
        return result;
    }
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        const std::string out = body();
        (void)!::write(fds[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    if (child < 0) {
        ::close(fds[0]);
        ADD_FAILURE() << "fork failed";
        return result;
    }
    char buffer[512];
    for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;)
        result.out.append(buffer, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    if (::waitpid(child, &status, 0) == child)
        result.status = status;
    else
        ADD_FAILURE() << "waitpid failed";
    return result;
}

} // namespace flagcrawl::testing_support
