// The `download` job: a list of URLs, each fetched once into an output folder under a name
// derived from its path, every result recorded. It is the fetch engine's work source and
// response handler; the engine (any strategy) does the scheduling.
#pragma once

#include "archive/warc_writer.hpp"
#include "crawler/jobs/file_names.hpp"
#include "crawler/jobs/recorder.hpp"
#include "crawler/url/seen_set.hpp"
#include "fetch/fetch.hpp"

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace flagcrawl::crawler {

// The URL list format: one URL a line, surrounding spaces ignored, blank lines and lines
// starting with '#' skipped. Returns the next URL of `in`, or nullopt at the end.
std::optional<std::string> read_url_line(std::istream& in);
// How many URLs read_url_line() would return (reads `in` to its end).
std::size_t count_url_lines(std::istream& in);

// The list is read lazily, one URL per request handed out, and only 64-bit hashes of the URLs
// and names taken are kept (about 20 bytes per URL): a list of millions of URLs needs no more
// memory than its hashes. Names and de-duplication depend only on the URLs before, so they are
// the same whatever the strategy. Called by the fetch engine (serialized, per its contract);
// duplicates() from any thread.
class DownloadJob final : public fetch::WorkSource, public fetch::ResponseHandler {
public:
    // `urls` (the command line's) come first, then the lines of `input` (may be null; must
    // outlive the job). Invalid URLs (not absolute http(s); a missing scheme means http, as in
    // curl and wget) are recorded as errors without a request; a URL seen before (same
    // normalized form) is skipped. `out_dir` must exist; `recorder` must outlive the job.
    DownloadJob(std::vector<std::string> urls, std::istream* input, std::filesystem::path out_dir,
                Recorder& recorder);
    // Also archive every exchange (null: none); the writer must outlive the job.
    void set_archive(archive::WarcWriter* warc) { m_warc = warc; }

    Next next(fetch::Clock::time_point now) override;
    void on_response(fetch::Response&& response) override;

    // Repeated URLs skipped so far.
    std::size_t duplicates() const { return m_duplicates.load(std::memory_order_relaxed); }
    // The input stream failed (an I/O error, not its end): the rest of the list was not read.
    bool input_failed() const { return m_input_failed; }

private:
    std::optional<std::string> next_url();

    std::vector<std::string> m_args;
    std::size_t m_next_arg = 0;
    std::istream* m_input;
    bool m_input_failed = false;
    std::filesystem::path m_out_dir;
    Recorder& m_recorder;
    archive::WarcWriter* m_warc = nullptr;
    SeenSet m_seen; // key_hash of every URL taken
    NameAllocator m_names;
    std::atomic<std::size_t> m_duplicates{0};
};

} // namespace flagcrawl::crawler
