// Character encodings of HTML pages as browsers determine them (the WHATWG Encoding Standard
// and HTML's "determining the character encoding"): labels, the byte order mark, the
// Content-Type charset, the <meta> prescan, decoding to UTF-8, and encoding a URL's query in
// a page's encoding (the URL Standard's "percent-encode after encoding").
//
// Converters: glibc's iconv, which has every encoding of the standard (under the names in
// charset.cpp) and is part of the C library (no new dependency); single-byte encodings are
// decoded through 256-entry tables built from it once. Where the standard's mapping differs
// from iconv's (windows-1252's five unassigned bytes, x-user-defined), charset.cpp fixes it up.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::crawler {

enum class Encoding : std::uint8_t {
    utf8,
    ibm866,
    iso_8859_2,
    iso_8859_3,
    iso_8859_4,
    iso_8859_5,
    iso_8859_6,
    iso_8859_7,
    iso_8859_8,
    iso_8859_8_i,
    iso_8859_10,
    iso_8859_13,
    iso_8859_14,
    iso_8859_15,
    iso_8859_16,
    koi8_r,
    koi8_u,
    macintosh,
    windows_874,
    windows_1250,
    windows_1251,
    windows_1252,
    windows_1253,
    windows_1254,
    windows_1255,
    windows_1256,
    windows_1257,
    windows_1258,
    x_mac_cyrillic,
    gbk,
    gb18030,
    big5,
    euc_jp,
    iso_2022_jp,
    shift_jis,
    euc_kr,
    replacement,
    utf16be,
    utf16le,
    x_user_defined,
};

// The standard's name ("UTF-8", "Shift_JIS", "windows-1252").
std::string_view to_string(Encoding encoding);

// "get an encoding": the encoding of a label, ASCII case-insensitive, surrounding ASCII
// whitespace ignored ("latin1", "ISO-8859-1" and "us-ascii" are windows-1252); nullopt for
// an unknown label.
std::optional<Encoding> encoding_from_label(std::string_view label);

// The charset parameter of a Content-Type header value as an encoding (quoted or not);
// nullopt when there is none or its label is unknown.
std::optional<Encoding> encoding_from_content_type(std::string_view content_type);

// HTML's "prescan a byte stream to determine its encoding" over the first 1024 bytes:
// <meta charset> or <meta http-equiv=content-type content="...charset=...">, skipping
// comments and other tags; UTF-16 found this way means UTF-8, x-user-defined windows-1252.
std::optional<Encoding> prescan_meta(std::string_view body);

// How a page's encoding was determined, in the standard's order of precedence.
enum class EncodingSource : std::uint8_t { bom, header, meta, fallback };
std::string_view to_string(EncodingSource source);

struct SniffedEncoding {
    Encoding encoding = Encoding::windows_1252;
    EncodingSource source = EncodingSource::fallback;
    std::size_t bom_bytes = 0; // bytes of the BOM to skip (bom source only)
};

// BOM (UTF-8, UTF-16BE, UTF-16LE), then the Content-Type charset, then the <meta> prescan,
// then windows-1252 (the standard's default for pages that declare nothing).
SniffedEncoding sniff_encoding(std::string_view body, std::string_view content_type);

// True when the HTML tokenizer can run on the encoded bytes: ASCII bytes are ASCII
// characters and no multi-byte character contains a byte of '<', '>', '"', '\'', '=', '/',
// '&' or whitespace. False for UTF-16, ISO-2022-JP and replacement.
bool is_ascii_compatible(Encoding encoding);

// Converts text between an encoding and UTF-8. Holds converter state: one per thread.
class Transcoder {
public:
    Transcoder();
    ~Transcoder();
    Transcoder(const Transcoder&) = delete;
    Transcoder& operator=(const Transcoder&) = delete;

    // Appends `bytes` decoded from `encoding` to `out` as UTF-8; malformed input becomes
    // U+FFFD (UTF-8 by the standard's rules; other encodings one U+FFFD per byte that does
    // not start a valid sequence).
    void decode(Encoding encoding, std::string_view bytes, std::string& out);

    // The URL Standard's query encoding: appends UTF-8 `text` encoded in `encoding`, with
    // each character the encoding cannot represent written as "%26%23N%3B" (an HTML numeric
    // reference, percent-encoded). UTF-8, UTF-16 and replacement encode as UTF-8.
    void encode_query(Encoding encoding, std::string_view text, std::string& out);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace flagcrawl::crawler
