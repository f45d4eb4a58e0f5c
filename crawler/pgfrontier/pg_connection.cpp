#include "crawler/pgfrontier/pg_connection.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <libpq-fe.h>

#include <dlfcn.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace flagcrawl::pgfrontier {
namespace {

using namespace asio::experimental::awaitable_operators;

// ---- libpq, loaded on first use ----
//
// libpq is opened with dlopen when a shared crawl first needs it instead of being linked: loaded
// with the program it would come with OpenSSL's libssl, and their start-up (relocations, symbol
// lookups, initialisation) kept 0.4-0.8 MiB of a crawl resident (ARCHITECTURE.md, "Memory").
// Every function is looked up at once: a libpq that lacks one (pipeline mode needs libpq 14) is
// a connection error, not a crash at the first call. The library stays loaded until exit.
#define FLAGCRAWL_LIBPQ_FUNCTIONS(X)                                                               \
    X(PQbackendPID)                                                                                \
    X(PQclear)                                                                                     \
    X(PQcmdTuples)                                                                                 \
    X(PQconnectPoll)                                                                               \
    X(PQconnectStartParams)                                                                        \
    X(PQconninfoFree)                                                                              \
    X(PQconninfoParse)                                                                             \
    X(PQconsumeInput)                                                                              \
    X(PQenterPipelineMode)                                                                         \
    X(PQerrorMessage)                                                                              \
    X(PQfinish)                                                                                    \
    X(PQflush)                                                                                     \
    X(PQfreemem)                                                                                   \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetlength)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQisBusy)                                                                                    \
    X(PQnfields)                                                                                   \
    X(PQnotifies)                                                                                  \
    X(PQntuples)                                                                                   \
    X(PQpipelineSync)                                                                              \
    X(PQresultErrorField)                                                                          \
    X(PQresultErrorMessage)                                                                        \
    X(PQresultStatus)                                                                              \
    X(PQsendPrepare)                                                                               \
    X(PQsendQueryParams)                                                                           \
    X(PQsendQueryPrepared)                                                                         \
    X(PQsetNoticeProcessor)                                                                        \
    X(PQsetnonblocking)                                                                            \
    X(PQsocket)                                                                                    \
    X(PQstatus)

struct Libpq {
#define FLAGCRAWL_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
    FLAGCRAWL_LIBPQ_FUNCTIONS(FLAGCRAWL_LIBPQ_POINTER)
#undef FLAGCRAWL_LIBPQ_POINTER
    std::string error; // why libpq is unusable; empty when every function was found
};

// libpq's soname: PostgreSQL keeps it across releases.
constexpr const char* k_libpq_soname = "libpq.so.5";

// Thread-safe: loaded once, by the first caller, and never changed after.
const Libpq& pq() {
    static const Libpq lib = [] {
        Libpq l;
        void* handle = ::dlopen(k_libpq_soname, RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = ::dlerror();
            l.error = std::string("cannot load PostgreSQL's client library, which a shared crawl "
                                  "needs: ") +
                      (why ? why : k_libpq_soname);
            return l;
        }
#define FLAGCRAWL_LIBPQ_LOOKUP(name)                                                               \
    l.name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name));                          \
    if (l.name == nullptr) {                                                                       \
        l.error = std::string("PostgreSQL's client library (") + k_libpq_soname +                  \
                  ") lacks " #name ", which a shared crawl needs (libpq 14 or later)";             \
        return l;                                                                                  \
    }
        FLAGCRAWL_LIBPQ_FUNCTIONS(FLAGCRAWL_LIBPQ_LOOKUP)
#undef FLAGCRAWL_LIBPQ_LOOKUP
        return l;
    }();
    return lib;
}

#undef FLAGCRAWL_LIBPQ_FUNCTIONS

// PostgreSQL type OIDs (pg_type.dat): stable across versions.
constexpr unsigned k_bool = 16, k_int8 = 20, k_int2 = 21, k_int4 = 23, k_text = 25;
constexpr unsigned k_bool_array = 1000, k_int2_array = 1005, k_int4_array = 1007,
                   k_text_array = 1009, k_int8_array = 1016;

void put32(std::string& out, std::uint32_t v) {
    v = htonl(v);
    out.append(reinterpret_cast<const char*>(&v), 4);
}

void put64(std::string& out, std::uint64_t v) {
    put32(out, static_cast<std::uint32_t>(v >> 32));
    put32(out, static_cast<std::uint32_t>(v));
}

// The binary array format (array_recv): dimensions, a has-nulls flag, the element type, then
// each element as a length (-1: NULL) and its bytes.
class ArrayWriter {
public:
    ArrayWriter(unsigned element_type, std::size_t count, bool has_nulls) {
        put32(m_out, count == 0 ? 0 : 1);
        put32(m_out, has_nulls ? 1 : 0);
        put32(m_out, element_type);
        if (count > 0) {
            put32(m_out, static_cast<std::uint32_t>(count));
            put32(m_out, 1); // lower bound
        }
    }
    void null() { put32(m_out, 0xFFFFFFFFu); }
    void int16(std::int16_t v) {
        put32(m_out, 2);
        const std::uint16_t n = htons(static_cast<std::uint16_t>(v));
        m_out.append(reinterpret_cast<const char*>(&n), 2);
    }
    void int32(std::int32_t v) {
        put32(m_out, 4);
        put32(m_out, static_cast<std::uint32_t>(v));
    }
    void int64(std::int64_t v) {
        put32(m_out, 8);
        put64(m_out, static_cast<std::uint64_t>(v));
    }
    void boolean(bool v) {
        put32(m_out, 1);
        m_out.push_back(v ? 1 : 0);
    }
    void text(std::string_view v) {
        put32(m_out, static_cast<std::uint32_t>(v.size()));
        m_out.append(v);
    }
    std::string take() { return std::move(m_out); }

private:
    std::string m_out;
};

// libpq's messages end in '\n' and may span lines ("...failed: ...\n\tIs the server running
// ...?\n"): one line, parts joined with "; ".
std::string one_line(const char* message) {
    std::string out;
    std::string_view rest = message ? message : "";
    while (!rest.empty()) {
        const auto end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            line.remove_prefix(1);
        }
        if (!line.empty()) {
            if (!out.empty()) {
                out += "; ";
            }
            out += line;
        }
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    return out.empty() ? "unknown error" : out;
}

PgError server_error(const PGresult* result) {
    PgError error;
    error.kind = PgError::Kind::server;
    if (const char* state = pq().PQresultErrorField(result, PG_DIAG_SQLSTATE)) {
        error.sqlstate = state;
    }
    const char* primary = pq().PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    error.message = one_line(primary ? primary : pq().PQresultErrorMessage(result));
    // A server going away answers the statement in flight with 57P01 (admin shutdown): the
    // connection is gone with it.
    if (error.sqlstate.starts_with("57P") || error.sqlstate.starts_with("08")) {
        error.kind = PgError::Kind::connection;
    }
    return error;
}

struct ResultDeleter {
    void operator()(PGresult* r) const { pq().PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

} // namespace

bool PgError::transient() const {
    return kind == Kind::connection || sqlstate == "40P01" || sqlstate == "40001" ||
           sqlstate.starts_with("57P") || sqlstate.starts_with("08");
}

void throw_exception_from_error(const PgError& error, const boost::source_location&) {
    throw std::runtime_error("PostgreSQL: " + error.message);
}

// ---- Params ----

Params& Params::push(unsigned type, std::optional<std::string> bytes) {
    m_types.push_back(type);
    m_values.push_back(std::move(bytes));
    return *this;
}

Params& Params::add(std::int64_t value) {
    std::string bytes;
    put64(bytes, static_cast<std::uint64_t>(value));
    return push(k_int8, std::move(bytes));
}

Params& Params::add(std::int32_t value) {
    std::string bytes;
    put32(bytes, static_cast<std::uint32_t>(value));
    return push(k_int4, std::move(bytes));
}

Params& Params::add(bool value) {
    return push(k_bool, std::string(1, value ? 1 : 0));
}

Params& Params::add(std::string_view text) {
    return push(k_text, std::string(text));
}

Params& Params::add_null() {
    return push(0, std::nullopt); // type inferred from the SQL's cast
}

Params& Params::add(const std::vector<std::int64_t>& values) {
    ArrayWriter w(k_int8, values.size(), false);
    for (auto v : values) {
        w.int64(v);
    }
    return push(k_int8_array, w.take());
}

Params& Params::add(const std::vector<std::int32_t>& values) {
    ArrayWriter w(k_int4, values.size(), false);
    for (auto v : values) {
        w.int32(v);
    }
    return push(k_int4_array, w.take());
}

Params& Params::add(const std::vector<std::int16_t>& values) {
    ArrayWriter w(k_int2, values.size(), false);
    for (auto v : values) {
        w.int16(v);
    }
    return push(k_int2_array, w.take());
}

Params& Params::add(const std::vector<bool>& values) {
    ArrayWriter w(k_bool, values.size(), false);
    for (bool v : values) {
        w.boolean(v);
    }
    return push(k_bool_array, w.take());
}

Params& Params::add(const std::vector<std::string>& values) {
    ArrayWriter w(k_text, values.size(), false);
    for (const auto& v : values) {
        w.text(v);
    }
    return push(k_text_array, w.take());
}

Params& Params::add(const std::vector<std::optional<std::int32_t>>& values) {
    bool nulls = false;
    for (const auto& v : values) {
        nulls = nulls || !v;
    }
    ArrayWriter w(k_int4, values.size(), nulls);
    for (const auto& v : values) {
        v ? w.int32(*v) : w.null();
    }
    return push(k_int4_array, w.take());
}

Params& Params::add(const std::vector<std::optional<std::string>>& values) {
    bool nulls = false;
    for (const auto& v : values) {
        nulls = nulls || !v;
    }
    ArrayWriter w(k_text, values.size(), nulls);
    for (const auto& v : values) {
        v ? w.text(*v) : w.null();
    }
    return push(k_text_array, w.take());
}

std::vector<const char*> Params::values() const {
    std::vector<const char*> out;
    out.reserve(m_values.size());
    for (const auto& v : m_values) {
        out.push_back(v ? v->data() : nullptr);
    }
    return out;
}

std::vector<int> Params::lengths() const {
    std::vector<int> out;
    out.reserve(m_values.size());
    for (const auto& v : m_values) {
        out.push_back(v ? static_cast<int>(v->size()) : 0);
    }
    return out;
}

// ---- Rows ----

Rows::Rows(PGresult* result)
    : m_result(result, ResultDeleter{}) {}

int Rows::size() const {
    return m_result ? pq().PQntuples(m_result.get()) : 0;
}

int Rows::columns() const {
    return m_result ? pq().PQnfields(m_result.get()) : 0;
}

bool Rows::null(int row, int column) const {
    return pq().PQgetisnull(m_result.get(), row, column) != 0;
}

std::string_view Rows::text(int row, int column) const {
    return {pq().PQgetvalue(m_result.get(), row, column),
            static_cast<std::size_t>(pq().PQgetlength(m_result.get(), row, column))};
}

std::int64_t Rows::int64(int row, int column) const {
    if (null(row, column)) {
        return 0;
    }
    const std::string_view t = text(row, column);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size()) {
        throw std::logic_error("PostgreSQL: not an integer: " + std::string(t));
    }
    return v;
}

double Rows::real(int row, int column) const {
    if (null(row, column)) {
        return 0;
    }
    return std::strtod(pq().PQgetvalue(m_result.get(), row, column), nullptr);
}

bool Rows::boolean(int row, int column) const {
    return !null(row, column) && text(row, column) == "t";
}

std::uint64_t Rows::affected() const {
    const char* n = m_result ? pq().PQcmdTuples(m_result.get()) : "";
    return n && *n ? std::strtoull(n, nullptr, 10) : 0;
}

// ---- PgConnection ----

PgConnection::PgConnection(PGconn* conn, asio::posix::stream_descriptor socket)
    : m_conn(conn)
    , m_socket(std::move(socket)) {}

PgConnection::~PgConnection() {
    boost::system::error_code ignored;
    m_socket.close(ignored);
    pq().PQfinish(m_conn);
}

asio::awaitable<PgResult<std::unique_ptr<PgConnection>>>
PgConnection::connect(std::string conninfo, std::chrono::milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    if (auto problem = conninfo_problem(conninfo)) {
        co_return PgError{PgError::Kind::connection, "", *problem};
    }
    const char* keys[] = {"dbname", "fallback_application_name", nullptr};
    const char* values[] = {conninfo.c_str(), "flagcrawl", nullptr};
    // expand_dbname: `dbname` is the whole string, a URI or key=value pairs, as psql takes it.
    PGconn* conn = pq().PQconnectStartParams(keys, values, 1);
    auto fail = [&](std::string message) {
        pq().PQfinish(conn);
        return PgError{PgError::Kind::connection, "", std::move(message)};
    };
    if (conn == nullptr) {
        co_return PgError{PgError::Kind::connection, "", "out of memory"};
    }
    if (pq().PQstatus(conn) == CONNECTION_BAD) {
        co_return fail(one_line(pq().PQerrorMessage(conn)));
    }
    asio::steady_timer deadline(executor);
    deadline.expires_after(timeout);
    // libpq's loop: wait as the last poll asked (writable at first), then poll again.
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK && poll != PGRES_POLLING_FAILED) {
        // The socket may change between polls (libpq tries the hosts and addresses in turn):
        // wait on a duplicate of the current one, leaving libpq's own alone.
        const int fd = pq().PQsocket(conn);
        if (fd < 0) {
            co_return fail(one_line(pq().PQerrorMessage(conn)));
        }
        asio::posix::stream_descriptor socket(executor, ::dup(fd));
        boost::system::error_code socket_ec, timer_ec;
        auto waited =
            co_await (socket.async_wait(poll == PGRES_POLLING_READING
                                            ? asio::posix::stream_descriptor::wait_read
                                            : asio::posix::stream_descriptor::wait_write,
                                        asio::redirect_error(asio::use_awaitable, socket_ec)) ||
                      deadline.async_wait(asio::redirect_error(asio::use_awaitable, timer_ec)));
        if (waited.index() == 1) {
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%.1f",
                          std::chrono::duration<double>(timeout).count());
            co_return fail(std::string("timed out after ") + seconds + " s connecting to " +
                           conninfo_target(conninfo));
        }
        poll = pq().PQconnectPoll(conn);
    }
    if (poll == PGRES_POLLING_FAILED) {
        co_return fail(one_line(pq().PQerrorMessage(conn)));
    }
    // The server's notices and warnings ("terminating connection due to administrator
    // command") are not for the user's terminal: errors come back as values.
    pq().PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    if (pq().PQsetnonblocking(conn, 1) != 0 || pq().PQenterPipelineMode(conn) != 1) {
        co_return fail(one_line(pq().PQerrorMessage(conn)));
    }
    // A duplicate of libpq's socket: libpq closes its own when the connection breaks, and a new
    // connection may then get the same number; the reactor must never confuse the two.
    asio::posix::stream_descriptor socket(executor, ::dup(pq().PQsocket(conn)));
    co_return std::unique_ptr<PgConnection>(new PgConnection(conn, std::move(socket)));
}

bool PgConnection::broken() const {
    return m_broken || pq().PQstatus(m_conn) != CONNECTION_OK;
}

int PgConnection::backend_pid() const {
    return pq().PQbackendPID(m_conn);
}

PgError PgConnection::connection_error() const {
    return PgError{PgError::Kind::connection, "", one_line(pq().PQerrorMessage(m_conn))};
}

PgResult<void> PgConnection::consume() {
    if (pq().PQconsumeInput(m_conn) == 0) {
        m_broken = true;
        return connection_error();
    }
    while (PGnotify* n = pq().PQnotifies(m_conn)) {
        m_notifications.push_back({n->relname, n->extra ? n->extra : ""});
        pq().PQfreemem(n);
    }
    return {};
}

std::vector<Notification> PgConnection::take_notifications() {
    return std::exchange(m_notifications, {});
}

asio::awaitable<PgResult<void>> PgConnection::wait_readable() {
    if (broken()) {
        co_return connection_error();
    }
    boost::system::error_code ec;
    co_await m_socket.async_wait(asio::posix::stream_descriptor::wait_read,
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) {
        co_return PgError{PgError::Kind::connection, "", "cancelled"}; // still usable
    }
    if (ec) {
        m_broken = true;
        co_return PgError{PgError::Kind::connection, "", ec.message()};
    }
    co_return consume();
}

asio::awaitable<PgResult<Rows>> PgConnection::run(const Statement& statement) {
    const std::vector<Statement> one = {statement};
    auto rows = co_await run(one);
    if (!rows) {
        co_return rows.error();
    }
    co_return std::move(rows->front());
}

asio::awaitable<PgResult<std::vector<Rows>>>
PgConnection::run(const std::vector<Statement>& statements) {
    if (broken()) {
        co_return connection_error();
    }
    // The texts this pipeline prepares, in the order of their results among the statements'.
    std::vector<const std::string*> preparing;
    std::vector<bool> is_prepare; // per result expected, in order
    for (const Statement& s : statements) {
        const auto types = s.params.types();
        const auto values = s.params.values();
        const auto lengths = s.params.lengths();
        const auto formats = s.params.formats();
        int sent = 0;
        if (s.params.size() == 0) {
            sent = pq().PQsendQueryParams(m_conn, s.sql.c_str(), 0, nullptr, nullptr, nullptr,
                                          nullptr, 0);
        } else {
            auto [named, fresh] = m_prepared.try_emplace(s.sql, "fc" + std::to_string(m_names));
            if (fresh) {
                ++m_names;
                if (pq().PQsendPrepare(m_conn, named->second.c_str(), s.sql.c_str(),
                                       s.params.size(), types.data()) != 1) {
                    m_broken = true;
                    co_return connection_error();
                }
                preparing.push_back(&named->first);
                is_prepare.push_back(true);
            }
            sent = pq().PQsendQueryPrepared(m_conn, named->second.c_str(), s.params.size(),
                                            values.data(), lengths.data(), formats.data(), 0);
        }
        if (sent != 1) {
            m_broken = true;
            co_return connection_error();
        }
        is_prepare.push_back(false);
    }
    if (pq().PQpipelineSync(m_conn) != 1) {
        m_broken = true;
        co_return connection_error();
    }
    // Send it all; while the output buffer is full, read too (the server may be waiting for
    // us to read before it reads more).
    for (;;) {
        const int flushed = pq().PQflush(m_conn);
        if (flushed == 0) {
            break;
        }
        if (flushed < 0) {
            m_broken = true;
            co_return connection_error();
        }
        boost::system::error_code ec;
        co_await m_socket.async_wait(asio::posix::stream_descriptor::wait_write,
                                     asio::redirect_error(asio::use_awaitable, ec));
        if (auto r = consume(); !r) {
            co_return r.error();
        }
    }
    std::vector<Rows> results;
    results.reserve(statements.size());
    std::optional<PgError> first_error;
    std::size_t received = 0;      // results so far, prepares included
    std::size_t prepares_done = 0; // of `preparing`
    // A statement whose preparation failed or was skipped (an earlier error) is prepared again
    // the next time it is sent.
    const auto prepare_ended = [&](bool ok) {
        if (!ok) {
            const std::string text = *preparing[prepares_done];
            m_prepared.erase(text);
        }
        ++prepares_done;
    };
    for (;;) {
        int nulls = 0;
        while (pq().PQisBusy(m_conn) == 0) {
            ResultPtr result(pq().PQgetResult(m_conn));
            if (!result) {
                // The end of one statement's results, and the next one follows; twice in a row
                // means nothing more came yet (or the connection is gone).
                if (pq().PQstatus(m_conn) != CONNECTION_OK) {
                    m_broken = true;
                    co_return connection_error();
                }
                if (++nulls > 1) {
                    break;
                }
                continue;
            }
            nulls = 0;
            const ExecStatusType status = pq().PQresultStatus(result.get());
            if (status != PGRES_PIPELINE_SYNC && received < is_prepare.size() &&
                is_prepare[received++]) {
                prepare_ended(status == PGRES_COMMAND_OK);
                if (status != PGRES_COMMAND_OK && status != PGRES_PIPELINE_ABORTED &&
                    !first_error) {
                    first_error = server_error(result.get());
                }
                continue;
            }
            switch (status) {
            case PGRES_PIPELINE_SYNC:
                if (first_error) {
                    co_return *first_error;
                }
                co_return results;
            case PGRES_TUPLES_OK:
            case PGRES_COMMAND_OK:
                results.emplace_back(result.release());
                break;
            case PGRES_PIPELINE_ABORTED:
                results.emplace_back();
                break;
            default:
                if (!first_error) {
                    first_error = server_error(result.get());
                }
                results.emplace_back();
                if (pq().PQstatus(m_conn) != CONNECTION_OK) {
                    m_broken = true;
                    co_return PgError{PgError::Kind::connection, first_error->sqlstate,
                                      first_error->message};
                }
                break;
            }
        }
        if (broken()) {
            co_return connection_error();
        }
        boost::system::error_code ec;
        co_await m_socket.async_wait(asio::posix::stream_descriptor::wait_read,
                                     asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            m_broken = true;
            co_return PgError{PgError::Kind::connection, "", ec.message()};
        }
        if (auto r = consume(); !r) {
            co_return r.error();
        }
    }
}

// ---- connection strings ----

std::optional<std::string> conninfo_problem(const std::string& conninfo) {
    if (!pq().error.empty()) {
        return pq().error;
    }
    char* error = nullptr;
    PQconninfoOption* options = pq().PQconninfoParse(conninfo.c_str(), &error);
    if (options != nullptr) {
        pq().PQconninfoFree(options);
        return std::nullopt;
    }
    std::string reason = one_line(error);
    pq().PQfreemem(error);
    // Leave out what libpq quotes from the string: it may be the password.
    std::string safe;
    bool quoted = false;
    for (char c : reason) {
        if (c == '"') {
            quoted = !quoted;
            safe += quoted ? "\"...\"" : "";
        } else if (!quoted) {
            safe += c;
        }
    }
    return "not a PostgreSQL connection string (postgresql://user@host/db or key=value pairs): " +
           safe;
}

std::string conninfo_target(const std::string& conninfo) {
    PQconninfoOption* options =
        pq().error.empty() ? pq().PQconninfoParse(conninfo.c_str(), nullptr) : nullptr;
    if (options == nullptr) {
        return "the server";
    }
    std::string user, host, port, db;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        const std::string_view key = o->keyword;
        const std::string value = o->val ? o->val : "";
        if (key == "user") {
            user = value;
        } else if (key == "host") {
            host = value;
        } else if (key == "port") {
            port = value;
        } else if (key == "dbname") {
            db = value;
        }
    }
    pq().PQconninfoFree(options);
    std::string out = user.empty() ? "" : user + "@";
    out += host.empty() ? "localhost" : host;
    out += port.empty() ? "" : ":" + port;
    out += db.empty() ? "" : "/" + db;
    return out;
}

std::string connect_failure(const std::string& conninfo, const PgError& error) {
    if (conninfo_problem(conninfo)) {
        return error.message;
    }
    return "cannot connect to " + conninfo_target(conninfo) + ": " + error.message;
}

} // namespace flagcrawl::pgfrontier
