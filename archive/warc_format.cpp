#include "archive/warc_format.hpp"

#include "util/ascii.hpp"

#include <openssl/evp.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <new>
#include <stdexcept>
#include <unistd.h>

namespace flagcrawl::archive {
namespace {

// Fetched once: OpenSSL 3 otherwise looks the algorithm up again on every EVP_DigestInit_ex.
const EVP_MD* sha1_md() {
    static const EVP_MD* md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA1", nullptr);
        if (fetched == nullptr) {
            throw std::runtime_error("OpenSSL has no SHA1");
        }
        return fetched;
    }();
    return md;
}

// Header values: spaces and tabs around, and a CR left by a CRLF line end.
std::string_view trim(std::string_view s) {
    return util::trim(s, " \t\r");
}

} // namespace

Sha1::Sha1()
    : m_ctx(EVP_MD_CTX_new()) {
    if (m_ctx == nullptr || EVP_DigestInit_ex2(m_ctx, sha1_md(), nullptr) != 1) {
        EVP_MD_CTX_free(m_ctx);
        throw std::bad_alloc();
    }
}

Sha1::~Sha1() {
    EVP_MD_CTX_free(m_ctx);
}

void Sha1::update(std::span<const char> data) {
    EVP_DigestUpdate(m_ctx, data.data(), data.size());
}

std::string Sha1::finish_labelled() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_ctx, digest.data(), &len);
    EVP_DigestInit_ex2(m_ctx, sha1_md(), nullptr);
    return "sha1:" + base32({digest.data(), len});
}

std::string base32(std::span<const unsigned char> bytes) {
    static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::string out;
    std::uint64_t buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(k_alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) {
        out.push_back(k_alphabet[(buffer << (5 - bits)) & 31]);
    }
    while (out.size() % 8 != 0) {
        out.push_back('=');
    }
    return out;
}

std::string new_record_id(std::mt19937_64& rng) {
    std::array<unsigned char, 16> u{};
    for (std::size_t i = 0; i < u.size(); i += 8) {
        std::uint64_t r = rng();
        for (std::size_t j = 0; j < 8; ++j) {
            u[i + j] = static_cast<unsigned char>(r >> (8 * j));
        }
    }
    u[6] = static_cast<unsigned char>((u[6] & 0x0F) | 0x40); // version 4
    u[8] = static_cast<unsigned char>((u[8] & 0x3F) | 0x80); // RFC 4122 variant
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out = "<urn:uuid:";
    for (std::size_t i = 0; i < u.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        out.push_back(k_hex[u[i] >> 4]);
        out.push_back(k_hex[u[i] & 15]);
    }
    out.push_back('>');
    return out;
}

std::string warc_date(std::chrono::system_clock::time_point when) {
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<unsigned>(micros % 1'000'000));
    return text;
}

std::string cdx_timestamp(std::string_view date) {
    std::string out;
    for (char c : date) {
        if (c >= '0' && c <= '9') {
            out.push_back(c);
        }
        if (out.size() == 14 || c == '.') {
            break;
        }
    }
    return out;
}

std::optional<ResponseFacts> parse_response_head(std::string_view head) {
    if (!head.starts_with("HTTP/")) {
        return std::nullopt;
    }
    ResponseFacts facts;
    std::size_t line_end = head.find('\n');
    std::string_view status_line = head.substr(0, line_end);
    const auto space = status_line.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view code = trim(status_line.substr(space + 1)).substr(0, 3);
    if (std::from_chars(code.data(), code.data() + code.size(), facts.status).ec != std::errc()) {
        return std::nullopt;
    }
    while (line_end != std::string_view::npos) {
        const std::size_t start = line_end + 1;
        line_end = head.find('\n', start);
        const std::string_view line = head.substr(start, line_end - start);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (util::iequals(name, "content-type")) {
            std::string_view type = trim(value.substr(0, value.find(';')));
            facts.mime = util::to_lower(type);
        } else if (util::iequals(name, "transfer-encoding")) {
            const auto last = value.rfind(',');
            facts.chunked = util::iequals(
                trim(last == std::string_view::npos ? value : value.substr(last + 1)), "chunked");
        }
    }
    return facts;
}

GzipMember::GzipMember(int level, Sink sink, void* context)
    : m_zs(new z_stream{})
    , m_sink(sink)
    , m_context(context) {
    // windowBits 15 + 16: a gzip header and trailer around the deflate stream.
    if (deflateInit2(m_zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        delete m_zs;
        throw std::bad_alloc();
    }
    m_out.resize(64 * 1024);
}

void GzipMember::restart(Sink sink, void* context) {
    deflateReset(m_zs);
    m_sink = sink;
    m_context = context;
    m_out_total = 0;
}

GzipMember::~GzipMember() {
    deflateEnd(m_zs);
    delete m_zs;
}

// Z_NO_FLUSH: until the input is taken; Z_FINISH: until the stream's end is written.
bool GzipMember::deflate_some(int flush) {
    for (;;) {
        m_zs->next_out = reinterpret_cast<Bytef*>(m_out.data());
        m_zs->avail_out = static_cast<uInt>(m_out.size());
        const int rc = deflate(m_zs, flush);
        if (rc == Z_STREAM_ERROR) {
            return false;
        }
        const std::size_t produced = m_out.size() - m_zs->avail_out;
        if (produced > 0) {
            if (!m_sink(m_context, {m_out.data(), produced})) {
                return false;
            }
            m_out_total += produced;
        }
        if (flush == Z_FINISH ? rc == Z_STREAM_END : m_zs->avail_in == 0 && m_zs->avail_out != 0) {
            return true;
        }
    }
}

bool GzipMember::add(std::span<const char> data) {
    m_zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    m_zs->avail_in = static_cast<uInt>(data.size());
    return deflate_some(Z_NO_FLUSH);
}

bool GzipMember::finish() {
    m_zs->next_in = nullptr;
    m_zs->avail_in = 0;
    return deflate_some(Z_FINISH);
}

std::uint64_t last_complete_record_end(int fd) {
    static constexpr std::string_view k_request = "WARC/1.1\r\nWARC-Type: request\r\n";
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        return 0;
    }
    std::string in(1 << 20, '\0');
    std::string out(1 << 16, '\0');
    std::uint64_t good_end = 0; // end of the last complete member kept
    std::uint64_t consumed = 0; // input bytes fed to inflate so far
    std::uint64_t file_at = 0;
    std::string head; // the first output bytes of the current member
    bool failed = false;
    while (!failed) {
        const ssize_t n = ::pread(fd, in.data(), in.size(), static_cast<off_t>(file_at));
        if (n <= 0) {
            break;
        }
        file_at += static_cast<std::uint64_t>(n);
        zs.next_in = reinterpret_cast<Bytef*>(in.data());
        zs.avail_in = static_cast<uInt>(n);
        while (zs.avail_in > 0) {
            zs.next_out = reinterpret_cast<Bytef*>(out.data());
            zs.avail_out = static_cast<uInt>(out.size());
            const uInt before = zs.avail_in;
            const int rc = inflate(&zs, Z_NO_FLUSH);
            consumed += before - zs.avail_in;
            if (head.size() < k_request.size()) {
                const std::size_t produced = out.size() - zs.avail_out;
                head.append(out.data(), std::min(produced, k_request.size() - head.size()));
            }
            if (rc == Z_STREAM_END) {
                if (!head.starts_with(k_request)) {
                    good_end = consumed;
                }
                head.clear();
                inflateReset(&zs);
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                failed = true;
                break;
            }
        }
    }
    inflateEnd(&zs);
    return good_end;
}

} // namespace flagcrawl::archive
