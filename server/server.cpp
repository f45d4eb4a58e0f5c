// The HTTP/1.1 server: one io_context per thread, an acceptor on the first that hands
// connections round-robin to the others, one coroutine per connection. Requests are parsed with
// Beast's basic_parser (validation, chunked request bodies, keep-alive rules) into a
// per-connection arena; replies are serialized by hand into one writev (head + shared body).
#include "server/server.hpp"

#include "server/request_parser.hpp"

#include "util/ascii.hpp"
#include "util/http_reason.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <stdexcept>

namespace flagcrawl::server {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

Body make_body(std::string bytes) {
    return std::make_shared<const std::string>(std::move(bytes));
}

Reply Reply::bytes(int status, Body body, std::string content_type) {
    Reply reply;
    reply.status = status;
    reply.body = std::move(body);
    reply.headers.push_back({"Content-Type", std::move(content_type)});
    return reply;
}

Reply Reply::text(int status, std::string text) {
    return bytes(status, make_body(std::move(text)), "text/plain; charset=utf-8");
}

Reply Reply::redirect(int status, std::string location) {
    Reply reply = text(status, "redirecting to " + location + "\n");
    reply.headers.push_back({"Location", std::move(location)});
    return reply;
}

Reply& Reply::with_header(std::string name, std::string value) & {
    headers.push_back({std::move(name), std::move(value)});
    return *this;
}

Reply&& Reply::with_header(std::string name, std::string value) && {
    headers.push_back({std::move(name), std::move(value)});
    return std::move(*this);
}

std::string_view Request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (util::iequals(key, name)) {
            return value;
        }
    }
    return {};
}

namespace {

constexpr std::size_t k_initial_buffer = 8 * 1024;
constexpr std::uint64_t k_max_request_body = 1024 * 1024; // bodies of GETs are read and dropped
constexpr std::size_t k_chunk_size = 1000;
constexpr auto k_linger = std::chrono::seconds(2); // reading leftovers after "Connection: close"

std::size_t host_fields(const Request& request) {
    std::size_t count = 0;
    for (const auto& field : request.headers) {
        count += util::iequals(field.first, "Host");
    }
    return count;
}

bool status_has_body(int status) {
    return status >= 200 && status != 204 && status != 304;
}

// Headers the server writes itself; a handler's headers of these names are dropped.
bool is_reserved_header(std::string_view name) {
    return util::iequals(name, "Content-Length") || util::iequals(name, "Transfer-Encoding") ||
           util::iequals(name, "Connection") || util::iequals(name, "Date") ||
           util::iequals(name, "Server");
}

void append_number(std::string& out, std::uint64_t value, int base = 10) {
    char digits[24];
    auto result = std::to_chars(digits, digits + sizeof digits, value, base);
    out.append(digits, result.ptr);
}

// "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" (RFC 9110 IMF-fixdate), locale-independent.
std::string date_line() {
    static constexpr const char* k_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                  k_days[tm.tm_wday % 7], tm.tm_mday, k_months[tm.tm_mon % 12], tm.tm_year + 1900,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    return text;
}

struct Connection {
    explicit Connection(tcp::socket s)
        : socket(std::move(s))
        , timer(socket.get_executor()) {}
    void close() {
        error_code ignored;
        socket.close(ignored);
        timer.cancel();
    }
    tcp::socket socket;
    asio::steady_timer timer;                              // reply delays
    Clock::time_point deadline = Clock::time_point::max(); // the sweep closes it after this
    std::size_t slot = 0;                                  // index in Worker::connections
};

// One event loop and everything it owns. Fields are touched only on the worker's thread, except
// `ioc` (thread-safe) and `thread` (start/stop).
struct Worker {
    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
    asio::steady_timer sweep{ioc};
    std::vector<Connection*> connections;
    std::string date = date_line(); // refreshed every second by the sweep
    bool stopping = false;
    std::thread thread;
};

// Keeps a connection listed in its worker for the lifetime of its coroutine.
class Registration {
public:
    Registration(Worker& worker, Connection& connection)
        : m_worker(worker)
        , m_conn(connection) {
        m_conn.slot = m_worker.connections.size();
        m_worker.connections.push_back(&m_conn);
    }
    ~Registration() {
        auto& list = m_worker.connections;
        list[m_conn.slot] = list.back();
        list[m_conn.slot]->slot = m_conn.slot;
        list.pop_back();
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

private:
    Worker& m_worker;
    Connection& m_conn;
};

// The serialized reply of one request: the head and the body bytes to send (a view of the
// shared body, or of `chunked`).
struct Wire {
    std::string head;
    std::string chunked;
    std::string_view body;
};

void serialize(Wire& wire, const Reply& reply, const Request& request, bool keep_alive,
               std::string_view date) {
    std::string& head = wire.head;
    head.clear();
    head.append("HTTP/1.1 ");
    append_number(head, static_cast<std::uint64_t>(reply.status));
    head.push_back(' ');
    const std::string_view reason = util::http_reason(reply.status);
    head.append(reason.empty() ? "Unknown" : reason);
    head.append("\r\n");
    head.append(date);
    head.append("Server: flagcrawl\r\n");
    for (const auto& header : reply.headers) {
        if (is_reserved_header(header.name)) {
            continue;
        }
        head.append(header.name);
        head.append(": ");
        head.append(header.value);
        head.append("\r\n");
    }
    const std::string_view body =
        reply.body && status_has_body(reply.status) ? std::string_view(*reply.body) : "";
    wire.body = {};
    if (status_has_body(reply.status)) {
        switch (reply.framing) {
        case Framing::content_length:
            head.append("Content-Length: ");
            append_number(head, body.size());
            head.append("\r\n");
            wire.body = body;
            break;
        case Framing::chunked:
            head.append("Transfer-Encoding: chunked\r\n");
            wire.chunked.clear();
            for (std::size_t at = 0; at < body.size(); at += k_chunk_size) {
                const auto piece = body.substr(at, k_chunk_size);
                append_number(wire.chunked, piece.size(), 16);
                wire.chunked.append("\r\n");
                wire.chunked.append(piece);
                wire.chunked.append("\r\n");
            }
            wire.chunked.append("0\r\n\r\n");
            wire.body = wire.chunked;
            break;
        case Framing::until_close:
            wire.body = body;
            break;
        }
    }
    if (!keep_alive) {
        head.append("Connection: close\r\n");
    } else if (request.version == 10) {
        head.append("Connection: keep-alive\r\n");
    }
    head.append("\r\n");
    if (request.is_head()) {
        wire.body = {};
    }
}

// Request bytes read from a connection and not parsed yet: buffer[begin, end).
struct ReadBuffer {
    std::vector<char> bytes = std::vector<char>(k_initial_buffer);
    std::size_t begin = 0;
    std::size_t end = 0;

    // Makes room at the end (compacting, then growing up to `max`); false when full.
    bool make_room(std::size_t max) {
        if (begin == end) {
            begin = end = 0;
        } else if (end == bytes.size()) {
            if (begin > 0) {
                std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(begin),
                          bytes.begin() + static_cast<std::ptrdiff_t>(end), bytes.begin());
                end -= begin;
                begin = 0;
            } else if (bytes.size() < max) {
                bytes.resize(std::min(bytes.size() * 2, max));
            } else {
                return false;
            }
        }
        return true;
    }
};

} // namespace

struct Server::Impl {
    explicit Impl(Server& server)
        : m_server(server) {}

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> sweep_loop(Worker& worker);
    // One connection: requests read, dispatched and answered in turn until either side closes.
    asio::awaitable<void> serve(Worker& worker, tcp::socket socket);
    enum class Read { request, closed };
    // Parses the next request from the connection into `parser`; closed when the client went
    // away, the server is stopping, or the request was malformed (answered, then closed).
    asio::awaitable<Read> read_request(Worker& worker, Connection& conn, ReadBuffer& in,
                                       RequestParser& parser);
    // Sends `reply` (its delay, drip and fault included); false when the connection is done.
    asio::awaitable<bool> send_reply(Worker& worker, Connection& conn, const Reply& reply,
                                     const Request& request, bool keep_alive, Wire& wire);
    asio::awaitable<void> reply_and_close(Connection& conn, Worker& worker, int status,
                                          std::string_view text);
    asio::awaitable<void> linger_close(Connection& conn);
    Reply dispatch(const Request& request);

    Server& m_server;
    std::vector<std::unique_ptr<Worker>> m_workers;   // destroyed after the acceptor
    std::optional<tcp::acceptor> m_acceptor;          // on m_workers[0]
    std::optional<asio::steady_timer> m_accept_retry; // backs off after EMFILE and the like
    std::atomic<bool> m_stopping{false};
    std::atomic<std::uint64_t> m_next_connection_id{1};
    std::size_t m_next_worker = 0; // accept loop only
    bool m_joined = false;         // under Server::m_stop_mutex
};

asio::awaitable<void> Server::Impl::accept_loop() {
    error_code ec;
    for (;;) {
        Worker& target = *m_workers[m_next_worker];
        m_next_worker = (m_next_worker + 1) % m_workers.size();
        tcp::socket socket = co_await m_acceptor->async_accept(
            target.ioc, asio::redirect_error(asio::use_awaitable, ec));
        if (m_stopping.load() || ec == asio::error::operation_aborted || !m_acceptor->is_open()) {
            co_return;
        }
        if (ec == asio::error::connection_aborted) {
            continue; // the client gave up while in the backlog
        }
        if (ec) {
            // Out of descriptors or memory: try again soon rather than spinning.
            m_accept_retry->expires_after(std::chrono::milliseconds(50));
            co_await m_accept_retry->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (m_stopping.load()) {
                co_return;
            }
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        ++m_server.m_connections;
        asio::co_spawn(target.ioc, serve(target, std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> Server::Impl::sweep_loop(Worker& worker) {
    error_code ec;
    for (;;) {
        worker.sweep.expires_after(std::chrono::seconds(1));
        co_await worker.sweep.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || worker.stopping) {
            co_return;
        }
        worker.date = date_line();
        const auto now = Clock::now();
        for (Connection* conn : worker.connections) {
            if (conn->deadline < now) {
                conn->close();
            }
        }
    }
}

Reply Server::Impl::dispatch(const Request& request) {
    if (request.method != "GET" && request.method != "HEAD") {
        return Reply::text(405, "method not allowed\n").with_header("Allow", "GET, HEAD");
    }
    try {
        Reply reply = m_server.m_handler(request);
        if (reply.status < 200 || reply.status > 999) {
            return Reply::text(500, "internal server error: the handler returned status " +
                                        std::to_string(reply.status) + "\n");
        }
        return reply;
    } catch (const std::exception& e) {
        return Reply::text(500, std::string("internal server error: ") + e.what() + "\n");
    } catch (...) {
        return Reply::text(500, "internal server error\n");
    }
}

asio::awaitable<void> Server::Impl::linger_close(Connection& conn) {
    // Half-close, then drain what the client still sends until it closes (or the deadline), so
    // that unread request bytes do not make the kernel reset the connection under our reply.
    error_code ec;
    conn.socket.shutdown(tcp::socket::shutdown_send, ec);
    conn.deadline = Clock::now() + k_linger;
    std::array<char, 4096> sink;
    for (int i = 0; i < 256 && !ec; ++i) {
        co_await conn.socket.async_read_some(asio::buffer(sink),
                                             asio::redirect_error(asio::use_awaitable, ec));
    }
    conn.close();
}

asio::awaitable<void> Server::Impl::reply_and_close(Connection& conn, Worker& worker, int status,
                                                    std::string_view text) {
    Reply reply = Reply::text(status, std::string(text));
    Request request; // HTTP/1.1 GET: the reply gets a body
    Wire wire;
    serialize(wire, reply, request, false, worker.date);
    ++m_server.m_requests;
    error_code ec;
    conn.deadline = Clock::now() + m_server.m_options.idle_timeout;
    co_await asio::async_write(
        conn.socket,
        std::array<asio::const_buffer, 2>{asio::buffer(wire.head), asio::buffer(wire.body)},
        asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
        co_await linger_close(conn);
    }
}

asio::awaitable<Server::Impl::Read> Server::Impl::read_request(Worker& worker, Connection& conn,
                                                               ReadBuffer& in,
                                                               RequestParser& parser) {
    const ServerOptions& options = m_server.m_options;
    error_code ec;
    for (;;) {
        if (in.begin < in.end) {
            in.begin += parser.put(asio::buffer(in.bytes.data() + in.begin, in.end - in.begin), ec);
            if (ec != http::error::need_more && (ec || parser.is_done())) {
                break;
            }
            ec = {};
        }
        if (!in.make_room(options.max_header_bytes + k_initial_buffer)) {
            ec = http::error::header_limit;
            break;
        }
        conn.deadline = Clock::now() + options.idle_timeout;
        const std::size_t n = co_await conn.socket.async_read_some(
            asio::buffer(in.bytes.data() + in.end, in.bytes.size() - in.end),
            asio::redirect_error(asio::use_awaitable, ec));
        if (ec || worker.stopping) {
            co_return Read::closed; // the client closed or reset, the sweep or stop() closed it
        }
        in.end += n;
    }
    if (!ec) {
        co_return Read::request;
    }
    if (ec == http::error::header_limit) {
        co_await reply_and_close(conn, worker, 431, "request header too large\n");
    } else if (ec == http::error::body_limit) {
        co_await reply_and_close(conn, worker, 413, "request body too large\n");
    } else {
        co_await reply_and_close(conn, worker, 400, "bad request\n");
    }
    co_return Read::closed;
}

asio::awaitable<bool> Server::Impl::send_reply(Worker& worker, Connection& conn, const Reply& reply,
                                               const Request& request, bool keep_alive,
                                               Wire& wire) {
    error_code ec;
    if (reply.delay > std::chrono::nanoseconds::zero()) {
        conn.deadline = Clock::time_point::max();
        conn.timer.expires_after(reply.delay);
        co_await conn.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || worker.stopping) {
            co_return false;
        }
    }
    if (reply.fault == Fault::close_without_reply) {
        conn.socket.shutdown(tcp::socket::shutdown_both, ec);
        co_return false;
    }
    const bool mid_body_fault =
        reply.fault == Fault::close_mid_body || reply.fault == Fault::reset_mid_body;
    serialize(wire, reply, request, keep_alive, worker.date);
    std::string_view head = wire.head;
    std::string_view body = wire.body;
    if (reply.fault == Fault::no_status_line) {
        head = {};
    }
    if (mid_body_fault) {
        const std::size_t cut =
            reply.fault_after == Reply::k_half ? body.size() / 2 : reply.fault_after;
        body = body.substr(0, std::min(cut, body.size()));
    }
    const std::size_t first = reply.drip.bytes == 0 ? body.size() : 0;
    conn.deadline = Clock::now() + m_server.m_options.idle_timeout;
    co_await asio::async_write(
        conn.socket,
        std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(body.substr(0, first))},
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        co_return false;
    }
    for (std::size_t at = first; at < body.size(); at += reply.drip.bytes) {
        conn.deadline = Clock::time_point::max();
        conn.timer.expires_after(reply.drip.every);
        co_await conn.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || worker.stopping) {
            co_return false;
        }
        co_await asio::async_write(conn.socket, asio::buffer(body.substr(at, reply.drip.bytes)),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return false; // the client gave up
        }
    }
    if (reply.fault == Fault::reset_mid_body) {
        // close(), not the destructor: Asio clears a user's SO_LINGER when it destroys a socket,
        // which would turn the reset into a FIN.
        conn.socket.set_option(asio::socket_base::linger(true, 0), ec);
        conn.socket.close(ec);
        co_return false;
    }
    if (mid_body_fault || reply.fault == Fault::no_status_line) {
        conn.socket.shutdown(tcp::socket::shutdown_send, ec);
        co_return false; // the Connection's destructor closes the socket
    }
    if (!keep_alive) {
        co_await linger_close(conn);
        co_return false;
    }
    co_return true;
}

asio::awaitable<void> Server::Impl::serve(Worker& worker, tcp::socket socket) {
    Connection conn(std::move(socket));
    if (worker.stopping) {
        co_return;
    }
    Registration registration(worker, conn);
    const std::uint64_t connection_id = m_next_connection_id++;
    ReadBuffer in;
    ParsedRequest parsed;
    Wire wire;
    for (std::uint64_t index = 0;; ++index) {
        RequestParser parser(parsed);
        parser.header_limit(static_cast<std::uint32_t>(m_server.m_options.max_header_bytes));
        parser.body_limit(k_max_request_body);
        parser.eager(true);
        if (co_await read_request(worker, conn, in, parser) == Read::closed) {
            co_return;
        }
        Request request = parsed.request();
        request.connection_id = connection_id;
        request.index_on_connection = index;
        if (request.version >= 11 && host_fields(request) != 1) { // RFC 9112, section 3.2
            co_await reply_and_close(conn, worker, 400, "bad request: one Host header needed\n");
            co_return;
        }
        const Reply reply = dispatch(request);
        ++m_server.m_requests;
        const bool keep_alive = parser.keep_alive() && !reply.close && reply.fault == Fault::none &&
                                reply.drip.bytes == 0 && reply.framing != Framing::until_close &&
                                !worker.stopping;
        if (!co_await send_reply(worker, conn, reply, request, keep_alive, wire)) {
            co_return;
        }
    }
}

Server::Server(Handler handler, ServerOptions options)
    : m_handler(std::move(handler))
    , m_options(std::move(options)) {
    if (!m_handler) {
        throw std::invalid_argument("flagcrawl::server::Server needs a handler");
    }
    if (m_options.threads < 1) {
        m_options.threads = 1;
    }
}

Server::~Server() {
    stop();
}

boost::system::error_code Server::start() {
    std::lock_guard lock(m_stop_mutex);
    if (m_impl) {
        throw std::logic_error("flagcrawl::server::Server::start called twice");
    }
    auto impl = std::make_unique<Impl>(*this);
    for (int i = 0; i < m_options.threads; ++i) {
        impl->m_workers.push_back(std::make_unique<Worker>());
    }
    asio::io_context& first = impl->m_workers.front()->ioc;

    error_code ec;
    asio::ip::address address = asio::ip::make_address(m_options.host, ec);
    if (ec) {
        tcp::resolver resolver(first);
        auto results = resolver.resolve(m_options.host, "", ec);
        if (ec) {
            return ec;
        }
        if (results.empty()) {
            return asio::error::host_not_found;
        }
        address = results.begin()->endpoint().address();
    }
    const tcp::endpoint endpoint(address, m_options.port);
    tcp::acceptor& acceptor = impl->m_acceptor.emplace(first);
    acceptor.open(endpoint.protocol(), ec);
    if (ec) {
        return ec;
    }
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) {
        return ec;
    }
    acceptor.bind(endpoint, ec);
    if (ec) {
        return ec;
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return ec;
    }
    m_port = acceptor.local_endpoint(ec).port();
    if (ec) {
        return ec;
    }
    impl->m_accept_retry.emplace(first);

    asio::co_spawn(first, impl->accept_loop(), asio::detached);
    for (auto& worker : impl->m_workers) {
        asio::co_spawn(worker->ioc, impl->sweep_loop(*worker), asio::detached);
        worker->thread = std::thread([w = worker.get()] {
            for (;;) {
                try {
                    w->ioc.run();
                    return;
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "flagcrawl server: %s\n", e.what());
                }
            }
        });
    }
    m_impl = std::move(impl);
    return {};
}

void Server::stop() {
    std::lock_guard lock(m_stop_mutex);
    if (!m_impl || m_impl->m_joined) {
        return;
    }
    Impl& impl = *m_impl;
    for (const auto& worker : impl.m_workers) {
        if (worker->thread.get_id() == std::this_thread::get_id()) {
            throw std::logic_error("flagcrawl::server::Server::stop called from a server thread");
        }
    }
    impl.m_stopping = true;
    for (auto& worker : impl.m_workers) {
        asio::post(worker->ioc, [&impl, w = worker.get()] {
            w->stopping = true;
            w->sweep.cancel();
            if (w == impl.m_workers.front().get()) {
                error_code ignored;
                impl.m_acceptor->close(ignored);
                impl.m_accept_retry->cancel();
            }
            for (Connection* conn : w->connections) {
                conn->close();
            }
            w->guard.reset();
        });
    }
    for (auto& worker : impl.m_workers) {
        if (worker->thread.joinable()) {
            worker->thread.join();
        }
    }
    impl.m_joined = true;
}

std::string Server::base_url() const {
    const bool v6 = m_options.host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + m_options.host + "]" : m_options.host) + ":" +
           std::to_string(port());
}

ServerStats Server::stats() const {
    return {m_connections.load(), m_requests.load()};
}

} // namespace flagcrawl::server
