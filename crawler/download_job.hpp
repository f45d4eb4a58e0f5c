// The `download` job: a list of URLs, each fetched once into an output folder under a name
// derived from its path, every result recorded. It is the fetch engine's work source and
// response handler; the engine (any strategy) does the scheduling.
#pragma once

#include "crawler/recorder.hpp"
#include "fetch/fetch.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace flagcrawl::crawler {

// Called by the fetch engine (serialized, per its contract); counters() from any thread.
class DownloadJob final : public fetch::WorkSource, public fetch::ResponseHandler {
public:
    // `urls` in input order: invalid URLs (not absolute http(s)) are recorded as errors without
    // a request; repeated URLs (same normalized form) are fetched once. File names are assigned
    // here, in input order, so collisions resolve the same way whatever the strategy. `out_dir`
    // must exist. `recorder` must outlive the job.
    DownloadJob(const std::vector<std::string>& urls, std::filesystem::path out_dir,
                Recorder& recorder);

    Next next(fetch::Clock::time_point now) override;
    void on_response(fetch::Response&& response) override;

    std::size_t total() const { return m_items.size(); }    // items to report, duplicates excluded
    std::size_t duplicates() const { return m_duplicates; } // repeated URLs skipped

private:
    struct Item {
        std::string url;    // normalized serialization when valid, else as given
        std::string name;   // file name in out_dir; empty when invalid
        std::string reason; // why the URL is invalid; empty when valid
    };

    std::vector<Item> m_items;
    std::size_t m_next = 0;
    std::size_t m_duplicates = 0;
    std::filesystem::path m_out_dir;
    Recorder& m_recorder;
};

} // namespace flagcrawl::crawler
