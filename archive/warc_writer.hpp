// The WARC writer: archives what the fetch engine captured on the wire as WARC/1.1 records —
// a warcinfo record at the start of every file, then per exchange a request record and a
// response record (or a revisit record when an earlier response had the same payload), each
// one gzip member — and indexes response and revisit records in a CDXJ file.
//
// Files: `--warc NAME` writes NAME.warc.gz (a ".warc.gz" or ".warc" given in NAME is not
// doubled); with a maximum size, NAME-00000.warc.gz, NAME-00001.warc.gz, ... (wget's series),
// starting a new file once the current one has reached the size. The index is NAME.cdxj.
//
// Crash safety: records are appended with write(2) as they are made, and an index line is
// written only after its record, so a killed process leaves every complete record readable and
// indexed; resuming cuts the file back to its last complete gzip member (and the index to the
// records that remain), then appends (a new file of a series, or after the last record).
#pragma once

#include "fetch/fetch.hpp"

#include <boost/system/result.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace flagcrawl::archive {

class GzipMember;
class WireRecorder;
struct WireExchange;

struct WarcOptions {
    std::filesystem::path name; // as given by the user (see the file names above)
    std::uint64_t max_size = 0; // bytes per file; 0: one file
    bool resume = false;        // false: refuse to overwrite existing files
    std::string software;       // "flagcrawl/0.1.0"
    // More warcinfo fields ("robots", "flagcrawl-arguments", ...), after software and format.
    std::vector<std::pair<std::string, std::string>> info;
    int compression_level = 6;          // zlib's 1..9 (6: zlib's default, as wget writes)
    std::size_t queue_capacity = 64;    // responses queued; archive() blocks beyond
    std::size_t memory_limit = 4 << 20; // body bytes a capture keeps in RAM before a temp file
};

struct WarcTotals {
    std::uint64_t records = 0; // warcinfo records included
    std::uint64_t responses = 0;
    std::uint64_t revisits = 0;
    std::uint64_t bytes = 0; // compressed bytes written by this run
    int files = 0;           // files written to by this run
};

// The file names for a --warc NAME.
struct WarcPaths {
    std::filesystem::path base; // NAME without ".warc.gz"
    bool series = false;
    static WarcPaths from(const std::filesystem::path& name, bool series);
    std::filesystem::path file(int index) const; // index ignored unless series
    std::filesystem::path index() const;         // NAME.cdxj
};

// Thread rules: capture() and archive() may be called from any thread; one writer thread makes
// and writes the records, in the order archive() was called. close() (and the destructor) after
// every other call has returned.
class WarcWriter {
public:
    using Result = boost::system::result<std::unique_ptr<WarcWriter>, std::string>;
    // Opens the first file (resuming: recovers the last one), then starts the writer thread.
    // Errors are one line naming the file.
    static Result open(WarcOptions options);
    ~WarcWriter();
    WarcWriter(const WarcWriter&) = delete;
    WarcWriter& operator=(const WarcWriter&) = delete;

    // A capture for one request (fetch::Request::capture).
    std::unique_ptr<fetch::WireCapture> capture() const;
    // Queues the exchanges of a response whose capture came from capture(). `last_complete`
    // false (the transfer failed): its last exchange may be cut short and is left out. Blocks
    // while the queue is full.
    void archive(std::unique_ptr<fetch::WireCapture> capture, bool last_complete);
    // Returns once everything archive() had queued when it was called is in the file (written,
    // not synced: a killed process loses none of it), or once the writer failed or stopped. A
    // crawl's database waits for it before each commit, so that a page it records as fetched is
    // never missing from the archive after a kill (a --resume does not fetch it again). Any
    // thread.
    void wait_archived();
    // The first failure (disk full, ...): later responses are not archived.
    std::optional<std::string> error() const;
    // Writes what is queued, closes the file and sorts the index. Returns the first error.
    std::optional<std::string> close();
    WarcTotals totals() const;
    const WarcPaths& paths() const { return m_paths; }

private:
    struct Earlier { // the first response with a payload digest, for revisit records
        std::string url;
        std::string date;
        std::string record_id; // "" when from before a resume
    };
    struct Item {
        std::unique_ptr<fetch::WireCapture> capture;
        bool last_complete = true;
    };

    explicit WarcWriter(WarcOptions options);
    std::optional<std::string> start();
    std::optional<std::string> recover_index(const std::string& cut_file,
                                             std::uint64_t complete_end,
                                             std::uint64_t& indexed_end);
    bool open_file(int index, bool append);
    bool write_warcinfo();
    void run();
    void write_exchange(WireExchange& exchange);
    // Appends one record (one gzip member); its offset and compressed length.
    bool write_record(const std::string& header, const std::string& block_head,
                      const WireExchange* body_of, std::uint64_t& offset, std::uint64_t& length);
    bool write_bytes(std::span<const char> data);
    bool write_index_line(const std::string& line);
    void fail(std::string message);

    WarcOptions m_options;
    WarcPaths m_paths;

    // Writer thread (and open()/close() before and after it).
    int m_fd = -1;
    int m_index_fd = -1;
    int m_file_index = 0;
    std::uint64_t m_file_size = 0;
    bool m_file_has_exchanges = false;
    std::string m_warcinfo_id;
    std::mt19937_64 m_rng;
    std::unordered_map<std::string, Earlier> m_payloads; // by payload digest
    std::unique_ptr<GzipMember> m_gzip;                  // every record's, restarted for each

    mutable std::mutex m_mutex;
    std::condition_variable m_not_empty;
    std::condition_variable m_not_full;
    std::deque<Item> m_queue;           // guarded by m_mutex
    bool m_stopping = false;            // guarded by m_mutex
    std::optional<std::string> m_error; // guarded by m_mutex
    std::uint64_t m_queued_total = 0;   // guarded by m_mutex: items archive() queued
    std::uint64_t m_done_total = 0;     // guarded by m_mutex: items the thread took and finished
    bool m_thread_done = false;         // guarded by m_mutex: run() returned
    std::condition_variable m_progress; // m_done_total or m_thread_done changed
    std::thread m_thread;
    bool m_closed = false;

    std::atomic<std::uint64_t> m_records{0};
    std::atomic<std::uint64_t> m_responses{0};
    std::atomic<std::uint64_t> m_revisits{0};
    std::atomic<std::uint64_t> m_bytes{0};
    std::atomic<int> m_files{0};
};

} // namespace flagcrawl::archive
