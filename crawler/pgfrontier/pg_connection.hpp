// One asynchronous libpq connection driven by a Boost.Asio executor: the connection is made with
// PQconnectStart/PQconnectPoll and its socket watched with a stream_descriptor, then put in
// pipeline mode, so that a group of statements goes out in one round trip and runs as one
// implicit transaction (the statements up to a pipeline sync). Notifications (LISTEN) are
// collected whenever input is read.
//
// Threads: a PgConnection and everything it returns belong to the thread that runs its
// executor's io_context; nothing here is thread-safe. One coroutine at a time may use it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace flagcrawl::pgfrontier {

namespace asio = boost::asio;

struct PgError {
    enum class Kind {
        connection, // no connection, or it broke: reconnecting may help
        server,     // the server refused a statement (see sqlstate)
    };
    Kind kind = Kind::connection;
    std::string sqlstate; // server errors: the SQLSTATE ("40P01" deadlock, "42P01" no table)
    std::string message;  // one line, from libpq or the server (never holds a password)

    // Worth running again: a lost connection, a deadlock or serialization failure, a server
    // shutting down or starting up.
    bool transient() const;
};

// boost::system::result's value() on an error throws this (a bug: callers check first).
[[noreturn]] void throw_exception_from_error(const PgError& error,
                                             const boost::source_location& location);

template <class T> using PgResult = boost::system::result<T, PgError>;

// The parameters of one statement, sent in binary format: scalars and one-dimensional arrays
// (nullopt elements are SQL NULLs). The SQL names their types with casts ($1::int8[]).
class Params {
public:
    Params& add(std::int64_t value);
    Params& add(std::int32_t value);
    Params& add(bool value);
    Params& add(std::string_view text);
    Params& add(const char* text) { return add(std::string_view(text)); }
    Params& add_null();
    Params& add(const std::vector<std::int64_t>& values);
    Params& add(const std::vector<std::int32_t>& values);
    Params& add(const std::vector<std::int16_t>& values);
    Params& add(const std::vector<bool>& values);
    Params& add(const std::vector<std::string>& values);
    Params& add(const std::vector<std::optional<std::int32_t>>& values);
    Params& add(const std::vector<std::optional<std::string>>& values);

    int size() const { return static_cast<int>(m_values.size()); }
    // For PQsendQueryParams, valid until the next add().
    std::vector<unsigned> types() const { return m_types; }
    std::vector<const char*> values() const;
    std::vector<int> lengths() const;
    std::vector<int> formats() const { return std::vector<int>(m_values.size(), 1); }

private:
    Params& push(unsigned type, std::optional<std::string> bytes);

    std::vector<unsigned> m_types;
    std::vector<std::optional<std::string>> m_values; // network byte order
};

struct Statement {
    std::string sql;
    Params params = {};
};

// The rows of one statement's result, fields in text format.
class Rows {
public:
    Rows() = default;
    explicit Rows(pg_result* result);
    int size() const;    // rows
    int columns() const; // fields per row
    bool empty() const { return size() == 0; }
    bool null(int row, int column) const;
    std::string_view text(int row, int column) const; // "" for NULL
    std::int64_t int64(int row, int column) const;    // 0 for NULL; throws on non-numbers
    double real(int row, int column) const;           // 0 for NULL
    bool boolean(int row, int column) const;          // 't'
    std::uint64_t affected() const;                   // rows an INSERT/UPDATE/DELETE touched

private:
    std::shared_ptr<pg_result> m_result;
};

struct Notification {
    std::string channel;
    std::string payload;
};

class PgConnection {
public:
    // Connects with `conninfo` given to libpq as is (a postgresql:// URI or key=value pairs:
    // sslmode, passfile, PGPASSWORD and the other PG* variables apply as in psql). Gives up
    // after `timeout`. The error message is libpq's, on one line.
    static asio::awaitable<PgResult<std::unique_ptr<PgConnection>>>
    connect(std::string conninfo, std::chrono::milliseconds timeout);

    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    // Sends `statements` in one pipeline ending in one sync and waits for all their results:
    // one round trip, one implicit transaction (everything commits at the sync, or nothing
    // does). Use no BEGIN/COMMIT. A statement with parameters is prepared on the connection the
    // first time its text is sent (in the same pipeline) and executed by name from then on: the
    // server parses and plans the batches' large statements once per connection, not per batch. The
    // first failing statement's error is returned (later ones were skipped by the server). A
    // connection error leaves the connection unusable (broken()). The statements must outlive the
    // call (co_await it at once). GCC 12 destroys temporaries in a co_await expression twice:
    // coroutines here pass named objects, never temporaries.
    asio::awaitable<PgResult<std::vector<Rows>>> run(const std::vector<Statement>& statements);
    // One statement on its own.
    asio::awaitable<PgResult<Rows>> run(const Statement& statement);

    // Waits until the server sends something (a notification), then reads it. Cancel it (the
    // `||` of awaitable_operators does) to stop waiting. An error: the connection broke.
    asio::awaitable<PgResult<void>> wait_readable();
    // The notifications read so far, oldest first; taking them empties the list.
    std::vector<Notification> take_notifications();

    bool broken() const;
    // The server's process id for this session (tests use it to end the session).
    int backend_pid() const;

private:
    PgConnection(pg_conn* conn, asio::posix::stream_descriptor socket);
    PgResult<void> consume();
    PgError connection_error() const;

    pg_conn* m_conn;
    asio::posix::stream_descriptor m_socket; // a duplicate of libpq's socket, ours to close
    std::vector<Notification> m_notifications;
    bool m_broken = false;
    // Statement texts prepared on this connection (or being prepared), with their names.
    std::unordered_map<std::string, std::string> m_prepared;
    std::uint64_t m_names = 0; // names given so far: each name once per connection
};

// Whether libpq can parse `conninfo`: nullopt when it can, else why not, with any quoted part
// of libpq's reason left out (it may quote the password).
std::optional<std::string> conninfo_problem(const std::string& conninfo);
// The server a connection string names, for messages: "crawler@db.lan:5432/flagcrawl" (user,
// host or socket folder, port, database, as far as given; never the password).
std::string conninfo_target(const std::string& conninfo);
// A failed connect() as the user reads it: "cannot connect to crawler@db.lan/flagcrawl: ...",
// or libpq's reason alone for a string it cannot parse.
std::string connect_failure(const std::string& conninfo, const PgError& error);

} // namespace flagcrawl::pgfrontier
