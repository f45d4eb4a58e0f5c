// A fetch::BodySink that streams a body into a hidden temporary file in the output folder,
// hashing it (SHA-256) on the way; commit() renames it to its final name, so a file under a
// final name is always complete. Crashes leave only ".NAME.part" files behind.
#pragma once

#include "fetch/fetch.hpp"

#include <filesystem>
#include <string>

struct evp_md_ctx_st;

namespace flagcrawl::crawler {

// Used by one thread at a time (the engine writes from the transfer's thread; the job commits
// from its response handler). Owns the temporary file: the destructor removes it unless
// commit() succeeded.
class FileSink final : public fetch::BodySink {
public:
    FileSink(const std::filesystem::path& dir, const std::string& final_name);
    ~FileSink() override;
    FileSink(const FileSink&) = delete;
    FileSink& operator=(const FileSink&) = delete;

    bool write(std::span<const char> data) override;
    void reset() override;

    // Closes the temporary file (creating it empty if nothing was written) and renames it to
    // the final name. Returns an empty string on success, else a one-line reason.
    std::string commit();
    // Removes the temporary file (a failed or unwanted response).
    void discard();

    // Lower-case hex SHA-256 of what was written (valid after a successful commit()).
    const std::string& sha256() const { return m_sha256; }
    const std::filesystem::path& final_path() const { return m_final; }
    // Why write() refused data ("" if it did not).
    const std::string& error() const { return m_error; }

private:
    bool open_temp();
    void close_temp();

    std::filesystem::path m_temp;
    std::filesystem::path m_final;
    int m_fd = -1;
    bool m_created = false; // the temporary file exists on disk
    bool m_committed = false;
    evp_md_ctx_st* m_hash = nullptr;
    std::string m_sha256;
    std::string m_error;
};

} // namespace flagcrawl::crawler
