// --convert-links: after a crawl, the links of the mirror's HTML and CSS files are rewritten for
// offline browsing, as wget -k does: a link to a URL the mirror holds becomes a relative
// reference to its file, any other link the absolute URL (so that nothing points at a file that
// is not there, and a relative link never resolves against file:// to the wrong place).
#pragma once

#include "crawler/mirror/mirror.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flagcrawl::crawler {

// One file the crawl saved.
struct SavedFile {
    std::string url;          // as fetched (no fragment)
    std::string content_type; // as served
};

// Which URLs the mirror holds, and the redirects the crawl met (a link to /a that answered
// 301 -> /b leads to /b's file, as in wget -k). URLs are compared as the crawler writes them
// (WHATWG href without the fragment).
class MirrorIndex {
public:
    void add_file(SavedFile file);
    void add_redirect(const std::string& from, const std::string& to);
    // The mirror path a URL leads to (redirects followed, at most 10), or nullptr.
    const std::string* path_of(const std::string& url) const;
    const std::vector<SavedFile>& files() const { return m_files; }

private:
    std::vector<SavedFile> m_files;
    std::unordered_map<std::string, std::string> m_paths; // URL -> mirror path
    std::unordered_map<std::string, std::string> m_redirects;
};

// A reference from the file `from` to the file `to` (both mirror paths) that a browser resolves
// to `to` from `from`'s file:// URL: "../b/c.html"; every byte but letters, digits and
// "-._~!$*+,;=:@" percent-encoded, so "page.html?x=1" is "page.html%3Fx=1" and the result is
// safe in any attribute or CSS url().
std::string relative_reference(std::string_view from, std::string_view to);

struct ConvertTotals {
    std::uint64_t files = 0;    // HTML and CSS files rewritten
    std::uint64_t local = 0;    // links now pointing at a file of the mirror
    std::uint64_t absolute = 0; // links now absolute URLs
    std::uint64_t skipped = 0;  // files left as they were (see convert_links)
    std::uint64_t failed = 0;   // files that could not be read or written
    std::string first_error;
};

// Rewrites the links of every HTML and CSS file of `index` in place (atomically, through
// `writer`). Left as they are: files not in UTF-8 (the link positions would be in a converted
// text), links inside an attribute written with character references that holds several URLs
// (srcset).
ConvertTotals convert_links(MirrorWriter& writer, const MirrorIndex& index);

} // namespace flagcrawl::crawler
