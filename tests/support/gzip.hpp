// Test helper: gzip (RFC 1952) of a string, with Beast's deflate: compressed bodies and
// decompression bombs for the fetch tests.
#pragma once

#include <boost/beast/zlib/deflate_stream.hpp>
#include <boost/crc.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

namespace flagcrawl::testing_support {

// A gzip member (RFC 1952) around Beast's raw deflate.
inline std::string gzip(const std::string& data) {
    namespace zlib = boost::beast::zlib;
    zlib::deflate_stream ds;
    ds.reset(9, 15, 8, zlib::Strategy::normal);
    std::string out(10 + ds.upper_bound(data.size()) + 8, '\0');
    const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3};
    std::copy(std::begin(header), std::end(header), out.begin());
    zlib::z_params zs;
    zs.next_in = data.data();
    zs.avail_in = data.size();
    zs.next_out = out.data() + 10;
    zs.avail_out = out.size() - 18;
    boost::system::error_code ec;
    ds.write(zs, zlib::Flush::finish, ec);
    std::size_t size = 10 + zs.total_out;
    boost::crc_32_type crc;
    crc.process_bytes(data.data(), data.size());
    const std::uint32_t trailer[2] = {crc.checksum(), static_cast<std::uint32_t>(data.size())};
    for (std::uint32_t v : trailer)
        for (int i = 0; i < 4; ++i)
            out[size++] = static_cast<char>((v >> (8 * i)) & 0xff);
    out.resize(size);
    return out;
}

} // namespace flagcrawl::testing_support
