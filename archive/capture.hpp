// What the fetch engine captured of one request on the wire: its exchanges (one per redirect
// hop), each with the request's header block, the final response's header block and the raw
// response body (chunked framing and Content-Encoding kept), as the WARC writer archives them.
#pragma once

#include "fetch/fetch.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::archive {

// Bytes kept in memory up to a limit, then in an unnamed temporary file (O_TMPFILE) in a given
// folder, so that archiving a large download does not hold it in RAM. Not thread-safe.
class SpillBuffer {
public:
    SpillBuffer(std::filesystem::path spill_dir, std::size_t memory_limit);
    ~SpillBuffer();
    SpillBuffer(SpillBuffer&& other) noexcept;
    SpillBuffer& operator=(SpillBuffer&&) = delete;
    SpillBuffer(const SpillBuffer&) = delete;
    SpillBuffer& operator=(const SpillBuffer&) = delete;

    // False when the temporary file cannot be created or written (error() says why).
    bool append(std::span<const char> data);
    void clear();
    std::uint64_t size() const { return m_size; }
    const std::string& error() const { return m_error; }
    // Calls `piece` with consecutive pieces of the content, in order. False on a read error.
    bool read(const std::function<void(std::span<const char>)>& piece) const;

private:
    std::filesystem::path m_dir;
    std::size_t m_memory_limit;
    std::string m_memory;
    int m_fd = -1;
    std::uint64_t m_size = 0;
    std::string m_error;
};

struct WireExchange {
    std::string url;                            // of this hop
    std::string remote_ip;                      // "" when unknown
    std::chrono::system_clock::time_point date; // when the request was sent
    std::string request_head;                   // as sent, ending with the empty line
    std::string response_head; // the final response's header block as received ("" if none)
    bool response_head_complete = false; // its empty line was received
    SpillBuffer body;                    // raw response body as received
};

// The fetch::WireCapture that the WARC writer hands out (WarcWriter::capture()) and takes back
// with the response. Used by one thread at a time, as the engine's contract says.
class WireRecorder final : public fetch::WireCapture {
public:
    WireRecorder(std::filesystem::path spill_dir, std::size_t memory_limit);

    void request_head(std::string_view url, std::string_view remote_ip,
                      std::span<const char> data) override;
    void response_head(std::span<const char> line) override;
    bool response_body(std::span<const char> data) override;
    void reset() override;

    std::vector<WireExchange>& exchanges() { return m_exchanges; }

private:
    std::filesystem::path m_spill_dir;
    std::size_t m_memory_limit;
    std::vector<WireExchange> m_exchanges;
};

} // namespace flagcrawl::archive
