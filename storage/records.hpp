// The value types the store records and reads back: runs (one per invocation) and downloads.
// storage depends on no other part of flagcrawl; callers convert their own types to these.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flagcrawl::storage {

using TimePoint = std::chrono::system_clock::time_point;

// killed: the process ended without recording its end (kill -9, a crash, a power loss), as a
// later process found (run_owner.hpp); its totals were never written.
enum class RunStatus { running, finished, interrupted, failed, killed };
// "running" | "finished" | "interrupted" | "failed" | "killed"
std::string_view to_string(RunStatus status);
std::optional<RunStatus> parse_run_status(std::string_view text);

// What begin_run() records about an invocation.
struct RunInfo {
    std::string command;   // "download", "crawl", "flags", ...
    std::string arguments; // the command line, as text
    std::string strategy;  // "sequential" | "threaded" | "async" (free text to the store)
    int concurrency = 1;
    TimePoint started_at = std::chrono::system_clock::now();
};

// The counters finish_run() stores.
struct RunTotals {
    std::uint64_t ok = 0;
    std::uint64_t not_found = 0;
    std::uint64_t errors = 0;
    std::uint64_t bytes = 0;
    std::uint64_t requests = 0; // attempts, retries included
};

// A row of `runs`, as read back.
struct RunRow {
    std::int64_t id = 0;
    RunInfo info;
    std::optional<TimePoint> finished_at; // nullopt while running (or after a crash)
    RunStatus status = RunStatus::running;
    RunTotals totals;
};

// One URL of a download run: a row of `downloads`. Optional fields are stored as NULL.
// Durations are milliseconds as double (loopback transfers take well under 1 ms).
struct DownloadRecord {
    std::int64_t run_id = 0;              // from begin_run(); must exist
    std::string url;                      // as requested
    std::optional<std::string> final_url; // after redirects; nullopt when no response
    std::optional<int> http_status;    // nullopt: no response at all (DNS, connect, timeout, ...)
    std::uint64_t bytes = 0;           // decoded body bytes received
    std::optional<std::string> path;   // file written; nullopt when none
    std::optional<std::string> sha256; // lowercase hex of the file; nullopt when no file
    double elapsed_ms = 0;             // whole request, retries and backoff included
    int attempts = 1;
    std::optional<std::string> error; // nullopt on success, else a readable reason
    // With an error: the kind's stored code (fetch::FailureKind, storage/README.md), e.g.
    // "timeout", "http_status"; nullopt without an error.
    std::optional<std::string> error_kind;
    std::optional<double> dns_ms; // timings of the last attempt; nullopt when unknown
    std::optional<double> connect_ms;
    std::optional<double> ttfb_ms;
    TimePoint fetched_at = std::chrono::system_clock::now();
    std::int64_t id = 0; // rowid: set when read back, ignored when written
};

// ISO-8601 UTC with milliseconds, e.g. "2026-11-22T04:11:47.123Z" (truncated to the ms).
std::string format_time(TimePoint time);
// The same into a fixed buffer, without allocating; returns the 24 characters written.
std::string_view format_time(TimePoint time, std::array<char, 24>& buffer) noexcept;
// Parses what format_time() writes; nullopt for anything else.
std::optional<TimePoint> parse_time(std::string_view text) noexcept;

} // namespace flagcrawl::storage
