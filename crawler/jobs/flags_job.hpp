// The `flags` job (the book Fluent Python's flags2 and flags3 downloaders): one GIF per country
// code from a flags server into a folder, every result recorded; with metadata, each code's
// metadata.json first, then its GIF saved under the country's name.
#pragma once

#include "crawler/jobs/recorder.hpp"
#include "fetch/fetch.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::crawler {

// "Country_Name-CC.gif" for the --metadata files: letters, digits, '_' and '-' only. Spaces and
// punctuation become one '_' (apostrophes vanish: "Cote_dIvoire"), Latin-1 accented letters
// lose their accent ("Sao_Tome_and_Principe"), other characters become '_'; the name part is at
// most 100 bytes. "CC.gif" when nothing of the name is left. `code` must be two ASCII letters.
std::string flag_file_name(std::string_view country, std::string_view code);

struct FlagsJobOptions {
    std::string base_url{};          // flags server, without a trailing '/'
    std::filesystem::path out_dir{}; // must exist
    bool metadata = false;           // flags3: metadata.json first, file named after the country
};

// Called by the fetch engine (serialized, per its contract); counters() from any thread.
// Without metadata: one request per code, {base}/{cc}/{cc}.gif into "CC.gif". With metadata:
// {base}/{cc}/metadata.json, then (once it arrived and named the country) the GIF: two requests
// per code, each holding one of the engine's concurrency slots; next() says `waiting` while the
// only work left depends on metadata still in flight. Each code is reported and recorded once,
// with its GIF's outcome, or with the metadata's when that failed (a 404 there is "not found").
class FlagsJob final : public fetch::WorkSource, public fetch::ResponseHandler {
public:
    // `codes`: two upper-case letters each, no repeats. `recorder` must outlive the job.
    FlagsJob(std::vector<std::string> codes, FlagsJobOptions options, Recorder& recorder);

    Next next(fetch::Clock::time_point now) override;
    void on_response(fetch::Response&& response) override;

    std::size_t total() const { return m_items.size(); } // codes
    // Attempts spent on metadata.json requests (the recorder counts those of the GIFs and of
    // failed metadata). Read after the run.
    std::uint64_t metadata_attempts() const { return m_metadata_attempts; }

private:
    struct Item {
        std::string code;
        std::string file_name; // set when its GIF request is handed out
    };
    enum Kind : std::uint64_t { k_metadata = 0, k_gif = 1 }; // request id = index * 2 + kind

    Next gif_request(std::size_t index);
    void on_metadata(std::size_t index, fetch::Response&& response);
    void on_gif(std::size_t index, fetch::Response&& response);

    std::vector<Item> m_items;
    FlagsJobOptions m_options;
    Recorder& m_recorder;
    std::size_t m_next = 0;               // next code to start
    std::deque<std::size_t> m_gifs_ready; // codes whose metadata arrived, GIF not yet asked
    std::size_t m_metadata_in_flight = 0; // metadata requests handed out, not answered
    std::uint64_t m_metadata_attempts = 0;
};

} // namespace flagcrawl::crawler
