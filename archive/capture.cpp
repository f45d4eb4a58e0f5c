#include "archive/capture.hpp"

#include "archive/warc_format.hpp"
#include "util/fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace flagcrawl::archive {

SpillBuffer::SpillBuffer(std::filesystem::path spill_dir, std::size_t memory_limit)
    : m_dir(std::move(spill_dir))
    , m_memory_limit(memory_limit) {}

SpillBuffer::~SpillBuffer() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

SpillBuffer::SpillBuffer(SpillBuffer&& other) noexcept
    : m_dir(std::move(other.m_dir))
    , m_memory_limit(other.m_memory_limit)
    , m_memory(std::move(other.m_memory))
    , m_fd(other.m_fd)
    , m_size(other.m_size)
    , m_error(std::move(other.m_error)) {
    other.m_fd = -1;
    other.m_size = 0;
}

bool SpillBuffer::append(std::span<const char> data) {
    if (m_fd < 0 && m_memory.size() + data.size() <= m_memory_limit) {
        m_memory.append(data.data(), data.size());
        m_size += data.size();
        return true;
    }
    if (m_fd < 0) {
        m_fd = ::open(m_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (m_fd < 0) {
            m_error =
                "cannot create a temporary file in " + m_dir.string() + ": " + std::strerror(errno);
            return false;
        }
        if (!m_memory.empty()) {
            const std::string held = std::move(m_memory);
            m_memory.clear();
            m_size = 0;
            if (!append(held)) {
                return false;
            }
        }
    }
    if (!util::write_all(m_fd, data)) {
        m_error = std::string("cannot write a temporary file: ") + std::strerror(errno);
        return false;
    }
    m_size += data.size();
    return true;
}

void SpillBuffer::clear() {
    m_memory.clear();
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    m_size = 0;
    m_error.clear();
}

bool SpillBuffer::read(const std::function<void(std::span<const char>)>& piece) const {
    if (m_fd < 0) {
        if (!m_memory.empty()) {
            piece(m_memory);
        }
        return true;
    }
    std::string buffer(1 << 20, '\0');
    std::uint64_t at = 0;
    while (at < m_size) {
        const ssize_t n = ::pread(m_fd, buffer.data(), buffer.size(), static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        piece({buffer.data(), static_cast<std::size_t>(n)});
        at += static_cast<std::uint64_t>(n);
    }
    return true;
}

WireRecorder::WireRecorder(std::filesystem::path spill_dir, std::size_t memory_limit)
    : m_spill_dir(std::move(spill_dir))
    , m_memory_limit(memory_limit) {}

void WireRecorder::request_head(std::string_view url, std::string_view remote_ip,
                                std::span<const char> data) {
    // A request head after response bytes (or the first one) starts the next hop's exchange;
    // otherwise it is the rest of a head sent in pieces.
    if (m_exchanges.empty() || !m_exchanges.back().response_head.empty()) {
        m_exchanges.push_back(WireExchange{std::string(url),
                                           std::string(remote_ip),
                                           std::chrono::system_clock::now(),
                                           {},
                                           {},
                                           false,
                                           SpillBuffer(m_spill_dir, m_memory_limit)});
    }
    m_exchanges.back().request_head.append(data.data(), data.size());
}

void WireRecorder::response_head(std::span<const char> line) {
    if (m_exchanges.empty()) {
        return;
    }
    WireExchange& x = m_exchanges.back();
    const std::string_view text(line.data(), line.size());
    if (text.starts_with("HTTP/")) {
        // The final response after an interim 1xx one replaces it: a reader expects one.
        x.response_head.clear();
        x.response_head_complete = false;
    } else if (x.response_head_complete) {
        return; // trailer fields of a chunked body: already in the raw body
    }
    x.response_head.append(text);
    if (text == "\r\n" || text == "\n") {
        x.response_head_complete = true;
    }
}

bool WireRecorder::response_body(std::span<const char> data) {
    if (m_exchanges.empty()) {
        return true;
    }
    return m_exchanges.back().body.append(data);
}

void WireRecorder::reset() {
    m_exchanges.clear();
}

} // namespace flagcrawl::archive
