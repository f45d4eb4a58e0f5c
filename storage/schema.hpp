// The store's schema, versioned with PRAGMA user_version: migrate() creates it in a new file and
// upgrades an older one step by step, so later tables (pages, links, frontier) come as new steps.
#pragma once

#include "storage/sqlite.hpp"

namespace flagcrawl::storage {

// The schema version this build writes: the number of migration steps.
int schema_version() noexcept;

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
