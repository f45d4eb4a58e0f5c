#include "storage/schema.hpp"

#include <sqlite3.h>

#include <array>
#include <stdexcept>
#include <string>

namespace flagcrawl::storage {

namespace {

// PRAGMA application_id marks the file as ours ("FLCR"), so that migrate() never adds tables to
// somebody else's database.
constexpr std::int64_t k_application_id = 0x464c4352;

// The kind of a failed downloads or pages row of a file before step 4, from its error text,
// status and attempts, as the fetch engine, the jobs and the crawl worded their reasons then.
// Part of step 4 (its UPDATEs) and read by older files' readers: never edit it.
#define FLAGCRAWL_KIND_FROM_TEXT                                                                   \
    "CASE "                                                                                        \
    "WHEN error IS NULL THEN NULL "                                                                \
    "WHEN error GLOB 'disallowed by robots*' THEN 'robots' "                                       \
    "WHEN error GLOB 'robots.txt unreachable*' THEN 'robots_unreachable' "                         \
    "WHEN error GLOB 'invalid URL*' THEN 'invalid_url' "                                           \
    "WHEN error GLOB 'unsupported URL scheme*' THEN 'disallowed_scheme' "                          \
    "WHEN attempts = 0 THEN 'invalid_url' "                                                        \
    "WHEN instr(error, 'still throttled') > 0 THEN 'throttled' "                                   \
    "WHEN error GLOB 'HTTP *' AND http_status IS NOT NULL THEN 'http_status' "                     \
    "WHEN error GLOB 'cannot resolve host*' THEN 'dns' "                                           \
    "WHEN error GLOB 'connection refused*' OR error GLOB 'cannot connect*' "                       \
    "  OR error GLOB 'connect timed out*' THEN 'connect' "                                         \
    "WHEN error GLOB 'timed out after*' OR error GLOB 'transfer too slow*' THEN 'timeout' "        \
    "WHEN error GLOB 'body larger than*' OR instr(error, 'Maximum file size exceeded') > 0 "       \
    "  THEN 'too_large' "                                                                          \
    "WHEN error GLOB 'too many redirects*' OR error GLOB 'more than * redirects*' "                \
    "  THEN 'too_many_redirects' "                                                                 \
    "WHEN error GLOB 'TLS: *' THEN 'tls' "                                                         \
    "WHEN error GLOB 'cannot store the body*' OR error GLOB 'cannot create *' "                    \
    "  OR error GLOB 'cannot write *' OR error GLOB 'cannot rename *' "                            \
    "  OR error GLOB 'cannot sync *' THEN 'write_failed' "                                         \
    "WHEN error GLOB 'interrupted*' THEN 'interrupted' "                                           \
    "WHEN error GLOB 'connection closed without a reply*' THEN 'empty_reply' "                     \
    "WHEN error GLOB 'Recv failure*' OR error GLOB 'Send failure*' "                               \
    "  OR error GLOB 'Failed sending data*' THEN 'reset' "                                         \
    "WHEN error GLOB 'transfer closed*' THEN 'partial_body' "                                      \
    "WHEN error GLOB 'Received HTTP/0.9*' THEN 'not_http' "                                        \
    "WHEN error GLOB 'Weird server reply*' OR error GLOB 'Unsupported HTTP*' "                     \
    "  OR error GLOB 'Invalid status line*' "                                                      \
    "  OR error GLOB 'Error while processing content unencoding*' "                                \
    "  OR error GLOB 'Unrecognized content encoding*' OR error GLOB 'HTTP/2*' "                    \
    "  OR error GLOB 'HTTP/3*' OR error GLOB 'Header without colon*' THEN 'protocol' "             \
    "WHEN error GLOB 'Protocol \"*' OR error GLOB 'Unsupported protocol*' "                        \
    "  THEN 'disallowed_scheme' "                                                                  \
    "WHEN error GLOB 'URL using bad*' THEN 'invalid_url' "                                         \
    "WHEN http_status IS NOT NULL THEN 'http_status' "                                             \
    "ELSE 'other' END"

// Step N (1-based) takes a file from user_version N-1 to N. Never edit a released step: add one.
// Times are ISO-8601 UTC text with milliseconds; durations are REAL milliseconds.
constexpr std::array k_migrations = {
    // 1: runs and downloads.
    R"sql(
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT    NOT NULL,
    arguments   TEXT    NOT NULL,
    strategy    TEXT    NOT NULL,
    concurrency INTEGER NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    status      TEXT    NOT NULL
                CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
    ok          INTEGER NOT NULL DEFAULT 0,
    not_found   INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE downloads (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id),
    url         TEXT    NOT NULL,
    final_url   TEXT,
    http_status INTEGER,
    bytes       INTEGER NOT NULL,
    path        TEXT,
    sha256      TEXT,
    elapsed_ms  REAL    NOT NULL,
    attempts    INTEGER NOT NULL,
    error       TEXT,
    dns_ms      REAL,
    connect_ms  REAL,
    ttfb_ms     REAL,
    fetched_at  TEXT    NOT NULL
);
CREATE INDEX downloads_run_id ON downloads (run_id);
)sql",
    // 2: crawls, the runs that worked on each, their pages, links and frontier (crawl_records.hpp
    // documents every column and how stats/export read them).
    R"sql(
CREATE TABLE crawls (
    id          INTEGER PRIMARY KEY,
    seeds       TEXT    NOT NULL,
    options     TEXT    NOT NULL,
    status      TEXT    NOT NULL
                CHECK (status IN ('running', 'stopped', 'interrupted', 'finished', 'failed')),
    stop_reason TEXT
);
CREATE TABLE crawl_runs (
    crawl_id INTEGER NOT NULL REFERENCES crawls (id),
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    PRIMARY KEY (crawl_id, run_id)
) WITHOUT ROWID;
CREATE TABLE pages (
    id           INTEGER PRIMARY KEY,
    crawl_id     INTEGER NOT NULL REFERENCES crawls (id),
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    seq          INTEGER,
    kind         TEXT    NOT NULL CHECK (kind IN ('page', 'requisite', 'robots')),
    url          TEXT    NOT NULL,
    final_url    TEXT,
    http_status  INTEGER,
    content_type TEXT,
    bytes        INTEGER NOT NULL,
    title        TEXT,
    depth        INTEGER NOT NULL,
    location     TEXT,
    noindex      INTEGER NOT NULL DEFAULT 0,
    fetched_at   TEXT    NOT NULL,
    elapsed_ms   REAL    NOT NULL,
    attempts     INTEGER NOT NULL,
    error        TEXT,
    body         BLOB
);
CREATE INDEX pages_crawl_id ON pages (crawl_id);
CREATE TABLE links (
    page_id  INTEGER NOT NULL REFERENCES pages (id),
    n        INTEGER NOT NULL,
    to_url   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    nofollow INTEGER NOT NULL,
    PRIMARY KEY (page_id, n)
) WITHOUT ROWID;
CREATE TABLE frontier (
    crawl_id  INTEGER NOT NULL REFERENCES crawls (id),
    seq       INTEGER NOT NULL,
    key_hash  INTEGER NOT NULL,
    url       TEXT    NOT NULL,
    depth     INTEGER NOT NULL,
    redirects INTEGER NOT NULL DEFAULT 0,
    requisite INTEGER NOT NULL DEFAULT 0,
    state     INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1)),
    PRIMARY KEY (crawl_id, seq)
) WITHOUT ROWID;
)sql",
    // 3: what a crawl's seen-set held and cost when its latest run ended, and each page's
    // timings (as downloads has them). ADD COLUMN only rewrites the schema text, not the rows:
    // existing crawls and pages read NULL.
    R"sql(
ALTER TABLE crawls ADD COLUMN seen_urls INTEGER;
ALTER TABLE crawls ADD COLUMN seen_bytes INTEGER;
ALTER TABLE pages ADD COLUMN dns_ms REAL;
ALTER TABLE pages ADD COLUMN connect_ms REAL;
ALTER TABLE pages ADD COLUMN ttfb_ms REAL;
)sql",
    // 4: the kind of each failure, as jobs now record it (fetch::FailureKind's codes,
    // storage/README.md); the rows of older files get the kind their error text says.
    "ALTER TABLE downloads ADD COLUMN error_kind TEXT;\n"
    "ALTER TABLE pages ADD COLUMN error_kind TEXT;\n"
    "UPDATE downloads SET error_kind = " FLAGCRAWL_KIND_FROM_TEXT " WHERE error IS NOT NULL;\n"
    "UPDATE pages SET error_kind = " FLAGCRAWL_KIND_FROM_TEXT " WHERE error IS NOT NULL;\n",
    // 5: the queued rows of a crawl in the order it fetches them (shallowest first, then by
    // discovery), for paging them back in; partial, so a row leaves the index once done.
    "CREATE INDEX frontier_queued ON frontier (crawl_id, depth, seq) WHERE state = 0;\n",
    // 6: the URLs a crawl saw and did not fetch, once each, and the redirect chain a frontier row
    // belongs to (crawl_records.hpp).
    R"sql(
CREATE TABLE skips (
    crawl_id  INTEGER NOT NULL REFERENCES crawls (id),
    key_hash  INTEGER NOT NULL,
    run_id    INTEGER NOT NULL REFERENCES runs (id),
    page_id   INTEGER REFERENCES pages (id),
    kind      TEXT    NOT NULL,
    rule      TEXT    NOT NULL,
    url       TEXT    NOT NULL,
    tentative INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (crawl_id, key_hash)
) WITHOUT ROWID;
ALTER TABLE frontier ADD COLUMN chain_seq INTEGER;
ALTER TABLE frontier ADD COLUMN chain_keys BLOB;
)sql",
    // 7: a page's links as one JSON array per page, [[to_url, kind, nofollow], ...] in document
    // order, read through the view `links`, which has the columns of the table it replaces (one
    // row per page instead of ~30 took two thirds of the writer's work per page). The links of
    // older files move over in key order (page, then n).
    R"sql(
CREATE TABLE page_links (
    page_id INTEGER PRIMARY KEY REFERENCES pages (id),
    links   TEXT    NOT NULL
);
INSERT INTO page_links (page_id, links)
    SELECT page_id, json_group_array(json_array(to_url, kind, nofollow))
    FROM (SELECT page_id, to_url, kind, nofollow FROM links ORDER BY page_id, n)
    GROUP BY page_id;
DROP TABLE links;
CREATE VIEW links (page_id, n, to_url, kind, nofollow) AS
    SELECT l.page_id, j.key, j.value ->> 0, j.value ->> 1, j.value ->> 2
    FROM page_links AS l, json_each(l.links) AS j;
)sql",
    // 8: pages.kind checked by comparisons instead of IN: SQLite evaluates a CHECK's IN list of
    // three or more constants by building an ephemeral index on every INSERT, ~31 k instructions
    // a row (a sixth of the writer's work per page). The two checks accept the same values, so
    // the stored rows stay valid and the table is not rebuilt: the schema text is edited in
    // place, as SQLite's ALTER TABLE page describes for a change that leaves the stored format
    // alone (migrate() then bumps the schema cookie, and RESET reloads this connection's copy).
    R"sql(
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(sql, 'CHECK (kind IN (''page'', ''requisite'', ''robots''))',
                      'CHECK (kind = ''page'' OR kind = ''requisite'' OR kind = ''robots'')')
    WHERE type = 'table' AND name = 'pages';
PRAGMA writable_schema = RESET;
)sql",
    // 9: who owns a run while it is 'running' (run_owner.hpp: host, boot id, pid namespace, pid,
    // start time), so that a later process marks a run whose process died 'killed', a status
    // the CHECK of step 1 does not allow: the table is rebuilt (SQLite cannot alter a CHECK),
    // with the same ids, as SQLite's documentation says (migrate() turns foreign keys off for it).
    R"sql(
CREATE TABLE runs_step9 (
    id          INTEGER PRIMARY KEY,
    command     TEXT    NOT NULL,
    arguments   TEXT    NOT NULL,
    strategy    TEXT    NOT NULL,
    concurrency INTEGER NOT NULL,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    status      TEXT    NOT NULL
                CHECK (status IN ('running', 'finished', 'interrupted', 'failed', 'killed')),
    ok          INTEGER NOT NULL DEFAULT 0,
    not_found   INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0,
    host        TEXT,
    boot_id     TEXT,
    pid_ns      INTEGER,
    pid         INTEGER,
    pid_start   INTEGER
);
INSERT INTO runs_step9 (id, command, arguments, strategy, concurrency, started_at, finished_at,
                        status, ok, not_found, errors, bytes, requests)
    SELECT id, command, arguments, strategy, concurrency, started_at, finished_at, status, ok,
           not_found, errors, bytes, requests
    FROM runs;
DROP TABLE runs;
ALTER TABLE runs_step9 RENAME TO runs;
)sql",
    // 10: sitemaps (crawl_records.hpp): the role of a frontier row that is a sitemap, and the
    // pages kind 'sitemap', added to step 8's check in place as step 8 edits it (a wider check:
    // every stored row stays valid).
    R"sql(
ALTER TABLE frontier ADD COLUMN sitemap INTEGER NOT NULL DEFAULT 0;
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
    SET sql = replace(sql, 'OR kind = ''robots'')', 'OR kind = ''robots'' OR kind = ''sitemap'')')
    WHERE type = 'table' AND name = 'pages';
PRAGMA writable_schema = RESET;
)sql",
    // 11: the frontier row of the page that first led to each URL (its link or redirect), so that
    // a failure can name a referring page after a resume too.
    "ALTER TABLE frontier ADD COLUMN from_seq INTEGER;\n",
    // 12: external checks (crawl --check-external): out-of-scope URLs fetched once, apart from the
    // crawl's pages.
    "ALTER TABLE frontier ADD COLUMN external INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE pages ADD COLUMN external INTEGER NOT NULL DEFAULT 0;\n",
    // 13: a URL's queued state as a row of its own (frontier_queue, keyed in the crawl's order),
    // deleted when the URL is done, instead of a column of its frontier row: setting the column
    // rewrote the whole row (URL, chain keys) and took it out of step 5's partial index, ~17 k
    // instructions a page against ~6.5 k for the delete. The rows move to frontier_urls, the
    // table without the column (rebuilt as step 9 rebuilds runs: ALTER TABLE's DROP COLUMN and
    // RENAME took 4x the instructions, paid by every new file); the view `frontier` has the
    // columns of the table it replaces, state derived from frontier_queue. The queued rows of
    // older files get their frontier_queue row.
    R"sql(
CREATE TABLE frontier_queue (
    crawl_id INTEGER NOT NULL,
    depth    INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (crawl_id, depth, seq)
) WITHOUT ROWID;
INSERT INTO frontier_queue (crawl_id, depth, seq)
    SELECT crawl_id, depth, seq FROM frontier WHERE state = 0;
CREATE TABLE frontier_urls (
    crawl_id   INTEGER NOT NULL REFERENCES crawls (id),
    seq        INTEGER NOT NULL,
    key_hash   INTEGER NOT NULL,
    url        TEXT    NOT NULL,
    depth      INTEGER NOT NULL,
    redirects  INTEGER NOT NULL DEFAULT 0,
    requisite  INTEGER NOT NULL DEFAULT 0,
    chain_seq  INTEGER,
    chain_keys BLOB,
    sitemap    INTEGER NOT NULL DEFAULT 0,
    from_seq   INTEGER,
    external   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (crawl_id, seq)
) WITHOUT ROWID;
INSERT INTO frontier_urls (crawl_id, seq, key_hash, url, depth, redirects, requisite, chain_seq,
                           chain_keys, sitemap, from_seq, external)
    SELECT crawl_id, seq, key_hash, url, depth, redirects, requisite, chain_seq, chain_keys,
           sitemap, from_seq, external
    FROM frontier;
DROP TABLE frontier;
CREATE VIEW frontier (crawl_id, seq, key_hash, url, depth, redirects, requisite, state, chain_seq,
                      chain_keys, sitemap, from_seq, external) AS
    SELECT f.crawl_id, f.seq, f.key_hash, f.url, f.depth, f.redirects, f.requisite,
           NOT EXISTS (SELECT 1 FROM frontier_queue AS q
                       WHERE q.crawl_id = f.crawl_id AND q.depth = f.depth AND q.seq = f.seq),
           f.chain_seq, f.chain_keys, f.sitemap, f.from_seq, f.external
    FROM frontier_urls AS f;
)sql",
};

Error schema_error(const Database& db, const std::string& reason) {
    return Error{boost::system::error_code(SQLITE_ERROR, sqlite_category()),
                 db.path() + ": " + reason};
}

// Is this file ours (or new and empty)? Returns its user_version.
Result<int> inspect(Database& db) {
    auto application_id = db.query_int("PRAGMA application_id");
    if (!application_id) {
        return application_id.error();
    }
    auto version = db.query_int("PRAGMA user_version");
    if (!version) {
        return version.error();
    }
    auto objects = db.query_int("SELECT count(*) FROM sqlite_schema");
    if (!objects) {
        return objects.error();
    }
    const bool empty = *application_id == 0 && *version == 0 && *objects == 0;
    if (!empty && *application_id != k_application_id) {
        return schema_error(db, "not a flagcrawl database (it holds other tables)");
    }
    if (*version > schema_version()) {
        return schema_error(db, "written by a newer flagcrawl (schema version " +
                                    std::to_string(*version) + ", this build knows up to " +
                                    std::to_string(schema_version()) + ")");
    }
    return static_cast<int>(*version);
}

} // namespace

static_assert(static_cast<int>(k_migrations.size()) >= k_frontier_queue_version);

std::string error_kind_sql(int version) {
    return version >= k_error_kind_version ? "error_kind" : "(" FLAGCRAWL_KIND_FROM_TEXT ")";
}

int schema_version() noexcept {
    return static_cast<int>(k_migrations.size());
}

Result<void> migrate(Database& db) {
    return migrate(db, schema_version());
}

Result<void> migrate(Database& db, int target) {
    if (target < 1 || target > schema_version()) {
        throw std::invalid_argument("storage: no schema version " + std::to_string(target));
    }
    // A step that rebuilds a table (9) drops it while other tables refer to it: foreign keys
    // are off for the migration (the pragma is a no-op inside a transaction), and checked with
    // foreign_key_check before the commit, as SQLite's documentation of ALTER TABLE says.
    if (auto r = db.exec("PRAGMA foreign_keys=OFF"); !r) {
        return r.error();
    }
    struct KeysBackOn {
        Database& db;
        ~KeysBackOn() { (void)db.exec("PRAGMA foreign_keys=ON"); }
    } keys_back_on{db};
    auto transaction = Transaction::begin(db, Transaction::Kind::immediate);
    if (!transaction) {
        return transaction.error();
    }
    auto version = inspect(db);
    if (!version) {
        return version.error();
    }
    if (*version > target) {
        return schema_error(db, "already at schema version " + std::to_string(*version));
    }
    if (*version == target) {
        return transaction->commit();
    }
    for (int step = *version; step < target; ++step) {
        if (auto r = db.exec(k_migrations[static_cast<std::size_t>(step)]); !r) {
            return r.error();
        }
    }
    auto violations = db.query_int("SELECT count(*) FROM pragma_foreign_key_check");
    if (!violations) {
        return violations.error();
    }
    if (*violations != 0) {
        return schema_error(db, "migration broke " + std::to_string(*violations) +
                                    " foreign key references");
    }
    // A step that edits sqlite_schema in place (8) leaves the schema cookie as it was; bumping
    // it makes every other connection reload the schema. Harmless after any other step.
    auto cookie = db.query_int("PRAGMA schema_version");
    if (!cookie) {
        return cookie.error();
    }
    // PRAGMA values cannot be bound; all three are our own integers.
    if (auto r = db.exec("PRAGMA application_id = " + std::to_string(k_application_id) +
                         "; PRAGMA user_version = " + std::to_string(target) +
                         "; PRAGMA schema_version = " + std::to_string(*cookie + 1));
        !r) {
        return r.error();
    }
    return transaction->commit();
}

Result<int> check_schema(Database& db) {
    auto version = inspect(db);
    if (!version) {
        return version.error();
    }
    if (*version == 0) {
        return schema_error(db, "not a flagcrawl database (no flagcrawl tables)");
    }
    return version;
}

} // namespace flagcrawl::storage

#undef FLAGCRAWL_KIND_FROM_TEXT
