// What every job does with a finished response: classify it (ok / not found / error), count
// it, record it as a `downloads` row, and report it to the command for per-item output.
#pragma once

#include "fetch/fetch.hpp"
#include "fetch/outcome.hpp"
#include "storage/writer.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::crawler {

class FileSink;

// Live totals, written by the job's handler thread and read by any thread (progress).
struct JobCounters {
    std::atomic<std::uint64_t> done{0};
    std::atomic<std::uint64_t> ok{0};
    std::atomic<std::uint64_t> unchanged{0}; // of ok: the kept file was current (304, 416)
    std::atomic<std::uint64_t> skipped{0};   // of ok: a file kept without a request
    std::atomic<std::uint64_t> not_found{0};
    std::atomic<std::uint64_t> errors{0};
    // Body bytes received, error pages included (as `stats` counts them from the rows).
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> requests{0};          // as the servers saw them (Response::requests)
    std::atomic<std::int64_t> last_completion_ns{0}; // steady clock, of the latest item; 0: none
};

// One finished item as reported to the command; views are valid during the callback only.
struct ItemReport {
    std::string_view url;
    std::string_view label; // what the command calls the item (a file name, a country code)
    int http_status = 0;    // 0: no response
    fetch::Outcome outcome = fetch::Outcome::error;
    std::optional<fetch::FailureKind> kind; // set unless ok
    std::string_view reason;                // empty when ok
    std::string_view path;                  // file written, empty if none
    std::uint64_t bytes = 0;
    double elapsed_ms = 0;
    int attempts = 0;
    bool kept = false; // ok with the file kept as it was (record_kept)
};

// Used from the job's handler (serialized by the fetch engine); counters() from any thread.
class Recorder {
public:
    using ItemCallback = std::function<void(const ItemReport&)>;

    // `writer` may be null (recording off); run_id is the run the rows belong to.
    Recorder(storage::Writer* writer, std::int64_t run_id, ItemCallback on_item);

    // Counts, records and reports one item judged `verdict`. A store failure is remembered
    // (store_error()) and recording stops; the caller decides whether to go on.
    // `kept`: see record_kept() (the row keeps no SHA-256: nothing was written).
    void record(const fetch::Response& response, std::string_view label,
                const fetch::Verdict& verdict, std::string path, std::string sha256,
                bool kept = false);
    // A response whose body went to `sink`: when ok, the file is renamed into place (a failed
    // rename makes the item an error); otherwise it is removed. Then recorded as by record().
    void record_file(const fetch::Response& response, FileSink& sink, std::string_view label);
    // An item that was never fetched (an invalid URL): recorded as an error without response.
    void record_unfetched(std::string_view url, std::string_view label, fetch::FailureKind kind,
                          std::string_view reason);
    // An item whose file `path` was kept as it is, ok: without a request (`response` null: a
    // file already there, --skip-existing), or because the server said it is current (304 Not
    // Modified, or 416 for a kept partial file that is whole). Stored as a row without error:
    // attempts 0 for the first, the status for the others (stats counts them so).
    void record_kept(const fetch::Response* response, std::string_view url, std::string_view label,
                     std::string path, std::string sha256 = {});

    const JobCounters& counters() const { return m_counters; }
    storage::RunTotals totals() const;
    const std::optional<storage::Error>& store_error() const { return m_store_error; }

private:
    // An item that reached no server (refused before its request, or kept as it was): counted
    // done, reported, and stored as `row` with attempts 0 (the caller counts its outcome).
    void record_unrequested(const ItemReport& report, storage::DownloadRecord row);
    void submit(storage::DownloadRecord record);

    storage::Writer* m_writer;
    std::int64_t m_run_id;
    ItemCallback m_on_item;
    JobCounters m_counters;
    std::optional<storage::Error> m_store_error;
};

} // namespace flagcrawl::crawler
