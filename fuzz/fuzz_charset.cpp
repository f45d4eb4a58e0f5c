// libFuzzer target: encoding detection and conversion. The first byte picks an encoding and a
// label; sniffing, the <meta> prescan and decoding take any bytes; decoded text is valid UTF-8
// and encoding it for a query never fails.
#include "crawler/html/charset.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fc = flagcrawl::crawler;

namespace {

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t len = b < 0x80         ? 1
                          : (b >> 5) == 6  ? 2
                          : (b >> 4) == 14 ? 3
                          : (b >> 3) == 30 ? 4
                                           : 0;
        if (len == 0 || i + len > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fc::Transcoder transcoder;
    if (size == 0) {
        return 0;
    }
    const auto encoding = static_cast<fc::Encoding>(
        data[0] % (static_cast<unsigned>(fc::Encoding::x_user_defined) + 1));
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    static_cast<void>(fc::encoding_from_label(input.substr(0, 64)));
    static_cast<void>(fc::encoding_from_content_type(input.substr(0, 128)));
    static_cast<void>(fc::prescan_meta(input));
    static_cast<void>(fc::sniff_encoding(input, "text/html"));
    std::string decoded;
    transcoder.decode(encoding, input, decoded);
    if (!valid_utf8(decoded)) {
        std::abort();
    }
    std::string encoded;
    transcoder.encode_query(encoding, decoded, encoded);
    return 0;
}
