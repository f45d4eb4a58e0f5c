#include "export_output.hpp"

#include "commands.hpp"

#include "util/json.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <iterator>
#include <unistd.h>

namespace flagcrawl::cli {

namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD"; // U+FFFD

// The length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid; then
// `skip` is the length of the maximal invalid subpart to replace (at least 1).
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::size_t& skip) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
        high = lead == 0xED ? 0x9F : 0xBF; // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
    } else {
        skip = 1;
        return 0;
    }
    std::size_t k = 1;
    for (; k < length && i + k < text.size(); ++k) {
        const unsigned char c = byte(i + k);
        const unsigned char lo = k == 1 ? low : 0x80;
        const unsigned char hi = k == 1 ? high : 0xBF;
        if (c < lo || c > hi) {
            break;
        }
    }
    if (k == length) {
        return length;
    }
    skip = k;
    return 0;
}

// Appends text, replacing invalid UTF-8, and calling escape(out, c) for each ASCII byte that
// `needs(c)` selects.
template <class Needs, class Escape>
void append_utf8(std::string& out, std::string_view text, Needs needs, Escape escape) {
    std::size_t run = 0; // start of the bytes not yet appended
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (needs(static_cast<char>(c))) {
                out.append(text.data() + run, i - run);
                escape(out, static_cast<char>(c));
                run = i + 1;
            }
            ++i;
            continue;
        }
        std::size_t skip = 0;
        const std::size_t length = utf8_sequence(text, i, skip);
        if (length > 0) {
            i += length;
            continue;
        }
        out.append(text.data() + run, i - run);
        out.append(k_replacement);
        i += skip;
        run = i;
    }
    out.append(text.data() + run, text.size() - run);
}

} // namespace

OutputStream::OutputStream(int fd, std::size_t capacity)
    : m_fd(fd)
    , m_capacity(capacity) {
    m_buffer.reserve(capacity + capacity / 4);
}

bool OutputStream::flush() {
    std::size_t done = 0;
    while (!m_closed && done < m_buffer.size()) {
        const ssize_t n = ::write(m_fd, m_buffer.data() + done, m_buffer.size() - done);
        if (n >= 0) {
            done += static_cast<std::size_t>(n);
        } else if (errno == EPIPE) {
            m_closed = true;
        } else if (errno != EINTR) {
            throw FatalError(
                fmt::format("cannot write to standard output: {}", std::strerror(errno)));
        }
    }
    m_buffer.clear();
    return !m_closed;
}

void ignore_sigpipe() {
    std::signal(SIGPIPE, SIG_IGN);
}

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    append_utf8(out, text, util::json_needs_escape, util::append_json_escape);
    out += '"';
}

void append_json_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    fmt::format_to(std::back_inserter(out), "{}", value);
}

void append_number(std::string& out, std::int64_t value) {
    fmt::format_to(std::back_inserter(out), "{}", value);
}

void append_csv_field(std::string& out, std::string_view text) {
    const bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos;
    if (quote) {
        out += '"';
    }
    append_utf8(
        out, text, [](char c) { return c == '"'; }, [](std::string& o, char) { o += "\"\""; });
    if (quote) {
        out += '"';
    }
}

void append_base64(std::string& out, std::string_view bytes) {
    static constexpr char k_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto at = [&](std::size_t k) -> std::uint32_t {
        return static_cast<unsigned char>(bytes[k]);
    };
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        out += k_alphabet[v >> 18];
        out += k_alphabet[(v >> 12) & 63];
        out += k_alphabet[(v >> 6) & 63];
        out += k_alphabet[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t v = at(i) << 16;
        out += k_alphabet[v >> 18];
        out += k_alphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t v = at(i) << 16 | at(i + 1) << 8;
        out += k_alphabet[v >> 18];
        out += k_alphabet[(v >> 12) & 63];
        out += k_alphabet[(v >> 6) & 63];
        out += '=';
    }
}

} // namespace flagcrawl::cli
