#include "storage/sqlite.hpp"

#include <sqlite3.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace flagcrawl::storage {

namespace {

// Boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer), which -Wnon-virtual-dtor still reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class SqliteCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "sqlite"; }
    std::string message(int code) const override { return sqlite3_errstr(code); }
};
#pragma GCC diagnostic pop

Error make_error(int code, std::string message) {
    return Error{boost::system::error_code(code, sqlite_category()), std::move(message)};
}

// "<path>: <what>: <reason>[ (<errno text>)]"; the errno text is added for I/O and open
// failures, where SQLite's own reason ("unable to open database file") is vague.
std::string describe(const std::string& path, std::string_view what, std::string_view reason,
                     int code, int system_errno) {
    std::string text = path.empty() ? std::string(":memory:") : path;
    text += ": ";
    text += what;
    text += ": ";
    text += reason;
    const int primary = code & 0xff;
    if (system_errno != 0 &&
        (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR || primary == SQLITE_FULL ||
         primary == SQLITE_READONLY || primary == SQLITE_PERM)) {
        text += " (";
        text += std::strerror(system_errno);
        text += ")";
    }
    return text;
}

Error connection_error(sqlite3* db, const std::string& path, std::string_view what,
                       int system_errno) {
    const int code = sqlite3_extended_errcode(db);
    return make_error(code, describe(path, what, sqlite3_errmsg(db), code, system_errno));
}

Error connection_error(sqlite3* db, const std::string& path, std::string_view what) {
    return connection_error(db, path, what, sqlite3_system_errno(db));
}

// Why a file cannot be opened, as an errno. SQLite's own errno is that of its last attempt (often
// a read-only retry, so ENOENT for a folder we may not write to): ask the file system directly.
int diagnose_open(const std::string& path, OpenMode mode) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0) {
        if (S_ISDIR(info.st_mode)) {
            return EISDIR;
        }
        const int wanted = mode == OpenMode::read_only ? R_OK : R_OK | W_OK;
        return ::access(path.c_str(), wanted) == 0 ? 0 : errno;
    }
    if (errno != ENOENT || mode != OpenMode::read_write_create) {
        return errno;
    }
    const auto slash = path.find_last_of('/');
    const std::string folder = slash == std::string::npos ? std::string(".")
                               : slash == 0               ? std::string("/")
                                                          : path.substr(0, slash);
    return ::access(folder.c_str(), W_OK | X_OK) == 0 ? 0 : errno;
}

[[noreturn]] void throw_bug(Error error) {
    throw Exception(std::move(error));
}

} // namespace

const boost::system::error_category& sqlite_category() noexcept {
    static const SqliteCategory category;
    return category;
}

bool Error::busy() const noexcept {
    return code.category() == sqlite_category() &&
           ((code.value() & 0xff) == SQLITE_BUSY || (code.value() & 0xff) == SQLITE_LOCKED);
}

bool Error::disk_full() const noexcept {
    return code.category() == sqlite_category() && (code.value() & 0xff) == SQLITE_FULL;
}

bool Error::duplicate_key() const noexcept {
    return code.category() == sqlite_category() && code.value() == SQLITE_CONSTRAINT_PRIMARYKEY;
}

Exception::Exception(Error error)
    : std::runtime_error(error.message)
    , m_error(std::move(error)) {}

void throw_exception_from_error(const Error& error, const boost::source_location&) {
    throw Exception(error);
}

// ---- Database ----------------------------------------------------------------------------

Result<Database> Database::open(const std::string& path, const OpenOptions& options) {
    // Process-wide settings, which must precede SQLite's initialization (if something else
    // initialized SQLite first, they fail harmlessly and SQLite keeps its defaults):
    // - no memory statistics: they take a process-wide mutex on every allocation (a tenth of
    //   the writer's time in profiles), and nothing reads them;
    // - no bulk allocation when a page cache (a connection's, or its temporary database's)
    //   opens: SQLite would allocate 20 pages (~85 KiB) at once and write to every one of them,
    //   used or not; pages are then allocated as the cache fills, up to the same cache_size.
    static const bool k_configured = [] {
        const bool memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
        const bool pagecache = sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0) == SQLITE_OK;
        return memstatus && pagecache;
    }();
    (void)k_configured;
    int flags = SQLITE_OPEN_EXRESCODE;
    switch (options.mode) {
    case OpenMode::read_write_create:
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        break;
    case OpenMode::read_write:
        flags |= SQLITE_OPEN_READWRITE;
        break;
    case OpenMode::read_only:
        flags |= SQLITE_OPEN_READONLY;
        break;
    }
    flags |= options.single_thread ? SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_FULLMUTEX;

    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    if (rc != SQLITE_OK) {
        int system_errno = raw ? sqlite3_system_errno(raw) : 0;
        if ((rc & 0xff) == SQLITE_CANTOPEN) {
            if (const int diagnosed = diagnose_open(path, options.mode); diagnosed != 0) {
                system_errno = diagnosed;
            }
        }
        Error error =
            raw ? connection_error(raw, path, "cannot open database", system_errno)
                : make_error(rc, describe(path, "cannot open database", sqlite3_errstr(rc), rc, 0));
        sqlite3_close(raw);
        return error;
    }
    Database db(raw, path);
    sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));

    // SQLite silently falls back to read-only when the file is not writable.
    if (options.mode != OpenMode::read_only && sqlite3_db_readonly(raw, "main") == 1) {
        return make_error(SQLITE_READONLY, describe(path, "cannot open database for writing",
                                                    "the file is read-only", SQLITE_READONLY, 0));
    }
    // SQLite reads the file lazily: touch it now so that "not a database" (and, for writable
    // files, an unwritable folder for the WAL files) is reported by open() and names the file.
    if (options.mode == OpenMode::read_only || !options.wal) {
        if (auto r = db.exec("SELECT count(*) FROM sqlite_schema"); !r) {
            return connection_error(raw, path, "cannot open database");
        }
    } else if (auto r = db.use_wal(); !r) {
        return r.error();
    }
    if (auto r = db.exec("PRAGMA foreign_keys=ON"); !r) {
        return r.error();
    }
    return db;
}

Result<void> Database::use_wal() {
    if (auto r = exec("PRAGMA journal_mode=WAL"); !r) {
        return connection_error(m_db, path(), "cannot open database");
    }
    // A writer appends: a small page cache serves it as well as the default 2 MiB and keeps
    // the process small (readers keep the default for their scans and sorts).
    return exec("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-512");
}

Database::Database(Database&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr))
    , m_path(std::move(other.m_path)) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        sqlite3_close_v2(m_db);
        m_db = std::exchange(other.m_db, nullptr);
        m_path = std::move(other.m_path);
    }
    return *this;
}

Database::~Database() {
    sqlite3_close_v2(m_db);
}

Result<void> Database::close() {
    if (m_db == nullptr) {
        return {};
    }
    if (sqlite3_close(m_db) != SQLITE_OK) {
        Error error = connection_error(m_db, path(), "cannot close database");
        // Statements still open keep the connection alive: let it close when they finalize.
        sqlite3_close_v2(m_db);
        m_db = nullptr;
        return error;
    }
    m_db = nullptr;
    return {};
}

Result<void> Database::exec(std::string_view sql) {
    if (m_db == nullptr) {
        throw std::logic_error("storage: exec on a closed database");
    }
    const std::string text(sql);
    char* message = nullptr;
    const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
        std::string reason = message ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        const int code = sqlite3_extended_errcode(m_db);
        return make_error(code, describe(path(), "cannot run \"" + text + "\"", reason, code,
                                         sqlite3_system_errno(m_db)));
    }
    return {};
}

Statement Database::prepare(std::string_view sql) {
    if (m_db == nullptr) {
        throw std::logic_error("storage: prepare on a closed database");
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        throw_bug(connection_error(m_db, path(), "cannot prepare \"" + std::string(sql) + "\""));
    }
    if (stmt == nullptr) {
        throw std::logic_error("storage: prepare of an empty statement");
    }
    return Statement(m_path, stmt);
}

Result<std::int64_t> Database::query_int(std::string_view sql) {
    Statement statement = prepare(sql);
    auto row = statement.step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return make_error(SQLITE_ERROR, describe(path(), "no row from \"" + std::string(sql) + "\"",
                                                 "empty result", SQLITE_ERROR, 0));
    }
    return statement.column_int64(0);
}

std::int64_t Database::last_insert_rowid() const noexcept {
    return sqlite3_last_insert_rowid(m_db);
}

std::int64_t Database::changes() const noexcept {
    return sqlite3_changes64(m_db);
}

Error Database::last_error(std::string_view what) const {
    return connection_error(m_db, path(), what);
}

const std::string& Database::path() const noexcept {
    static const std::string k_none;
    return m_path ? *m_path : k_none;
}

// ---- Statement ---------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : m_path(std::move(other.m_path))
    , m_stmt(std::exchange(other.m_stmt, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_path = std::move(other.m_path);
        m_stmt = std::exchange(other.m_stmt, nullptr);
    }
    return *this;
}

Statement::~Statement() {
    sqlite3_finalize(m_stmt);
}

void Statement::check_bind(int rc, int index) const {
    if (rc != SQLITE_OK) {
        throw_bug(make_error(rc, describe(m_path ? *m_path : std::string(),
                                          "cannot bind parameter " + std::to_string(index) +
                                              " of \"" + std::string(sql()) + "\"",
                                          sqlite3_errstr(rc), rc, 0)));
    }
}

Error Statement::last_error(std::string_view what) const {
    return connection_error(sqlite3_db_handle(m_stmt), m_path ? *m_path : std::string(), what);
}

void Statement::bind(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(m_stmt, index, value), index);
}

void Statement::bind(int index, double value) {
    check_bind(sqlite3_bind_double(m_stmt, index, value), index);
}

void Statement::bind(int index, std::string_view text) {
    check_bind(
        sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        index);
}

void Statement::bind_view(int index, std::string_view text) {
    check_bind(
        sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8),
        index);
}

void Statement::bind_blob_view(int index, std::string_view bytes) {
    check_bind(sqlite3_bind_blob64(m_stmt, index, bytes.data(), bytes.size(), SQLITE_STATIC),
               index);
}

std::string_view Statement::column_blob(int column) const {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(m_stmt, column));
    const int size = sqlite3_column_bytes(m_stmt, column);
    return data == nullptr ? std::string_view()
                           : std::string_view(data, static_cast<std::size_t>(size));
}

void Statement::bind_view(int index, const std::optional<std::string>& text) {
    if (text) {
        bind_view(index, std::string_view(*text));
    } else {
        bind(index, std::nullopt);
    }
}

void Statement::bind(int index, std::nullopt_t) {
    check_bind(sqlite3_bind_null(m_stmt, index), index);
}

Result<bool> Statement::step() {
    if (m_stmt == nullptr) {
        throw std::logic_error("storage: step on an empty statement");
    }
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    if (rc == SQLITE_MISUSE) {
        throw_bug(last_error("misuse of \"" + std::string(sql()) + "\""));
    }
    Error error = last_error("cannot run \"" + std::string(sql()) + "\"");
    sqlite3_reset(m_stmt); // reusable after a failure (e.g. busy)
    return error;
}

Result<void> Statement::run() {
    for (;;) {
        auto row = step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            sqlite3_reset(m_stmt);
            return {};
        }
    }
}

void Statement::reset() noexcept {
    sqlite3_reset(m_stmt);
}

void Statement::clear_bindings() noexcept {
    sqlite3_clear_bindings(m_stmt);
}

int Statement::column_count() const noexcept {
    return sqlite3_column_count(m_stmt);
}

std::string_view Statement::column_name(int column) const {
    const char* name = sqlite3_column_name(m_stmt, column);
    if (name == nullptr) {
        throw std::out_of_range("storage: column index out of range");
    }
    return name;
}

bool Statement::is_null(int column) const noexcept {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const noexcept {
    return sqlite3_column_int64(m_stmt, column);
}

std::uint64_t Statement::column_uint64(int column) const noexcept {
    const std::int64_t value = column_int64(column);
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

double Statement::column_double(int column) const noexcept {
    return sqlite3_column_double(m_stmt, column);
}

std::string_view Statement::column_text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
    if (text == nullptr) {
        return {};
    }
    return {text, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column))};
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const noexcept {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_int64(column);
}

std::optional<double> Statement::column_optional_double(int column) const noexcept {
    if (is_null(column)) {
        return std::nullopt;
    }
    return column_double(column);
}

std::optional<std::string> Statement::column_optional_text(int column) const {
    if (is_null(column)) {
        return std::nullopt;
    }
    return std::string(column_text(column));
}

std::string_view Statement::sql() const noexcept {
    const char* text = m_stmt ? sqlite3_sql(m_stmt) : nullptr;
    return text ? std::string_view(text) : std::string_view();
}

// ---- Transaction -------------------------------------------------------------------------

Result<Transaction> Transaction::begin(Database& db, Kind kind) {
    if (auto r = db.exec(kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN"); !r) {
        return r.error();
    }
    return Transaction(db);
}

Transaction::~Transaction() {
    if (m_db != nullptr && m_db->is_open() && sqlite3_get_autocommit(m_db->handle()) == 0) {
        sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

Result<void> Transaction::commit() {
    if (m_db == nullptr) {
        throw std::logic_error("storage: commit of a finished transaction");
    }
    auto r = m_db->exec("COMMIT");
    if (r) {
        m_db = nullptr;
    }
    // On failure the transaction may still be open (busy): the destructor rolls it back.
    return r;
}

Result<void> Transaction::rollback() {
    if (m_db == nullptr) {
        throw std::logic_error("storage: rollback of a finished transaction");
    }
    Database* db = std::exchange(m_db, nullptr);
    if (sqlite3_get_autocommit(db->handle()) != 0) {
        return {}; // SQLite already rolled it back (e.g. after an I/O error)
    }
    return db->exec("ROLLBACK");
}

} // namespace flagcrawl::storage
