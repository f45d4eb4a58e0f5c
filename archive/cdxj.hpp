// The CDXJ index of WARC files, as pywb and warcio write it: one line per response or revisit
// record, "SURT-KEY 14-DIGIT-TIMESTAMP {json}" with the URL, MIME type, status, payload digest,
// and where the record's gzip member is (file name, offset, length). Sorted, a replay tool
// finds a URL's captures by binary search.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::archive {

// The Sort-friendly URI Reordering Transform of a URL, as the Python `surt` package writes it
// by default: scheme and "www." dropped, host labels reversed and comma-joined (IP addresses
// kept), a port that is not the scheme's default kept, ")" then path and query lower-cased,
// query parameters sorted, fragment dropped: "http://www.Example.com/A?b=1&a=2" ->
// "com,example)/a?a=2&b=1".
std::string surt_key(std::string_view url);

struct CdxEntry {
    std::string url;
    std::string timestamp; // 14 digits
    std::string mime;      // "warc/revisit" for a revisit record
    int status = 0;
    std::string digest; // "sha1:..."
    std::uint64_t offset = 0;
    std::uint64_t length = 0; // of the gzip member
    std::string filename;     // the WARC file's name, without folders
};

std::string cdxj_line(const CdxEntry& entry); // without the line feed
// nullopt for a line that is not a complete CDXJ line of this form.
std::optional<CdxEntry> parse_cdxj_line(std::string_view line);

} // namespace flagcrawl::archive
