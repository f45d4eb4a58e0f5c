// Opening the store for reading (`stats`, `export`): the DB is their input, so a missing file or
// one that is no flagcrawl database is a usage error (exit 2); a file that cannot be read is
// fatal (exit 3).
#pragma once

#include "storage/reader.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace flagcrawl::cli {

// The file --db names, or the default store when it is empty.
std::string reading_db_path(const std::string& db_option);

// Opens it read-only. Throws UsageError ("no such database: PATH", "PATH: not a flagcrawl
// database ...") or FatalError (permissions, I/O), each one line naming the file.
storage::Reader open_reader(const std::string& path, bool is_default);

// Turns a read failure into FatalError.
[[noreturn]] void throw_read_error(const storage::Error& error);

// The crawl a reading command is about: `crawl` (checked), the crawl `run` worked on, or else
// the latest crawl recorded. Throws UsageError naming `command` and `path` when there is none.
// The options of a command that reads one crawl of a file: --db, --crawl N, --run N.
void add_crawl_choice(CLI::App& cmd, std::string& db, std::optional<std::int64_t>& crawl,
                      std::optional<std::int64_t>& run);

std::int64_t pick_crawl(storage::Reader& reader, const std::optional<std::int64_t>& crawl,
                        const std::optional<std::int64_t>& run, const std::string& command,
                        const std::string& path);

} // namespace flagcrawl::cli
