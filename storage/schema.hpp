// The store's schema, versioned with PRAGMA user_version: migrate() creates it in a new file and
// upgrades an older one step by step, so later tables (pages, links, frontier) come as new steps.
#pragma once

#include "storage/sqlite.hpp"

#include <string>

namespace flagcrawl::storage {

// The schema version this build writes: the number of migration steps.
int schema_version() noexcept;

// The steps readers test a file's version against (a file at an older version lacks what they
// added). 2: crawls, crawl_runs, pages, links and frontier (older files, of a build that only
// downloaded, have runs and downloads alone).
inline constexpr int k_crawl_tables_version = 2;
// 3: crawls.seen_urls / seen_bytes and the pages' dns_ms / connect_ms / ttfb_ms.
inline constexpr int k_crawl_timings_version = 3;
// 4: downloads.error_kind and pages.error_kind, the stored kind of each failure.
inline constexpr int k_error_kind_version = 4;
// 6: the skips table and the frontier's redirect chains (5: the index of queued frontier rows).
inline constexpr int k_skips_version = 6;
// 7: links stored as one JSON array per page (page_links), read through the view `links`.
inline constexpr int k_packed_links_version = 7;
// 9: runs record their owner (host, boot_id, pid_ns, pid, pid_start) and may be 'killed'.
inline constexpr int k_run_owner_version = 9;
// 10: sitemaps: pages.kind 'sitemap' and frontier.sitemap (8: pages.kind checked by comparisons).
inline constexpr int k_sitemaps_version = 10;
// 11: frontier.from_seq, the frontier row of the page that first led to a URL.
inline constexpr int k_referrer_version = 11;
// 12: frontier.external and pages.external, the external checks of crawl --check-external.
inline constexpr int k_external_version = 12;
// 13: a queued frontier row has a frontier_queue row (crawl_id, depth, seq), deleted once done;
// the frontier's rows are in frontier_urls, read as before through the view `frontier`.
inline constexpr int k_frontier_queue_version = 13;

// The SQL expression of a downloads or pages row's error kind in a file at `version`: the
// error_kind column from step 4 on; in an older file (which readers do not migrate) the kind
// derived from the row's error text, as step 4 derives it for the files it upgrades.
std::string error_kind_sql(int version);

// Brings the file to schema_version() inside one IMMEDIATE transaction (all steps or none).
// Fails, naming the file, for a database of another application or of a newer flagcrawl.
Result<void> migrate(Database& db);
// The same up to `version` (1 .. schema_version()) only: the file as a build of that schema left
// it (released steps are never edited), for the tests of upgrading and reading older files.
// Fails for a file already past `version`; throws std::invalid_argument for a version out of
// range.
Result<void> migrate(Database& db, int version);

// For readers: checks that the file is a flagcrawl database this build can read (created, and
// not newer than schema_version()); returns its version.
Result<int> check_schema(Database& db);

} // namespace flagcrawl::storage
