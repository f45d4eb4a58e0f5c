#include "crawler/recorder.hpp"

#include "crawler/file_sink.hpp"

#include <fmt/core.h>

namespace flagcrawl::crawler {

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
    case Outcome::ok:
        return "ok";
    case Outcome::not_found:
        return "not found";
    case Outcome::error:
        return "error";
    }
    return "?";
}

std::string_view http_reason(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 418:
        return "I'm a teapot";
    case 421:
        return "Misdirected Request";
    case 425:
        return "Too Early";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 451:
        return "Unavailable For Legal Reasons";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

Outcome classify(const fetch::Response& response, std::string& reason) {
    reason.clear();
    if (response.error) {
        reason = response.error->message;
        return Outcome::error;
    }
    int status = response.http_status;
    if (status >= 200 && status < 300)
        return Outcome::ok;
    std::string_view phrase = http_reason(status);
    reason =
        phrase.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {} {}", status, phrase);
    return status == 404 || status == 410 ? Outcome::not_found : Outcome::error;
}

Recorder::Recorder(storage::Writer* writer, std::int64_t run_id, ItemCallback on_item)
    : m_writer(writer)
    , m_run_id(run_id)
    , m_on_item(std::move(on_item)) {}

void Recorder::record(const fetch::Response& response, std::string_view label, Outcome outcome,
                      std::string_view reason, std::string path, std::string sha256) {
    m_counters.requests += static_cast<std::uint64_t>(response.attempts);
    switch (outcome) {
    case Outcome::ok:
        ++m_counters.ok;
        m_counters.bytes += response.bytes;
        break;
    case Outcome::not_found:
        ++m_counters.not_found;
        break;
    case Outcome::error:
        ++m_counters.errors;
        break;
    }
    ++m_counters.done;

    if (m_on_item) {
        m_on_item(ItemReport{.url = response.url,
                             .label = label,
                             .http_status = response.http_status,
                             .outcome = outcome,
                             .reason = reason,
                             .path = path,
                             .bytes = response.bytes,
                             .elapsed_ms = response.timings.elapsed_ms,
                             .attempts = response.attempts});
    }
    if (m_writer == nullptr || m_store_error)
        return;

    storage::DownloadRecord row;
    row.run_id = m_run_id;
    row.url = response.url;
    row.bytes = response.bytes;
    row.elapsed_ms = response.timings.elapsed_ms;
    row.attempts = response.attempts;
    if (response.http_status != 0) {
        row.http_status = response.http_status;
        row.final_url = response.final_url;
        row.dns_ms = response.timings.dns_ms;
        row.connect_ms = response.timings.connect_ms;
        row.ttfb_ms = response.timings.ttfb_ms;
    }
    if (!path.empty()) {
        row.path = std::move(path);
        row.sha256 = std::move(sha256);
    }
    if (outcome != Outcome::ok)
        row.error = std::string(reason);
    submit(std::move(row));
}

void Recorder::record_file(const fetch::Response& response, FileSink& sink,
                           std::string_view label) {
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
        // The sink's own reason ("cannot write FILE: No space left") says more than curl's.
        if (response.error && response.error->kind == fetch::ErrorKind::write_failed &&
            !sink.error().empty())
            reason = sink.error();
        sink.discard();
    }
    record(response, label, outcome, reason, std::move(path), std::move(sha256));
}

void Recorder::record_unfetched(std::string_view url, std::string_view label,
                                std::string_view reason) {
    ++m_counters.errors;
    ++m_counters.done;
    if (m_on_item) {
        m_on_item(ItemReport{.url = url, .label = label, .reason = reason, .path = {}});
    }
    if (m_writer == nullptr || m_store_error)
        return;
    storage::DownloadRecord row;
    row.run_id = m_run_id;
    row.url = std::string(url);
    row.attempts = 0;
    row.error = std::string(reason);
    submit(std::move(row));
}

void Recorder::submit(storage::DownloadRecord record) {
    auto submitted = m_writer->submit(std::move(record));
    if (!submitted)
        m_store_error = submitted.error();
}

storage::RunTotals Recorder::totals() const {
    return storage::RunTotals{.ok = m_counters.ok,
                              .not_found = m_counters.not_found,
                              .errors = m_counters.errors,
                              .bytes = m_counters.bytes,
                              .requests = m_counters.requests};
}

} // namespace flagcrawl::crawler
