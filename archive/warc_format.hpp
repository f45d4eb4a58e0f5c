// The pieces of the WARC/1.1 format (ISO 28500:2017): record ids, dates, SHA-1 digests in
// base32 as archives customarily write them, HTTP head facts, the transfer decoding that defines
// a payload, and gzip members (one per record, so that a reader can seek to any record).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;
struct z_stream_s;

namespace flagcrawl::archive {

// SHA-1 over pieces, finished as "sha1:" + 32 base32 characters (RFC 4648 alphabet).
class Sha1 {
public:
    Sha1();
    ~Sha1();
    Sha1(const Sha1&) = delete;
    Sha1& operator=(const Sha1&) = delete;
    void update(std::span<const char> data);
    std::string finish_labelled(); // "sha1:..."; the object is reset for reuse

private:
    evp_md_ctx_st* m_ctx;
};

// RFC 4648 base32 (upper case, '=' padding).
std::string base32(std::span<const unsigned char> bytes);

// "<urn:uuid:...>" of a random (version 4) UUID.
std::string new_record_id(std::mt19937_64& rng);

// "2024-05-01T12:00:00.123456Z" (WARC 1.1 allows fractions of a second).
std::string warc_date(std::chrono::system_clock::time_point when);
// "20240501120000": the 14-digit timestamp of CDXJ lines, from a warc_date().
std::string cdx_timestamp(std::string_view warc_date);

// What the writer needs to know of a response's header block.
struct ResponseFacts {
    int status = 0;
    std::string mime;     // Content-Type without parameters, lower case; "" when absent
    bool chunked = false; // Transfer-Encoding ends with "chunked"
};
// nullopt when `head` does not start with an "HTTP/x y" status line.
std::optional<ResponseFacts> parse_response_head(std::string_view head);

// Removes chunked transfer coding from raw body bytes fed in pieces, passing the payload (the
// entity body, Content-Encoding kept) on: the WARC payload digest is defined over it. Trailer
// fields are dropped. Malformed framing stops the decoding (the rest is ignored).
class Dechunker {
public:
    template <class Out> void feed(std::span<const char> data, Out&& out);

private:
    enum class State { size, extension, size_lf, data, data_cr, data_lf, trailer, done, bad };
    State m_state = State::size;
    std::uint64_t m_left = 0;
    bool m_line_empty = true; // trailer: the current line has no bytes yet
    int m_digits = 0;
};

// Compresses one gzip member in pieces, handing compressed output to `sink` as it fills;
// restart() begins the next member with the same zlib state (deflateReset), which spares a
// writer the allocation and zeroing of a new one (~256 KiB) for every record.
class GzipMember {
public:
    using Sink = bool (*)(void* context, std::span<const char> data);
    GzipMember(int level, Sink sink, void* context);
    void restart(Sink sink, void* context); // a new member, whatever state the last one ended in
    ~GzipMember();
    GzipMember(const GzipMember&) = delete;
    GzipMember& operator=(const GzipMember&) = delete;
    bool add(std::span<const char> data);
    bool finish(); // writes the trailer; false when the sink refused data
    std::uint64_t compressed_size() const { return m_out_total; }

private:
    bool deflate_some(int flush);
    z_stream_s* m_zs;
    Sink m_sink;
    void* m_context;
    std::string m_out;
    std::uint64_t m_out_total = 0;
};

// Where a crashed WARC file is cut back to: the end of its last complete gzip member (every
// member must decompress to its end with a valid CRC), or before it when that member holds a
// request record (as this writer starts them: "WARC/1.1\r\nWARC-Type: request"), whose
// response record was then never written. A file without a single whole record yields 0.
std::uint64_t last_complete_record_end(int fd);

template <class Out> void Dechunker::feed(std::span<const char> data, Out&& out) {
    std::size_t i = 0;
    while (i < data.size()) {
        const char c = data[i];
        switch (m_state) {
        case State::size: {
            int v = -1;
            if (c >= '0' && c <= '9') {
                v = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                v = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                v = c - 'A' + 10;
            }
            if (v >= 0 && m_digits < 15) {
                m_left = m_left * 16 + static_cast<std::uint64_t>(v);
                ++m_digits;
                m_line_empty = true; // for the trailer after a last chunk
            } else if (m_digits > 0 && (c == ';' || c == ' ' || c == '\t')) {
                m_state = State::extension;
            } else if (m_digits > 0 && c == '\r') {
                m_state = State::size_lf;
            } else if (m_digits > 0 && c == '\n') {
                m_state = m_left == 0 ? State::trailer : State::data;
            } else {
                m_state = State::bad;
            }
            ++i;
            break;
        }
        case State::extension:
            if (c == '\n') {
                m_state = m_left == 0 ? State::trailer : State::data;
            }
            ++i;
            break;
        case State::size_lf:
            m_state = c == '\n' ? (m_left == 0 ? State::trailer : State::data) : State::bad;
            ++i;
            break;
        case State::data: {
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(m_left, data.size() - i));
            out(data.subspan(i, n));
            m_left -= n;
            i += n;
            if (m_left == 0) {
                m_state = State::data_cr;
            }
            break;
        }
        case State::data_cr:
            m_state = c == '\r' ? State::data_lf : c == '\n' ? State::size : State::bad;
            m_digits = 0;
            ++i;
            break;
        case State::data_lf:
            m_state = c == '\n' ? State::size : State::bad;
            m_digits = 0;
            ++i;
            break;
        case State::trailer:
            // Lines until an empty one.
            if (c == '\n') {
                if (m_line_empty) {
                    m_state = State::done;
                }
                m_line_empty = true;
            } else if (c != '\r') {
                m_line_empty = false;
            }
            ++i;
            break;
        case State::done:
        case State::bad:
            return;
        }
    }
}

} // namespace flagcrawl::archive
