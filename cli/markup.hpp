// Text put into HTML or SVG markup.
#pragma once

#include <string>
#include <string_view>

namespace flagcrawl::cli {

// `text` with &, <, > and " escaped, for element content and double-quoted attributes.
inline std::string escape_markup(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace flagcrawl::cli
