// A fetch::BodySink that streams a body into a temporary file in the output folder, hashing it
// (SHA-256) on the way; commit() puts it under its final name in one step, so a file under a
// final name is always complete. The temporary file has no name at all where the file system
// allows it (O_TMPFILE: a crash leaves nothing behind, and the commit is one link instead of a
// rename), else, and whenever a failed transfer is to be kept, it is the hidden ".NAME.part"
// (what a crash leaves behind). For `download --continue` it can also append a byte range to a
// kept partial file instead.
#pragma once

#include "fetch/fetch.hpp"

#include <atomic>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

struct evp_md_ctx_st;

namespace flagcrawl::crawler {

// Extended attributes a sink leaves on the files it writes when asked (SinkOptions): the
// validators of the response, read back to make the next request conditional.
inline constexpr const char* k_etag_attribute = "user.flagcrawl.etag";
inline constexpr const char* k_last_modified_attribute = "user.flagcrawl.last_modified";

// A kept partial file to resume: ".NAME.part" (left by an earlier --continue run) or NAME itself
// (a file another tool cut short, as wget -c resumes it).
struct ResumeFrom {
    enum class File { part, final };
    File file = File::part;
    std::uint64_t offset = 0; // its size: the request asks for the bytes from here on
};

struct SinkOptions {
    std::optional<ResumeFrom> resume{};
    // A transfer that fails keeps ".NAME.part" with the bytes received (and the validators) for a
    // later --continue, instead of removing it.
    bool keep_partial = false;
    // The file's modification time is set from Last-Modified (as wget -N does), and the
    // validators are kept as extended attributes (where the file system has them).
    bool server_time = false;
};

// What the sink did with the final response of the last attempt.
enum class SinkMode {
    none,   // no body (yet)
    fresh,  // the whole body, into ".NAME.part"
    append, // a range appended to the kept partial file (ResumeFrom)
    drop,   // a status whose body is not the file (3xx, 4xx, 5xx, 304, 416): not written
};

// A folder open for writing files into, shared by the job that opened it and the sinks writing
// into it (of any thread): the descriptor is closed when the last of them lets go. `path` names
// it in messages and is the folder of each sink's final_path().
class OpenFolder {
public:
    // Takes over `fd` (may be < 0: a folder that could not be opened; sinks then fail).
    OpenFolder(int fd, std::filesystem::path path)
        : m_fd(fd)
        , m_path(std::move(path)) {}
    ~OpenFolder();
    OpenFolder(const OpenFolder&) = delete;
    OpenFolder& operator=(const OpenFolder&) = delete;

    int fd() const { return m_fd; }
    const std::filesystem::path& path() const { return m_path; }
    // Whether unnamed temporary files (O_TMPFILE) are worth trying here: cleared by the first sink
    // that finds the file system without them, so that the others go straight to ".NAME.part".
    bool anonymous_files() const { return m_anonymous_files.load(std::memory_order_relaxed); }
    void no_anonymous_files() const { m_anonymous_files.store(false, std::memory_order_relaxed); }

private:
    int m_fd;
    std::filesystem::path m_path;
    mutable std::atomic<bool> m_anonymous_files{true};
};

// Used by one thread at a time (the engine writes from the transfer's thread; the job commits
// from its response handler). Owns the temporary file: discard() and the destructor remove it
// unless commit() succeeded or SinkOptions::keep_partial keeps it.
class FileSink final : public fetch::BodySink {
public:
    // Writes into the folder `dir` (opened here; a failure shows at the first write or commit).
    FileSink(const std::filesystem::path& dir, const std::string& final_name);
    // Writes into `folder` (shared). `final_name` is a plain name (no '/').
    FileSink(std::shared_ptr<const OpenFolder> folder, std::string final_name,
             SinkOptions options = {});
    ~FileSink() override;
    FileSink(const FileSink&) = delete;
    FileSink& operator=(const FileSink&) = delete;

    bool begin(const fetch::Response& head) override;
    bool write(std::span<const char> data) override;
    void reset() override;

    // Closes the file written (creating an empty one if nothing was) and puts it under its final
    // name. Returns an empty string on success, else a one-line reason.
    std::string commit();
    // The kept partial file is already whole (the server answered 416 for its size): hashes it
    // and puts it under its final name. Returns "" or a reason.
    std::string commit_kept();
    // Removes the temporary file (a failed or unwanted response), unless keep_partial keeps it.
    void discard();

    // The server answered a resume with a range that cannot be appended (another start, or
    // content-encoded): the item must be fetched again from the start.
    bool range_refused() const { return m_range_refused; }
    SinkMode mode() const { return m_mode; }
    const SinkOptions& options() const { return m_options; }

    // Lower-case hex SHA-256 of the whole file (valid after a successful commit()).
    const std::string& sha256() const { return m_sha256; }
    // DIR/NAME, as the folder's path names it.
    const std::string& final_path() const { return m_final; }
    // Why write() refused data ("" if it did not).
    const std::string& error() const { return m_error; }

private:
    std::string part_name() const { return "." + m_name + ".part"; }
    const std::string& target_name() const; // the file the current mode writes
    int dir_fd() const { return m_folder->fd(); }
    const std::filesystem::path& dir() const { return m_folder->path(); }
    bool open_target(int flags);
    // The whole body (SinkMode::fresh) into an unnamed file; false when it cannot be had here.
    bool open_anonymous();
    // Gives the unnamed file its final name; "" or a reason. Where the name is taken (a link
    // never replaces a file), the file gets the hidden ".NAME.part" instead and `as_part` is set:
    // the caller renames it over the final name once it is closed.
    std::string link_anonymous(bool& as_part);
    bool hash_prefix();
    void keep_validators();
    void close_file();
    std::string finish_hash_and_place(bool place);

    std::shared_ptr<const OpenFolder> m_folder;
    std::string m_name;
    std::string m_part;
    std::string m_final;
    SinkOptions m_options;

    SinkMode m_mode = SinkMode::none;
    int m_fd = -1;
    bool m_anonymous = false;    // m_fd is an unnamed file (O_TMPFILE), not linked yet
    bool m_part_created = false; // ".NAME.part" exists on disk because of this sink
    bool m_committed = false;
    bool m_range_refused = false;
    std::uint64_t m_written = 0; // bytes written by the current attempt
    std::string m_etag;
    std::string m_last_modified;
    evp_md_ctx_st* m_hash = nullptr;
    std::string m_sha256;
    std::string m_error;
};

// A regular file in the folder open as `dir_fd` (never through a symbolic link): its size, its
// modification time and the validators a sink kept on it. nullopt when there is none.
struct KeptFile {
    std::uint64_t size = 0;
    std::time_t mtime = 0;
    std::string etag;
    std::string last_modified;
};
std::optional<KeptFile> kept_file(int dir_fd, const std::string& name);

} // namespace flagcrawl::crawler
