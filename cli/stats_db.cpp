#include "stats_db.hpp"

#include "commands.hpp"
#include "common.hpp"

#include "storage/run_owner.hpp"
#include "storage/schema.hpp"
#include "storage/stats.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <filesystem>

namespace flagcrawl::cli {

std::string reading_db_path(const std::string& db_option) {
    return db_option.empty() ? default_db_path() : db_option;
}

storage::Reader open_reader(const std::string& path, bool is_default) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) {
        throw UsageError(is_default ? fmt::format("no such database: {} (the default store: no "
                                                  "run recorded yet; pass --db FILE)",
                                                  path)
                                    : fmt::format("no such database: {}", path));
    }
    if (fs::is_directory(status)) {
        throw UsageError(fmt::format("{}: is a folder, not a database", path));
    }
    // Runs whose process died are marked 'killed' first, when the file lets this process write
    // and no writer holds it for long; otherwise they are read as they are.
    (void)storage::settle_dead_runs(path, std::chrono::milliseconds(200));
    auto reader = storage::Reader::open(path);
    if (!reader) {
        if (storage::is_foreign_database(reader.error())) {
            throw UsageError(reader.error().message);
        }
        throw FatalError(reader.error().message);
    }
    return std::move(*reader);
}

void throw_read_error(const storage::Error& error) {
    throw FatalError(error.message);
}

std::int64_t pick_crawl(storage::Reader& reader, const std::optional<std::int64_t>& crawl,
                        const std::optional<std::int64_t>& run, const std::string& command,
                        const std::string& path) {
    if (reader.schema_version() < storage::k_crawl_tables_version) {
        throw UsageError(fmt::format("{}: {} holds no crawl (written by a flagcrawl that "
                                     "recorded none)",
                                     command, path));
    }
    if (crawl) {
        auto found = reader.find_crawl(*crawl);
        if (!found) {
            throw_read_error(found.error());
        }
        if (!*found) {
            throw UsageError(fmt::format("{}: no crawl {} in {}", command, *crawl, path));
        }
        return *crawl;
    }
    if (run) {
        auto found = reader.find_run(*run);
        if (!found) {
            throw_read_error(found.error());
        }
        if (!*found) {
            throw UsageError(fmt::format("{}: no run {} in {}", command, *run, path));
        }
        auto of = storage::crawl_of_run(reader, *run);
        if (!of) {
            throw_read_error(of.error());
        }
        if (!*of) {
            throw UsageError(fmt::format("{}: run {} is a {} run, not a crawl", command, *run,
                                         (*found)->info.command));
        }
        return **of;
    }
    auto latest = reader.database().query_int("SELECT coalesce(max(id), 0) FROM crawls");
    if (!latest) {
        throw_read_error(latest.error());
    }
    if (*latest == 0) {
        throw UsageError(fmt::format("{}: no crawl recorded in {}", command, path));
    }
    return *latest;
}

void add_crawl_choice(CLI::App& cmd, std::string& db, std::optional<std::int64_t>& crawl,
                      std::optional<std::int64_t>& run) {
    cmd.add_option("--db", db,
                   "SQLite file to read (default: " + default_db_path() +
                       ", where runs are recorded)");
    auto* crawl_option =
        cmd.add_option("--crawl", crawl, "This crawl (default: the latest one recorded)");
    cmd.add_option("--run", run, "The crawl this run worked on")->excludes(crawl_option);
}

} // namespace flagcrawl::cli
