// Test helper: a loopback port on which nothing listens, for a host that refuses connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>

namespace flagcrawl::testing_support {

// A port of 127.0.0.1 that was free a moment ago: bound, read and closed again (another process
// could take it meanwhile, which a test on a shared machine accepts as very unlikely).
inline std::uint16_t closed_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port(); // closed when the acceptor goes
}

} // namespace flagcrawl::testing_support
