// How pages and skips rows count in a run's totals: one classification, shared by `stats`'s scan
// over the rows (stats.cpp) and the writer's tally of the rows it writes (record_statements.cpp),
// so that a crawl's closing totals need not read its rows back and still agree with `stats`.
#pragma once

#include "storage/records.hpp"
#include "storage/stats.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace flagcrawl::storage {

// The columns of one pages row that decide how it counts.
struct PageRowFacts {
    std::string_view kind; // pages.kind
    bool external = false;
    std::optional<std::int64_t> http_status;
    bool failed = false;     // error IS NOT NULL
    bool disallowed = false; // attempts = 0 AND error LIKE 'disallowed by robots%'
    std::int64_t attempts = 0;
    std::uint64_t bytes = 0;
};

// Counts one pages row into `s`'s requests, robots_fetches/robots_failed, external_checked/
// external_broken, or, for a page or requisite row (an item: returns true), items, pages,
// requisites, its outcome (ok, redirect, disallowed, not_found, error), fetched and bytes.
bool count_page_row(const PageRowFacts& row, Summary& s);

// What `error LIKE 'disallowed by robots%'` says of a pages row's error text (ASCII case
// folded, as SQLite's LIKE does).
bool is_disallowed_error(std::string_view error);

// The kind a failed item counts under in errors_by_kind: its error_kind, "other" without one, a
// failed status as "http_404".
std::string error_count_kind(const std::optional<std::string>& error_kind,
                             std::optional<std::int64_t> http_status);

// What a crawl run's `runs` row holds of its summary: a redirect counts as ok there.
RunTotals crawl_run_totals(const Summary& s);

// One run's counts, as summarize_run() reads them from its rows, kept from the rows as they are
// written and changed. Sums are modulo 2^64, so that a tally of changes (rows removed or changed
// as well as added) adds up to the right totals once merged into the tally of what came before.
class RunTally {
public:
    // A pages row written (+1) or taken back (-1: the row before an UPDATE changed it).
    // `error_kind`: error_count_kind() of a failed row.
    void add_page(const PageRowFacts& row, std::string_view error_kind, int sign = 1);
    // A skips row written (+1) or deleted or replaced (-1).
    void add_skip(std::string_view kind, std::string_view rule, int sign = 1);
    void merge(const RunTally& other);

    // The summary's counts: every outcome, requests, bytes, robots.txt and external checks,
    // errors_by_kind and the skips by kind and by rule, ordered as summarize_run() orders them.
    // No timings, statuses, hosts or depths.
    Summary summary() const;

private:
    Summary m_rows; // the scalar counts of the pages rows
    std::map<std::string, std::uint64_t, std::less<>> m_errors;
    std::map<std::pair<std::string, std::string>, std::uint64_t> m_skips; // (kind, rule)
};

} // namespace flagcrawl::storage
