#include "archive/warc_writer.hpp"

#include "util/ascii.hpp"

#include "archive/capture.hpp"
#include "archive/cdxj.hpp"
#include "archive/warc_format.hpp"
#include "util/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace flagcrawl::archive {
namespace {

constexpr std::string_view k_profile =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

std::string errno_text(const std::string& what, const std::filesystem::path& path) {
    return what + " " + path.string() + ": " + std::strerror(errno);
}

void field(std::string& header, std::string_view name, std::string_view value) {
    header += name;
    header += ": ";
    header += value;
    header += "\r\n";
}

// "20240501120000" -> "2024-05-01T12:00:00Z".
std::string date_of_timestamp(std::string_view ts) {
    if (ts.size() < 14) {
        return {};
    }
    return std::string(ts.substr(0, 4)) + "-" + std::string(ts.substr(4, 2)) + "-" +
           std::string(ts.substr(6, 2)) + "T" + std::string(ts.substr(8, 2)) + ":" +
           std::string(ts.substr(10, 2)) + ":" + std::string(ts.substr(12, 2)) + "Z";
}

} // namespace

WarcPaths WarcPaths::from(const std::filesystem::path& name, bool series) {
    std::string base = name.string();
    for (std::string_view suffix : {".warc.gz", ".warc"}) {
        if (base.size() > suffix.size() &&
            util::iequals(std::string_view(base).substr(base.size() - suffix.size()), suffix)) {
            base.resize(base.size() - suffix.size());
            break;
        }
    }
    return WarcPaths{base, series};
}

std::filesystem::path WarcPaths::file(int index) const {
    if (!series) {
        return base.string() + ".warc.gz";
    }
    char number[16];
    std::snprintf(number, sizeof number, "-%05d", index);
    return base.string() + number + ".warc.gz";
}

std::filesystem::path WarcPaths::index() const {
    return base.string() + ".cdxj";
}

WarcWriter::WarcWriter(WarcOptions options)
    : m_options(std::move(options))
    , m_paths(WarcPaths::from(m_options.name, m_options.max_size > 0))
    , m_rng(std::random_device{}()) {}

WarcWriter::Result WarcWriter::open(WarcOptions options) {
    std::unique_ptr<WarcWriter> writer(new WarcWriter(std::move(options)));
    if (auto error = writer->start()) {
        writer->m_closed = true;
        return *error;
    }
    writer->m_thread = std::thread([w = writer.get()] { w->run(); });
    return writer;
}

WarcWriter::~WarcWriter() {
    (void)close();
}

std::optional<std::string> WarcWriter::start() {
    const WarcPaths& p = m_paths;
    std::error_code ec;
    if (!m_options.resume) {
        for (const auto& path : {p.file(0), p.index()}) {
            if (std::filesystem::exists(path, ec)) {
                return path.string() +
                       " already exists (remove it, or continue its crawl with --resume)";
            }
        }
        return open_file(0, false) ? std::nullopt : m_error;
    }
    // Resuming: the last file of the series is cut back to its last complete record.
    int last = -1;
    while (std::filesystem::exists(p.file(last + 1), ec) && (p.series || last < 0)) {
        ++last;
    }
    std::string cut_file;
    std::uint64_t cut_at = 0;
    bool reuse_last = false;
    if (last >= 0) {
        const auto path = p.file(last);
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            return errno_text("cannot open", path);
        }
        cut_file = path.filename().string();
        // The index names every response and revisit: one complete but not yet indexed when the
        // writer was killed goes too (with its request), back to the last indexed record.
        if (auto error = recover_index(cut_file, last_complete_record_end(fd), cut_at)) {
            ::close(fd);
            return error;
        }
        const bool cut_ok = ::ftruncate(fd, static_cast<off_t>(cut_at)) == 0;
        ::close(fd);
        if (!cut_ok) {
            return errno_text("cannot truncate", path);
        }
        reuse_last = !p.series || cut_at == 0;
    } else if (auto error = recover_index(cut_file, 0, cut_at)) {
        return error;
    }
    const int index = last < 0 ? 0 : reuse_last ? last : last + 1;
    return open_file(index, reuse_last) ? std::nullopt : m_error;
}

// Keeps the index lines of the records before `complete_end` in `cut_file` (all of the other
// files), learns their payload digests, and sets `indexed_end` to where the last one kept in
// `cut_file` ends.
std::optional<std::string> WarcWriter::recover_index(const std::string& cut_file,
                                                     std::uint64_t complete_end,
                                                     std::uint64_t& indexed_end) {
    indexed_end = 0;
    const auto path = m_paths.index();
    std::ifstream in(path);
    if (!in) {
        indexed_end = complete_end; // no index at all: nothing to keep in step with
        return std::nullopt;
    }
    std::string kept;
    std::string line;
    while (std::getline(in, line)) {
        if (in.eof()) {
            break; // a last line without its line feed was cut short
        }
        auto entry = parse_cdxj_line(line);
        if (!entry ||
            (entry->filename == cut_file && entry->offset + entry->length > complete_end)) {
            continue;
        }
        if (entry->filename == cut_file) {
            indexed_end = std::max(indexed_end, entry->offset + entry->length);
        }
        if (entry->mime != "warc/revisit" && entry->status >= 200 && entry->status < 300) {
            m_payloads.try_emplace(entry->digest,
                                   Earlier{entry->url, date_of_timestamp(entry->timestamp), ""});
        }
        kept += line;
        kept += '\n';
    }
    const auto part = path.string() + ".part";
    const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        return errno_text("cannot create", part);
    }
    const bool ok = util::write_all(fd, kept) && ::close(fd) == 0;
    if (!ok || ::rename(part.c_str(), path.c_str()) != 0) {
        return errno_text("cannot write", path);
    }
    return std::nullopt;
}

bool WarcWriter::open_file(int index, bool append) {
    if (m_fd >= 0) {
        ::fsync(m_fd);
        ::close(m_fd);
        m_fd = -1;
    }
    const auto path = m_paths.file(index);
    const int flags = O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_CREAT | O_EXCL);
    m_fd = ::open(path.c_str(), flags, 0666);
    if (m_fd < 0) {
        fail(errno_text(append ? "cannot open" : "cannot create", path));
        return false;
    }
    const off_t end = ::lseek(m_fd, 0, SEEK_END);
    m_file_size = end > 0 ? static_cast<std::uint64_t>(end) : 0;
    m_file_index = index;
    m_file_has_exchanges = false;
    ++m_files;
    if (m_index_fd < 0) {
        const auto index_path = m_paths.index();
        m_index_fd = ::open(index_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (m_index_fd < 0) {
            fail(errno_text("cannot open", index_path));
            return false;
        }
    }
    return write_warcinfo();
}

bool WarcWriter::write_warcinfo() {
    std::string block;
    field(block, "software", m_options.software);
    field(block, "format", "WARC File Format 1.1");
    field(block, "conformsTo",
          "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/");
    for (const auto& [name, value] : m_options.info) {
        field(block, name, value);
    }
    Sha1 digest;
    digest.update(block);
    m_warcinfo_id = new_record_id(m_rng);
    std::string header = "WARC/1.1\r\n";
    field(header, "WARC-Type", "warcinfo");
    field(header, "WARC-Record-ID", m_warcinfo_id);
    field(header, "WARC-Date", warc_date(std::chrono::system_clock::now()));
    field(header, "WARC-Filename", m_paths.file(m_file_index).filename().string());
    field(header, "Content-Type", "application/warc-fields");
    field(header, "WARC-Block-Digest", digest.finish_labelled());
    field(header, "Content-Length", std::to_string(block.size()));
    header += "\r\n";
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    return write_record(header, block, nullptr, offset, length);
}

std::unique_ptr<fetch::WireCapture> WarcWriter::capture() const {
    return std::make_unique<WireRecorder>(m_paths.base.parent_path().empty()
                                              ? std::filesystem::path(".")
                                              : m_paths.base.parent_path(),
                                          m_options.memory_limit);
}

void WarcWriter::archive(std::unique_ptr<fetch::WireCapture> capture, bool last_complete) {
    if (!capture) {
        return;
    }
    std::unique_lock lock(m_mutex);
    m_not_full.wait(lock, [this] { return m_queue.size() < m_options.queue_capacity; });
    if (m_error || m_stopping) {
        return;
    }
    m_queue.push_back(Item{std::move(capture), last_complete});
    ++m_queued_total;
    m_not_empty.notify_one();
}

void WarcWriter::wait_archived() {
    std::unique_lock lock(m_mutex);
    const std::uint64_t target = m_queued_total;
    m_progress.wait(lock, [&] { return m_done_total >= target || m_thread_done || m_error; });
}

std::optional<std::string> WarcWriter::error() const {
    std::lock_guard lock(m_mutex);
    return m_error;
}

void WarcWriter::fail(std::string message) {
    std::lock_guard lock(m_mutex);
    if (!m_error) {
        m_error = std::move(message);
    }
    m_progress.notify_all();
}

void WarcWriter::run() {
    for (;;) {
        Item item;
        {
            std::unique_lock lock(m_mutex);
            m_not_empty.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty()) {
                m_thread_done = true;
                m_progress.notify_all();
                return;
            }
            item = std::move(m_queue.front());
            m_queue.pop_front();
            m_not_full.notify_one();
            if (m_error) {
                ++m_done_total;
                m_progress.notify_all();
                continue;
            }
        }
        auto& exchanges = static_cast<WireRecorder&>(*item.capture).exchanges();
        std::size_t count = exchanges.size();
        if (!item.last_complete && count > 0) {
            --count;
        }
        for (std::size_t i = 0; i < count; ++i) {
            write_exchange(exchanges[i]);
        }
        std::lock_guard lock(m_mutex);
        ++m_done_total;
        m_progress.notify_all();
    }
}

void WarcWriter::write_exchange(WireExchange& x) {
    if (x.request_head.empty() || !x.response_head_complete) {
        return;
    }
    const auto facts = parse_response_head(x.response_head);
    if (!facts) {
        return;
    }
    if (!x.body.error().empty()) {
        fail(x.body.error());
        return;
    }
    if (m_paths.series && m_file_has_exchanges && m_file_size >= m_options.max_size &&
        !open_file(m_file_index + 1, false)) {
        return;
    }
    // Digests: the block is the head and the raw body; the payload is the body without its
    // transfer coding (WARC 1.1 section 6.3.2), so that identical payloads are found whatever
    // their chunk boundaries.
    Sha1 block;
    Sha1 payload;
    std::uint64_t payload_size = 0;
    block.update(x.response_head);
    Dechunker dechunker;
    const bool read = x.body.read([&](std::span<const char> piece) {
        block.update(piece);
        auto to_payload = [&](std::span<const char> p) {
            payload.update(p);
            payload_size += p.size();
        };
        if (facts->chunked) {
            dechunker.feed(piece, to_payload);
        } else {
            to_payload(piece);
        }
    });
    if (!read) {
        fail("cannot read a temporary file of the WARC capture");
        return;
    }
    const std::string payload_digest = payload.finish_labelled();
    const std::string date = warc_date(x.date);
    const std::string request_id = new_record_id(m_rng);
    const std::string response_id = new_record_id(m_rng);

    const bool dedupable = facts->status >= 200 && facts->status < 300 && payload_size > 0;
    const Earlier* earlier = nullptr;
    if (dedupable) {
        auto [it, inserted] =
            m_payloads.try_emplace(payload_digest, Earlier{x.url, date, response_id});
        if (!inserted) {
            earlier = &it->second;
        }
    }

    // The fields a request record and its response (or revisit) record share.
    auto exchange_header = [&](std::string_view type, const std::string& id,
                               const std::string& other_id, std::string_view msgtype) {
        std::string h = "WARC/1.1\r\n";
        field(h, "WARC-Type", type);
        field(h, "WARC-Record-ID", id);
        field(h, "WARC-Date", date);
        field(h, "WARC-Target-URI", x.url);
        field(h, "WARC-Concurrent-To", other_id);
        if (!x.remote_ip.empty()) {
            field(h, "WARC-IP-Address", x.remote_ip);
        }
        field(h, "WARC-Warcinfo-ID", m_warcinfo_id);
        field(h, "Content-Type", msgtype);
        return h;
    };
    Sha1 request_digest;
    request_digest.update(x.request_head);
    std::string header =
        exchange_header("request", request_id, response_id, "application/http;msgtype=request");
    field(header, "WARC-Block-Digest", request_digest.finish_labelled());
    field(header, "Content-Length", std::to_string(x.request_head.size()));
    header += "\r\n";
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    if (!write_record(header, x.request_head, nullptr, offset, length)) {
        return;
    }

    header = exchange_header(earlier ? "revisit" : "response", response_id, request_id,
                             "application/http;msgtype=response");
    field(header, "WARC-Payload-Digest", payload_digest);
    if (earlier) {
        // The block is the response's head only: the payload is the earlier record's.
        field(header, "WARC-Profile", k_profile);
        field(header, "WARC-Refers-To-Target-URI", earlier->url);
        field(header, "WARC-Refers-To-Date", earlier->date);
        if (!earlier->record_id.empty()) {
            field(header, "WARC-Refers-To", earlier->record_id);
        }
        Sha1 head_digest;
        head_digest.update(x.response_head);
        field(header, "WARC-Block-Digest", head_digest.finish_labelled());
        field(header, "Content-Length", std::to_string(x.response_head.size()));
    } else {
        field(header, "WARC-Block-Digest", block.finish_labelled());
        field(header, "Content-Length", std::to_string(x.response_head.size() + x.body.size()));
    }
    header += "\r\n";
    if (!write_record(header, x.response_head, earlier ? nullptr : &x, offset, length)) {
        return;
    }
    m_file_has_exchanges = true;
    ++m_responses;
    if (earlier) {
        ++m_revisits;
    }
    CdxEntry entry;
    entry.url = x.url;
    entry.timestamp = cdx_timestamp(date);
    entry.mime = earlier ? "warc/revisit" : facts->mime;
    entry.status = facts->status;
    entry.digest = payload_digest;
    entry.offset = offset;
    entry.length = length;
    entry.filename = m_paths.file(m_file_index).filename().string();
    write_index_line(cdxj_line(entry) + "\n");
}

bool WarcWriter::write_record(const std::string& header, const std::string& block_head,
                              const WireExchange* body_of, std::uint64_t& offset,
                              std::uint64_t& length) {
    offset = m_file_size;
    struct Out {
        WarcWriter* self;
        std::string buffer; // whole small records go out in one write(2)
    } out{this, {}};
    auto sink = [](void* context, std::span<const char> data) {
        auto& o = *static_cast<Out*>(context);
        o.buffer.append(data.data(), data.size());
        if (o.buffer.size() < (1 << 20)) {
            return true;
        }
        const bool ok = o.self->write_bytes(o.buffer);
        o.buffer.clear();
        return ok;
    };
    if (m_gzip) {
        m_gzip->restart(sink, &out);
    } else {
        m_gzip = std::make_unique<GzipMember>(m_options.compression_level, sink, &out);
    }
    GzipMember& member = *m_gzip;
    bool ok = member.add(header) && member.add(block_head);
    if (ok && body_of) {
        bool body_ok = true;
        ok = body_of->body.read(
            [&](std::span<const char> piece) { body_ok = body_ok && member.add(piece); });
        ok = ok && body_ok;
    }
    ok = ok && member.add(std::string_view("\r\n\r\n")) && member.finish();
    ok = ok && (out.buffer.empty() || write_bytes(out.buffer));
    if (!ok) {
        fail(errno_text("cannot write", m_paths.file(m_file_index)));
        return false;
    }
    length = m_file_size - offset;
    ++m_records;
    return true;
}

bool WarcWriter::write_bytes(std::span<const char> data) {
    if (!util::write_all(m_fd, data)) {
        return false;
    }
    m_file_size += data.size();
    m_bytes += data.size();
    return true;
}

bool WarcWriter::write_index_line(const std::string& line) {
    if (!util::write_all(m_index_fd, line)) {
        fail(errno_text("cannot write", m_paths.index()));
        return false;
    }
    return true;
}

std::optional<std::string> WarcWriter::close() {
    if (m_closed) {
        return error();
    }
    m_closed = true;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_not_empty.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
    if (m_fd >= 0) {
        if (::fsync(m_fd) != 0 || ::close(m_fd) != 0) {
            fail(errno_text("cannot write", m_paths.file(m_file_index)));
        }
        m_fd = -1;
    }
    if (m_index_fd >= 0) {
        ::close(m_index_fd);
        m_index_fd = -1;
        // Sorted, so that replay tools can search it.
        const auto path = m_paths.index();
        std::ifstream in(path);
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) {
            lines.push_back(std::move(line));
        }
        std::sort(lines.begin(), lines.end());
        std::string text;
        for (const auto& line : lines) {
            text += line;
            text += '\n';
        }
        const auto part = path.string() + ".part";
        const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        const bool ok = fd >= 0 && util::write_all(fd, text) && ::close(fd) == 0 &&
                        ::rename(part.c_str(), path.c_str()) == 0;
        if (!ok) {
            fail(errno_text("cannot write", path));
        }
    }
    return error();
}

WarcTotals WarcWriter::totals() const {
    return WarcTotals{m_records, m_responses, m_revisits, m_bytes, m_files};
}

} // namespace flagcrawl::archive
