// storage/export.hpp on a real SQLite file (columns, order, run and crawl filters, links with
// their page, bodies) and the CSV / JSON / base64 encoders of cli/export_output.hpp, including
// invalid UTF-8 and a reader that closes its pipe.
#include "stats_fixture.hpp"

#include "cli/export_output.hpp"
#include "storage/export.hpp"
#include "storage/reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <unistd.h>

using namespace flagcrawl;
using namespace flagcrawl::storage;
using testing_support::begin_crawl_run;
using testing_support::begin_run;
using testing_support::download;
using testing_support::page;
using testing_support::TempDir;

namespace {

struct Exported {
    std::vector<ExportColumn> columns;
    std::vector<std::vector<std::optional<std::string>>> rows; // text of each cell, nullopt: NULL
};

ExportFilter filter(std::optional<std::int64_t> run, std::optional<std::int64_t> crawl,
                    bool bodies = false) {
    ExportFilter f;
    f.run_id = run;
    f.crawl_id = crawl;
    f.bodies = bodies;
    return f;
}

Exported export_table(Reader& reader, ExportTable table, const ExportFilter& filter = {}) {
    Exported e;
    auto r = export_rows(
        reader, table, filter, [&](const std::vector<ExportColumn>& c) { e.columns = c; },
        [&](const Statement& row) {
            std::vector<std::optional<std::string>> cells;
            for (std::size_t i = 0; i < e.columns.size(); ++i) {
                const int c = static_cast<int>(i);
                if (row.is_null(c)) {
                    cells.emplace_back();
                } else if (e.columns[i].type == ColumnType::integer) {
                    cells.emplace_back(std::to_string(row.column_int64(c)));
                } else if (e.columns[i].type == ColumnType::blob) {
                    cells.emplace_back(std::string(row.column_blob(c)));
                } else {
                    cells.emplace_back(std::string(row.column_text(c)));
                }
            }
            e.rows.push_back(std::move(cells));
            return true;
        });
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return e;
}

std::size_t column_index(const Exported& e, const std::string& name) {
    for (std::size_t i = 0; i < e.columns.size(); ++i) {
        if (e.columns[i].name == name) {
            return i;
        }
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
}

class ExportStore : public testing::Test {
protected:
    void SetUp() override {
        m_path = m_dir.file("e.db");
        auto writer = Writer::open(m_path);
        ASSERT_TRUE(writer);
        m_run1 = begin_crawl_run(*writer);
        m_crawl = m_run1;
        PageRecord home = page(m_crawl, m_run1, 1, "http://a.test/", 200, 0, 1, 1);
        home.title = "Home, \"sweet\"\r\nhome";
        home.body = std::string("<p>\0\xff</p>", 9);
        home.links = {{"http://a.test/1", "anchor", false}, {"http://x.test/", "anchor", true}};
        home.dns_ms = 0.25;
        home.connect_ms = 0.5;
        home.ttfb_ms = 1.5;
        ASSERT_TRUE(writer->submit(home));
        m_run2 = begin_crawl_run(*writer, m_crawl);
        PageRecord second = page(m_crawl, m_run2, 2, "http://a.test/1", 200, 1, 2, 2);
        second.title = std::string("bad \xC3\x28 utf8 \xE2\x82 end");
        second.links = {{"http://a.test/", "anchor", false}};
        ASSERT_TRUE(writer->submit(second));
        m_download = begin_run(*writer, "download");
        ASSERT_TRUE(writer->submit(download(m_download, "http://a.test/f", 200, 3)));
        ASSERT_TRUE(writer->close());
    }

    TempDir m_dir{"stats"};
    std::string m_path;
    std::int64_t m_crawl = 0, m_run1 = 0, m_run2 = 0, m_download = 0;
};

TEST_F(ExportStore, PagesColumnsFollowTheSchemaAndBodiesAreOptIn) {
    auto reader = Reader::open(m_path);
    ASSERT_TRUE(reader);
    Exported pages = export_table(*reader, ExportTable::pages);
    ASSERT_EQ(pages.rows.size(), 2u);
    EXPECT_EQ(pages.columns.front().name, "id");
    EXPECT_EQ(pages.columns.front().type, ColumnType::integer);
    for (const auto& c : pages.columns) {
        EXPECT_NE(c.name, "body");
    }
    EXPECT_EQ(pages.columns[column_index(pages, "elapsed_ms")].type, ColumnType::real);
    EXPECT_EQ(pages.columns[column_index(pages, "title")].type, ColumnType::text);
    EXPECT_EQ(pages.rows[0][column_index(pages, "title")], "Home, \"sweet\"\r\nhome");
    EXPECT_FALSE(pages.rows[0][column_index(pages, "error")]); // NULL
    // The timings of schema step 3: REAL columns, NULL where the record had none.
    for (const auto& [name, value] : {std::pair<std::string, std::string>{"dns_ms", "0.25"},
                                      {"connect_ms", "0.5"},
                                      {"ttfb_ms", "1.5"}}) {
        const std::size_t c = column_index(pages, name);
        EXPECT_EQ(pages.columns[c].type, ColumnType::real) << name;
        EXPECT_EQ(pages.rows[0][c], value) << name;
        EXPECT_FALSE(pages.rows[1][c]) << name;
    }

    Exported bodies =
        export_table(*reader, ExportTable::pages, filter(std::nullopt, std::nullopt, true));
    const std::size_t body = column_index(bodies, "body");
    EXPECT_EQ(bodies.columns[body].type, ColumnType::blob);
    EXPECT_EQ(bodies.rows[0][body], std::string("<p>\0\xff</p>", 9));
    EXPECT_FALSE(bodies.rows[1][body]);
}

TEST_F(ExportStore, RunAndCrawlFilters) {
    auto reader = Reader::open(m_path);
    ASSERT_TRUE(reader);
    Exported all_runs = export_table(*reader, ExportTable::runs);
    EXPECT_EQ(all_runs.rows.size(), 3u);
    Exported crawl_runs = export_table(*reader, ExportTable::runs, filter(std::nullopt, m_crawl));
    ASSERT_EQ(crawl_runs.rows.size(), 2u);
    EXPECT_EQ(crawl_runs.rows[1][0], std::to_string(m_run2));

    Exported second = export_table(*reader, ExportTable::pages, filter(m_run2, std::nullopt));
    ASSERT_EQ(second.rows.size(), 1u);
    EXPECT_EQ(second.rows[0][column_index(second, "url")], "http://a.test/1");
    EXPECT_EQ(export_table(*reader, ExportTable::pages, filter(std::nullopt, m_crawl)).rows.size(),
              2u);
    EXPECT_EQ(
        export_table(*reader, ExportTable::pages, filter(m_download, std::nullopt)).rows.size(),
        0u);
    EXPECT_EQ(export_table(*reader, ExportTable::pages, filter(m_run1, m_crawl)).rows.size(), 1u);

    Exported downloads =
        export_table(*reader, ExportTable::downloads, filter(m_download, std::nullopt));
    ASSERT_EQ(downloads.rows.size(), 1u);
    EXPECT_EQ(
        export_table(*reader, ExportTable::downloads, filter(m_run1, std::nullopt)).rows.size(),
        0u);
    EXPECT_THROW(export_table(*reader, ExportTable::downloads, filter(std::nullopt, m_crawl)),
                 std::invalid_argument);

    Exported crawls = export_table(*reader, ExportTable::crawls, filter(m_run2, std::nullopt));
    ASSERT_EQ(crawls.rows.size(), 1u);
    EXPECT_EQ(crawls.rows[0][0], std::to_string(m_crawl));
    EXPECT_EQ(
        export_table(*reader, ExportTable::crawls, filter(m_download, std::nullopt)).rows.size(),
        0u);
}

TEST_F(ExportStore, LinksCarryTheirPageInDocumentOrder) {
    auto reader = Reader::open(m_path);
    ASSERT_TRUE(reader);
    Exported links = export_table(*reader, ExportTable::links);
    std::vector<std::string> names;
    for (const auto& c : links.columns) {
        names.push_back(c.name);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"crawl_id", "run_id", "page_id", "from_url", "n",
                                               "to_url", "kind", "nofollow"}));
    ASSERT_EQ(links.rows.size(), 3u);
    EXPECT_EQ(links.rows[0][3], "http://a.test/");
    EXPECT_EQ(links.rows[0][4], "0");
    EXPECT_EQ(links.rows[0][5], "http://a.test/1");
    EXPECT_EQ(links.rows[1][5], "http://x.test/");
    EXPECT_EQ(links.rows[1][7], "1");
    EXPECT_EQ(links.rows[2][1], std::to_string(m_run2));
    EXPECT_EQ(links.rows[2][3], "http://a.test/1");

    Exported second = export_table(*reader, ExportTable::links, filter(m_run2, std::nullopt));
    ASSERT_EQ(second.rows.size(), 1u);
    EXPECT_EQ(second.rows[0][5], "http://a.test/");
}

std::string json(std::string_view text) {
    std::string out;
    cli::append_json_string(out, text);
    return out;
}

std::string csv(std::string_view text) {
    std::string out;
    cli::append_csv_field(out, text);
    return out;
}

std::string base64(std::string_view bytes) {
    std::string out;
    cli::append_base64(out, bytes);
    return out;
}

TEST(ExportEncoding, JsonStringsAreEscapedAndValidUtf8) {
    EXPECT_EQ(json("plain"), "\"plain\"");
    EXPECT_EQ(json("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
    EXPECT_EQ(json("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    EXPECT_EQ(json(std::string("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
    EXPECT_EQ(json("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(json("a\xFF"
                   "b"),
              "\"a" + fffd + "b\"");
    EXPECT_EQ(json("\xC3\x28"), "\"" + fffd + "(\"");       // lead byte without continuation
    EXPECT_EQ(json("\xE2\x82"), "\"" + fffd + "\"");        // truncated at the end: one U+FFFD
    EXPECT_EQ(json("\xC0\xAF"), "\"" + fffd + fffd + "\""); // overlong: both bytes invalid
    EXPECT_EQ(json("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");            // a surrogate
    EXPECT_EQ(json("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\""); // > U+10FFFF
    // Whatever the bytes, a JSON parser accepts the result.
    std::string all;
    for (int c = 0; c < 256; ++c) {
        all += static_cast<char>(c);
        all += static_cast<char>(255 - c);
    }
    auto parsed = nlohmann::json::parse(json(all), nullptr, false);
    EXPECT_FALSE(parsed.is_discarded());

    std::string number;
    cli::append_json_number(number, 0.1);
    number += ' ';
    cli::append_json_number(number, 12.0);
    number += ' ';
    cli::append_json_number(number, 1e300 * 1e10);
    number += ' ';
    cli::append_number(number, -9007199254740993);
    EXPECT_EQ(number, "0.1 12 null -9007199254740993");
}

TEST(ExportEncoding, CsvFieldsFollowRfc4180) {
    EXPECT_EQ(csv("plain text"), "plain text");
    EXPECT_EQ(csv(""), "");
    EXPECT_EQ(csv("a,b"), "\"a,b\"");
    EXPECT_EQ(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv("line\r\nbreak"), "\"line\r\nbreak\"");
    EXPECT_EQ(csv("lf\nonly"), "\"lf\nonly\"");
    EXPECT_EQ(csv("bad \xFF byte"), "bad \xEF\xBF\xBD byte");
}

TEST(ExportEncoding, Base64TestVectors) {
    // RFC 4648 section 10.
    EXPECT_EQ(base64(""), "");
    EXPECT_EQ(base64("f"), "Zg==");
    EXPECT_EQ(base64("fo"), "Zm8=");
    EXPECT_EQ(base64("foo"), "Zm9v");
    EXPECT_EQ(base64("foob"), "Zm9vYg==");
    EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64(std::string("\0\xff\xfe", 3)), "AP/+");
}

TEST(ExportEncoding, ClosedPipeEndsTheOutputQuietly) {
    cli::ignore_sigpipe();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    cli::OutputStream out(fds[1], 16);
    out.write("first line\n");
    ASSERT_TRUE(out.flush());
    char buffer[64];
    ASSERT_EQ(::read(fds[0], buffer, sizeof buffer), 11);
    ::close(fds[0]);
    out.write("more text than the sixteen bytes of capacity\n");
    EXPECT_FALSE(out.maybe_flush());
    EXPECT_TRUE(out.closed());
    out.write("dropped\n");
    EXPECT_FALSE(out.flush());
    ::close(fds[1]);
}

} // namespace
