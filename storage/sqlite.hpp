// A small RAII wrapper around the SQLite C API: one connection (Database), prepared statements
// (Statement) and scoped transactions (Transaction). Expected failures (cannot open, busy, disk
// full, I/O) are values of type Error; misuse and SQL typos are bugs and throw Exception.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace flagcrawl::storage {

// The error category of SQLite result codes; values are SQLite's extended result codes
// (SQLITE_BUSY, SQLITE_FULL, SQLITE_CANTOPEN, ...) and message() is sqlite3_errstr().
const boost::system::error_category& sqlite_category() noexcept;

// An expected failure: the SQLite code and a readable one-line message that names the database
// file and SQLite's reason, e.g.
//   "/data/run.db: cannot open database: unable to open database file (No such file or directory)"
struct Error {
    boost::system::error_code code; // in sqlite_category(), or a generic one for our own checks
    std::string message;

    bool busy() const noexcept;      // another connection held the lock past busy_timeout
    bool disk_full() const noexcept; // SQLITE_FULL
    // An INSERT found a row with the same PRIMARY KEY (SQLITE_CONSTRAINT_PRIMARYKEY); the
    // statement changed nothing and the transaction goes on.
    bool duplicate_key() const noexcept;
};

// Thrown for bugs (SQL that does not prepare, out-of-range bind index, use of a moved-from
// object) and by result<T, Error>::value() when it holds an Error.
class Exception : public std::runtime_error {
public:
    explicit Exception(Error error);
    const Error& error() const noexcept { return m_error; }

private:
    Error m_error;
};

// Found by argument-dependent lookup when result<T, Error>::value() holds an error.
[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location& loc);

template <class T> using Result = boost::system::result<T, Error>;

enum class OpenMode {
    read_write_create, // creates the file if missing; fails if it cannot be written
    read_write,        // the file must exist and be writable
    read_only,         // never writes; the file must exist
};

struct OpenOptions {
    OpenMode mode = OpenMode::read_write_create;
    // How long a statement waits for another connection's lock before failing with "busy".
    std::chrono::milliseconds busy_timeout{5000};
    // Writable connections switch to WAL with synchronous=NORMAL: a crash (even SIGKILL) never
    // corrupts the file and loses at most the last uncommitted transaction; a power loss may
    // also lose the last committed ones.
    bool wal = true;
    // SQLITE_OPEN_NOMUTEX: the connection does no locking of its own, so it must be used by one
    // thread at a time (the writer thread, or a reader owned by one thread). Faster.
    bool single_thread = true;
};

class Statement;

// One SQLite connection. Move-only. The destructor closes the connection and discards any error;
// call close() to see it. Thread safety: with OpenOptions::single_thread (the default) use the
// object from one thread at a time; handing it to another thread needs a happens-before edge
// (e.g. starting that thread). Statements prepared on it must be destroyed before it closes.
class Database {
public:
    // Opens (and for writable modes, checks it can actually write to) the file. Fails with a
    // message naming the file for: a missing folder, an unwritable path, a file that is not a
    // database, a lock held past busy_timeout.
    static Result<Database> open(const std::string& path, const OpenOptions& options = {});

    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    // Closes the connection; reports SQLite's error (e.g. unfinalized statements, I/O on the
    // final checkpoint). Afterwards the object is empty; closing twice is a no-op.
    Result<void> close();

    // Switches a writable connection to WAL with synchronous=NORMAL (OpenOptions::wal), for a
    // caller that opened with wal = false to look at the file first: the switch writes to the
    // file and leaves -wal/-shm files beside it, which a file that is not ours must not get.
    Result<void> use_wal();

    // Runs one or more SQL statements that return no rows needed (DDL, PRAGMAs, BEGIN, ...).
    Result<void> exec(std::string_view sql);

    // Prepares a statement; throws Exception if the SQL does not compile (a bug).
    Statement prepare(std::string_view sql);

    // Runs a query that returns one integer in its first column (e.g. "PRAGMA user_version").
    Result<std::int64_t> query_int(std::string_view sql);

    std::int64_t last_insert_rowid() const noexcept;
    std::int64_t changes() const noexcept; // rows changed by the latest INSERT/UPDATE/DELETE
    bool is_open() const noexcept { return m_db != nullptr; }
    const std::string& path() const noexcept;
    sqlite3* handle() const noexcept { return m_db; }

    // The Error for the connection's latest failure: its extended code and message, prefixed
    // with the file name and `what` ("cannot commit", ...).
    Error last_error(std::string_view what) const;

private:
    Database(sqlite3* db, std::string path) noexcept
        : m_db(db)
        , m_path(std::make_shared<const std::string>(std::move(path))) {}

    sqlite3* m_db = nullptr;
    std::shared_ptr<const std::string> m_path; // shared with its statements, for messages
};

// A prepared statement, reusable: bind, step until done, reset, bind again. Move-only; the
// destructor finalizes it. Bind indexes and column indexes follow SQLite: binds start at 1,
// columns at 0. Text is bound by copy (except bind_view), so arguments need not outlive the
// call. Column text views stay valid until the next step(), reset() or destruction. Same thread
// rules as its Database; it may outlive moves of its Database, and should be destroyed before
// the Database closes (close() reports it otherwise).
class Statement {
public:
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Binding: integers of any width (a uint64 above INT64_MAX throws), double, text, NULL
    // (std::nullopt) and std::optional<T> (NULL when empty). A bad index throws.
    void bind(int index, std::int64_t value);
    template <std::integral T> void bind(int index, T value) { bind(index, to_int64(value)); }
    void bind(int index, double value);
    void bind(int index, std::string_view text);
    void bind(int index, const std::string& text) { bind(index, std::string_view(text)); }
    void bind(int index, const char* text) { bind(index, std::string_view(text)); }
    void bind(int index, std::nullopt_t);
    // Binds text WITHOUT copying it: `text` must stay alive and unchanged until the statement
    // has been stepped to completion and every parameter rebound. For hot paths only (the
    // writer binds fields of the record it is applying).
    void bind_view(int index, std::string_view text);
    void bind_view(int index, const std::string& text) { bind_view(index, std::string_view(text)); }
    void bind_view(int index, const std::optional<std::string>& text);
    // Binds bytes as a BLOB without copying them (same lifetime rule as bind_view).
    void bind_blob_view(int index, std::string_view bytes);
    template <class T> void bind(int index, const std::optional<T>& value) {
        if (value) {
            bind(index, *value);
        } else {
            bind(index, std::nullopt);
        }
    }
    // Binds the arguments to indexes 1, 2, 3, ...
    template <class... Args> void bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
    }

    // Advances: true when a row is available, false when the statement is done.
    Result<bool> step();
    // Steps until done and resets: for statements that return no rows (INSERT, UPDATE, ...).
    Result<void> run();
    // Makes the statement runnable again; bindings are kept until rebound or clear_bindings().
    void reset() noexcept;
    void clear_bindings() noexcept;

    int column_count() const noexcept;
    std::string_view column_name(int column) const;
    bool is_null(int column) const noexcept;
    std::int64_t column_int64(int column) const noexcept; // NULL reads as 0
    double column_double(int column) const noexcept;      // NULL reads as 0.0
    std::string_view column_text(int column) const;       // NULL reads as ""
    std::string_view column_blob(int column) const;       // NULL reads as ""
    std::optional<std::int64_t> column_optional_int64(int column) const noexcept;
    std::optional<double> column_optional_double(int column) const noexcept;
    std::optional<std::string> column_optional_text(int column) const;
    // A count or size: NULL and negative values (never written) read as 0.
    std::uint64_t column_uint64(int column) const noexcept;

    // The SQL text it was prepared from.
    std::string_view sql() const noexcept;

private:
    friend class Database;
    Statement(std::shared_ptr<const std::string> path, sqlite3_stmt* stmt) noexcept
        : m_path(std::move(path))
        , m_stmt(stmt) {}

    template <std::integral T> static std::int64_t to_int64(T value) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (value > static_cast<T>(INT64_MAX)) {
                throw std::out_of_range("storage: unsigned value too large for SQLite INTEGER");
            }
        }
        return static_cast<std::int64_t>(value);
    }
    void check_bind(int rc, int index) const;

    Error last_error(std::string_view what) const;

    std::shared_ptr<const std::string> m_path; // the database's, for error messages
    sqlite3_stmt* m_stmt = nullptr;
};

// A scoped transaction: begin() starts it, commit() ends it, and the destructor rolls back one
// that was not committed (errors of that rollback are discarded). It refers to its Database:
// do not move or close the Database while the Transaction lives.
class Transaction {
public:
    enum class Kind { deferred, immediate }; // immediate takes the write lock at begin

    static Result<Transaction> begin(Database& db, Kind kind = Kind::immediate);

    Transaction(Transaction&& other) noexcept
        : m_db(std::exchange(other.m_db, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    Result<void> commit();
    Result<void> rollback();

private:
    explicit Transaction(Database& db) noexcept
        : m_db(&db) {}
    Database* m_db; // null once committed or rolled back
};

// Calls on_row(statement) for each row of an already bound statement, streaming (one row in
// memory at a time); on_row returns false to stop early. Resets the statement at the end.
template <class OnRow> Result<void> for_each_row(Statement& statement, OnRow&& on_row) {
    for (;;) {
        auto row = statement.step();
        if (!row) {
            statement.reset();
            return row.error();
        }
        if (!*row || !on_row(static_cast<const Statement&>(statement))) {
            statement.reset();
            return {};
        }
    }
}

} // namespace flagcrawl::storage
