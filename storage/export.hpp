// The rows `flagcrawl export` streams: a table's columns as the schema declares them (so columns
// added by later migrations export too) and a query filtered by run or crawl, one row at a time.
#pragma once

#include "storage/reader.hpp"
#include "storage/schema.hpp" // k_crawl_tables_version

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flagcrawl::storage {

enum class ExportTable { runs, downloads, crawls, pages, links, frontier, skips };
std::string_view to_string(ExportTable table);
std::optional<ExportTable> parse_export_table(std::string_view text);

// How to read a column: column_int64 / column_double / column_text / column_blob of the row
// (NULL is checked with is_null first). From the declared type: INTEGER, REAL, TEXT, BLOB.
enum class ColumnType { integer, real, text, blob };

struct ExportColumn {
    std::string name;
    ColumnType type = ColumnType::text;
};

// Which rows. Both filters may be given (rows must match both); neither: every row.
//   runs       run_id: that run; crawl_id: the runs of that crawl.
//   downloads  run_id: that run's rows. crawl_id does not apply (downloads are no crawl's).
//   crawls     crawl_id: that crawl; run_id: the crawl that run worked on.
//   pages      run_id: the rows that invocation fetched; crawl_id: the whole crawl.
//   links      as pages, by the page they were found on. Each row also carries the page's
//              crawl_id, run_id and url (as from_url).
//   frontier   crawl_id: that crawl's; run_id: the crawl that run worked on.
//   skips      run_id: the skips that invocation decided; crawl_id: the whole crawl's.
struct ExportFilter {
    std::optional<std::int64_t> run_id;
    std::optional<std::int64_t> crawl_id;
    bool bodies = false; // pages: include the body BLOB column (left out otherwise)
};

// Calls on_columns once, then on_row for each row in a stable order (by id; links by page and
// position; frontier by crawl and seq; skips by crawl and key), column i of the row being
// columns[i]; on_row returns false to stop early. Streams: one row in memory at a time. Fails for a
// table the file does not have (crawl tables before k_crawl_tables_version). Throws
// std::invalid_argument for a filter that does not apply: crawl_id with downloads, or on a file
// without crawl tables.
Result<void> export_rows(Reader& reader, ExportTable table, const ExportFilter& filter,
                         const std::function<void(const std::vector<ExportColumn>&)>& on_columns,
                         const std::function<bool(const Statement&)>& on_row);

} // namespace flagcrawl::storage
