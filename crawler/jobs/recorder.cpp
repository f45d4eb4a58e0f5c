#include "crawler/jobs/recorder.hpp"

#include "crawler/jobs/file_sink.hpp"

#include <fmt/core.h>

namespace flagcrawl::crawler {

Recorder::Recorder(storage::Writer* writer, std::int64_t run_id, ItemCallback on_item)
    : m_writer(writer)
    , m_run_id(run_id)
    , m_on_item(std::move(on_item)) {}

void Recorder::record(const fetch::Response& response, std::string_view label,
                      const fetch::Verdict& verdict, std::string path, std::string sha256,
                      bool kept) {
    m_counters.requests += static_cast<std::uint64_t>(response.requests);
    m_counters.bytes += response.bytes;
    m_counters.last_completion_ns = fetch::Clock::now().time_since_epoch().count();
    switch (verdict.outcome) {
    case fetch::Outcome::ok:
        ++m_counters.ok;
        break;
    case fetch::Outcome::not_found:
        ++m_counters.not_found;
        break;
    case fetch::Outcome::error:
        ++m_counters.errors;
        break;
    }
    ++m_counters.done;

    if (m_on_item) {
        m_on_item(ItemReport{.url = response.url,
                             .label = label,
                             .http_status = response.http_status,
                             .outcome = verdict.outcome,
                             .kind = verdict.kind,
                             .reason = verdict.reason,
                             .path = path,
                             .bytes = response.bytes,
                             .elapsed_ms = response.timings.elapsed_ms,
                             .attempts = response.attempts,
                             .kept = kept});
    }
    if (m_writer == nullptr || m_store_error) {
        return;
    }

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
        if (!sha256.empty()) {
            row.sha256 = std::move(sha256);
        }
    }
    if (verdict.outcome != fetch::Outcome::ok) {
        row.error = verdict.reason;
        row.error_kind = std::string(fetch::code(verdict.kind.value_or(fetch::FailureKind::other)));
    }
    submit(std::move(row));
}

void Recorder::record_file(const fetch::Response& response, FileSink& sink,
                           std::string_view label) {
    fetch::Verdict verdict = fetch::classify(response);
    std::string path;
    std::string sha256;
    if (verdict.outcome == fetch::Outcome::ok) {
        verdict.reason = sink.commit();
        if (verdict.reason.empty()) {
            path = sink.final_path();
            sha256 = sink.sha256();
        } else {
            verdict.outcome = fetch::Outcome::error;
            verdict.kind = fetch::FailureKind::write_failed;
        }
    } else {
        // The sink's own reason ("cannot write FILE: No space left") says more than curl's.
        if (response.error && response.error->kind == fetch::ErrorKind::write_failed &&
            !sink.error().empty()) {
            verdict.reason = sink.error();
        }
        sink.discard();
    }
    record(response, label, verdict, std::move(path), std::move(sha256));
}

void Recorder::record_unfetched(std::string_view url, std::string_view label,
                                fetch::FailureKind kind, std::string_view reason) {
    ++m_counters.errors;
    storage::DownloadRecord row;
    row.error = std::string(reason);
    row.error_kind = std::string(fetch::code(kind));
    record_unrequested(
        ItemReport{.url = url, .label = label, .kind = kind, .reason = reason, .path = {}},
        std::move(row));
}

void Recorder::record_unrequested(const ItemReport& report, storage::DownloadRecord row) {
    ++m_counters.done;
    m_counters.last_completion_ns = fetch::Clock::now().time_since_epoch().count();
    if (m_on_item) {
        m_on_item(report);
    }
    if (m_writer == nullptr || m_store_error) {
        return;
    }
    row.run_id = m_run_id;
    row.url = std::string(report.url);
    row.attempts = 0;
    submit(std::move(row));
}

void Recorder::record_kept(const fetch::Response* response, std::string_view url,
                           std::string_view label, std::string path, std::string sha256) {
    if (response == nullptr) {
        ++m_counters.ok;
        ++m_counters.skipped;
        storage::DownloadRecord row;
        row.path = path;
        record_unrequested(ItemReport{.url = url,
                                      .label = label,
                                      .http_status = 0,
                                      .outcome = fetch::Outcome::ok,
                                      .kind = std::nullopt,
                                      .reason = {},
                                      .path = path,
                                      .kept = true},
                           std::move(row));
        return;
    }
    ++m_counters.unchanged;
    // Counted as ok and recorded as a row without error (bytes: the status page's, if any).
    record(*response, label, fetch::Verdict{}, std::move(path), std::move(sha256), true);
}

void Recorder::submit(storage::DownloadRecord record) {
    auto submitted = m_writer->submit(std::move(record));
    if (!submitted) {
        m_store_error = submitted.error();
    }
}

storage::RunTotals Recorder::totals() const {
    return storage::RunTotals{.ok = m_counters.ok,
                              .not_found = m_counters.not_found,
                              .errors = m_counters.errors,
                              .bytes = m_counters.bytes,
                              .requests = m_counters.requests};
}

} // namespace flagcrawl::crawler
