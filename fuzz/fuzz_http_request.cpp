// libFuzzer target: the server's HTTP/1.1 request parser (server/request_parser.hpp) on any
// bytes, fed in pieces (the first byte sets the piece size, as reads split a request) and as
// pipelined requests, the way the server's connection loop feeds it. A parsed request's views
// must lie in its arena and its path and query must make its target.
#include "server/request_parser.hpp"

#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace fs = flagcrawl::server;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::size_t piece = 1 + data[0] % 64;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    fs::ParsedRequest parsed;
    std::size_t begin = 0;
    for (int requests = 0; requests < 16 && begin < bytes.size(); ++requests) {
        fs::RequestParser parser(parsed);
        parser.header_limit(8192);
        parser.body_limit(1024 * 1024);
        parser.eager(true);
        fs::error_code ec;
        std::size_t end = begin;
        while (begin < bytes.size()) {
            end = std::min(bytes.size(), std::max(end, begin) + piece);
            begin += parser.put(boost::asio::buffer(bytes.data() + begin, end - begin), ec);
            if (ec == fs::http::error::need_more) {
                ec = {};
                if (end == bytes.size()) {
                    return 0; // the input ends inside a request
                }
                continue;
            }
            if (ec || parser.is_done()) {
                break;
            }
        }
        if (ec || !parser.is_done()) {
            return 0;
        }
        const fs::Request request = parsed.request();
        std::string target(request.path);
        if (request.target.find('?') != std::string_view::npos) {
            target += '?';
            target += request.query;
        }
        if (target != request.target || request.method.empty()) {
            std::abort();
        }
    }
    return 0;
}
