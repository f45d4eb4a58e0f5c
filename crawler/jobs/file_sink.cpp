#include "crawler/jobs/file_sink.hpp"

#include "util/fd.hpp"
#include "util/http_date.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace flagcrawl::crawler {
namespace {

// Fetched once: OpenSSL 3 otherwise looks the algorithm up again on every EVP_DigestInit_ex.
const EVP_MD* sha256_md() {
    static const EVP_MD* md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        if (fetched == nullptr) {
            throw std::runtime_error("OpenSSL has no SHA256");
        }
        return fetched;
    }();
    return md;
}

// `dir` / `name` as a string, without building a path (which splits itself into components).
std::string join(const std::filesystem::path& dir, const std::string& name) {
    std::string out = dir.native();
    if (!out.empty() && out.back() != '/') {
        out += '/';
    }
    out += name;
    return out;
}

std::string errno_text(const char* what, const std::filesystem::path& path) {
    return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

// The first byte of a "bytes FIRST-LAST/SIZE" Content-Range; nullopt for anything else.
std::optional<std::uint64_t> range_start(std::string_view content_range) {
    if (!content_range.starts_with("bytes ")) {
        return std::nullopt;
    }
    content_range.remove_prefix(6);
    std::uint64_t first = 0;
    const auto [end, ec] =
        std::from_chars(content_range.data(), content_range.data() + content_range.size(), first);
    if (ec != std::errc() || end == content_range.data() + content_range.size() || *end != '-') {
        return std::nullopt;
    }
    return first;
}

// An extended attribute of the open file `fd`; "" when it has none (or the file system none).
std::string attribute(int fd, const char* name) {
    char value[512];
    const ssize_t n = ::fgetxattr(fd, name, value, sizeof value);
    return n > 0 ? std::string(value, static_cast<std::size_t>(n)) : std::string();
}

// Sets or (when empty) removes an attribute; file systems without them are not an error: the
// next request is then only less conditional.
void set_attribute(int fd, const char* name, const std::string& value) {
    if (value.empty()) {
        ::fremovexattr(fd, name);
    } else {
        ::fsetxattr(fd, name, value.data(), value.size(), 0);
    }
}

} // namespace

OpenFolder::~OpenFolder() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

FileSink::FileSink(const std::filesystem::path& dir, const std::string& final_name)
    : FileSink(std::make_shared<const OpenFolder>(
                   ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), dir),
               final_name) {
    if (dir_fd() < 0) {
        m_error = errno_text("cannot open folder", dir);
    }
}

FileSink::FileSink(std::shared_ptr<const OpenFolder> folder, std::string final_name,
                   SinkOptions options)
    : m_folder(std::move(folder))
    , m_name(std::move(final_name))
    , m_part(part_name())
    , m_final(join(dir(), m_name))
    , m_options(std::move(options))
    , m_hash(EVP_MD_CTX_new()) {
    if (m_hash == nullptr || EVP_DigestInit_ex2(m_hash, sha256_md(), nullptr) != 1) {
        EVP_MD_CTX_free(m_hash);
        throw std::bad_alloc();
    }
}

FileSink::~FileSink() {
    if (!m_committed) {
        discard();
    }
    EVP_MD_CTX_free(m_hash);
}

const std::string& FileSink::target_name() const {
    return m_mode == SinkMode::append && m_options.resume->file == ResumeFrom::File::final ? m_name
                                                                                           : m_part;
}

bool FileSink::open_target(int flags) {
    if (dir_fd() < 0) {
        if (m_error.empty()) {
            m_error = "cannot open folder " + dir().string();
        }
        return false;
    }
    if (m_mode == SinkMode::fresh && open_anonymous()) {
        return true;
    }
    // O_NOFOLLOW: a symbolic link planted under the name is refused, never written through.
    m_fd =
        ::openat(dir_fd(), target_name().c_str(), flags | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (m_fd < 0) {
        m_error = errno_text("cannot create", dir() / target_name());
        return false;
    }
    if (target_name() == m_part) {
        m_part_created = true;
    }
    return true;
}

// A whole body that is not to be kept if the transfer fails goes to an unnamed file: no name to
// look up when it is created, nothing to remove when it fails or the process dies, and one link
// (not a rename from a second name) to commit it.
bool FileSink::open_anonymous() {
    if (m_options.keep_partial || !m_folder->anonymous_files()) {
        return false;
    }
    m_fd = ::openat(dir_fd(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (m_fd >= 0) {
        m_anonymous = true;
        return true;
    }
    // The file system has no unnamed files (EOPNOTSUPP; EISDIR from a kernel without
    // O_TMPFILE): named ones from now on. Any other error is the named file's to report.
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
        m_folder->no_anonymous_files();
    }
    return false;
}

std::string FileSink::link_anonymous(bool& as_part) {
    auto link_as = [this](const std::string& name) {
        if (::linkat(m_fd, "", dir_fd(), name.c_str(), AT_EMPTY_PATH) == 0) {
            return true;
        }
        if (errno != ENOENT && errno != EPERM) {
            return false;
        }
        // Kernels before 6.10 allow AT_EMPTY_PATH only with CAP_DAC_READ_SEARCH; the link
        // through /proc needs no privilege.
        char proc_path[32];
        std::snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", m_fd);
        return ::linkat(AT_FDCWD, proc_path, dir_fd(), name.c_str(), AT_SYMLINK_FOLLOW) == 0;
    };
    if (link_as(m_name)) {
        return {};
    }
    if (errno != EEXIST) {
        return errno_text("cannot create", m_final);
    }
    // A file is already there (a link never replaces one): the body gets the hidden name, to
    // replace it in one rename, as a named temporary file would have.
    ::unlinkat(dir_fd(), m_part.c_str(), 0);
    if (!link_as(m_part)) {
        return errno_text("cannot create", dir() / m_part);
    }
    m_part_created = true;
    as_part = true;
    return {};
}

// Appending: the digest starts with the bytes already kept.
bool FileSink::hash_prefix() {
    const int fd = ::openat(dir_fd(), target_name().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        m_error = errno_text("cannot read", dir() / target_name());
        return false;
    }
    char buffer[64 * 1024];
    std::uint64_t left = m_options.resume->offset;
    off_t at = 0;
    while (left > 0) {
        const ssize_t n = ::pread(fd, buffer, std::min<std::uint64_t>(left, sizeof buffer), at);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            m_error = n == 0 ? (dir() / target_name()).string() + " is shorter than when it was "
                                                                  "measured"
                             : errno_text("cannot read", dir() / target_name());
            ::close(fd);
            return false;
        }
        EVP_DigestUpdate(m_hash, buffer, static_cast<std::size_t>(n));
        at += n;
        left -= static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    return true;
}

void FileSink::keep_validators() {
    if (m_options.keep_partial || m_options.server_time) {
        set_attribute(m_fd, k_etag_attribute, m_etag);
        set_attribute(m_fd, k_last_modified_attribute, m_last_modified);
    }
}

bool FileSink::begin(const fetch::Response& head) {
    m_etag = head.etag;
    m_last_modified = head.last_modified;
    const int status = head.http_status;
    if (status == 206 && m_options.resume) {
        const bool encoded = !head.content_encoding.empty() && head.content_encoding != "identity";
        if (range_start(head.content_range) != m_options.resume->offset || encoded) {
            m_range_refused = true;
            m_error = "the server answered the resume from byte " +
                      std::to_string(m_options.resume->offset) + " with " +
                      (encoded ? "an encoded range" : "'" + head.content_range + "'");
            return false;
        }
        m_mode = SinkMode::append;
        if (!hash_prefix() || !open_target(0)) {
            return false;
        }
        // What an earlier attempt of this request appended is dropped: the range starts here.
        if (::ftruncate(m_fd, static_cast<off_t>(m_options.resume->offset)) != 0 ||
            ::lseek(m_fd, 0, SEEK_END) < 0) {
            m_error = errno_text("cannot write", dir() / target_name());
            return false;
        }
        keep_validators();
        return true;
    }
    if (status >= 200 && status < 300) {
        m_mode = SinkMode::fresh;
        if (!open_target(O_CREAT | O_TRUNC)) {
            return false;
        }
        keep_validators();
        return true;
    }
    m_mode = SinkMode::drop;
    return true;
}

bool FileSink::write(std::span<const char> data) {
    if (m_mode == SinkMode::drop) {
        return true;
    }
    if (m_mode == SinkMode::none) { // written without begin(): the whole body
        m_mode = SinkMode::fresh;
        if (!open_target(O_CREAT | O_TRUNC)) {
            return false;
        }
    }
    if (!util::write_all(m_fd, data)) {
        m_error = errno_text("cannot write", dir() / target_name());
        return false;
    }
    m_written += data.size();
    EVP_DigestUpdate(m_hash, data.data(), data.size());
    return true;
}

void FileSink::reset() {
    if (m_mode == SinkMode::append && m_fd >= 0) {
        ::ftruncate(m_fd, static_cast<off_t>(m_options.resume->offset));
    }
    close_file();
    m_mode = SinkMode::none;
    m_written = 0;
    m_range_refused = false;
    EVP_DigestInit_ex2(m_hash, sha256_md(), nullptr);
    m_error.clear();
}

void FileSink::close_file() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
    m_fd = -1;
    m_anonymous = false;
}

// Closes the file (setting its time from Last-Modified when asked), puts it under its final name
// when `place` (a link for an unnamed file, else a rename from ".NAME.part"), and finishes the
// digest.
std::string FileSink::finish_hash_and_place(bool place) {
    if (m_fd >= 0) {
        if (m_options.server_time) {
            if (const auto modified = util::parse_http_date(m_last_modified)) {
                const timespec times[2] = {{0, UTIME_NOW}, {*modified, 0}};
                ::futimens(m_fd, times);
            }
        }
        // An unnamed file is linked before the close (it is gone once closed). A close that then
        // fails takes the name away again, since what it names may not be whole. Where it was
        // linked under the hidden name, the rename over the file already there waits for the
        // close, so that a failed close leaves that file as it was.
        bool as_part = false;
        if (m_anonymous) {
            if (std::string failed = link_anonymous(as_part); !failed.empty()) {
                close_file();
                return failed;
            }
            place = as_part;
        }
        const int closed = ::close(m_fd);
        const bool linked = m_anonymous;
        m_fd = -1;
        m_anonymous = false;
        if (closed != 0) {
            const std::string& name = linked && !as_part ? m_name : target_name();
            std::string reason = errno_text("cannot write", dir() / name);
            if (linked) {
                ::unlinkat(dir_fd(), name.c_str(), 0);
            }
            return reason;
        }
    }
    if (place && ::renameat(dir_fd(), m_part.c_str(), dir_fd(), m_name.c_str()) != 0) {
        return errno_text("cannot rename to", m_final);
    }
    m_committed = true;

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_hash, digest, &len);
    static constexpr char k_hex[] = "0123456789abcdef";
    m_sha256.resize(2 * len);
    for (unsigned i = 0; i < len; ++i) {
        m_sha256[2 * i] = k_hex[digest[i] >> 4];
        m_sha256[2 * i + 1] = k_hex[digest[i] & 0xF];
    }
    return {};
}

std::string FileSink::commit() {
    if (m_mode == SinkMode::none || m_mode == SinkMode::drop) {
        // No body: an empty file (or a drop being committed, which the job never asks).
        m_mode = SinkMode::fresh;
        EVP_DigestInit_ex2(m_hash, sha256_md(), nullptr);
        if (!open_target(O_CREAT | O_TRUNC)) {
            return m_error;
        }
    }
    return finish_hash_and_place(target_name() == m_part);
}

std::string FileSink::commit_kept() {
    close_file();
    if (!m_options.resume) {
        return "no kept file to commit";
    }
    m_mode = SinkMode::append;
    EVP_DigestInit_ex2(m_hash, sha256_md(), nullptr);
    if (!hash_prefix()) {
        return m_error;
    }
    return finish_hash_and_place(target_name() == m_part);
}

void FileSink::discard() {
    close_file();
    const bool keep = m_options.keep_partial && m_written > 0;
    if (m_part_created && !m_committed && !keep && dir_fd() >= 0 &&
        !(m_options.resume && m_options.resume->file == ResumeFrom::File::part)) {
        ::unlinkat(dir_fd(), m_part.c_str(), 0);
    }
    m_part_created = false;
}

std::optional<KeptFile> kept_file(int dir_fd, const std::string& name) {
    const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    struct stat st {};
    std::optional<KeptFile> kept;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        kept = KeptFile{.size = static_cast<std::uint64_t>(st.st_size),
                        .mtime = st.st_mtim.tv_sec,
                        .etag = attribute(fd, k_etag_attribute),
                        .last_modified = attribute(fd, k_last_modified_attribute)};
    }
    ::close(fd);
    return kept;
}

} // namespace flagcrawl::crawler
