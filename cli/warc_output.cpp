#include "warc_output.hpp"

#include "commands.hpp"
#include "common.hpp"
#include "progress.hpp"

#include <fmt/core.h>

#ifndef FLAGCRAWL_VERSION
#define FLAGCRAWL_VERSION "0"
#endif

namespace flagcrawl::cli {

void add_warc_options(CLI::App& command, WarcCliOptions& options) {
    command
        .add_option("--warc", options.file,
                    "Also archive every request and response as WARC/1.1 in NAME.warc.gz "
                    "(gzip per record; identical payloads as revisit records), indexed in "
                    "NAME.cdxj")
        ->group("Output");
    command
        .add_option("--warc-max-size", options.max_size,
                    "Start a new WARC file once one reaches this size, e.g. 1G: "
                    "NAME-00000.warc.gz, NAME-00001.warc.gz, ...")
        ->group("Output");
    command
        .add_option("--warc-gzip-level", options.gzip_level,
                    "Compression of the WARC records, 1 (fastest: ~27% fewer deflate "
                    "instructions than 6, files ~6% larger on HTML) to 9 (smallest)")
        ->capture_default_str()
        ->check(CLI::Range(1, 9))
        ->group("Output");
}

std::unique_ptr<archive::WarcWriter> open_warc(const WarcCliOptions& o, bool resume,
                                               const std::string& robots) {
    if (o.file.empty()) {
        if (!o.max_size.empty()) {
            throw UsageError("--warc-max-size: needs --warc");
        }
        return nullptr;
    }
    archive::WarcOptions options;
    options.name = o.file;
    options.resume = resume;
    if (!o.max_size.empty()) {
        options.max_size = parse_size(o.max_size, "--warc-max-size");
        if (options.max_size == 0) {
            throw UsageError("--warc-max-size: expected a size above 0, e.g. 1G");
        }
    }
    options.compression_level = o.gzip_level;
    options.software = std::string("flagcrawl/") + FLAGCRAWL_VERSION;
    if (!robots.empty()) {
        options.info.emplace_back("robots", robots);
    }
    options.info.emplace_back("flagcrawl-arguments", process_arguments());
    auto writer = archive::WarcWriter::open(std::move(options));
    if (!writer) {
        if (writer.error().find("already exists") != std::string::npos) {
            throw UsageError("--warc: " + writer.error());
        }
        throw FatalError("--warc: " + writer.error());
    }
    return std::move(*writer);
}

bool close_warc(archive::WarcWriter& writer, bool quiet) {
    const auto error = writer.close();
    if (error) {
        print_line(stderr, fmt::format("flagcrawl: WARC failed: {}", *error));
        return false;
    }
    if (!quiet) {
        print_warc_summary(writer);
    }
    return true;
}

void print_warc_summary(const archive::WarcWriter& writer) {
    const archive::WarcTotals t = writer.totals();
    {
        const auto& p = writer.paths();
        print_line(stdout,
                   fmt::format("WARC: {} responses ({} revisits), {} in {}{}; index {}",
                               t.responses, t.revisits, format_bytes(double(t.bytes)),
                               p.series ? p.base.string() + "-NNNNN.warc.gz" : p.file(0).string(),
                               p.series ? fmt::format(" ({} files this run)", t.files) : "",
                               p.index().string()));
    }
}

} // namespace flagcrawl::cli
