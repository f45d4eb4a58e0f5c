// Output file names for downloads: derived from the URL path, sanitized so that nothing is ever
// written outside the output folder, and made unique deterministically (in input order).
#pragma once

#include "crawler/url/seen_set.hpp"

#include <string>
#include <string_view>

namespace flagcrawl::crawler {

// The file name for a URL path: its last segment, percent-decoded ("/a/b%20c.gif" ->
// "b c.gif"); "index.html" when the segment is empty. The result is one plain name, never a
// path: '/', '\\', control bytes and a leading '.' are replaced by '_' (so never "." or "..",
// never hidden, never clashing with the ".*.part" temporary files), and it is at most
// k_max_file_name bytes, cut on a UTF-8 boundary, keeping a short extension.
std::string file_name_for_path(std::string_view url_path);

inline constexpr std::size_t k_max_file_name = 200; // NAME_MAX 255 minus room for suffixes

// Hands out unique names (or relative paths) in the order asked: the first "a.gif" keeps its
// name, later ones become "a.1.gif", "a.2.gif", ... (a counter before the extension of the last
// segment). Remembers names by their
// 64-bit hash (about 10 bytes each): two different names with the same hash would only cost
// one of them a needless counter. Not thread-safe.
class NameAllocator {
public:
    std::string claim(const std::string& name);

private:
    SeenSet m_used;
};

} // namespace flagcrawl::crawler
