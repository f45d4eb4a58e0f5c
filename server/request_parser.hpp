// The HTTP/1.1 request parser of the server: Beast's basic_parser keeping the request line
// and fields (copied into an arena a connection reuses) and dropping any request body. Apart
// from server.cpp so that a fuzz target can feed it bytes (fuzz/fuzz_http_request.cpp).
#pragma once

#include "server/server.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flagcrawl::server {

namespace http = boost::beast::http;
using boost::system::error_code;

// The request as parsed: strings copied into one arena that a connection reuses, so a
// keep-alive connection does not allocate per request once warm.
struct ParsedRequest {
    struct Slice {
        std::uint32_t offset = 0;
        std::uint32_t size = 0;
    };
    std::string arena;
    Slice method;
    Slice target;
    unsigned version = 11;
    std::vector<std::pair<Slice, Slice>> fields;
    std::vector<std::pair<std::string_view, std::string_view>> views;

    void clear() {
        arena.clear();
        fields.clear();
    }
    Slice append(boost::core::string_view text) {
        Slice slice{static_cast<std::uint32_t>(arena.size()),
                    static_cast<std::uint32_t>(text.size())};
        arena.append(text.data(), text.size());
        return slice;
    }
    std::string_view view(Slice slice) const {
        return std::string_view(arena).substr(slice.offset, slice.size);
    }
    // Valid until the next clear() or append().
    Request request() {
        views.clear();
        for (const auto& [name, value] : fields) {
            views.emplace_back(view(name), view(value));
        }
        Request request;
        request.method = view(method);
        request.target = view(target);
        const auto query_at = request.target.find('?');
        request.path = request.target.substr(0, query_at);
        if (query_at != std::string_view::npos) {
            request.query = request.target.substr(query_at + 1);
        }
        request.version = version;
        request.headers = views;
        return request;
    }
};

// Beast's parser, keeping the request line and fields and dropping any request body.
class RequestParser final : public http::basic_parser<true> {
public:
    explicit RequestParser(ParsedRequest& out)
        : m_out(out) {
        m_out.clear();
    }

private:
    void on_request_impl(http::verb, boost::core::string_view method,
                         boost::core::string_view target, int version, error_code&) override {
        m_out.method = m_out.append(method);
        m_out.target = m_out.append(target);
        m_out.version = static_cast<unsigned>(version);
    }
    void on_response_impl(int, boost::core::string_view, int, error_code& ec) override {
        ec = http::error::bad_version; // never called for a request parser
    }
    void on_field_impl(http::field, boost::core::string_view name, boost::core::string_view value,
                       error_code&) override {
        m_out.fields.emplace_back(m_out.append(name), m_out.append(value));
    }
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
    std::size_t on_body_impl(boost::core::string_view body, error_code&) override {
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, boost::core::string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, boost::core::string_view body,
                                   error_code&) override {
        return body.size();
    }
    void on_finish_impl(error_code&) override {}

    ParsedRequest& m_out;
};

} // namespace flagcrawl::server
