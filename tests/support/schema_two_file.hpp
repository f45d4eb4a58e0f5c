// Test helper: a store as a build with schema steps 1 and 2 (before step 3 added the crawl's
// seen-set and the pages' timings) left it, with one finished crawl in it, for the tests of
// migrating such a file and of reading it unmigrated.
#pragma once

#include "storage/schema.hpp"
#include "storage/sqlite.hpp"

#include <gtest/gtest.h>

#include <string>

namespace flagcrawl::testing_support {

// What the schema-2 file holds: crawl 1 (run 1, finished) with a robots.txt row and two pages
// (ids 1-3), one link and two frontier rows.
struct SchemaTwoCrawl {
    static constexpr std::int64_t crawl_id = 1;
    static constexpr int rows = 3;
    static constexpr int pages = 2; // robots.txt excluded
};

// Steps 1 and 2 (released steps are never edited), then the crawl's rows as that build wrote them.
inline void write_schema_two_file(const std::string& path) {
    auto db = storage::Database::open(path);
    ASSERT_TRUE(db) << db.error().message;
    auto migrated = storage::migrate(*db, 2);
    ASSERT_TRUE(migrated) << migrated.error().message;
    auto written = db->exec(R"sql(
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
