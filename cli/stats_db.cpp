#include "stats_db.hpp"

#include "commands.hpp"
#include "common.hpp"

#include "storage/stats.hpp"

#include <fmt/core.h>

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

} // namespace flagcrawl::cli
