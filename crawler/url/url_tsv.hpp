// The line formats of `flagcrawl url resolve|normalize` (shared with the URL conformance
// kit): TSV fields where U+0000-U+001F, U+007F and '\' are written as \xHH.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::crawler {

// Replaces every "\xHH" (two hex digits, either case) with that byte; anything else is kept.
std::string unescape_tsv_field(std::string_view field);

// Appends `field` to `out` with bytes 0x00-0x1F, 0x7F and '\' written as "\xHH" (lower case).
void append_escaped_tsv_field(std::string& out, std::string_view field);

// One `url resolve` line, "input<TAB>base" (escaped; further columns are ignored; an empty
// base means "parse input on its own"), to "input<TAB>base<TAB>absolute-URL-or-ERROR" with
// the input columns re-escaped. nullopt when the line has no TAB.
std::optional<std::string> resolve_tsv_line(std::string_view line);

// One `url normalize` line: an escaped URL to its escaped seen-set key, or "ERROR".
std::string normalize_tsv_line(std::string_view line, bool canonical_query);

} // namespace flagcrawl::crawler
