// Percent-encoding primitives shared by URL parsing, robots.txt matching, the url TSV format
// and output file naming.
#pragma once

#include <string>
#include <string_view>

namespace flagcrawl::util {

// The value of a hexadecimal digit (either case), or -1.
constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Appends the percent-decoding of `in` to `out` (the URL Standard's: each "%XY" with two hex
// digits becomes that byte; any other '%' is kept as it is).
inline void percent_decode_into(std::string_view in, std::string& out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size()) {
            const int hi = hex_value(in[i + 1]);
            const int lo = hi >= 0 ? hex_value(in[i + 2]) : -1;
            if (lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(in[i]);
    }
}

} // namespace flagcrawl::util
