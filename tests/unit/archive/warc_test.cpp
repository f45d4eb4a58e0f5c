// The WARC writer and its index without the network: record layout, digests (block over the
// raw bytes, payload without the chunked framing), revisits, one gzip member per record, the
// CDXJ offsets, rollover by size, and recovery of a file cut short by a crash.
#include "temp_dir.hpp"

#include "archive/capture.hpp"
#include "archive/cdxj.hpp"
#include "archive/warc_format.hpp"
#include "archive/warc_writer.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace archive = flagcrawl::archive;
using flagcrawl::testing_support::TempDir;

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Inflates the gzip member at `offset`; `length` receives its compressed size.
std::string inflate_member(const std::string& file, std::size_t offset, std::size_t* length) {
    z_stream zs{};
    inflateInit2(&zs, 15 + 16);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.data() + offset));
    zs.avail_in = static_cast<uInt>(file.size() - offset);
    std::string out;
    char buffer[4096];
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.next_out = reinterpret_cast<Bytef*>(buffer);
        zs.avail_out = sizeof buffer;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - zs.avail_out);
    }
    EXPECT_EQ(rc, Z_STREAM_END) << "member at " << offset;
    if (length)
        *length = zs.total_in;
    inflateEnd(&zs);
    return out;
}

// Every member of a file, decompressed, with its offset.
std::vector<std::pair<std::size_t, std::string>> members(const std::string& file) {
    std::vector<std::pair<std::size_t, std::string>> out;
    std::size_t at = 0;
    while (at < file.size()) {
        std::size_t length = 0;
        out.emplace_back(at, inflate_member(file, at, &length));
        if (length == 0)
            break;
        at += length;
    }
    return out;
}

std::string header_value(const std::string& record, const std::string& name) {
    const auto at = record.find("\r\n" + name + ": ");
    if (at == std::string::npos)
        return {};
    const auto start = at + name.size() + 4;
    return record.substr(start, record.find("\r\n", start) - start);
}

std::string block_of(const std::string& record) {
    const auto start = record.find("\r\n\r\n") + 4;
    EXPECT_TRUE(record.ends_with("\r\n\r\n"));
    return record.substr(start, record.size() - start - 4);
}

std::string sha1_label(const std::string& data) {
    archive::Sha1 s;
    s.update(data);
    return s.finish_labelled();
}

// A capture filled as the fetch engine would fill it.
std::unique_ptr<flagcrawl::fetch::WireCapture> exchange(archive::WarcWriter& writer,
                                                        const std::string& url,
                                                        const std::string& head,
                                                        const std::string& body) {
    auto c = writer.capture();
    const std::string request = "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n";
    c->request_head(url, "127.0.0.1", request);
    std::size_t at = 0;
    while (at < head.size()) {
        const auto eol = head.find('\n', at) + 1;
        c->response_head({head.data() + at, eol - at});
        at = eol;
    }
    c->response_body(body);
    return c;
}

archive::WarcOptions options(const std::filesystem::path& name) {
    archive::WarcOptions o;
    o.name = name;
    o.software = "flagcrawl/test";
    o.info = {{"robots", "obey"}};
    return o;
}

const std::string k_html_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 12\r\n\r\n";

TEST(WarcFormat, DigestsAreBase32Sha1) {
    EXPECT_EQ(sha1_label(""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    EXPECT_EQ(sha1_label("abc"), "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
    const unsigned char f[] = {'f', 'o', 'o', 'b', 'a', 'r'};
    EXPECT_EQ(archive::base32({f, 6}), "MZXW6YTBOI======");
}

TEST(WarcFormat, DechunkerYieldsThePayload) {
    const std::string raw = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    for (std::size_t piece : {1u, 3u, 100u}) {
        archive::Dechunker d;
        std::string out;
        for (std::size_t at = 0; at < raw.size(); at += piece)
            d.feed(std::span<const char>(raw).subspan(at, std::min(piece, raw.size() - at)),
                   [&](std::span<const char> p) { out.append(p.data(), p.size()); });
        EXPECT_EQ(out, "hello world") << "pieces of " << piece;
    }
}

TEST(WarcFormat, ResponseHeadFacts) {
    auto f = archive::parse_response_head("HTTP/1.1 404 Not Found\r\nContent-Type: Text/HTML ; "
                                          "charset=x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->status, 404);
    EXPECT_EQ(f->mime, "text/html");
    EXPECT_TRUE(f->chunked);
    EXPECT_FALSE(archive::parse_response_head("garbage"));
}

// A restarted compressor writes the same members as fresh ones, even after a member it left
// unfinished (a sink that refused data).
TEST(WarcFormat, GzipMemberRestartsAsNew) {
    auto append = [](void* context, std::span<const char> data) {
        static_cast<std::string*>(context)->append(data.data(), data.size());
        return true;
    };
    auto refuse = [](void*, std::span<const char>) { return false; };
    std::string text;
    for (int i = 0; text.size() < 200'000; ++i) {
        text += "<p>line " + std::to_string(i * 7919 % 1000) + " of a page</p>\n";
    }
    const std::vector<std::string> pieces = {"WARC/1.1\r\n", text, "short", text.substr(0, 100)};
    std::string fresh;
    for (const std::string& piece : pieces) {
        archive::GzipMember member(6, append, &fresh);
        ASSERT_TRUE(member.add(piece) && member.finish());
    }
    std::string reused;
    archive::GzipMember member(6, refuse, nullptr);
    EXPECT_FALSE(member.add(text) && member.finish());
    for (const std::string& piece : pieces) {
        member.restart(append, &reused);
        ASSERT_TRUE(member.add(piece) && member.finish());
    }
    EXPECT_EQ(reused, fresh);
    const auto decoded = members(reused);
    ASSERT_EQ(decoded.size(), pieces.size());
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        EXPECT_EQ(decoded[i].second, pieces[i]) << i;
    }
}

TEST(WarcFormat, DatesAndIds) {
    const auto t = std::chrono::system_clock::time_point(
        std::chrono::microseconds(1714564800123456)); // 2024-05-01T12:00:00.123456Z
    EXPECT_EQ(archive::warc_date(t), "2024-05-01T12:00:00.123456Z");
    EXPECT_EQ(archive::cdx_timestamp("2024-05-01T12:00:00.123456Z"), "20240501120000");
    std::mt19937_64 rng(1);
    const std::string id = archive::new_record_id(rng);
    EXPECT_EQ(id.size(), 47u) << id;
    EXPECT_TRUE(id.starts_with("<urn:uuid:"));
    EXPECT_EQ(id[24], '4'); // version 4
    EXPECT_NE(id, archive::new_record_id(rng));
}

TEST(Cdxj, SurtKeys) {
    EXPECT_EQ(archive::surt_key("http://www.Example.com/A/b?z=1&a=2#f"),
              "com,example)/a/b?a=2&z=1");
    EXPECT_EQ(archive::surt_key("https://sub.example.org:443/"), "org,example,sub)/");
    EXPECT_EQ(archive::surt_key("http://127.0.0.1:8080/x"), "127.0.0.1:8080)/x");
    EXPECT_EQ(archive::surt_key("http://example.com"), "com,example)/");
}

TEST(Cdxj, LinesRoundTrip) {
    archive::CdxEntry e{"http://a.org/x", "20240501120000", "text/html", 200, "sha1:AB", 10, 20,
                        "f.warc.gz"};
    const std::string line = archive::cdxj_line(e);
    EXPECT_TRUE(line.starts_with("org,a)/x 20240501120000 {\"url\":\"http://a.org/x\""));
    auto back = archive::parse_cdxj_line(line);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->offset, 10u);
    EXPECT_EQ(back->length, 20u);
    EXPECT_EQ(back->status, 200);
    EXPECT_EQ(back->filename, "f.warc.gz");
    EXPECT_FALSE(archive::parse_cdxj_line("org,a)/x 2024 {\"url\":"));
}

TEST(WarcWriter, RecordsDigestsRevisitsAndIndex) {
    TempDir dir("warc");
    auto writer = archive::WarcWriter::open(options(dir.path() / "site.warc.gz"));
    ASSERT_TRUE(writer) << writer.error();
    auto& w = **writer;
    w.archive(exchange(w, "http://example.org/a", k_html_head, "<p>hello</p>"), true);
    // The same payload, chunked: a revisit (the payload digest ignores the framing).
    const std::string chunked_head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
    w.archive(exchange(w, "http://example.org/b", chunked_head,
                       "5\r\n<p>he\r\n7\r\nllo</p>\r\n0\r\n\r\n"),
              true);
    // A failed transfer: its (only) exchange is left out.
    w.archive(exchange(w, "http://example.org/cut", k_html_head, "<p>hel"), false);
    ASSERT_FALSE(w.close());
    EXPECT_EQ(w.totals().responses, 2u);
    EXPECT_EQ(w.totals().revisits, 1u);

    const std::string file = read_file(dir.path() / "site.warc.gz");
    const auto records = members(file);
    ASSERT_EQ(records.size(), 5u); // warcinfo, request, response, request, revisit
    EXPECT_EQ(header_value(records[0].second, "WARC-Type"), "warcinfo");
    EXPECT_NE(records[0].second.find("software: flagcrawl/test\r\n"), std::string::npos);
    EXPECT_EQ(header_value(records[0].second, "WARC-Filename"), "site.warc.gz");
    for (const auto& [offset, record] : records) {
        EXPECT_TRUE(record.starts_with("WARC/1.1\r\n"));
        const std::string block = block_of(record);
        EXPECT_EQ(header_value(record, "Content-Length"), std::to_string(block.size()));
        EXPECT_EQ(header_value(record, "WARC-Block-Digest"), sha1_label(block));
    }
    const std::string& request = records[1].second;
    const std::string& response = records[2].second;
    EXPECT_EQ(header_value(request, "WARC-Type"), "request");
    EXPECT_EQ(header_value(response, "WARC-Type"), "response");
    EXPECT_EQ(header_value(request, "WARC-Concurrent-To"),
              header_value(response, "WARC-Record-ID"));
    EXPECT_EQ(header_value(response, "WARC-Concurrent-To"),
              header_value(request, "WARC-Record-ID"));
    EXPECT_EQ(header_value(response, "WARC-Target-URI"), "http://example.org/a");
    EXPECT_EQ(header_value(response, "WARC-IP-Address"), "127.0.0.1");
    EXPECT_EQ(header_value(response, "WARC-Warcinfo-ID"),
              header_value(records[0].second, "WARC-Record-ID"));
    EXPECT_EQ(header_value(response, "WARC-Payload-Digest"), sha1_label("<p>hello</p>"));
    EXPECT_EQ(block_of(response), k_html_head + "<p>hello</p>");
    const std::string& revisit = records[4].second;
    EXPECT_EQ(header_value(revisit, "WARC-Type"), "revisit");
    EXPECT_EQ(header_value(revisit, "WARC-Payload-Digest"), sha1_label("<p>hello</p>"));
    EXPECT_EQ(header_value(revisit, "WARC-Refers-To-Target-URI"), "http://example.org/a");
    EXPECT_EQ(header_value(revisit, "WARC-Refers-To"), header_value(response, "WARC-Record-ID"));
    EXPECT_EQ(header_value(revisit, "WARC-Profile"),
              "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest");
    EXPECT_EQ(block_of(revisit), chunked_head);

    // The index: sorted, one line per response or revisit, pointing at its member.
    std::ifstream index(dir.path() / "site.cdxj");
    std::vector<archive::CdxEntry> entries;
    std::vector<std::string> lines;
    for (std::string line; std::getline(index, line);) {
        lines.push_back(line);
        auto e = archive::parse_cdxj_line(line);
        ASSERT_TRUE(e) << line;
        entries.push_back(*e);
    }
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_TRUE(std::is_sorted(lines.begin(), lines.end()));
    EXPECT_EQ(entries[0].url, "http://example.org/a");
    EXPECT_EQ(entries[0].mime, "text/html");
    EXPECT_EQ(entries[1].mime, "warc/revisit");
    EXPECT_EQ(entries[0].offset, records[2].first);
    EXPECT_EQ(entries[0].length, records[3].first - records[2].first);
    EXPECT_EQ(entries[1].offset, records[4].first);
    EXPECT_EQ(entries[1].offset + entries[1].length, file.size());
}

// wait_archived() returns once what was queued is in the files (the index line included), and
// at once when nothing is queued or the writer is closed.
TEST(WarcWriter, WaitArchivedReturnsOnceTheQueuedResponsesAreWritten) {
    TempDir dir("warc");
    auto writer = archive::WarcWriter::open(options(dir.path() / "site.warc.gz"));
    ASSERT_TRUE(writer) << writer.error();
    auto& w = **writer;
    w.wait_archived();
    std::string body(200'000, 'x');
    for (int i = 0; i < 20; ++i) {
        body[static_cast<std::size_t>(i)] = 'y'; // no revisits: every body differs
        w.archive(exchange(w, "http://example.org/" + std::to_string(i), k_html_head, body), true);
    }
    w.wait_archived();
    EXPECT_EQ(w.totals().responses, 20u);
    const std::string index = read_file(dir.path() / "site.cdxj");
    EXPECT_EQ(std::count(index.begin(), index.end(), '\n'), 20) << index;
    ASSERT_FALSE(w.close());
    w.wait_archived();
}

TEST(WarcWriter, RefusesToOverwrite) {
    TempDir dir("warc");
    {
        auto writer = archive::WarcWriter::open(options(dir.path() / "x"));
        ASSERT_TRUE(writer);
    }
    ASSERT_TRUE(std::filesystem::exists(dir.path() / "x.warc.gz"));
    auto again = archive::WarcWriter::open(options(dir.path() / "x"));
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().find("already exists"), std::string::npos) << again.error();
}

TEST(WarcWriter, RollsOverIntoASeries) {
    TempDir dir("warc");
    auto o = options(dir.path() / "s");
    o.max_size = 1;
    auto writer = archive::WarcWriter::open(o);
    ASSERT_TRUE(writer);
    for (int i = 0; i < 3; ++i)
        (*writer)->archive(exchange(**writer, "http://e.org/" + std::to_string(i), k_html_head,
                                    "<p>page " + std::to_string(i) + "</p>"),
                           true);
    ASSERT_FALSE((*writer)->close());
    for (int i = 0; i < 3; ++i) {
        const auto path = dir.path() / ("s-0000" + std::to_string(i) + ".warc.gz");
        const auto records = members(read_file(path));
        ASSERT_EQ(records.size(), 3u) << path; // warcinfo, request, response
        EXPECT_EQ(header_value(records[0].second, "WARC-Filename"), path.filename().string());
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "s-00003.warc.gz"));
}

TEST(WarcWriter, ResumeCutsACrashedTailAndAppends) {
    TempDir dir("warc");
    const auto name = dir.path() / "r";
    {
        auto writer = archive::WarcWriter::open(options(name));
        ASSERT_TRUE(writer);
        (*writer)->archive(exchange(**writer, "http://e.org/1", k_html_head, "<p>one</p>"), true);
        (*writer)->archive(exchange(**writer, "http://e.org/2", k_html_head, "<p>two</p>"), true);
        ASSERT_FALSE((*writer)->close());
    }
    // A crash in the middle of the last record: half of its member, and its index line
    // written (as it could be by a later record's writer before the cut).
    const auto path = dir.path() / "r.warc.gz";
    std::string file = read_file(path);
    const auto before = members(file);
    ASSERT_EQ(before.size(), 5u);
    const std::size_t cut = before[4].first + (file.size() - before[4].first) / 2;
    std::filesystem::resize_file(path, cut);
    {
        std::ofstream index(dir.path() / "r.cdxj", std::ios::app);
        index << "partial line without its end";
    }

    auto o = options(name);
    o.resume = true;
    auto writer = archive::WarcWriter::open(o);
    ASSERT_TRUE(writer) << writer.error();
    // The payload of the cut record is not known any more; the first one still is.
    (*writer)->archive(exchange(**writer, "http://e.org/3", k_html_head, "<p>one</p>"), true);
    ASSERT_FALSE((*writer)->close());
    file = read_file(path);
    const auto after = members(file);
    // Kept: warcinfo, request and response 1; the request of the cut response goes too.
    ASSERT_EQ(after.size(), 6u); // 3 kept, warcinfo, request, revisit
    EXPECT_EQ(after[3].first, before[3].first);
    EXPECT_EQ(header_value(after[3].second, "WARC-Type"), "warcinfo");
    EXPECT_EQ(header_value(after[4].second, "WARC-Type"), "request");
    EXPECT_EQ(header_value(after[5].second, "WARC-Type"), "revisit");
    EXPECT_EQ(header_value(after[5].second, "WARC-Refers-To-Target-URI"), "http://e.org/1");
    std::ifstream index(dir.path() / "r.cdxj");
    std::vector<std::string> urls;
    for (std::string line; std::getline(index, line);) {
        auto e = archive::parse_cdxj_line(line);
        ASSERT_TRUE(e) << line;
        EXPECT_EQ(inflate_member(file, e->offset, nullptr).find("WARC/1.1\r\n"), 0u);
        urls.push_back(e->url);
    }
    EXPECT_EQ(urls, (std::vector<std::string>{"http://e.org/1", "http://e.org/3"}));
}

// Killed between a record and its index line: the record goes, so that the index names every
// response.
TEST(WarcWriter, ResumeCutsARecordThatWasNotIndexed) {
    TempDir dir("warc");
    const auto name = dir.path() / "u";
    {
        auto writer = archive::WarcWriter::open(options(name));
        ASSERT_TRUE(writer);
        (*writer)->archive(exchange(**writer, "http://e.org/1", k_html_head, "<p>one</p>"), true);
        (*writer)->archive(exchange(**writer, "http://e.org/2", k_html_head, "<p>two</p>"), true);
        ASSERT_FALSE((*writer)->close());
    }
    const auto before = members(read_file(dir.path() / "u.warc.gz"));
    ASSERT_EQ(before.size(), 5u);
    {
        std::ifstream in(dir.path() / "u.cdxj");
        std::string kept;
        for (std::string line; std::getline(in, line);)
            if (line.find("http://e.org/2") == std::string::npos)
                kept += line + "\n";
        std::ofstream(dir.path() / "u.cdxj", std::ios::trunc) << kept;
    }
    auto o = options(name);
    o.resume = true;
    auto writer = archive::WarcWriter::open(o);
    ASSERT_TRUE(writer) << writer.error();
    ASSERT_FALSE((*writer)->close());
    const auto after = members(read_file(dir.path() / "u.warc.gz"));
    ASSERT_EQ(after.size(), 4u); // warcinfo, request 1, response 1, the new warcinfo
    EXPECT_EQ(after[3].first, before[3].first);
    EXPECT_EQ(header_value(after[3].second, "WARC-Type"), "warcinfo");
}

TEST(WarcWriter, CompressionLevel) {
    TempDir dir("warc");
    std::string body;
    for (int i = 0; i < 3000; ++i)
        body += "<p>row " + std::to_string(i % 97) + " of a table</p>\n";
    std::uintmax_t sizes[2] = {};
    for (int i = 0; i < 2; ++i) {
        auto o = options(dir.path() / ("l" + std::to_string(i)));
        o.compression_level = i == 0 ? 1 : 9;
        auto writer = archive::WarcWriter::open(o);
        ASSERT_TRUE(writer);
        (*writer)->archive(exchange(**writer, "http://e.org/t", k_html_head, body), true);
        ASSERT_FALSE((*writer)->close());
        const auto path = dir.path() / ("l" + std::to_string(i) + ".warc.gz");
        EXPECT_EQ(block_of(members(read_file(path))[2].second), k_html_head + body);
        sizes[i] = std::filesystem::file_size(path);
    }
    EXPECT_GT(sizes[0], sizes[1]); // level 1 is larger than level 9
}

TEST(WarcWriter, LargeBodiesSpillToATemporaryFile) {
    TempDir dir("warc");
    auto o = options(dir.path() / "big");
    o.memory_limit = 1000;
    auto writer = archive::WarcWriter::open(o);
    ASSERT_TRUE(writer);
    std::string body;
    for (int i = 0; i < 5000; ++i)
        body += std::to_string(i) + ",";
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    auto c = (*writer)->capture();
    c->request_head("http://e.org/big", "", "GET /big HTTP/1.1\r\n\r\n");
    for (std::size_t at = 0; at < head.size();) {
        const auto eol = head.find('\n', at) + 1;
        c->response_head({head.data() + at, eol - at});
        at = eol;
    }
    for (std::size_t at = 0; at < body.size(); at += 700)
        ASSERT_TRUE(c->response_body(std::string_view(body).substr(at, 700)));
    (*writer)->archive(std::move(c), true);
    ASSERT_FALSE((*writer)->close());
    const auto records = members(read_file(dir.path() / "big.warc.gz"));
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(block_of(records[2].second), head + body);
    EXPECT_EQ(header_value(records[2].second, "WARC-IP-Address"), "");
}

} // namespace
