// Output for `export` and `stats`: a buffered writer on standard output that stops quietly when
// the reader goes away (`| head`), and the CSV / JSON encoders of one value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace flagcrawl::cli {

// Writes to a file descriptor through a buffer. A reader that closed its end of the pipe
// (EPIPE) ends the output: closed() turns true and later writes are dropped, so the command can
// stop reading rows and exit 0 without a word. Any other write error throws FatalError. The
// command must ignore SIGPIPE (ignore_sigpipe()) for EPIPE to be seen instead of the signal.
class OutputStream {
public:
    explicit OutputStream(int fd = 1, std::size_t capacity = 1 << 16);
    OutputStream(const OutputStream&) = delete;
    OutputStream& operator=(const OutputStream&) = delete;

    // Append to this, then call maybe_flush().
    std::string& buffer() noexcept { return m_buffer; }
    void write(std::string_view text) { m_buffer.append(text); }
    // Flushes when the buffer holds `capacity` bytes or more. Returns false once closed.
    bool maybe_flush() { return m_buffer.size() < m_capacity ? !m_closed : flush(); }
    // Writes out everything buffered. Returns false once closed.
    bool flush();
    bool closed() const noexcept { return m_closed; }

private:
    int m_fd;
    std::size_t m_capacity;
    std::string m_buffer;
    bool m_closed = false;
};

// SIGPIPE would kill the process at the first write to a closed pipe; export and stats handle
// EPIPE themselves (exit 0, nothing printed).
void ignore_sigpipe();

// Appends `text` as a JSON string (quotes included): ", \ and control characters escaped, and
// every invalid UTF-8 sequence replaced by U+FFFD (one per maximal invalid subpart).
void append_json_string(std::string& out, std::string_view text);
// Appends a REAL as the shortest text that reads back to the same double; "null" (JSON) for
// infinities, which SQLite can store but JSON cannot hold.
void append_json_number(std::string& out, double value);
void append_number(std::string& out, std::int64_t value);
// Appends one CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF, quotes
// doubled; invalid UTF-8 replaced by U+FFFD as in JSON.
void append_csv_field(std::string& out, std::string_view text);
// Appends bytes as standard base64 (RFC 4648, with padding).
void append_base64(std::string& out, std::string_view bytes);

} // namespace flagcrawl::cli
