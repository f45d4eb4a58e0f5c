#include "crawler/mirror/mirror.hpp"

#include "util/fd.hpp"
#include "util/hash.hpp"
#include "util/percent.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace flagcrawl::crawler {
namespace {

bool must_escape(unsigned char c, bool query) {
    return c < 0x20 || c == 0x7F || c == '/' || c == '\\' || c == '%' || c == '#' ||
           (c == '?' && !query);
}

void append_escaped(std::string& out, unsigned char c) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    out += '%';
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
}

// Percent-decodes `raw` and escapes what a name must not hold (see mirror_path()). A '%' that
// starts no escape becomes "%%", so that it cannot meet the "%25" of a decoded '%'.
std::string name_part(std::string_view raw, bool query) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        auto c = static_cast<unsigned char>(raw[i]);
        if (c == '%') {
            const int hi = i + 2 < raw.size() ? util::hex_value(raw[i + 1]) : -1;
            const int lo = hi >= 0 ? util::hex_value(raw[i + 2]) : -1;
            if (lo < 0) {
                out += "%%";
                continue;
            }
            c = static_cast<unsigned char>(hi * 16 + lo);
            i += 2;
        }
        if (must_escape(c, query)) {
            append_escaped(out, c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// A whole segment: never empty, never starting with '.', at most k_max_mirror_segment + 18
// bytes.
std::string finish_segment(std::string name) {
    if (name.empty()) {
        return "%empty";
    }
    if (name.front() == '.') {
        name.replace(0, 1, "%2E");
    }
    if (name.size() > k_max_mirror_segment) {
        const std::uint64_t hash = util::fnv1a(name);
        std::size_t cut = k_max_mirror_segment - 20;
        // Not inside an escape or a UTF-8 sequence.
        while (cut > 0 && ((static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80 ||
                           name[cut - 1] == '%' || (cut >= 2 && name[cut - 2] == '%'))) {
            --cut;
        }
        char suffix[24];
        std::snprintf(suffix, sizeof suffix, "%%h%016llx", static_cast<unsigned long long>(hash));
        name = name.substr(0, cut) + suffix;
    }
    return name;
}

std::string errno_text(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

} // namespace

std::string mirror_path(const Url& url) {
    std::string out = finish_segment(name_part(url.host(), false));
    if (!url.port().empty()) {
        out += ':';
        out += url.port();
    }
    std::string_view path = url.path();
    if (path.starts_with('/')) {
        path.remove_prefix(1);
    }
    for (;;) {
        const auto slash = path.find('/');
        out += '/';
        if (slash == std::string_view::npos) {
            std::string name = name_part(path, false);
            if (name.empty()) {
                name = "index.html";
            }
            if (url.has_query()) {
                name += '?';
                name += name_part(url.query(), true);
            }
            out += finish_segment(std::move(name));
            return out;
        }
        out += finish_segment(name_part(path.substr(0, slash), false));
        path.remove_prefix(slash + 1);
    }
}

MirrorWriter::MirrorWriter(const std::filesystem::path& root)
    : m_root(root) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    m_root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m_root_fd < 0) {
        throw std::runtime_error(errno_text("cannot open mirror folder", root.string()));
    }
}

MirrorWriter::~MirrorWriter() {
    if (m_root_fd >= 0) {
        ::close(m_root_fd);
    }
}

namespace {

// The folder `relative` (a path below `root_fd`) opened in one system call when the kernel has
// openat2: no symbolic link is followed and nothing resolves outside the root. -1 with errno
// set otherwise (ENOSYS on an old kernel, ENOENT when a folder is missing, ELOOP for a link).
int open_beneath(int root_fd, const std::string& relative) {
    open_how how{};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
}

} // namespace

// One openat2 when the folder exists, else a walk that creates what is missing and refuses links
// at every step.
int open_folder_beneath(int root_fd, const std::filesystem::path& root, std::string_view folder,
                        std::string& reason) {
    std::vector<std::string_view> parts;
    for (std::string_view rest = folder; !rest.empty();) {
        const auto slash = rest.find('/');
        const std::string_view part = rest.substr(0, slash);
        if (part.empty() || part == "." || part == "..") {
            reason = "not a path below " + root.string() + ": " + std::string(folder);
            return -1;
        }
        parts.push_back(part);
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    if (parts.empty()) {
        return ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
    }
    if (const int fd = open_beneath(root_fd, std::string(folder)); fd >= 0) {
        return fd;
    }
    int dir = root_fd;
    std::string at = root.string();
    for (std::string_view part : parts) {
        const std::string component(part);
        at += "/" + component;
        constexpr int k_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        int next = ::openat(dir, component.c_str(), k_flags);
        if (next < 0 && errno == ENOENT) {
            if (::mkdirat(dir, component.c_str(), 0777) != 0 && errno != EEXIST) {
                reason = errno_text("cannot create folder", at);
            } else {
                next = ::openat(dir, component.c_str(), k_flags);
            }
        }
        if (next < 0 && reason.empty()) {
            reason = errno == ENOTDIR || errno == ELOOP
                         ? at + " is a file or a symbolic link, not a folder"
                         : errno_text("cannot open folder", at);
        }
        if (dir != root_fd) {
            ::close(dir);
        }
        if (next < 0) {
            return -1;
        }
        dir = next;
    }
    return dir;
}

std::string MirrorWriter::save(const std::string& relative, std::string_view body) {
    auto failed = [this](std::string reason) {
        if (m_failed++ == 0) {
            std::lock_guard lock(m_mutex);
            m_first_error = reason;
        }
        return reason;
    };
    const auto slash = relative.rfind('/');
    const std::string name = slash == std::string::npos ? relative : relative.substr(slash + 1);
    if (name.empty() || name.front() == '.') {
        return failed("not a mirror file name: " + relative);
    }
    std::string reason;
    const int dir = open_folder_beneath(m_root_fd, m_root,
                                        slash == std::string::npos
                                            ? std::string_view()
                                            : std::string_view(relative).substr(0, slash),
                                        reason);
    if (dir < 0) {
        return failed(reason);
    }
    const std::string final_path = (m_root / relative).string();
    // Its own temporary name: two URLs of one file (a "/d/" and its "/d/index.html") may be
    // saved at the same time by two threads. O_NOFOLLOW: a link planted there is refused.
    const std::string temp = "." + name + "." + std::to_string(m_temp_counter++) + ".part";
    const int fd =
        ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        reason = errno_text("cannot create", final_path + " (temporary " + temp + ")");
        ::close(dir);
        return failed(reason);
    }
    const bool written = util::write_all(fd, body);
    const bool closed = ::close(fd) == 0;
    if (!written || !closed) {
        reason = errno_text("cannot write", final_path);
    } else if (::renameat(dir, temp.c_str(), dir, name.c_str()) != 0) {
        reason = errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST
                     ? "cannot save " + final_path + ": a folder of that name is there"
                     : errno_text("cannot rename to", final_path);
    }
    if (!reason.empty()) {
        ::unlinkat(dir, temp.c_str(), 0);
        ::close(dir);
        return failed(reason);
    }
    ::close(dir);
    ++m_saved;
    return {};
}

std::string MirrorWriter::first_error() const {
    std::lock_guard lock(m_mutex);
    return m_first_error;
}

} // namespace flagcrawl::crawler
