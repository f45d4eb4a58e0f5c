#include "crawler/download_job.hpp"

#include "crawler/file_names.hpp"
#include "crawler/file_sink.hpp"
#include "crawler/url.hpp"

#include <fmt/core.h>

#include <unordered_set>

namespace flagcrawl::crawler {

DownloadJob::DownloadJob(const std::vector<std::string>& urls, std::filesystem::path out_dir,
                         Recorder& recorder)
    : m_out_dir(std::move(out_dir))
    , m_recorder(recorder) {
    NameAllocator names;
    std::unordered_set<std::string> seen;
    m_items.reserve(urls.size());
    for (const std::string& text : urls) {
        auto parsed = parse(text);
        // Like curl and wget, a URL without a scheme ("example.com/a.gif") means http.
        if (!parsed && parsed.error() == UrlError::no_base && text.find("://") == std::string::npos)
            parsed = parse("http://" + text);
        if (!parsed) {
            m_items.push_back(
                {text, {}, fmt::format("invalid URL: {}", to_string(parsed.error()))});
            continue;
        }
        const Url& url = *parsed;
        if (url.scheme() != "http" && url.scheme() != "https") {
            m_items.push_back({text, {}, fmt::format("unsupported URL scheme '{}'", url.scheme())});
            continue;
        }
        std::string href(url.href_without_fragment());
        if (!seen.insert(href).second) {
            ++m_duplicates;
            continue;
        }
        m_items.push_back({std::move(href), names.claim(file_name_for_path(url.path())), {}});
    }
}

fetch::WorkSource::Next DownloadJob::next(fetch::Clock::time_point) {
    // Stop handing out work once results can no longer be recorded: downloading on without a
    // record would lose track of what was fetched.
    while (m_next < m_items.size() && !m_recorder.store_error()) {
        std::size_t index = m_next++;
        const Item& item = m_items[index];
        if (!item.reason.empty()) {
            m_recorder.record_unfetched(item.url, item.url, item.reason);
            continue;
        }
        Next next;
        next.state = State::ready;
        next.request.id = index;
        next.request.url = item.url;
        next.request.sink = std::make_unique<FileSink>(m_out_dir, item.name);
        return next;
    }
    return {};
}

void DownloadJob::on_response(fetch::Response&& response) {
    const Item& item = m_items.at(response.id);
    auto& sink = static_cast<FileSink&>(*response.sink);
    std::string reason;
    Outcome outcome = classify(response, reason);
    std::string path;
    std::string sha256;
    if (outcome == Outcome::ok) {
        reason = sink.commit();
        if (reason.empty()) {
            path = sink.final_path().string();
            sha256 = sink.sha256();
        } else {
            outcome = Outcome::error;
        }
    } else {
        if (response.error && response.error->kind == fetch::ErrorKind::write_failed &&
            !sink.error().empty())
            reason = sink.error();
        sink.discard();
    }
    m_recorder.record(response, item.name, outcome, reason, std::move(path), std::move(sha256));
}

} // namespace flagcrawl::crawler
