// Writing to file descriptors: the one loop every writer of files uses.
#pragma once

#include <cerrno>
#include <cstddef>
#include <span>

#include <unistd.h>

namespace flagcrawl::util {

// write(2) of all of `data`, retried on EINTR and short writes. False on failure, with errno
// set (EIO for a write that wrote nothing without an error).
inline bool write_all(int fd, std::span<const char> data) noexcept {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return false;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace flagcrawl::util
