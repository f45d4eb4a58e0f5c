#include "crawler/jobs/download_job.hpp"

#include "crawler/jobs/file_sink.hpp"
#include "crawler/url/url.hpp"

#include <fmt/core.h>

namespace flagcrawl::crawler {

std::optional<std::string> read_url_line(std::istream& in) {
    std::string line;
    while (std::getline(in, line)) {
        auto begin = line.find_first_not_of(" \t\r");
        if (begin == std::string::npos || line[begin] == '#')
            continue;
        auto end = line.find_last_not_of(" \t\r");
        line.erase(end + 1);
        line.erase(0, begin);
        return line;
    }
    return std::nullopt;
}

std::size_t count_url_lines(std::istream& in) {
    std::size_t count = 0;
    while (read_url_line(in))
        ++count;
    return count;
}

DownloadJob::DownloadJob(std::vector<std::string> urls, std::istream* input,
                         std::filesystem::path out_dir, Recorder& recorder)
    : m_args(std::move(urls))
    , m_input(input)
    , m_out_dir(std::move(out_dir))
    , m_recorder(recorder) {}

std::optional<std::string> DownloadJob::next_url() {
    if (m_next_arg < m_args.size())
        return std::move(m_args[m_next_arg++]);
    if (m_input == nullptr)
        return std::nullopt;
    auto line = read_url_line(*m_input);
    if (!line && m_input->bad())
        m_input_failed = true;
    return line;
}

fetch::WorkSource::Next DownloadJob::next(fetch::Clock::time_point) {
    // Stop handing out work once results can no longer be recorded or archived: downloading on
    // without a record would lose track of what was fetched.
    while (!m_recorder.store_error() && !(m_warc && m_warc->error())) {
        std::optional<std::string> text = next_url();
        if (!text)
            break;
        auto parsed = parse(*text);
        if (!parsed && parsed.error() == UrlError::no_base &&
            text->find("://") == std::string::npos)
            parsed = parse("http://" + *text);
        if (!parsed) {
            m_recorder.record_unfetched(*text, *text, fetch::FailureKind::invalid_url,
                                        fmt::format("invalid URL: {}", to_string(parsed.error())));
            continue;
        }
        const Url& url = *parsed;
        if (!url.is_http()) {
            m_recorder.record_unfetched(*text, *text, fetch::FailureKind::disallowed_scheme,
                                        fmt::format("unsupported URL scheme '{}'", url.scheme()));
            continue;
        }
        if (!m_seen.insert(url_key_hash(url, false))) {
            m_duplicates.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        Next next;
        next.state = State::ready;
        next.request.url = url.href_without_fragment();
        next.request.sink =
            std::make_unique<FileSink>(m_out_dir, m_names.claim(file_name_for_path(url.path())));
        if (m_warc) {
            next.request.capture = m_warc->capture();
        }
        return next;
    }
    return {};
}

void DownloadJob::on_response(fetch::Response&& response) {
    if (m_warc) {
        m_warc->archive(std::move(response.capture), !response.error);
    }
    auto& sink = static_cast<FileSink&>(*response.sink);
    m_recorder.record_file(response, sink, sink.final_path().filename().string());
}

} // namespace flagcrawl::crawler
