// The `download` job: a list of URLs, each fetched once into an output folder under a name
// derived from its path (or given in the list), every result recorded. It is the fetch engine's
// work source and response handler; the engine (any strategy) does the scheduling.
#pragma once

#include "archive/warc_writer.hpp"
#include "crawler/jobs/file_names.hpp"
#include "crawler/jobs/file_sink.hpp"
#include "crawler/jobs/recorder.hpp"
#include "crawler/jobs/url_list.hpp"
#include "crawler/url/seen_set.hpp"
#include "fetch/fetch.hpp"

#include <atomic>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace flagcrawl::crawler {

// What to do with files already in the output folder (wget's -nc, -N, -c and -x, curl's -C -).
struct DownloadOptions {
    // A file already under its name is kept and not fetched (recorded as ok, skipped).
    bool skip_existing = false;
    // A file already under its name is fetched only if the server has a newer one: the request
    // carries If-Modified-Since (the file's modification time) and If-None-Match (the ETag kept
    // with it); a 304 keeps it (recorded as ok, unchanged). Files written get the modification
    // time of their Last-Modified and keep their ETag in an extended attribute.
    bool timestamping = false;
    // A kept partial file is completed with a Range request: ".NAME.part" left by an earlier
    // run with this option, else NAME itself (unless timestamping, where NAME is whole). A server
    // that answers with the whole file (200) replaces it; one that answers 416 for its size means
    // it is whole; If-Range (its ETag or Last-Modified) makes a changed file come whole. A failed
    // transfer keeps its ".NAME.part" for the next run.
    bool resume = false;
    // Files go to DIR/HOST[:PORT]/PATH (mirror_path(), as `crawl -o` and wget -x name them)
    // instead of DIR/NAME.
    bool keep_paths = false;
};

// The list is read lazily, one URL per request handed out, and only 64-bit hashes of the URLs
// and names taken are kept (about 20 bytes per URL): a list of millions of URLs needs no more
// memory than its hashes. Names and de-duplication depend only on the URLs before, so they are
// the same whatever the strategy. Called by the fetch engine (serialized, per its contract);
// duplicates(), stall_report() and in_flight() from any thread.
class DownloadJob final : public fetch::WorkSource, public fetch::ResponseHandler {
public:
    // `urls` (the command line's: a URL and no name each) come first, then the lines of `list`
    // (may be null; must outlive the job). Invalid URLs (not absolute http(s); a missing scheme
    // means http, as in curl and wget) and unusable lines are recorded as errors without a request;
    // a URL seen before (same normalized form) is skipped. `out_dir` must exist (std::runtime_error
    // naming it when it cannot be opened); `recorder` must outlive the job.
    DownloadJob(std::vector<ListLine> urls, UrlListReader* list, std::filesystem::path out_dir,
                Recorder& recorder, DownloadOptions options = {});
    ~DownloadJob() override;
    DownloadJob(const DownloadJob&) = delete;
    DownloadJob& operator=(const DownloadJob&) = delete;

    // Also archive every exchange (null: none); the writer must outlive the job.
    void set_archive(archive::WarcWriter* warc) { m_warc = warc; }

    Next next(fetch::Clock::time_point now) override;
    void on_response(fetch::Response&& response) override;

    // Repeated URLs skipped so far.
    std::size_t duplicates() const { return m_duplicates.load(std::memory_order_relaxed); }
    // The input stream failed (an I/O error, not its end): the rest of the list was not read.
    bool input_failed() const { return m_list != nullptr && m_list->failed(); }
    // Requests handed out and not answered yet.
    std::size_t in_flight() const;
    // What the job waits on: "waiting for URL (in flight for 12.3 s, 3 request(s) in flight)",
    // the oldest request first; "" when nothing is in flight.
    std::string stall_report() const;

private:
    // A request handed out: what its response is recorded under.
    struct InFlight {
        std::string url;
        std::string label;  // the file's path below the output folder
        std::string folder; // its folder below the output folder ("" for the folder itself)
        bool conditional = false;
        int earlier_attempts = 0; // of the request it replaces (redo_fresh)
        fetch::Clock::time_point started;
    };

    std::optional<ListLine> next_line();
    // The request for one line, or nullopt when it was recorded without one.
    std::optional<Next> prepare(const ListLine& line);
    Next hand_out(fetch::Request request, InFlight item);
    // Fetches the item again from its first byte (a resume the server could not serve).
    void redo_fresh(const fetch::Response& response, InFlight item);
    // The folder `folder` below the output folder ("" for the output folder itself: shared by
    // all its files), created if needed; null with `reason` when it cannot be had.
    std::shared_ptr<const OpenFolder> open_folder(const std::string& folder, std::string& reason);
    fetch::Request make_request(const std::string& url, std::shared_ptr<const OpenFolder> folder,
                                const std::string& name, const SinkOptions& sink);
    SinkOptions sink_options() const;

    std::vector<ListLine> m_args;
    std::size_t m_next_arg = 0;
    UrlListReader* m_list;
    std::filesystem::path m_out_dir;
    std::shared_ptr<const OpenFolder> m_out_folder;
    Recorder& m_recorder;
    DownloadOptions m_options;
    archive::WarcWriter* m_warc = nullptr;
    SeenSet m_seen; // key_hash of every URL taken
    NameAllocator m_names;
    std::atomic<std::size_t> m_duplicates{0};
    std::uint64_t m_next_id = 1;
    std::deque<Next> m_redo;

    mutable std::mutex m_in_flight_mutex;
    std::map<std::uint64_t, InFlight> m_in_flight; // by request id, so the oldest comes first
};

} // namespace flagcrawl::crawler
