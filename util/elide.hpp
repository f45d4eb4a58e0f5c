// Long text shortened for a one-line message (header-only, like the rest of util).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace flagcrawl::util {

// `text` itself when at most `keep` bytes; else its first `keep` bytes (never cutting a UTF-8
// sequence), then "...(N bytes)" with N the whole text's size. For URLs and other input quoted
// in messages, which can be megabytes long.
inline std::string elide(std::string_view text, std::size_t keep = 200) {
    if (text.size() <= keep) {
        return std::string(text);
    }
    std::size_t cut = keep;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut; // text[cut] continues a sequence: cut before its lead byte
    }
    return std::string(text.substr(0, cut)) + "...(" + std::to_string(text.size()) + " bytes)";
}

} // namespace flagcrawl::util
