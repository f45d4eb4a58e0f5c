// The URL list format of `download -i`: one URL a line, optionally followed by a TAB and the
// name to save it under; blank lines and '#' lines skipped. Lines are read one at a time, so a
// list of millions of lines costs no memory.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::crawler {

// One usable or unusable line of a list.
struct ListLine {
    std::string url{};      // as written, surrounding spaces removed
    std::string name{};     // given after a TAB; empty: derived from the URL
    std::uint64_t line = 0; // 1-based line number in the list
    // Why the line cannot be used ("" when it can), starting with "SOURCE:LINE: ".
    std::string error{};
};

// Why `name` cannot be a file name under the output folder ("" when it can): a relative path of
// segments that are neither empty, "." nor "..", do not start with '.' (hidden files and the
// ".NAME.part" temporaries), hold no control byte and are at most k_max_file_name bytes.
std::string check_list_name(std::string_view name);

// Reads lines from a stream. A UTF-8 byte order mark at the start is skipped; a line is trimmed
// of spaces, TABs and a CR at both ends, then split at its TAB: "URL<TAB>NAME". A space (or any
// other whitespace) inside the URL makes the line unusable rather than a mangled request: URLs
// write a space as %20, and "URL NAME" is not a name. Not thread-safe.
class UrlListReader {
public:
    // `source` names the list in messages ("urls.txt", "standard input"); `in` must outlive it.
    UrlListReader(std::istream& in, std::string source);

    // The next line that is not blank or a comment; nullopt at the end of the stream (or on an
    // I/O error: see failed()).
    std::optional<ListLine> next();
    // The stream failed (an I/O error, not its end).
    bool failed() const { return m_in.bad(); }
    const std::string& source() const { return m_source; }

private:
    std::istream& m_in;
    std::string m_source;
    std::uint64_t m_line = 0;
    std::string m_text;
};

} // namespace flagcrawl::crawler
