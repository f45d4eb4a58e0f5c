#include "storage/export.hpp"
#include "storage/schema.hpp"
#include "util/ascii.hpp"

#include <array>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace flagcrawl::storage {

namespace {

constexpr std::array<std::pair<ExportTable, std::string_view>, 7> k_tables = {{
    {ExportTable::runs, "runs"},
    {ExportTable::downloads, "downloads"},
    {ExportTable::crawls, "crawls"},
    {ExportTable::pages, "pages"},
    {ExportTable::links, "links"},
    {ExportTable::frontier, "frontier"},
    {ExportTable::skips, "skips"},
}};

// SQLite's affinity rules, applied to the declared type.
ColumnType column_type(std::string_view declared) {
    const std::string upper = util::to_upper(declared);
    const auto has = [&](std::string_view part) { return upper.find(part) != std::string::npos; };
    if (has("INT")) {
        return ColumnType::integer;
    }
    if (has("CHAR") || has("CLOB") || has("TEXT")) {
        return ColumnType::text;
    }
    if (has("BLOB") || upper.empty()) {
        return ColumnType::blob;
    }
    if (has("REAL") || has("FLOA") || has("DOUB")) {
        return ColumnType::real;
    }
    return ColumnType::integer; // NUMERIC affinity: stored as integers when they fit
}

std::string quoted(std::string_view identifier) {
    std::string out = "\"";
    for (char c : identifier) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + '"';
}

Result<std::vector<ExportColumn>> table_columns(Database& db, std::string_view table) {
    Statement statement = db.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid");
    statement.bind(1, table);
    std::vector<ExportColumn> columns;
    auto r = for_each_row(statement, [&](const Statement& row) {
        columns.push_back({std::string(row.column_text(0)), column_type(row.column_text(1))});
        return true;
    });
    if (!r) {
        return r.error();
    }
    return columns;
}

// The SELECT list ("alias."-qualified) of `columns`.
std::string select_list(const std::vector<ExportColumn>& columns, std::string_view alias) {
    std::string list;
    for (const ExportColumn& column : columns) {
        if (!list.empty()) {
            list += ", ";
        }
        list += std::string(alias) + "." + quoted(column.name);
    }
    return list;
}

// WHERE clause of `table` (aliased `t`; links filter on their page `p`): ?1 is the run, ?2 the
// crawl.
std::string where_clause(ExportTable table, const ExportFilter& filter) {
    std::string run;
    std::string crawl;
    switch (table) {
    case ExportTable::runs:
        run = "t.id = ?1";
        crawl = "t.id IN (SELECT run_id FROM crawl_runs WHERE crawl_id = ?2)";
        break;
    case ExportTable::downloads:
        run = "t.run_id = ?1";
        break;
    case ExportTable::crawls:
        run = "t.id IN (SELECT crawl_id FROM crawl_runs WHERE run_id = ?1)";
        crawl = "t.id = ?2";
        break;
    case ExportTable::pages:
        run = "t.run_id = ?1";
        crawl = "t.crawl_id = ?2";
        break;
    case ExportTable::links:
        run = "p.run_id = ?1";
        crawl = "p.crawl_id = ?2";
        break;
    case ExportTable::frontier:
        run = "t.crawl_id IN (SELECT crawl_id FROM crawl_runs WHERE run_id = ?1)";
        crawl = "t.crawl_id = ?2";
        break;
    case ExportTable::skips:
        run = "t.run_id = ?1";
        crawl = "t.crawl_id = ?2";
        break;
    }
    if (filter.crawl_id && crawl.empty()) {
        throw std::invalid_argument("storage: " + std::string(to_string(table)) +
                                    " rows cannot be filtered by crawl");
    }
    std::string where;
    if (filter.run_id) {
        where = " WHERE " + run;
    }
    if (filter.crawl_id) {
        where += (where.empty() ? " WHERE " : " AND ") + crawl;
    }
    return where;
}

} // namespace

std::string_view to_string(ExportTable table) {
    for (const auto& [value, name] : k_tables) {
        if (value == table) {
            return name;
        }
    }
    return "?";
}

std::optional<ExportTable> parse_export_table(std::string_view text) {
    for (const auto& [value, name] : k_tables) {
        if (name == text) {
            return value;
        }
    }
    return std::nullopt;
}

Result<void> export_rows(Reader& reader, ExportTable table, const ExportFilter& filter,
                         const std::function<void(const std::vector<ExportColumn>&)>& on_columns,
                         const std::function<bool(const Statement&)>& on_row) {
    Database& db = reader.database();
    const std::string name(to_string(table));
    if (filter.crawl_id && reader.schema_version() < k_crawl_tables_version) {
        throw std::invalid_argument("storage: a crawl filter on a file without crawl tables");
    }
    const std::string where = where_clause(table, filter);
    auto columns = table_columns(db, name);
    if (!columns) {
        return columns.error();
    }
    if (columns->empty()) {
        return Error{std::make_error_code(std::errc::invalid_argument),
                     db.path() + ": no " + name + " table (written by an older flagcrawl)"};
    }
    std::string sql;
    if (table == ExportTable::links) {
        // From schema step k_packed_links_version on, links is a view, whose columns declare
        // no type: the types of the table it replaced, the same columns.
        *columns = {{"page_id", ColumnType::integer},
                    {"n", ColumnType::integer},
                    {"to_url", ColumnType::text},
                    {"kind", ColumnType::text},
                    {"nofollow", ColumnType::integer}};
        // The page's crawl, run and URL first, then the link's own columns with from_url after
        // page_id. Links are read in key order and their pages by rowid: no sort (the view
        // gives each page's links in document order, as json_each walks the array; ordering it
        // by n as well would sort every link of the file).
        std::vector<ExportColumn> out = {{"crawl_id", ColumnType::integer},
                                         {"run_id", ColumnType::integer}};
        std::string list = "p.crawl_id, p.run_id";
        for (const ExportColumn& column : *columns) {
            out.push_back(column);
            list += ", t." + quoted(column.name);
            if (column.name == "page_id") {
                out.push_back({"from_url", ColumnType::text});
                list += ", p.url";
            }
        }
        sql = "SELECT " + list + " FROM links AS t JOIN pages AS p ON p.id = t.page_id" + where +
              (reader.schema_version() >= k_packed_links_version ? " ORDER BY t.page_id"
                                                                 : " ORDER BY t.page_id, t.n");
        *columns = std::move(out);
    } else {
        if (table == ExportTable::pages && !filter.bodies) {
            std::erase_if(*columns, [](const ExportColumn& c) { return c.name == "body"; });
        }
        if (table == ExportTable::frontier && reader.schema_version() >= k_frontier_queue_version) {
            // From step 13 on, frontier is a view whose state, derived, declares no type: the
            // table's it replaced.
            for (ExportColumn& column : *columns) {
                if (column.name == "state") {
                    column.type = ColumnType::integer;
                }
            }
        }
        std::string list = select_list(*columns, "t");
        if ((table == ExportTable::downloads || table == ExportTable::pages) &&
            reader.schema_version() < k_error_kind_version) {
            // A file from before the column: the kind its error text says, as a migration
            // would record it.
            columns->push_back({"error_kind", ColumnType::text});
            list += ", " + error_kind_sql(reader.schema_version());
        }
        const std::string order = table == ExportTable::frontier ? "t.crawl_id, t.seq"
                                  : table == ExportTable::skips  ? "t.crawl_id, t.key_hash"
                                                                 : "t.id";
        sql = "SELECT " + list + " FROM " + name + " AS t" + where + " ORDER BY " + order;
    }
    Statement statement = db.prepare(sql);
    if (filter.run_id) {
        statement.bind(1, *filter.run_id);
    }
    if (filter.crawl_id) {
        statement.bind(2, *filter.crawl_id);
    }
    on_columns(*columns);
    return for_each_row(statement, [&](const Statement& row) { return on_row(row); });
}

} // namespace flagcrawl::storage
