// Test helper: a store as a build with schema steps 1 and 2 (before step 3 added the crawl's
// seen-set and the pages' timings) left it, with one finished crawl in it, for the tests of
// migrating such a file and of reading it unmigrated.
#pragma once

#include "storage/sqlite.hpp"

#include <gtest/gtest.h>

#include <string>

namespace flagcrawl::testing_support {

// What the schema-2 file holds: crawl 1 (run 1, finished) with a robots.txt row and two pages
// (ids 1-3), one link and two frontier rows.
struct SchemaTwoCrawl {
    static constexpr std::int64_t crawl_id = 1;
    static constexpr std::int64_t robots_page_id = 1;
    static constexpr std::int64_t home_page_id = 2;
    static constexpr int rows = 3;
    static constexpr int pages = 2; // robots.txt excluded
};

// Steps 1 and 2 exactly as released (storage/schema.cpp), then the crawl's rows.
inline void write_schema_two_file(const std::string& path) {
    auto db = storage::Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    auto written = db->exec(R"sql(
PRAGMA application_id = 1179403090;
PRAGMA user_version = 2;
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

INSERT INTO runs VALUES (1, 'crawl', 'crawl http://a.test/', 'async', 4,
    '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:06.000Z', 'finished', 1, 1, 0, 1500, 3);
INSERT INTO crawls VALUES (1, '["http://a.test/"]', '{"scope":"host"}', 'finished',
    'finished: frontier exhausted');
INSERT INTO crawl_runs VALUES (1, 1);
INSERT INTO pages VALUES
    (1, 1, 1, NULL, 'robots', 'http://a.test/robots.txt', 'http://a.test/robots.txt', 200,
     'text/plain', 20, NULL, 0, NULL, 0, '2026-01-02T03:04:05.010Z', 10, 1, NULL, NULL),
    (2, 1, 1, 1, 'page', 'http://a.test/', 'http://a.test/', 200, 'text/html', 1500, 'Home', 0,
     NULL, 0, '2026-01-02T03:04:05.030Z', 20, 1, NULL, NULL),
    (3, 1, 1, 2, 'page', 'http://a.test/gone', 'http://a.test/gone', 404, 'text/html', 0, NULL,
     1, NULL, 0, '2026-01-02T03:04:05.070Z', 40, 1, 'HTTP 404 Not Found', NULL);
INSERT INTO links VALUES (2, 0, 'http://a.test/gone', 'anchor', 0);
INSERT INTO frontier VALUES (1, 1, 11, 'http://a.test/', 0, 0, 0, 1),
                            (1, 2, 22, 'http://a.test/gone', 1, 0, 0, 1);
)sql");
    ASSERT_TRUE(written) << written.error().message;
    ASSERT_TRUE(db->close());
}

} // namespace flagcrawl::testing_support
