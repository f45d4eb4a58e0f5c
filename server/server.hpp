// flagcrawl's embeddable HTTP/1.1 server (GET/HEAD, keep-alive, pipelining): every request is
// answered by a Handler that returns a Reply, which may carry a timer-based delay or a fault
// (reset or close mid-body, close without answering) so that tests can exercise a client.
#pragma once

#include <boost/system/error_code.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace flagcrawl::server {

// Reply bodies are shared and immutable, so static content is never copied per request.
using Body = std::shared_ptr<const std::string>;
Body make_body(std::string bytes);

struct Header {
    std::string name{};
    std::string value{};
};

// What goes wrong on purpose, for clients' tests. The request is read in full first.
enum class Fault {
    none,
    close_without_reply, // close the connection (FIN) without sending a byte
    close_mid_body,      // status line, headers with the full Content-Length, part of the body, FIN
    reset_mid_body,      // the same, then RST (SO_LINGER 0) instead of FIN
    no_status_line,      // the body alone, no status line nor headers (HTTP/0.9), then FIN
};

// A body sent slowly: after the head (and nothing of the body), `bytes` at a time with `every`
// between them. The connection closes after such a reply. bytes 0: sent at once.
struct Drip {
    std::size_t bytes = 0;
    std::chrono::nanoseconds every{0};
};

// How the body is delimited on the wire.
enum class Framing {
    content_length, // Content-Length: N (the default)
    chunked,        // Transfer-Encoding: chunked, the body split into chunks of up to 1000 bytes
    until_close,    // neither header; the server closes the connection after the body
};

// One answer. The server adds Date, Server, Content-Length or Transfer-Encoding and Connection
// itself; headers of those names in `headers` are ignored. The status must be in 200..999
// (anything else becomes a 500); 204 and 304 replies carry no body. HEAD gets the headers a GET
// would get, without the body.
struct Reply {
    int status = 200;
    std::vector<Header> headers{}; // sent in this order, e.g. Content-Type, Location, Retry-After
    Body body{};                   // null: empty body
    std::chrono::nanoseconds delay{0}; // waited on a timer before anything is sent
    Fault fault = Fault::none;
    std::size_t fault_after = k_half; // body bytes sent before a *_mid_body fault
    Framing framing = Framing::content_length;
    Drip drip{};
    bool close = false; // close the connection after this reply ("Connection: close")

    static constexpr std::size_t k_half = static_cast<std::size_t>(-1); // half of the body

    // A reply with a body and its Content-Type.
    static Reply bytes(int status, Body body, std::string content_type);
    // text/plain; charset=utf-8.
    static Reply text(int status, std::string text);
    // A redirect (301, 302, 303, 307, 308) to `location`, as given (relative or absolute).
    static Reply redirect(int status, std::string location);
    // Adds a header; returns *this so that calls chain.
    Reply& with_header(std::string name, std::string value) &;
    Reply&& with_header(std::string name, std::string value) &&;
};

// One parsed request, as the handler sees it (an HTTP/1.1 request without exactly one Host
// header is answered 400 by the server and never reaches a handler). Every view is valid only
// during the handler call.
struct Request {
    std::string_view method{}; // as sent: "GET", "HEAD" (other methods never reach a handler)
    std::string_view target{}; // as sent: "/a/b%20c?x=1"
    std::string_view path{};   // target before '?', not percent-decoded
    std::string_view query{};  // after '?' (without it); empty if none
    unsigned version = 11;     // 10 or 11
    std::span<const std::pair<std::string_view, std::string_view>> headers{}; // as received
    std::uint64_t connection_id = 0;       // unique per accepted connection, from 1
    std::uint64_t index_on_connection = 0; // 0 for the first request of a connection

    bool is_head() const { return method == "HEAD"; }
    // The value of the first header with this name (ASCII case-insensitive); empty if absent.
    std::string_view header(std::string_view name) const;
};

// Thread contract: the handler is called on a server thread, synchronously, once per request
// (never for a malformed request nor for a method other than GET/HEAD, which the server answers
// itself). All requests of one connection go to the same thread, in order. With threads == 1
// every call happens on that one thread, one at a time; with threads > 1 calls run concurrently,
// so a stateful handler must synchronize (atomics, a mutex). A handler must not block (use
// Reply::delay), must not call Server::stop() and is never called once stop() has returned.
// An exception thrown by a handler becomes a 500 reply.
using Handler = std::function<Reply(const Request&)>;

struct ServerOptions {
    std::string host = "127.0.0.1";        // an IPv4/IPv6 address or a name resolved at start()
    std::uint16_t port = 0;                // 0: an ephemeral port, see Server::port()
    int threads = 1;                       // each runs its own event loop over its own connections
    std::chrono::seconds idle_timeout{60}; // a connection waiting that long for a request closes
    std::size_t max_header_bytes = 32 * 1024; // larger request headers: 431 and close
};

// Counters since start(); read them from any thread.
struct ServerStats {
    std::uint64_t connections = 0; // accepted
    std::uint64_t requests = 0;    // answered or faulted (handler replies, 404s, 405s, 400s)
};

// The server. start() binds and listens, then serves on its own background thread(s) until
// stop() or destruction. Thread-safe: port(), base_url(), stats(), stop().
class Server {
public:
    explicit Server(Handler handler, ServerOptions options = {});
    ~Server(); // stop()s, then releases everything; never hangs on pending delayed requests
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds, listens and starts the threads. An error (e.g. address_in_use, or host_not_found
    // for an unresolvable host) leaves the server stopped. Call it once.
    [[nodiscard]] boost::system::error_code start();

    // Closes the listener and every connection (pending delays included) and joins the threads.
    // Idempotent. Throws std::logic_error if called from a server thread (from a handler),
    // where it could only deadlock.
    void stop();

    std::uint16_t port() const { return m_port.load(); } // the bound port once start() succeeded
    std::string host() const { return m_options.host; }
    std::string base_url() const; // "http://127.0.0.1:PORT" (brackets around IPv6), no slash
    ServerStats stats() const;

    struct Impl; // private; in server.cpp

private:
    Handler m_handler;
    ServerOptions m_options;
    std::atomic<std::uint16_t> m_port{0};
    std::atomic<std::uint64_t> m_connections{0};
    std::atomic<std::uint64_t> m_requests{0};
    std::mutex m_stop_mutex; // serializes start() and stop()
    std::unique_ptr<Impl> m_impl;
};

} // namespace flagcrawl::server
