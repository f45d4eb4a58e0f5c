#include "storage/run_tally.hpp"

#include "util/ascii.hpp"

#include <algorithm>
#include <vector>

namespace flagcrawl::storage {

namespace {

// The scalar counts count_page_row() sets, `b` added to (sign 1) or taken from (-1) `a`.
void add_counts(Summary& a, const Summary& b, int sign) {
    const auto add = [sign](std::uint64_t& to, std::uint64_t value) {
        to = sign > 0 ? to + value : to - value;
    };
    add(a.requests, b.requests);
    add(a.robots_fetches, b.robots_fetches);
    add(a.robots_failed, b.robots_failed);
    add(a.external_checked, b.external_checked);
    add(a.external_broken, b.external_broken);
    add(a.items, b.items);
    add(a.pages, b.pages);
    add(a.requisites, b.requisites);
    add(a.ok, b.ok);
    add(a.redirects, b.redirects);
    add(a.disallowed, b.disallowed);
    add(a.not_found, b.not_found);
    add(a.errors, b.errors);
    add(a.fetched, b.fetched);
    add(a.bytes, b.bytes);
}

// By count, the ties in the order given (kinds: by kind).
void sort_by_count(std::vector<KindCount>& kinds) {
    std::stable_sort(kinds.begin(), kinds.end(),
                     [](const KindCount& a, const KindCount& b) { return a.count > b.count; });
}

} // namespace

RunTotals crawl_run_totals(const Summary& s) {
    return RunTotals{.ok = s.ok + s.redirects,
                     .not_found = s.not_found,
                     .errors = s.errors,
                     .bytes = s.bytes,
                     .requests = s.requests};
}

bool count_page_row(const PageRowFacts& row, Summary& s) {
    // Every request the servers saw, robots.txt's included: runs.requests and the crawl's
    // summary count the same.
    s.requests += static_cast<std::uint64_t>(std::max<std::int64_t>(row.attempts, 0));
    if (row.kind == "robots") {
        ++s.robots_fetches;
        s.robots_failed += row.failed ? 1 : 0;
        return false;
    }
    if (row.kind == "sitemap") {
        return false; // a sitemap file: its requests only (crawl_records.hpp)
    }
    if (row.external) {
        ++s.external_checked;
        s.external_broken += row.failed ? 1 : 0;
        return false;
    }
    ++s.items;
    if (row.kind == "page") {
        ++s.pages;
    } else if (row.kind == "requisite") {
        ++s.requisites;
    }
    const auto& status = row.http_status;
    const bool redirect_status = status && *status >= 300 && *status < 400;
    const bool missing = status && (*status == 404 || *status == 410);
    if (!row.failed) {
        ++(redirect_status ? s.redirects : s.ok);
    } else if (row.disallowed) {
        ++s.disallowed; // a queued page robots.txt refused (crawl_records.hpp)
    } else {
        ++(missing ? s.not_found : s.errors);
    }
    s.fetched += row.attempts > 0 ? 1 : 0;
    s.bytes += row.bytes;
    return true;
}

bool is_disallowed_error(std::string_view error) {
    return util::iequals_prefix(error, "disallowed by robots");
}

std::string error_count_kind(const std::optional<std::string>& error_kind,
                             std::optional<std::int64_t> http_status) {
    if (!error_kind) {
        return "other";
    }
    if (*error_kind == "http_status") {
        // SQL's 'http_' || NULL is NULL, read back as "".
        return http_status ? "http_" + std::to_string(*http_status) : std::string();
    }
    return *error_kind;
}

void RunTally::add_page(const PageRowFacts& row, std::string_view error_kind, int sign) {
    Summary counts;
    const bool item = count_page_row(row, counts);
    add_counts(m_rows, counts, sign);
    if (item && row.failed) {
        auto it = m_errors.find(error_kind);
        if (it == m_errors.end()) {
            it = m_errors.emplace(std::string(error_kind), 0).first;
        }
        it->second += static_cast<std::uint64_t>(sign);
    }
}

void RunTally::add_skip(std::string_view kind, std::string_view rule, int sign) {
    m_skips[{std::string(kind), std::string(rule)}] += static_cast<std::uint64_t>(sign);
}

void RunTally::merge(const RunTally& other) {
    add_counts(m_rows, other.m_rows, 1);
    for (const auto& [kind, count] : other.m_errors) {
        m_errors[kind] += count;
    }
    for (const auto& [key, count] : other.m_skips) {
        m_skips[key] += count;
    }
}

Summary RunTally::summary() const {
    Summary s;
    s.source = Summary::Source::pages;
    add_counts(s, m_rows, 1);
    for (const auto& [kind, count] : m_errors) {
        if (count != 0) {
            s.errors_by_kind.push_back({kind, count});
        }
    }
    sort_by_count(s.errors_by_kind);
    std::map<std::string, std::uint64_t, std::less<>> kinds;
    for (const auto& [key, count] : m_skips) {
        if (count == 0) {
            continue;
        }
        const auto& [kind, rule] = key;
        s.skipped += count;
        kinds[kind] += count;
        if (kind == "robots") {
            s.disallowed += count;
        }
        s.skipped_by_rule.push_back({rule, kind, count});
    }
    // As read_skips() orders them: by count, then rule, then kind.
    std::sort(s.skipped_by_rule.begin(), s.skipped_by_rule.end(),
              [](const ReasonCount& a, const ReasonCount& b) {
                  if (a.count != b.count) {
                      return a.count > b.count;
                  }
                  return a.reason != b.reason ? a.reason < b.reason : a.kind < b.kind;
              });
    for (const auto& [kind, count] : kinds) {
        s.skipped_by_kind.push_back({kind, count});
    }
    sort_by_count(s.skipped_by_kind);
    return s;
}

} // namespace flagcrawl::storage
