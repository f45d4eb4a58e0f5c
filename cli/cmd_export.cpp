// `flagcrawl export`: stream a table of the store to standard output as JSON lines or CSV, in
// constant memory, stopping quietly when the reader goes away.
#include "commands.hpp"
#include "common.hpp"
#include "export_output.hpp"
#include "stats_db.hpp"

#include "storage/export.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <iterator>
#include <memory>
#include <optional>

namespace flagcrawl::cli {
namespace {

struct ExportOptions {
    std::string db;
    std::string format = "jsonl";
    std::string table = "pages";
    std::optional<std::int64_t> run;
    std::optional<std::int64_t> crawl;
    bool bodies = false;
};

// Encodes rows into the output buffer. Column names are encoded once, up front.
class RowEncoder {
public:
    RowEncoder(bool csv, OutputStream& out)
        : m_csv(csv)
        , m_out(out) {}

    void columns(const std::vector<storage::ExportColumn>& columns) {
        m_columns = columns;
        m_keys.clear();
        std::string& out = m_out.buffer();
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (m_csv) {
                if (i > 0) {
                    out += ',';
                }
                append_csv_field(out, columns[i].name);
            } else {
                std::string key = i == 0 ? "{" : ",";
                append_json_string(key, columns[i].name);
                key += ':';
                m_keys.push_back(std::move(key));
            }
        }
        if (m_csv) {
            out += "\r\n";
        }
    }

    bool row(const storage::Statement& row) {
        std::string& out = m_out.buffer();
        for (std::size_t i = 0; i < m_columns.size(); ++i) {
            const int column = static_cast<int>(i);
            if (m_csv) {
                if (i > 0) {
                    out += ',';
                }
            } else {
                out += m_keys[i];
            }
            if (row.is_null(column)) {
                if (!m_csv) {
                    out += "null";
                }
                continue;
            }
            switch (m_columns[i].type) {
            case storage::ColumnType::integer:
                append_number(out, row.column_int64(column));
                break;
            case storage::ColumnType::real:
                if (m_csv) {
                    // CSV has no null for infinities: the number's text, as fmt writes it.
                    fmt::format_to(std::back_inserter(out), "{}", row.column_double(column));
                } else {
                    append_json_number(out, row.column_double(column));
                }
                break;
            case storage::ColumnType::text:
                if (m_csv) {
                    append_csv_field(out, row.column_text(column));
                } else {
                    append_json_string(out, row.column_text(column));
                }
                break;
            case storage::ColumnType::blob:
                // Only JSON gets here (CSV exports leave bodies out).
                out += '"';
                append_base64(out, row.column_blob(column));
                out += '"';
                break;
            }
        }
        if (m_csv) {
            out += "\r\n";
        } else {
            out += m_columns.empty() ? "{}\n" : "}\n";
        }
        return m_out.maybe_flush();
    }

private:
    bool m_csv;
    OutputStream& m_out;
    std::vector<storage::ExportColumn> m_columns;
    std::vector<std::string> m_keys; // `{"name":` then `,"name":`
};

int run_export(const ExportOptions& o) {
    const auto table = storage::parse_export_table(o.table);
    if (!table) {
        throw UsageError(fmt::format("export: --table: unknown table '{}'", o.table));
    }
    const bool csv = o.format == "csv";
    if (o.crawl && *table == storage::ExportTable::downloads) {
        throw UsageError("export: --crawl does not apply to downloads (use --run ID)");
    }
    ignore_sigpipe();
    const std::string path = reading_db_path(o.db);
    storage::Reader reader = open_reader(path, o.db.empty());
    if (o.run) {
        auto run = reader.find_run(*o.run);
        if (!run) {
            throw_read_error(run.error());
        }
        if (!*run) {
            throw UsageError(fmt::format("export: no run {} in {}", *o.run, path));
        }
    }
    const bool has_crawls = reader.schema_version() >= storage::k_crawl_tables_version;
    if (!has_crawls && *table != storage::ExportTable::runs &&
        *table != storage::ExportTable::downloads) {
        throw UsageError(fmt::format("export: {} has no {} table (written by a flagcrawl that "
                                     "recorded no crawls)",
                                     path, o.table));
    }
    if (o.crawl) {
        auto crawl = has_crawls ? reader.find_crawl(*o.crawl)
                                : storage::Result<std::optional<storage::CrawlRow>>();
        if (!crawl) {
            throw_read_error(crawl.error());
        }
        if (!*crawl) {
            throw UsageError(fmt::format("export: no crawl {} in {}", *o.crawl, path));
        }
    }
    if (csv && o.bodies) {
        std::fputs("flagcrawl: export: bodies are left out of CSV (use --format jsonl for them "
                   "as base64)\n",
                   stderr);
    }

    OutputStream out;
    RowEncoder encoder(csv, out);
    storage::ExportFilter filter{.run_id = o.run, .crawl_id = o.crawl, .bodies = o.bodies && !csv};
    auto r = storage::export_rows(
        reader, *table, filter,
        [&](const std::vector<storage::ExportColumn>& columns) { encoder.columns(columns); },
        [&](const storage::Statement& row) { return encoder.row(row); });
    if (!r) {
        throw_read_error(r.error());
    }
    out.flush();
    return k_exit_ok;
}

} // namespace

void register_export(CLI::App& app, int& exit_code) {
    auto options = std::make_shared<ExportOptions>();
    CLI::App* cmd =
        app.add_subcommand("export", "Stream a table of the store to stdout as JSON lines or CSV");
    cmd->footer(
        "One row at a time: JSON lines (one object a row; NULL as null; text as JSON strings, "
        "invalid UTF-8 replaced by U+FFFD) or CSV (RFC 4180: header row, CRLF line ends, NULL as "
        "an empty field). Rows come in a stable order (by id; links by page and position). A "
        "reader that stops early (| head) ends it quietly with exit 0.\n"
        "Exit codes: 0 done; 2 bad option, no such database, not a flagcrawl database, no such "
        "run or crawl; 3 the database cannot be read.\n"
        "Examples:\n"
        "  flagcrawl export --db site.db --table pages > pages.jsonl\n"
        "  flagcrawl export --db site.db --table links --format csv | head\n"
        "  flagcrawl export --table downloads --format csv > downloads.csv");
    cmd->add_option("--db", options->db,
                    "SQLite file to read (default: " + default_db_path() +
                        ", where runs are recorded)");
    cmd->add_option("--format", options->format, "jsonl or csv")
        ->check(CLI::IsMember({"jsonl", "csv"}))
        ->capture_default_str();
    cmd->add_option("--table", options->table,
                    "pages, links (with each link's page URL as from_url), downloads, runs, "
                    "crawls, frontier or skips (the URLs a crawl saw and did not fetch, with "
                    "kind and rule)")
        ->check(
            CLI::IsMember({"pages", "links", "downloads", "runs", "crawls", "frontier", "skips"}))
        ->capture_default_str();
    cmd->add_option("--run", options->run,
                    "Only rows of this run (pages, links: what that invocation fetched; skips: "
                    "what it skipped; crawls, frontier: the crawl it worked on)");
    cmd->add_option("--crawl", options->crawl,
                    "Only rows of this crawl, across its resumed runs (runs: its invocations; "
                    "not for downloads)");
    cmd->add_flag("--bodies", options->bodies,
                  "pages: include each saved body (crawl --save-bodies) as base64 in JSON; "
                  "CSV leaves them out");
    cmd->callback([options, &exit_code] { exit_code = run_export(*options); });
}

} // namespace flagcrawl::cli
