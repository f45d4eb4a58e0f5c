#include "storage/stats.hpp"

#include "storage/export.hpp"
#include "storage/run_tally.hpp"
#include "storage/schema.hpp"
#include "util/ascii.hpp"
#include "util/hash.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <unordered_map>
#include <utility>

namespace flagcrawl::storage {

namespace {

// url_host() without allocating when the host is already lowercase: the view is into `url`,
// or into `scratch` when it had to be lowercased.
std::string_view host_view(std::string_view url, std::string& scratch) {
    const std::size_t slashes = url.find("//");
    if (slashes == std::string_view::npos) {
        return {};
    }
    std::string_view authority = url.substr(slashes + 2);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
    }
    const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    if (std::none_of(authority.begin(), authority.end(), upper)) {
        return authority;
    }
    scratch = util::to_lower(authority);
    return scratch;
}

template <class T>
using HostMap = std::unordered_map<std::string, T, util::StringHash, std::equal_to<>>;

std::string_view view_of(sqlite3_value* value) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
    if (text == nullptr) {
        return {};
    }
    return {text, static_cast<std::size_t>(sqlite3_value_bytes(value))};
}

// SQL functions registered on the reader's connection for the summary queries.
extern "C" void sql_url_host(sqlite3_context* context, int, sqlite3_value** args) noexcept {
    try {
        std::string scratch;
        const std::string_view host = host_view(view_of(args[0]), scratch);
        sqlite3_result_text(context, host.data(), static_cast<int>(host.size()), SQLITE_TRANSIENT);
    } catch (const std::bad_alloc&) {
        sqlite3_result_error_nomem(context);
    }
}

extern "C" void sql_error_reason(sqlite3_context* context, int, sqlite3_value** args) noexcept {
    const std::string_view reason = error_reason(view_of(args[0]));
    sqlite3_result_text(context, reason.data(), static_cast<int>(reason.size()), SQLITE_TRANSIENT);
}

// fc_host_slot(url): the index of the URL's host in Summary::hosts, or NULL for the hosts not
// shown. The slots live in the summary's stack frame: HostSlotFunction registers the function
// for the one query that uses it and removes it afterwards.
struct HostSlots {
    HostMap<std::size_t> slots;
    std::string scratch;
};

extern "C" void sql_host_slot(sqlite3_context* context, int, sqlite3_value** args) noexcept {
    try {
        auto* hosts = static_cast<HostSlots*>(sqlite3_user_data(context));
        auto it = hosts->slots.find(host_view(view_of(args[0]), hosts->scratch));
        if (it == hosts->slots.end()) {
            sqlite3_result_null(context);
        } else {
            sqlite3_result_int64(context, static_cast<sqlite3_int64>(it->second));
        }
    } catch (const std::bad_alloc&) {
        sqlite3_result_error_nomem(context);
    }
}

constexpr int k_function_flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

void register_functions(Database& db) {
    sqlite3* handle = db.handle();
    sqlite3_create_function_v2(handle, "fc_url_host", 1, k_function_flags, nullptr, sql_url_host,
                               nullptr, nullptr, nullptr);
    sqlite3_create_function_v2(handle, "fc_error_reason", 1, k_function_flags, nullptr,
                               sql_error_reason, nullptr, nullptr, nullptr);
}

class HostSlotFunction {
public:
    HostSlotFunction(Database& db, HostSlots& slots)
        : m_db(db.handle()) {
        sqlite3_create_function_v2(m_db, "fc_host_slot", 1, SQLITE_UTF8, &slots, sql_host_slot,
                                   nullptr, nullptr, nullptr);
    }
    ~HostSlotFunction() {
        sqlite3_create_function_v2(m_db, "fc_host_slot", 1, SQLITE_UTF8, nullptr, nullptr, nullptr,
                                   nullptr, nullptr);
    }
    HostSlotFunction(const HostSlotFunction&) = delete;
    HostSlotFunction& operator=(const HostSlotFunction&) = delete;

private:
    sqlite3* m_db;
};

// The rows a summary reads: `table WHERE filter` (filter binds ?1 to id). For pages, `rows` are
// the page and requisite rows, robots.txt fetches apart.
struct Scope {
    Summary::Source source = Summary::Source::downloads;
    std::string table;
    std::string filter;
    std::int64_t id = 0;
    bool whole_crawl = false; // id is a crawl: its frontier is counted too
    bool external = false;    // pages has the external column (external checks counted apart)

    bool pages() const { return source == Summary::Source::pages; }
    std::string all() const { return " FROM " + table + " WHERE (" + filter + ")"; }
    // A crawl's pages: robots.txt and sitemap files are not, nor are external checks (stats_test:
    // the crawl counts them the same way).
    std::string rows() const {
        return pages() ? all() + " AND kind NOT IN ('robots', 'sitemap')" +
                             (external ? " AND external = 0" : "")
                       : all();
    }
};

// Keeps the `limit` best of a stream (0: all) in bounded memory: a heap whose top is the worst
// kept element.
template <class T, class Better> class TopN {
public:
    TopN(std::size_t limit, Better better)
        : m_limit(limit)
        , m_better(better) {}

    void add(T value) {
        if (m_limit == 0 || m_heap.size() < m_limit) {
            m_heap.push_back(std::move(value));
            std::push_heap(m_heap.begin(), m_heap.end(), m_better);
        } else if (m_better(value, m_heap.front())) {
            std::pop_heap(m_heap.begin(), m_heap.end(), m_better);
            m_heap.back() = std::move(value);
            std::push_heap(m_heap.begin(), m_heap.end(), m_better);
        }
    }
    std::vector<T> take_sorted() {
        std::sort(m_heap.begin(), m_heap.end(), m_better);
        return std::move(m_heap);
    }

private:
    std::size_t m_limit;
    Better m_better;
    std::vector<T> m_heap;
};

bool better_host(const HostStats& a, const HostStats& b) {
    return a.items != b.items ? a.items > b.items : a.host < b.host;
}

// Pass 1: one scan of the rows, no sort. Counts every outcome, status, depth and run's span in
// small maps (their keys are few), and hosts in a map while they stay within
// SummaryOptions::host_map_limit.
class Scan {
public:
    Scan(const Scope& scope, const SummaryOptions& options, bool ttfb, Summary& s)
        : m_scope(scope)
        , m_options(options)
        , m_ttfb(ttfb)
        , m_s(s) {}

    Result<void> run(Database& db) {
        const std::string sql =
            std::string("SELECT run_id, ") + (m_scope.pages() ? "kind, depth" : "'', 0") +
            // 0 no error, 1 failed, 2 never requested because robots.txt disallows it (only
            // that: a URL given up with its host's unreachable robots.txt is an error).
            ", http_status, CASE WHEN error IS NULL THEN 0 WHEN attempts = 0 AND error LIKE "
            "'disallowed by robots%' THEN 2 ELSE 1 END, attempts, bytes, fetched_at, "
            "elapsed_ms, url, " +
            (m_scope.external ? "external" : "0") + (m_ttfb ? ", ttfb_ms IS NOT NULL" : "") +
            m_scope.all();
        Statement statement = db.prepare(sql);
        statement.bind(1, m_scope.id);
        auto r = for_each_row(statement, [&](const Statement& row) {
            add(row);
            return true;
        });
        if (!r) {
            return r.error();
        }
        finish();
        return {};
    }

    bool hosts_overflowed() const { return m_hosts_overflowed; }
    std::uint64_t ttfb_count() const { return m_ttfb_count; }

private:
    struct Span {
        double first = 0; // ms since m_base
        double last = 0;
    };

    void add(const Statement& row) {
        const std::string_view kind = row.column_text(1);
        const bool failed = row.column_int64(4) != 0;
        const bool disallowed = row.column_int64(4) == 2;
        const auto attempts = row.column_int64(5);
        if (attempts > 0) {
            if (const auto at = parse_time(row.column_text(7))) {
                // Milliseconds from the first fetch_at seen: small enough for a double to keep
                // sub-microsecond precision (milliseconds since 1970 would not).
                if (!m_base) {
                    m_base = *at;
                }
                const double end = std::chrono::duration<double, std::milli>(*at - *m_base).count();
                const double start = end - row.column_double(8);
                auto [it, added] = m_spans.try_emplace(row.column_int64(0), Span{start, end});
                if (!added) {
                    it->second.first = std::min(it->second.first, start);
                    it->second.last = std::max(it->second.last, end);
                }
            }
        }
        const std::optional<std::int64_t> status = row.column_optional_int64(3);
        const std::uint64_t bytes = row.column_uint64(6);
        if (m_scope.pages()) {
            // As the writer tallies them (run_tally.hpp): robots.txt, sitemap files and external
            // checks count apart, in no table below.
            if (!count_page_row(
                    {kind, row.column_int64(10) != 0, status, failed, disallowed, attempts, bytes},
                    m_s)) {
                return;
            }
        } else {
            m_s.requests += static_cast<std::uint64_t>(std::max<std::int64_t>(attempts, 0));
            ++m_s.items;
            if (!failed && (attempts == 0 || (status && (*status == 304 || *status == 416)))) {
                ++m_s.ok; // a download's kept file (recorder.hpp: Recorder::record_kept)
                ++(attempts == 0 ? m_s.skipped : m_s.unchanged);
            } else if (!failed) {
                ++(status && *status >= 300 && *status < 400 ? m_s.redirects : m_s.ok);
            } else {
                ++(status && (*status == 404 || *status == 410) ? m_s.not_found : m_s.errors);
            }
            m_s.fetched += attempts > 0 ? 1 : 0;
            m_s.bytes += bytes;
        }
        ++m_statuses[status ? static_cast<int>(*status) : -1];
        if (m_scope.pages()) {
            ++m_depths[std::min(static_cast<int>(row.column_int64(2)),
                                std::max(m_options.depth_buckets, 1) - 1)];
        }
        if (m_ttfb && row.column_int64(11) != 0) {
            ++m_ttfb_count;
        }
        if (m_hosts_overflowed) {
            return;
        }
        const std::string_view host = host_view(row.column_text(9), m_scratch);
        auto it = m_hosts.find(host);
        if (it == m_hosts.end()) {
            if (m_hosts.size() >= m_options.host_map_limit) {
                m_hosts_overflowed = true;
                m_hosts.clear();
                return;
            }
            it = m_hosts.emplace(std::string(host), HostStats{}).first;
        }
        HostStats& h = it->second;
        ++h.items;
        h.fetched += attempts > 0 ? 1 : 0;
        h.failed += failed ? 1 : 0;
        h.bytes += bytes;
    }

    void finish() {
        for (const auto& [run, span] : m_spans) {
            m_s.active_s += std::max(0.0, span.last - span.first) / 1000;
            const auto first = time_from_ms(span.first);
            const auto last = time_from_ms(span.last);
            m_s.first_fetch = m_s.first_fetch ? std::min(*m_s.first_fetch, first) : first;
            m_s.last_fetch = m_s.last_fetch ? std::max(*m_s.last_fetch, last) : last;
        }
        std::vector<StatusCount> statuses;
        for (const auto& [status, count] : m_statuses) {
            if (status < 0) {
                m_s.status_classes[0] += count;
                continue;
            }
            if (status >= 100 && status < 600) {
                m_s.status_classes[static_cast<std::size_t>(status / 100)] += count;
            }
            statuses.push_back({status, count});
        }
        std::sort(statuses.begin(), statuses.end(), [](const StatusCount& a, const StatusCount& b) {
            return a.count != b.count ? a.count > b.count : a.status < b.status;
        });
        if (m_options.top_statuses > 0 && statuses.size() > m_options.top_statuses) {
            statuses.resize(m_options.top_statuses);
        }
        m_s.top_statuses = std::move(statuses);
        for (const auto& [depth, count] : m_depths) {
            m_s.depths.push_back({depth, count});
        }
        if (!m_hosts_overflowed) {
            m_s.host_count = m_hosts.size();
            TopN<HostStats, decltype(&better_host)> top(m_options.top_hosts, &better_host);
            for (auto& [host, stats] : m_hosts) {
                stats.host = host;
                top.add(std::move(stats));
            }
            m_s.hosts = top.take_sorted();
            m_hosts.clear();
        }
    }

    TimePoint time_from_ms(double ms) const {
        return *m_base + std::chrono::duration_cast<TimePoint::duration>(
                             std::chrono::duration<double, std::milli>(std::round(ms)));
    }

    const Scope& m_scope;
    const SummaryOptions& m_options;
    bool m_ttfb;
    Summary& m_s;
    std::optional<TimePoint> m_base;
    std::map<std::int64_t, Span> m_spans;    // by run
    std::map<int, std::uint64_t> m_statuses; // -1: no response
    std::map<int, std::uint64_t> m_depths;
    HostMap<HostStats> m_hosts;
    bool m_hosts_overflowed = false;
    std::string m_scratch;
    std::uint64_t m_ttfb_count = 0;
};

// Hosts when there were too many for the scan's map: grouped by SQL, the top ones kept.
Result<void> group_hosts(Database& db, const Scope& scope, const SummaryOptions& options,
                         Summary& s) {
    Statement groups = db.prepare("SELECT fc_url_host(url), count(*), sum(attempts > 0), "
                                  "sum(error IS NOT NULL), sum(bytes)" +
                                  scope.rows() + " GROUP BY 1");
    groups.bind(1, scope.id);
    TopN<HostStats, decltype(&better_host)> top(options.top_hosts, &better_host);
    s.host_count = 0;
    auto r = for_each_row(groups, [&](const Statement& row) {
        ++s.host_count;
        top.add({std::string(row.column_text(0)), row.column_uint64(1), row.column_uint64(2),
                 row.column_uint64(3), row.column_uint64(4), std::nullopt});
        return true;
    });
    if (!r) {
        return r.error();
    }
    s.hosts = top.take_sorted();
    return {};
}

// Failures by kind (as recorded; derived from the text in a file from before the column) and by
// reason. A failed status is counted by status, as `crawl --json` counts it: http_404.
Result<void> read_errors(Database& db, int version, const Scope& scope,
                         const SummaryOptions& options, Summary& s) {
    const std::string recorded = "coalesce(" + error_kind_sql(version) + ", 'other')";
    Statement statement =
        db.prepare("SELECT CASE " + recorded + " WHEN 'http_status' THEN 'http_' || http_status " +
                   "ELSE " + recorded + " END, fc_error_reason(error), count(*)" + scope.rows() +
                   " AND error IS NOT NULL GROUP BY 1, 2");
    statement.bind(1, scope.id);
    std::map<std::string, std::uint64_t, std::less<>> kinds;
    auto better = [](const ReasonCount& a, const ReasonCount& b) {
        return a.count != b.count ? a.count > b.count : a.reason < b.reason;
    };
    TopN<ReasonCount, decltype(better)> reasons(options.top_reasons, better);
    auto r = for_each_row(statement, [&](const Statement& row) {
        const std::uint64_t count = row.column_uint64(2);
        const std::string_view kind = row.column_text(0);
        auto it = kinds.find(kind);
        if (it == kinds.end()) {
            it = kinds.emplace(std::string(kind), 0).first;
        }
        it->second += count;
        ++s.reason_count;
        reasons.add({std::string(row.column_text(1)), it->first, count});
        return true;
    });
    if (!r) {
        return r.error();
    }
    for (const auto& [kind, count] : kinds) {
        s.errors_by_kind.push_back({kind, count});
    }
    std::stable_sort(s.errors_by_kind.begin(), s.errors_by_kind.end(),
                     [](const KindCount& a, const KindCount& b) { return a.count > b.count; });
    s.top_reasons = reasons.take_sorted();
    return {};
}

// Nearest ranks out of `count` values streamed in ascending order.
class PercentilePicker {
public:
    explicit PercentilePicker(std::uint64_t count)
        : m_r50(rank(50, count))
        , m_r90(rank(90, count))
        , m_r99(rank(99, count)) {}

    void add(double value) {
        ++m_position;
        if (m_position == m_r50) {
            m_result.p50 = value;
        }
        if (m_position == m_r90) {
            m_result.p90 = value;
        }
        if (m_position == m_r99) {
            m_result.p99 = value;
        }
        m_result.max = value;
    }
    // Within one read transaction the count and the rows agree; report what was read anyway.
    Percentiles result() const {
        Percentiles p = m_result;
        p.count = m_position;
        return p;
    }

    static std::uint64_t rank(std::uint64_t percent, std::uint64_t count) {
        return std::max<std::uint64_t>(1, (percent * count + 99) / 100);
    }

private:
    std::uint64_t m_r50, m_r90, m_r99;
    std::uint64_t m_position = 0;
    Percentiles m_result;
};

// Pass 2: one sort of the fetched rows' elapsed_ms. The ascending stream gives the overall
// percentiles, and, counting each shown host's values as they pass, each host's median (the
// value at rank ceil(n/2) of its own values).
Result<void> read_latency(Database& db, const Scope& scope, Summary& s) {
    HostSlots slots;
    for (std::size_t i = 0; i < s.hosts.size(); ++i) {
        slots.slots.emplace(s.hosts[i].host, i);
    }
    HostSlotFunction function(db, slots);
    std::vector<std::uint64_t> seen(s.hosts.size(), 0);
    PercentilePicker picker(s.fetched);
    Statement statement = db.prepare("SELECT elapsed_ms, fc_host_slot(url)" + scope.rows() +
                                     " AND attempts > 0 ORDER BY 1");
    statement.bind(1, scope.id);
    auto r = for_each_row(statement, [&](const Statement& row) {
        const double value = row.column_double(0);
        picker.add(value);
        if (!row.is_null(1)) {
            const auto slot = static_cast<std::size_t>(row.column_int64(1));
            HostStats& host = s.hosts[slot];
            if (++seen[slot] == (host.fetched + 1) / 2) {
                host.median_ms = value;
            }
        }
        return true;
    });
    if (!r) {
        return r.error();
    }
    s.elapsed_ms = picker.result();
    return {};
}

Result<Percentiles> read_ttfb(Database& db, const Scope& scope, std::uint64_t count) {
    PercentilePicker picker(count);
    if (count > 0) {
        Statement statement =
            db.prepare("SELECT ttfb_ms" + scope.rows() + " AND ttfb_ms IS NOT NULL ORDER BY 1");
        statement.bind(1, scope.id);
        auto r = for_each_row(statement, [&](const Statement& row) {
            picker.add(row.column_double(0));
            return true;
        });
        if (!r) {
            return r.error();
        }
    }
    return picker.result();
}

// A crawl's skips, by kind and by rule. The rule's text is short and stable ("scope host",
// "--depth 3"), so the groups are few. Ties by count and rule (one rule's text under two kinds:
// a link whose scheme is "robots.txt") go by kind, as the writer's tally orders them
// (run_tally.hpp), so that a crawl's summary lists them as `stats` does.
Result<void> read_skips(Database& db, int version, const Scope& scope, Summary& s) {
    if (version < k_skips_version) {
        return {};
    }
    Statement statement = db.prepare("SELECT kind, rule, count(*) FROM skips WHERE (" +
                                     scope.filter + ") GROUP BY 1, 2 ORDER BY 3 DESC, 2, 1");
    statement.bind(1, scope.id);
    std::map<std::string, std::uint64_t, std::less<>> kinds;
    auto r = for_each_row(statement, [&](const Statement& row) {
        const std::uint64_t count = row.column_uint64(2);
        const std::string kind(row.column_text(0));
        s.skipped += count;
        kinds[kind] += count;
        if (kind == "robots") {
            s.disallowed += count;
        }
        s.skipped_by_rule.push_back({std::string(row.column_text(1)), kind, count});
        return true;
    });
    if (!r) {
        return r.error();
    }
    for (const auto& [kind, count] : kinds) {
        s.skipped_by_kind.push_back({kind, count});
    }
    std::stable_sort(s.skipped_by_kind.begin(), s.skipped_by_kind.end(),
                     [](const KindCount& a, const KindCount& b) { return a.count > b.count; });
    return {};
}

Result<void> read_frontier(Database& db, int schema, std::int64_t crawl_id, Summary& s) {
    Statement frontier = db.prepare(
        schema >= k_frontier_queue_version
            ? "SELECT count(*), (SELECT count(*) FROM frontier_queue WHERE crawl_id = ?1) "
              "FROM frontier_urls WHERE crawl_id = ?1"
            : "SELECT count(*), coalesce(sum(state = 0), 0) FROM frontier WHERE crawl_id = ?1");
    frontier.bind(1, crawl_id);
    auto r = for_each_row(frontier, [&](const Statement& row) {
        s.seen_urls = row.column_uint64(0);
        s.queued_urls = row.column_uint64(1);
        return false;
    });
    if (!r) {
        return r;
    }
    if (schema < k_crawl_timings_version) {
        return {}; // a file from before the crawls' seen-set columns
    }
    Statement seen_set = db.prepare("SELECT seen_urls, seen_bytes FROM crawls WHERE id = ?1");
    seen_set.bind(1, crawl_id);
    return for_each_row(seen_set, [&](const Statement& row) {
        if (!row.is_null(0) && !row.is_null(1)) {
            s.seen_set_urls = row.column_uint64(0);
            s.seen_set_bytes = row.column_uint64(1);
        }
        return false;
    });
}

Result<Summary> summarize(Reader& reader, const Scope& scope, const SummaryOptions& options) {
    Database& db = reader.database();
    register_functions(db);
    // One read transaction: every query sees the same snapshot, even while a crawl writes.
    auto transaction = Transaction::begin(db, Transaction::Kind::deferred);
    if (!transaction) {
        return transaction.error();
    }
    // downloads has had ttfb_ms from the start, pages since k_crawl_timings_version.
    const bool ttfb_recorded = !scope.pages() || reader.schema_version() >= k_crawl_timings_version;
    Summary s;
    s.source = scope.source;
    Scan scan(scope, options, ttfb_recorded, s);
    if (auto r = scan.run(db); !r) {
        return r.error();
    }
    if (scan.hosts_overflowed()) {
        if (auto r = group_hosts(db, scope, options, s); !r) {
            return r.error();
        }
    }
    if (auto r = read_errors(db, reader.schema_version(), scope, options, s); !r) {
        return r.error();
    }
    if (options.timings) {
        if (auto r = read_latency(db, scope, s); !r) {
            return r.error();
        }
        if (ttfb_recorded) {
            auto ttfb = read_ttfb(db, scope, scan.ttfb_count());
            if (!ttfb) {
                return ttfb.error();
            }
            s.ttfb_ms = *ttfb;
        }
    }
    if (scope.pages()) {
        if (auto r = read_skips(db, reader.schema_version(), scope, s); !r) {
            return r.error();
        }
    }
    if (scope.whole_crawl) {
        if (auto r = read_frontier(db, reader.schema_version(), scope.id, s); !r) {
            return r.error();
        }
    }
    if (auto r = transaction->commit(); !r) {
        return r.error();
    }
    return s;
}

} // namespace

bool is_foreign_database(const Error& error) {
    if (error.code.category() != sqlite_category()) {
        return false;
    }
    // SQLITE_NOTADB from SQLite itself; SQLITE_ERROR from check_schema()'s own verdicts.
    const int primary = error.code.value() & 0xff;
    return primary == SQLITE_NOTADB || primary == SQLITE_ERROR;
}

std::string_view error_reason(std::string_view error) {
    if (!error.ends_with(')')) {
        return error;
    }
    const std::size_t open = error.rfind(" (");
    return open == std::string_view::npos || open == 0 ? error : error.substr(0, open);
}

std::string url_host(std::string_view url) {
    std::string scratch;
    return std::string(host_view(url, scratch));
}

Result<std::optional<std::int64_t>> crawl_of_run(Reader& reader, std::int64_t run_id) {
    if (reader.schema_version() < k_crawl_tables_version) {
        return std::optional<std::int64_t>(); // a file from before crawls were recorded
    }
    Statement statement = reader.database().prepare(
        "SELECT crawl_id FROM crawl_runs WHERE run_id = ?1 ORDER BY crawl_id LIMIT 1");
    statement.bind(1, run_id);
    std::optional<std::int64_t> crawl;
    auto r = for_each_row(statement, [&](const Statement& row) {
        crawl = row.column_int64(0);
        return false;
    });
    if (!r) {
        return r.error();
    }
    return crawl;
}

Result<std::vector<RunRow>> runs_of_crawl(Reader& reader, std::int64_t crawl_id) {
    Statement statement = reader.database().prepare(
        "SELECT run_id FROM crawl_runs WHERE crawl_id = ?1 ORDER BY run_id");
    statement.bind(1, crawl_id);
    std::vector<std::int64_t> ids;
    auto r = for_each_row(statement, [&](const Statement& row) {
        ids.push_back(row.column_int64(0));
        return true;
    });
    if (!r) {
        return r.error();
    }
    std::vector<RunRow> runs;
    for (std::int64_t id : ids) {
        auto run = reader.find_run(id);
        if (!run) {
            return run.error();
        }
        if (*run) {
            runs.push_back(std::move(**run));
        }
    }
    return runs;
}

Result<Summary> summarize_run(Reader& reader, std::int64_t run_id, const SummaryOptions& options) {
    auto crawl = crawl_of_run(reader, run_id);
    if (!crawl) {
        return crawl.error();
    }
    Scope scope;
    scope.id = run_id;
    scope.filter = "run_id = ?1";
    if (*crawl) {
        scope.source = Summary::Source::pages;
        scope.table = "pages";
        scope.external = reader.schema_version() >= k_external_version;
    } else {
        scope.source = Summary::Source::downloads;
        scope.table = "downloads";
    }
    return summarize(reader, scope, options);
}

Result<Summary> summarize_crawl(Reader& reader, std::int64_t crawl_id,
                                const SummaryOptions& options) {
    Scope scope;
    scope.source = Summary::Source::pages;
    scope.table = "pages";
    scope.filter = "crawl_id = ?1";
    scope.id = crawl_id;
    scope.whole_crawl = true;
    scope.external = reader.schema_version() >= k_external_version;
    return summarize(reader, scope, options);
}

} // namespace flagcrawl::storage
