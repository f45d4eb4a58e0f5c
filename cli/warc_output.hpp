// --warc and --warc-max-size, shared by `download` and `crawl`: opening the WARC writer with
// the run's warcinfo fields and reporting what it wrote.
#pragma once

#include "archive/warc_writer.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace flagcrawl::cli {

struct WarcCliOptions {
    std::string file;     // --warc NAME; empty: no WARC
    std::string max_size; // --warc-max-size, e.g. "1G"; empty: one file
    int gzip_level = 6;   // --warc-gzip-level: zlib's 1 (fastest) .. 9 (smallest)
};

void add_warc_options(CLI::App& command, WarcCliOptions& options);

// Null when no WARC was asked for. `robots`: the warcinfo's "robots" field ("obey", "ignore"),
// omitted when empty. Throws UsageError for a bad size or existing files (not resuming),
// FatalError when the files cannot be opened.
std::unique_ptr<archive::WarcWriter> open_warc(const WarcCliOptions& options, bool resume,
                                               const std::string& robots);

// Closes the writer and prints one line of what it wrote (unless quiet); false (after printing
// the error on stderr) when writing failed.
bool close_warc(archive::WarcWriter& writer, bool quiet);
// The line close_warc() prints: "WARC: 12 responses (1 revisits), 8.1 KiB in x.warc.gz; ...".
void print_warc_summary(const archive::WarcWriter& writer);

} // namespace flagcrawl::cli
