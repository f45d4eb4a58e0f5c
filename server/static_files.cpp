// Static files: request path -> root-relative path -> canonical file inside the root, with an
// in-memory cache of small files keyed by the request's resolved path and revalidated by stat().
#include "server/static_files.hpp"

#include "util/ascii.hpp"
#include "util/percent.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <shared_mutex>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace flagcrawl::server {

namespace {

// The identity of a file version: a cached body is served while these do not change.
struct FileStamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    timespec modified{};

    static FileStamp of(const struct stat& st) {
        return {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    }
    bool operator==(const FileStamp& other) const {
        return device == other.device && inode == other.inode && size == other.size &&
               modified.tv_sec == other.modified.tv_sec &&
               modified.tv_nsec == other.modified.tv_nsec;
    }
};

struct Entry {
    Body body;
    std::string_view content_type;
    std::string file; // canonical path of the file the body came from
    FileStamp stamp;
};

std::optional<std::string> canonical(const std::string& path) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (!real) {
        return std::nullopt;
    }
    std::string out(real);
    std::free(real);
    return out;
}

// Reads a whole regular file; nullopt if it cannot be read or is not a regular file.
std::optional<std::string> read_file(const std::string& path, FileStamp& stamp,
                                     std::size_t max_bytes, bool& too_large) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    struct stat st {};
    std::optional<std::string> result;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
            too_large = true;
        } else {
            std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
            std::size_t done = 0;
            bool ok = true;
            while (done < bytes.size()) {
                const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n <= 0) {
                    ok = false; // shrank while reading or failed: treat as unreadable
                    break;
                }
                done += static_cast<std::size_t>(n);
            }
            if (ok) {
                stamp = FileStamp::of(st);
                result = std::move(bytes);
            }
        }
    }
    ::close(fd);
    return result;
}

class StaticFiles {
public:
    StaticFiles(std::string root, StaticFilesOptions options)
        : m_root(std::move(root))
        , m_options(options) {}

    Reply serve(const Request& request) {
        const auto relative = resolve_request_path(request.path);
        if (!relative) {
            return not_found();
        }
        const bool directory_request = request.path.ends_with('/');
        std::string key = *relative;
        if (directory_request && !key.empty()) {
            key.push_back('/');
        }

        if (auto entry = lookup(key)) {
            struct stat st {};
            if (::stat(entry->file.c_str(), &st) == 0 && FileStamp::of(st) == entry->stamp) {
                return reply(*entry);
            }
        }
        return load(request, *relative, key, directory_request);
    }

private:
    std::shared_ptr<const Entry> lookup(const std::string& key) const {
        std::shared_lock lock(m_mutex);
        const auto it = m_cache.find(key);
        return it == m_cache.end() ? nullptr : it->second;
    }

    bool inside_root(const std::string& path) const {
        if (m_root == "/") {
            return true;
        }
        return path == m_root || (path.size() > m_root.size() && path.starts_with(m_root) &&
                                  path[m_root.size()] == '/');
    }

    Reply load(const Request& request, const std::string& relative, const std::string& key,
               bool directory_request) {
        auto file = canonical(m_root + "/" + relative);
        if (!file || !inside_root(*file)) {
            return forget(key);
        }
        struct stat st {};
        if (::stat(file->c_str(), &st) != 0) {
            return forget(key);
        }
        if (S_ISDIR(st.st_mode)) {
            if (!directory_request) {
                std::string location(request.path);
                location.push_back('/');
                if (!request.query.empty()) {
                    location.append("?").append(request.query);
                }
                return Reply::redirect(301, std::move(location));
            }
            file = canonical(*file + "/index.html");
            if (!file || !inside_root(*file)) {
                return forget(key);
            }
        } else if (directory_request) {
            return forget(key); // "/notes.txt/" names a directory that is not there
        }
        auto entry = std::make_shared<Entry>();
        bool too_large = false;
        auto bytes = read_file(*file, entry->stamp, m_options.max_file_bytes, too_large);
        if (too_large) {
            return Reply::text(403, "file too large for this server\n");
        }
        if (!bytes) {
            return forget(key);
        }
        entry->body = make_body(std::move(*bytes));
        entry->content_type = content_type_for(*file);
        entry->file = std::move(*file);
        if (entry->body->size() <= m_options.cache_file_bytes) {
            std::unique_lock lock(m_mutex);
            if (m_cached_bytes + entry->body->size() > m_options.cache_total_bytes) {
                m_cache.clear();
                m_cached_bytes = 0;
            }
            auto& slot = m_cache[key];
            if (slot) {
                m_cached_bytes -= slot->body->size();
            }
            slot = entry;
            m_cached_bytes += entry->body->size();
        }
        return reply(*entry);
    }

    Reply forget(const std::string& key) {
        {
            std::unique_lock lock(m_mutex);
            if (const auto it = m_cache.find(key); it != m_cache.end()) {
                m_cached_bytes -= it->second->body->size();
                m_cache.erase(it);
            }
        }
        return not_found();
    }

    static Reply reply(const Entry& entry) {
        return Reply::bytes(200, entry.body, std::string(entry.content_type));
    }
    static Reply not_found() { return Reply::text(404, "not found\n"); }

    const std::string m_root; // canonical, no trailing '/' (unless it is "/")
    const StaticFilesOptions m_options;
    mutable std::shared_mutex m_mutex;
    std::unordered_map<std::string, std::shared_ptr<const Entry>> m_cache;
    std::size_t m_cached_bytes = 0;
};

} // namespace

std::string_view content_type_for(std::string_view file_name) {
    const auto slash = file_name.rfind('/');
    const auto dot = file_name.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return "application/octet-stream";
    }
    std::string ext;
    for (const char c : file_name.substr(dot + 1)) {
        ext.push_back(util::to_lower(c));
    }
    static const std::unordered_map<std::string, std::string_view> k_types = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"xml", "application/xml"},
        {"rss", "application/rss+xml"},
        {"atom", "application/atom+xml"},
        {"gif", "image/gif"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"svg", "image/svg+xml"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/x-icon"},
        {"bmp", "image/bmp"},
        {"pdf", "application/pdf"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"wasm", "application/wasm"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"mp3", "audio/mpeg"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
    };
    const auto it = k_types.find(ext);
    return it == k_types.end() ? std::string_view("application/octet-stream") : it->second;
}

std::optional<std::string> resolve_request_path(std::string_view path) {
    if (!path.starts_with('/')) {
        return std::nullopt;
    }
    if (path.find('%') == std::string_view::npos && path.find("/.") == std::string_view::npos &&
        path.find("//") == std::string_view::npos) {
        // The common case has nothing to decode or resolve.
        path.remove_prefix(1);
        if (path.ends_with('/')) {
            path.remove_suffix(1);
        }
        return std::string(path);
    }
    std::vector<std::string> segments;
    std::size_t at = 1;
    while (at <= path.size()) {
        std::size_t end = path.find('/', at);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const std::string_view raw = path.substr(at, end - at);
        std::string segment;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            char c = raw[i];
            if (c == '%') {
                if (i + 2 >= raw.size()) {
                    return std::nullopt;
                }
                const int hi = util::hex_value(raw[i + 1]);
                const int lo = util::hex_value(raw[i + 2]);
                if (hi < 0 || lo < 0) {
                    return std::nullopt;
                }
                c = static_cast<char>(hi * 16 + lo);
                i += 2;
            }
            if (c == '/' || c == '\0') {
                return std::nullopt;
            }
            segment.push_back(c);
        }
        if (segment == "..") {
            if (segments.empty()) {
                return std::nullopt;
            }
            segments.pop_back();
        } else if (!segment.empty() && segment != ".") {
            segments.push_back(std::move(segment));
        }
        at = end + 1;
    }
    std::string out;
    for (const auto& segment : segments) {
        if (!out.empty()) {
            out.push_back('/');
        }
        out += segment;
    }
    return out;
}

Handler static_files_handler(const std::filesystem::path& root, StaticFilesOptions options) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) {
        throw std::invalid_argument("not a directory: " + root.string());
    }
    auto real = canonical(root.string());
    if (!real) {
        throw std::invalid_argument("cannot resolve: " + root.string());
    }
    auto files = std::make_shared<StaticFiles>(std::move(*real), options);
    return [files](const Request& request) { return files->serve(request); };
}

} // namespace flagcrawl::server
