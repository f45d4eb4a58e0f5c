// Summaries of what runs recorded (`flagcrawl stats`): outcomes, statuses, errors by kind,
// latency percentiles, per-host and depth tables. Computed by SQL over the rows (sorts and
// GROUP BYs that SQLite spills to disk), so memory stays bounded whatever the row count.
#pragma once

#include "storage/reader.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::storage {

// Nearest-rank percentiles: pN is the value at rank ceil(N/100 * count) of the sorted values
// (so of 1..100, p50 = 50, p90 = 90, p99 = 99, max = 100). All 0 when count is 0.
struct Percentiles {
    std::uint64_t count = 0;
    double p50 = 0;
    double p90 = 0;
    double p99 = 0;
    double max = 0;
};

struct StatusCount {
    int status = 0;
    std::uint64_t count = 0;
};

struct KindCount {
    // The recorded kind's code (storage/README.md), except a failed status, counted by its
    // status: "http_404".
    std::string kind;
    std::uint64_t count = 0;
    bool operator==(const KindCount&) const = default;
};

struct ReasonCount {
    std::string reason; // the error text without its trailing "(host:port)" or "(URL)"
    std::string kind;
    std::uint64_t count = 0;
};

struct HostStats {
    std::string host;                // lowercase host[:port] of the requested URL
    std::uint64_t items = 0;         // rows (pages or downloads) of this host
    std::uint64_t fetched = 0;       // of which requested (attempts > 0)
    std::uint64_t failed = 0;        // rows with an error (not found included)
    std::uint64_t bytes = 0;         // body bytes received
    std::optional<double> median_ms; // of elapsed_ms over fetched rows; nullopt: none fetched
};

struct DepthCount {
    int depth = 0; // the last bucket holds every depth >= SummaryOptions::depth_buckets - 1
    std::uint64_t count = 0;
};

struct SummaryOptions {
    // How many of each are kept (0: all of them).
    std::size_t top_hosts = 20; // by rows, then name
    std::size_t top_statuses = 10;
    std::size_t top_reasons = 10;
    int depth_buckets = 50; // depths 0 .. depth_buckets-2 alone, the rest in one last bucket
    // Distinct hosts aggregated in memory during the single scan; past it, hosts are grouped by
    // SQL instead (a sort SQLite spills to disk), so a crawl of a million hosts stays in bounded
    // memory. Both give the same table (0: always by SQL).
    std::size_t host_map_limit = 50'000;
    // The sorted passes over the rows' timings: elapsed_ms and ttfb_ms percentiles and the hosts'
    // medians. Without them (a caller that wants the counts only, such as the crawl's closing
    // totals) those stay empty and the summary costs one scan.
    bool timings = true;
};

// What a set of rows says. Rows are `downloads` (a download or flags run) or `pages` (a crawl,
// or one invocation of it). For pages, every figure but requests, the activity span and
// robots_fetches/robots_failed is over the page and requisite rows: robots.txt fetches are
// counted apart.
//
// Outcomes (each row is exactly one), counted as `crawl` and `download` count them: ok (no
// error, not 3xx), redirect (no error, 3xx: a crawl records each hop), not_found (error with
// status 404 or 410), error (every other failure, URLs refused before any request included).
// A crawl's skips (URLs seen and not fetched, each once: skips rows) are counted apart, by kind
// and rule; disallowed is those robots.txt refused (in files from before step 6: pages rows).
struct Summary {
    enum class Source { downloads, pages };
    Source source = Source::downloads;

    std::uint64_t items = 0;   // rows
    std::uint64_t fetched = 0; // rows with attempts > 0 (the others were never requested)
    std::uint64_t ok = 0;
    // Of ok, downloads whose file was kept as it was: unchanged (the server answered 304, or 416
    // for a whole partial file), skipped (never requested: the file was there). Pages source:
    // skipped counts the skips rows (URLs seen and not fetched), by kind and rule below.
    std::uint64_t unchanged = 0;
    std::uint64_t skipped = 0;
    std::uint64_t redirects = 0;
    std::uint64_t not_found = 0;
    std::uint64_t errors = 0;
    std::uint64_t disallowed = 0;
    std::uint64_t requests = 0;   // sum of the rows' attempts: retries, deferred 429/503
                                  // answers and robots.txt included (what the servers saw)
    std::uint64_t bytes = 0;      // body bytes received (robots.txt excluded)
    std::uint64_t pages = 0;      // pages source: rows of kind 'page'
    std::uint64_t requisites = 0; // pages source: rows of kind 'requisite'
    std::uint64_t robots_fetches = 0;
    std::uint64_t robots_failed = 0;
    // Pages source: external checks (crawl --check-external), apart from every other figure
    // but requests and the activity span: rows, and those that failed (broken links).
    std::uint64_t external_checked = 0;
    std::uint64_t external_broken = 0;
    std::vector<KindCount> skipped_by_kind;   // by count, then kind
    std::vector<ReasonCount> skipped_by_rule; // (rule, kind): by count, then rule, then kind

    // Rows by status class: [0] no response, [1] 1xx ... [5] 5xx (other values are not counted).
    std::array<std::uint64_t, 6> status_classes{};
    std::vector<StatusCount> top_statuses; // by count, then status
    std::vector<KindCount> errors_by_kind; // every failure's kind, by count, then kind
    std::vector<ReasonCount> top_reasons;  // by count, then reason
    std::uint64_t reason_count = 0;        // distinct (kind, reason) pairs

    Percentiles elapsed_ms;             // over fetched rows
    std::optional<Percentiles> ttfb_ms; // nullopt when the table has no ttfb_ms column

    // Activity, robots.txt fetches included: the first fetch's start (fetched_at - elapsed_ms)
    // and the last fetch's end (fetched_at); active_s adds up that span for each run apart, so
    // the pause between a crawl's interrupted run and its resumption does not count.
    std::optional<TimePoint> first_fetch;
    std::optional<TimePoint> last_fetch;
    double active_s = 0;

    std::uint64_t host_count = 0;   // distinct hosts
    std::vector<HostStats> hosts;   // the top_hosts with the most rows
    std::vector<DepthCount> depths; // pages source only, by depth

    // summarize_crawl() only: the crawl's frontier, i.e. every URL it accepted (its seen-set)
    // and those still queued.
    std::optional<std::uint64_t> seen_urls;
    std::optional<std::uint64_t> queued_urls;
    // summarize_crawl() only: the in-memory seen-set as the crawl's latest run that recorded it
    // left it (crawls.seen_urls, seen_bytes): its keys and its RAM in bytes. nullopt when no run
    // has recorded them (none ended yet, or a file from before schema step 3).
    std::optional<std::uint64_t> seen_set_urls;
    std::optional<std::uint64_t> seen_set_bytes;
};

// The crawl a run worked on (its crawl_runs row), if it is a crawl invocation.
Result<std::optional<std::int64_t>> crawl_of_run(Reader& reader, std::int64_t run_id);
// The runs (invocations) of a crawl, by id.
Result<std::vector<RunRow>> runs_of_crawl(Reader& reader, std::int64_t crawl_id);

// One run: its pages when it is a crawl invocation, else its downloads.
Result<Summary> summarize_run(Reader& reader, std::int64_t run_id,
                              const SummaryOptions& options = {});
// A whole crawl, across the runs that worked on it.
Result<Summary> summarize_crawl(Reader& reader, std::int64_t crawl_id,
                                const SummaryOptions& options = {});

// True when Reader::open failed because the file is no flagcrawl database this build reads (not
// SQLite, someone else's tables, a newer schema), rather than because it could not be read.
bool is_foreign_database(const Error& error);

// The reason without the trailing " (...)" that names where it happened.
std::string_view error_reason(std::string_view error);
// "host[:port]" of a URL, lowercased, without user info; "" when it has no "//" authority.
std::string url_host(std::string_view url);

} // namespace flagcrawl::storage
