#include "crawler/jobs/download_job.hpp"

#include "crawler/jobs/file_sink.hpp"
#include "crawler/mirror/mirror.hpp"
#include "crawler/url/url.hpp"
#include "util/http_date.hpp"

#include <fmt/core.h>

#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace flagcrawl::crawler {

namespace {

// The complete length of a "bytes */LENGTH" Content-Range (a 416's); nullopt otherwise.
std::optional<std::uint64_t> unsatisfied_length(std::string_view content_range) {
    if (!content_range.starts_with("bytes */")) {
        return std::nullopt;
    }
    content_range.remove_prefix(8);
    std::uint64_t length = 0;
    const auto [end, ec] =
        std::from_chars(content_range.data(), content_range.data() + content_range.size(), length);
    if (ec != std::errc() || end != content_range.data() + content_range.size()) {
        return std::nullopt;
    }
    return length;
}

std::pair<std::string, std::string> split_folder(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return {{}, path};
    }
    return {path.substr(0, slash), path.substr(slash + 1)};
}

} // namespace

DownloadJob::DownloadJob(std::vector<ListLine> urls, UrlListReader* list,
                         std::filesystem::path out_dir, Recorder& recorder, DownloadOptions options)
    : m_args(std::move(urls))
    , m_list(list)
    , m_out_dir(std::move(out_dir))
    , m_recorder(recorder)
    , m_options(options) {
    const int fd = ::open(m_out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error("cannot open output folder " + m_out_dir.string() + ": " +
                                 std::strerror(errno));
    }
    m_out_folder = std::make_shared<const OpenFolder>(fd, m_out_dir);
}

DownloadJob::~DownloadJob() = default;

std::optional<ListLine> DownloadJob::next_line() {
    if (m_next_arg < m_args.size()) {
        return std::move(m_args[m_next_arg++]);
    }
    if (m_list == nullptr) {
        return std::nullopt;
    }
    return m_list->next();
}

SinkOptions DownloadJob::sink_options() const {
    return SinkOptions{.keep_partial = m_options.resume, .server_time = m_options.timestamping};
}

std::shared_ptr<const OpenFolder> DownloadJob::open_folder(const std::string& folder,
                                                           std::string& reason) {
    if (folder.empty()) {
        return m_out_folder;
    }
    const int fd = open_folder_beneath(m_out_folder->fd(), m_out_dir, folder, reason);
    if (fd < 0) {
        return nullptr;
    }
    return std::make_shared<const OpenFolder>(fd, m_out_dir / folder);
}

fetch::Request DownloadJob::make_request(const std::string& url,
                                         std::shared_ptr<const OpenFolder> folder,
                                         const std::string& name, const SinkOptions& sink) {
    fetch::Request request;
    request.id = m_next_id++;
    request.url = url;
    request.sink = std::make_unique<FileSink>(std::move(folder), name, sink);
    if (m_warc) {
        request.capture = m_warc->capture();
    }
    return request;
}

fetch::WorkSource::Next DownloadJob::hand_out(fetch::Request request, InFlight item) {
    item.started = fetch::Clock::now();
    {
        std::lock_guard lock(m_in_flight_mutex);
        m_in_flight.emplace(request.id, std::move(item));
    }
    Next next;
    next.state = State::ready;
    next.request = std::move(request);
    return next;
}

std::optional<fetch::WorkSource::Next> DownloadJob::prepare(const ListLine& line) {
    const std::string& text = line.url;
    if (!line.error.empty()) {
        m_recorder.record_unfetched(text, text, fetch::FailureKind::invalid_url, line.error);
        return std::nullopt;
    }
    auto parsed = parse(text);
    if (!parsed && parsed.error() == UrlError::no_base && text.find("://") == std::string::npos) {
        parsed = parse("http://" + text);
    }
    if (!parsed) {
        m_recorder.record_unfetched(text, text, fetch::FailureKind::invalid_url,
                                    fmt::format("invalid URL: {}", to_string(parsed.error())));
        return std::nullopt;
    }
    const Url& url = *parsed;
    if (!url.is_http()) {
        m_recorder.record_unfetched(text, text, fetch::FailureKind::disallowed_scheme,
                                    fmt::format("unsupported URL scheme '{}'", url.scheme()));
        return std::nullopt;
    }
    if (!m_seen.insert(url_key_hash(url, false))) {
        m_duplicates.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    const std::string wanted = !line.name.empty()     ? line.name
                               : m_options.keep_paths ? mirror_path(url)
                                                      : file_name_for_path(url.path());
    InFlight item;
    item.url = url.href_without_fragment();
    item.label = m_names.claim(wanted);
    auto [folder, name] = split_folder(item.label);
    item.folder = folder;
    std::string reason;
    std::shared_ptr<const OpenFolder> out = open_folder(item.folder, reason);
    if (!out) {
        m_recorder.record_unfetched(item.url, item.label, fetch::FailureKind::write_failed, reason);
        return std::nullopt;
    }

    // What is already under the name matters only to the options that keep, resume or revalidate
    // it; otherwise the download replaces it (the sink's rename), and looking would cost a path
    // lookup per file.
    const bool keeps = m_options.skip_existing || m_options.resume || m_options.timestamping;
    const std::optional<KeptFile> whole = keeps ? kept_file(out->fd(), name) : std::nullopt;
    if (m_options.skip_existing && whole) {
        m_recorder.record_kept(nullptr, item.url, item.label, (m_out_dir / item.label).string());
        return std::nullopt;
    }
    SinkOptions sink = sink_options();
    std::vector<std::string> headers;
    if (m_options.resume) {
        std::optional<KeptFile> partial = kept_file(out->fd(), "." + name + ".part");
        if (partial && partial->size > 0) {
            sink.resume = ResumeFrom{ResumeFrom::File::part, partial->size};
        } else if (whole && whole->size > 0 && !m_options.timestamping) {
            sink.resume = ResumeFrom{ResumeFrom::File::final, whole->size};
            partial = whole;
        }
        if (sink.resume) {
            headers.push_back(fmt::format("Range: bytes={}-", sink.resume->offset));
            // Ranges are of the bytes as sent: an encoded body could not be appended.
            headers.emplace_back("Accept-Encoding: identity");
            if (!partial->etag.empty() && !partial->etag.starts_with("W/")) {
                headers.push_back("If-Range: " + partial->etag);
            } else if (!partial->last_modified.empty()) {
                headers.push_back("If-Range: " + partial->last_modified);
            }
        }
    }
    if (m_options.timestamping && whole && !sink.resume) {
        headers.push_back("If-Modified-Since: " + util::format_http_date(whole->mtime));
        if (!whole->etag.empty()) {
            headers.push_back("If-None-Match: " + whole->etag);
        }
        item.conditional = true;
    }
    fetch::Request request = make_request(item.url, std::move(out), name, sink);
    request.headers = std::move(headers);
    return hand_out(std::move(request), std::move(item));
}

fetch::WorkSource::Next DownloadJob::next(fetch::Clock::time_point) {
    // Stop handing out work once results can no longer be recorded or archived: downloading on
    // without a record would lose track of what was fetched.
    while (!m_recorder.store_error() && !(m_warc && m_warc->error())) {
        if (!m_redo.empty()) {
            Next next = std::move(m_redo.front());
            m_redo.pop_front();
            return next;
        }
        std::optional<ListLine> line = next_line();
        if (!line) {
            break;
        }
        if (auto next = prepare(*line)) {
            return std::move(*next);
        }
    }
    return {};
}

void DownloadJob::redo_fresh(const fetch::Response& response, InFlight item) {
    std::string reason;
    std::shared_ptr<const OpenFolder> out = open_folder(item.folder, reason);
    if (!out) {
        m_recorder.record_unfetched(response.url, item.label, fetch::FailureKind::write_failed,
                                    reason);
        return;
    }
    const std::string name = split_folder(item.label).second;
    fetch::Request request = make_request(item.url, std::move(out), name, sink_options());
    item.conditional = false;
    item.earlier_attempts = response.attempts;
    m_redo.push_back(hand_out(std::move(request), std::move(item)));
}

void DownloadJob::on_response(fetch::Response&& response) {
    InFlight item;
    {
        std::lock_guard lock(m_in_flight_mutex);
        auto it = m_in_flight.find(response.id);
        item = std::move(it->second);
        m_in_flight.erase(it);
    }
    if (m_warc) {
        m_warc->archive(std::move(response.capture), !response.error);
    }
    auto& sink = static_cast<FileSink&>(*response.sink);
    const auto& resume = sink.options().resume;
    // A redone item's row counts the requests of both tries: the server saw them all.
    response.attempts += item.earlier_attempts;
    if (sink.range_refused()) {
        redo_fresh(response, std::move(item));
        return;
    }
    if (!response.error && response.http_status == 304 && item.conditional) {
        sink.discard();
        m_recorder.record_kept(&response, response.url, item.label,
                               (m_out_dir / item.label).string());
        return;
    }
    if (!response.error && response.http_status == 416 && resume) {
        // The kept file is whole when the server's length is its size; otherwise the file there
        // changed (or says nothing of its length): fetch it again.
        if (unsatisfied_length(response.content_range) == resume->offset) {
            if (std::string failed = sink.commit_kept(); !failed.empty()) {
                m_recorder.record(response, item.label,
                                  {fetch::Outcome::error, fetch::FailureKind::write_failed, failed},
                                  {}, {});
                return;
            }
            m_recorder.record_kept(&response, response.url, item.label, sink.final_path(),
                                   sink.sha256());
            return;
        }
        redo_fresh(response, std::move(item));
        return;
    }
    m_recorder.record_file(response, sink, item.label);
}

std::size_t DownloadJob::in_flight() const {
    std::lock_guard lock(m_in_flight_mutex);
    return m_in_flight.size();
}

std::string DownloadJob::stall_report() const {
    const auto now = fetch::Clock::now();
    std::lock_guard lock(m_in_flight_mutex);
    if (m_in_flight.empty()) {
        return {};
    }
    const InFlight& oldest = m_in_flight.begin()->second;
    return fmt::format("waiting for {} (in flight for {:.1f} s, {} request(s) in flight)",
                       oldest.url, std::chrono::duration<double>(now - oldest.started).count(),
                       m_in_flight.size());
}

} // namespace flagcrawl::crawler
