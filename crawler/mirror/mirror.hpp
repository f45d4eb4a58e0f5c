// `crawl -o DIR`: the fetched URLs saved as files DIR/HOST[:PORT]/PATH, as wget -r -x does, for
// offline browsing.
#pragma once

#include "crawler/url/url.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

// The path, relative to the mirror folder, where a URL is saved: "HOST[:PORT]/SEGMENT/.../NAME"
// with the port only when it is not the scheme's default, "index.html" for a path ending in
// '/', and the query kept in the name after a '?' ("page.html?x=1"), as wget does.
//
// Each segment is percent-decoded except for the bytes that must not appear literally in a
// name — '/', '\\', '%', '?', '#', control bytes — which stay "%XX" (upper case); a '%' that
// starts no escape in the URL becomes "%%"; a leading '.' becomes "%2E" (so never "." or "..",
// never hidden, never clashing with the ".NAME.part" temporary files), an empty segment becomes
// "%empty", and a segment longer than 200 bytes is cut and ends in "%h" and a 64-bit hash of it. So
// every '%' of a name starts an escape made here, '?' appears only before the query, and different
// URLs get different paths (except a directory URL "/d/" and "/d/index.html", which wget saves as
// one file too).
std::string mirror_path(const Url& url);

inline constexpr std::size_t k_max_mirror_segment = 200;

// Opens the folder `folder` ("a/b"; "" is the root itself) below the folder open as `root_fd`
// (`root` names it in messages), creating the folders that are missing. No symbolic link is
// followed and nothing resolves outside the root, whatever the folders hold. Returns a new
// descriptor (O_CLOEXEC), or -1 with a one-line `reason` naming the path (a segment that is
// empty, "." or "..", a file or link where a folder is needed, a folder that cannot be created).
int open_folder_beneath(int root_fd, const std::filesystem::path& root, std::string_view folder,
                        std::string& reason);

// Saves files under the mirror folder. A file is written under a hidden ".NAME.N.part" name and
// renamed, so a file under its final name is always whole (a crash may leave the hidden file);
// folders on the way are created and never followed when they are symbolic links (openat with
// O_NOFOLLOW from the folder's own descriptor), so nothing is ever written outside it, whatever the
// folder holds. Thread-safe (save() may run on several threads at once).
class MirrorWriter {
public:
    // Creates the folder if needed. Throws std::runtime_error naming it when it cannot.
    explicit MirrorWriter(const std::filesystem::path& root);
    ~MirrorWriter();
    MirrorWriter(const MirrorWriter&) = delete;
    MirrorWriter& operator=(const MirrorWriter&) = delete;

    // Writes `body` to `relative` (a mirror_path()); replaces an earlier file. Returns "" on
    // success, else a one-line reason naming the path.
    std::string save(const std::string& relative, std::string_view body);

    const std::filesystem::path& root() const { return m_root; }
    std::uint64_t saved() const { return m_saved.load(); }
    std::uint64_t failed() const { return m_failed.load(); }
    // Why the first failed save() failed ("" when none did).
    std::string first_error() const;

private:
    std::filesystem::path m_root;
    int m_root_fd = -1;
    std::atomic<std::uint64_t> m_saved{0};
    std::atomic<std::uint64_t> m_failed{0};
    std::atomic<std::uint64_t> m_temp_counter{0};
    mutable std::mutex m_mutex;
    std::string m_first_error; // guarded by m_mutex
};

} // namespace flagcrawl::crawler
