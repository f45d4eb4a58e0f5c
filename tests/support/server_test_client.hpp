// A small blocking HTTP/1.1 client for the server tests: raw POSIX sockets with poll() timeouts
// (so a misbehaving server fails a test instead of hanging it), responses parsed by Beast.
#pragma once

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

namespace flagcrawl::server::testing {

namespace http = boost::beast::http;

struct Response {
    int status = 0;
    http::fields headers;
    std::string body;
    bool keep_alive = false;
    std::string header(std::string_view name) const {
        const auto it = headers.find(boost::core::string_view(name.data(), name.size()));
        return it == headers.end() ? std::string() : std::string(it->value());
    }
};

// How reading a response ended when it did not produce one.
enum class ReadError { none, closed, reset, timeout, malformed };

inline const char* to_string(ReadError e) {
    switch (e) {
    case ReadError::none:
        return "none";
    case ReadError::closed:
        return "closed";
    case ReadError::reset:
        return "reset";
    case ReadError::timeout:
        return "timeout";
    case ReadError::malformed:
        return "malformed";
    }
    return "?";
}

class TestClient {
public:
    explicit TestClient(std::uint16_t port,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10))
        : m_port(port)
        , m_timeout(timeout) {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (m_fd < 0)
            throw std::runtime_error("socket() failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(m_fd);
            throw std::runtime_error("connect() failed");
        }
        int one = 1;
        ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~TestClient() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    TestClient(const TestClient&) = delete;
    TestClient& operator=(const TestClient&) = delete;

    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Sends "METHOD target HTTP/1.1", "Host: 127.0.0.1:PORT" and `extra` header lines
    // ("K: V\r\n").
    bool send_request(std::string_view method, std::string_view target,
                      std::string_view extra = {}) {
        std::string request(method);
        request.append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1:");
        request.append(std::to_string(m_port)).append("\r\n");
        request.append(extra).append("\r\n");
        return send(request);
    }

    // Reads one response (without a body if it answers a HEAD request).
    std::optional<Response> read_response(bool head = false) {
        m_error = ReadError::none;
        http::response_parser<http::string_body> parser;
        parser.eager(true);
        parser.skip(head);
        parser.body_limit(64 * 1024 * 1024);
        for (;;) {
            if (!m_buffer.empty()) {
                boost::system::error_code ec;
                const auto used =
                    parser.put(boost::asio::buffer(m_buffer.data(), m_buffer.size()), ec);
                m_buffer.erase(0, used);
                if (ec && ec != http::error::need_more) {
                    m_error = ReadError::malformed;
                    return std::nullopt;
                }
                if (parser.is_done())
                    break;
            }
            const ReadError e = fill();
            if (e == ReadError::closed && parser.is_header_done() && parser.need_eof()) {
                boost::system::error_code ec;
                parser.put_eof(ec);
                if (!ec)
                    break;
            }
            if (e != ReadError::none) {
                m_error = e;
                return std::nullopt;
            }
        }
        auto message = parser.release();
        Response response;
        response.status = static_cast<int>(message.result_int());
        response.keep_alive = message.keep_alive();
        response.body = std::move(message.body());
        for (const auto& field : message)
            response.headers.insert(field.name_string(), field.value());
        return response;
    }

    std::optional<Response> get(std::string_view target, std::string_view extra = {}) {
        if (!send_request("GET", target, extra))
            return std::nullopt;
        return read_response();
    }

    // Reads raw bytes until the server closes (or resets, or the timeout passes).
    std::string read_until_close() {
        m_error = ReadError::none;
        for (;;) {
            const ReadError e = fill();
            if (e != ReadError::none) {
                m_error = e;
                std::string all = std::move(m_buffer);
                m_buffer.clear();
                return all;
            }
        }
    }

    ReadError last_error() const { return m_error; }

private:
    // Appends whatever arrives within the timeout to m_buffer.
    ReadError fill() {
        pollfd p{m_fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(m_timeout.count()));
        if (ready == 0)
            return ReadError::timeout;
        char chunk[16 * 1024];
        const ssize_t n = ::recv(m_fd, chunk, sizeof chunk, 0);
        if (n == 0)
            return ReadError::closed;
        if (n < 0)
            return errno == ECONNRESET ? ReadError::reset : ReadError::closed;
        m_buffer.append(chunk, static_cast<std::size_t>(n));
        return ReadError::none;
    }

    int m_fd = -1;
    std::uint16_t m_port;
    std::chrono::milliseconds m_timeout;
    std::string m_buffer;
    ReadError m_error = ReadError::none;
};

} // namespace flagcrawl::server::testing
