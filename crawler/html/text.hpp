// Text of attribute values and RCDATA as the HTML tokenizer delivers it (internal to
// crawler/html): UTF-8 repaired, newlines normalized, NUL replaced, character references
// decoded.
#pragma once

#include <string>
#include <string_view>

namespace flagcrawl::crawler::html_detail {

// True when `raw` (a UTF-8 attribute value or RCDATA run as found in the source) reads the
// same after decode_text(): no '&', CR, NUL or non-ASCII byte. The scanner's fast path.
bool is_plain_text(std::string_view raw) noexcept;

// Appends `raw` to `out` the way the tokenizer turns source text into characters: invalid
// UTF-8 becomes U+FFFD (one per maximal invalid subsequence, as the Encoding Standard's UTF-8
// decoder does), CR LF and lone CR become LF, NUL becomes U+FFFD, and character references are
// decoded (numeric ones with the HTML replacements for 0x80-0x9F, 0, surrogates and values
// above U+10FFFF; named ones by longest match). in_attribute applies the attribute-value
// rule: a named reference without its ';' followed by '=' or an ASCII alphanumeric is kept
// as written (so "?a=1&copy=2" stays a query).
void decode_text(std::string_view raw, bool in_attribute, std::string& out);

// Appends `raw` with only the UTF-8 repair of decode_text() (for text without references).
void append_utf8_repaired(std::string_view raw, std::string& out);

} // namespace flagcrawl::crawler::html_detail
