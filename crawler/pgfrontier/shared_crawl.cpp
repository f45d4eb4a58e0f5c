#include "crawler/pgfrontier/shared_crawl.hpp"

#include "crawler/pgfrontier/schema.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <tuple>

namespace flagcrawl::pgfrontier {
namespace {

std::int64_t signed_key(std::uint64_t key) {
    return std::bit_cast<std::int64_t>(key);
}

std::uint64_t unsigned_key(std::int64_t key) {
    return std::bit_cast<std::uint64_t>(key);
}

CrawlStatus parse_status(std::string_view text) {
    if (text == "finished") {
        return CrawlStatus::finished;
    }
    if (text == "stopped") {
        return CrawlStatus::stopped;
    }
    return CrawlStatus::running;
}

// A one-dimensional integer array in text format ("{1,2,3}", "{}"); NULL elements as 0.
std::vector<std::int64_t> int_array(std::string_view text) {
    std::vector<std::int64_t> out;
    if (text.size() < 2) {
        return out;
    }
    text = text.substr(1, text.size() - 2);
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        std::int64_t v = 0;
        std::from_chars(item.data(), item.data() + item.size(), v);
        out.push_back(v);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    }
    return out;
}

Millis millis(std::int64_t ms) {
    return Millis(std::max<std::int64_t>(ms, 0));
}

// The statements look URL rows up by `key = ANY(array)` besides any join, so that the primary
// key serves them once the planner's statistics know the crawl (analyze_tables()).

// Rows of `flagcrawl.crawls` as CrawlInfo, in the column order of k_crawl_columns.
constexpr const char* k_crawl_columns =
    "id, name, seeds, options, max_pages, max_bytes, status, coalesce(stop_reason, '')";

CrawlInfo crawl_info(const Rows& rows, int row) {
    CrawlInfo info;
    info.id = static_cast<std::int32_t>(rows.int64(row, 0));
    info.name = rows.text(row, 1);
    info.seeds_json = rows.text(row, 2);
    info.options_json = rows.text(row, 3);
    info.max_pages = static_cast<std::uint64_t>(rows.int64(row, 4));
    info.max_bytes = static_cast<std::uint64_t>(rows.int64(row, 5));
    info.status = parse_status(rows.text(row, 6));
    info.stop_reason = rows.text(row, 7);
    return info;
}

// Workers count as live while they renewed within a lease ($3 ms) and have not ended.
constexpr const char* k_live_workers =
    "(SELECT count(*) FROM flagcrawl.workers WHERE crawl = $1 AND ended_at IS NULL"
    " AND seen_at > now() - $3::int8 * interval '1 millisecond')";
constexpr const char* k_active_hosts =
    "(SELECT count(*) FROM flagcrawl.hosts WHERE crawl = $1 AND pending > 0)";

// The state statement: $1 crawl, $2 worker, $3 lease ms.
Statement state_statement(std::int32_t crawl, std::int32_t worker, Millis lease) {
    return {std::string("SELECT c.status, coalesce(c.stop_reason, ''), c.pages, c.bytes, ") +
                k_active_hosts + ", " + k_live_workers +
                // When a host with work could next be claimed by this worker: now when free,
                // at the end of another worker's lease otherwise.
                ", (SELECT (EXTRACT(EPOCH FROM min(CASE WHEN owner IS NULL OR lease_until < "
                "now() THEN now() ELSE lease_until END) - now()) * 1000)::int8"
                " FROM flagcrawl.hosts WHERE crawl = $1 AND pending > 0"
                " AND owner IS DISTINCT FROM $2)"
                " FROM flagcrawl.crawls c WHERE c.id = $1",
            Params().add(crawl).add(worker).add(static_cast<std::int64_t>(lease.count()))};
}

CrawlState crawl_state(const Rows& rows) {
    CrawlState s;
    if (rows.empty()) {
        return s;
    }
    s.status = parse_status(rows.text(0, 0));
    s.stop_reason = rows.text(0, 1);
    s.pages = rows.int64(0, 2);
    s.bytes = rows.int64(0, 3);
    s.active_hosts = rows.int64(0, 4);
    s.live_workers = std::max<std::int64_t>(rows.int64(0, 5), 1);
    s.fair_share =
        std::max<std::int64_t>(1, (s.active_hosts + s.live_workers - 1) / s.live_workers);
    if (!rows.null(0, 6)) {
        s.next_claimable = millis(rows.int64(0, 6));
    }
    return s;
}

Statement heartbeat(std::int32_t worker) {
    return {"UPDATE flagcrawl.workers SET seen_at = now() WHERE id = $1", Params().add(worker)};
}

// Locks host rows in id order: every transaction that locks several hosts does it this way
// first, so that two of them never wait on each other in a cycle.
Statement lock_hosts(std::int32_t crawl, std::vector<std::int32_t> ids,
                     std::vector<std::string> origins = {}) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return {"SELECT id FROM flagcrawl.hosts WHERE crawl = $1 AND (id = ANY($2::int4[])"
            " OR origin = ANY($3::text[])) ORDER BY id FOR UPDATE",
            Params().add(crawl).add(ids).add(origins)};
}

std::string quoted_channel(std::int32_t crawl) {
    return "'" + channel_of(crawl) + "'";
}

} // namespace

std::string_view to_string(CrawlStatus status) {
    switch (status) {
    case CrawlStatus::running:
        return "running";
    case CrawlStatus::finished:
        return "finished";
    case CrawlStatus::stopped:
        return "stopped";
    }
    return "running";
}

std::string channel_of(std::int32_t crawl) {
    return "flagcrawl_" + std::to_string(crawl);
}

asio::awaitable<PgResult<std::optional<CrawlInfo>>> define_crawl(PgConnection& c,
                                                                 const CrawlDefinition& d) {
    std::vector<std::int64_t> keys;
    std::vector<std::string> origins, paths;
    for (const UrlRow& seed : d.seeds) {
        keys.push_back(signed_key(seed.key));
        origins.push_back(seed.origin);
        paths.push_back(seed.path);
    }
    Params p;
    p.add(d.name)
        .add(d.seeds_json)
        .add(d.options_json)
        .add(static_cast<std::int64_t>(d.max_pages))
        .add(static_cast<std::int64_t>(d.max_bytes))
        .add(keys)
        .add(origins)
        .add(paths);
    const Statement query{
        std::string("WITH c AS (INSERT INTO flagcrawl.crawls (name, seeds, options, max_pages, "
                    "max_bytes) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING "
                    "RETURNING *),"
                    " s AS (SELECT * FROM unnest($6::int8[], $7::text[], $8::text[])"
                    " WITH ORDINALITY AS s(key, origin, path, n)),"
                    " b AS (SELECT nextval('flagcrawl.url_order') AS base),"
                    " h AS (INSERT INTO flagcrawl.hosts (crawl, origin, pending)"
                    " SELECT c.id, s.origin, count(*) FROM c, s GROUP BY c.id, s.origin"
                    " RETURNING id, origin),"
                    " u AS (INSERT INTO flagcrawl.urls (crawl, host, key, seq, path, depth,"
                    " redirects, requisite) SELECT c.id, h.id, s.key,"
                    " b.base + s.n, s.path, 0, 0, false"
                    " FROM c, b, s JOIN h ON h.origin = s.origin ORDER BY s.key RETURNING 1)"
                    " SELECT ") +
            k_crawl_columns + ", (SELECT count(*) FROM u) FROM c",
        std::move(p)};
    auto rows = co_await c.run(query);
    if (!rows) {
        co_return rows.error();
    }
    if (rows->empty()) {
        co_return std::optional<CrawlInfo>();
    }
    co_return std::optional<CrawlInfo>(crawl_info(*rows, 0));
}

asio::awaitable<PgResult<std::optional<CrawlInfo>>> find_crawl(PgConnection& c,
                                                               const std::string& name) {
    const Statement query{std::string("SELECT ") + k_crawl_columns +
                              " FROM flagcrawl.crawls WHERE name = $1",
                          Params().add(name)};
    auto rows = co_await c.run(query);
    if (!rows) {
        co_return rows.error();
    }
    if (rows->empty()) {
        co_return std::optional<CrawlInfo>();
    }
    co_return std::optional<CrawlInfo>(crawl_info(*rows, 0));
}

asio::awaitable<PgResult<std::int32_t>> register_worker(PgConnection& c, std::int32_t crawl,
                                                        const std::string& label) {
    const Statement insert{
        "INSERT INTO flagcrawl.workers (crawl, label) VALUES ($1, $2) RETURNING id",
        Params().add(crawl).add(label)};
    auto rows = co_await c.run(insert);
    if (!rows) {
        co_return rows.error();
    }
    co_return static_cast<std::int32_t>(rows->int64(0, 0));
}

asio::awaitable<PgResult<void>> end_worker(PgConnection& c, std::int32_t worker,
                                           const std::string& verdict) {
    const Statement update{
        "UPDATE flagcrawl.workers SET ended_at = now(), verdict = $2 WHERE id = $1",
        Params().add(worker).add(verdict)};
    auto rows = co_await c.run(update);
    if (!rows) {
        co_return rows.error();
    }
    co_return PgResult<void>();
}

asio::awaitable<PgResult<std::int64_t>> last_batch(PgConnection& c, std::int32_t worker) {
    const Statement query{"SELECT last_batch FROM flagcrawl.workers WHERE id = $1",
                          Params().add(worker)};
    auto rows = co_await c.run(query);
    if (!rows) {
        co_return rows.error();
    }
    co_return rows->empty() ? std::int64_t{0} : rows->int64(0, 0);
}

asio::awaitable<PgResult<void>> listen(PgConnection& c, std::int32_t crawl) {
    const Statement query{"LISTEN " + channel_of(crawl)};
    auto rows = co_await c.run(query);
    if (!rows) {
        co_return rows.error();
    }
    co_return PgResult<void>();
}

asio::awaitable<PgResult<Claim>> claim_hosts(PgConnection& c, std::int32_t crawl,
                                             std::int32_t worker, int want, Millis lease) {
    std::vector<Statement> s;
    s.push_back(heartbeat(worker));
    // SKIP LOCKED: hosts another worker is claiming or committing to are not waited for.
    s.push_back(Statement{
        std::string("WITH free AS (SELECT id, owner AS previous FROM flagcrawl.hosts"
                    " WHERE crawl = $1 AND pending > 0 AND (owner IS NULL OR lease_until < now())"
                    " ORDER BY next_at NULLS FIRST, id"
                    " LIMIT GREATEST(0, LEAST($4::int8, GREATEST(1, CEIL(") +
            k_active_hosts + "::numeric / GREATEST(1, " + k_live_workers +
            ")))::int8 - (SELECT count(*) FROM flagcrawl.hosts WHERE crawl = $1 AND owner = $2"
            " AND lease_until >= now() AND pending > 0)))"
            " FOR UPDATE SKIP LOCKED)"
            " UPDATE flagcrawl.hosts h SET owner = $2, epoch = h.epoch + 1,"
            " lease_until = now() + $3::int8 * interval '1 millisecond'"
            " FROM free WHERE h.id = free.id"
            " RETURNING h.id, h.origin, h.epoch,"
            " (EXTRACT(EPOCH FROM h.lease_until - now()) * 1000)::int8,"
            " GREATEST(0, (EXTRACT(EPOCH FROM h.next_at - now()) * 1000)::int8),"
            " h.pending, free.previous IS NOT NULL",
        Params()
            .add(crawl)
            .add(worker)
            .add(static_cast<std::int64_t>(lease.count()))
            .add(static_cast<std::int64_t>(want))});
    s.push_back(state_statement(crawl, worker, lease));
    auto rows = co_await c.run(s);
    if (!rows) {
        co_return rows.error();
    }
    Claim claim;
    const Rows& claimed = (*rows)[1];
    for (int r = 0; r < claimed.size(); ++r) {
        HostLease l;
        l.host = static_cast<std::int32_t>(claimed.int64(r, 0));
        l.origin = claimed.text(r, 1);
        l.epoch = static_cast<std::int32_t>(claimed.int64(r, 2));
        l.remaining = millis(claimed.int64(r, 3));
        l.wait = millis(claimed.int64(r, 4));
        l.pending = claimed.int64(r, 5);
        l.taken_over = claimed.boolean(r, 6);
        claim.leases.push_back(std::move(l));
    }
    claim.state = crawl_state((*rows)[2]);
    co_return claim;
}

asio::awaitable<PgResult<Renewal>> renew_leases(PgConnection& c, std::int32_t crawl,
                                                std::int32_t worker,
                                                const std::vector<Held>& leases, Millis lease) {
    std::vector<std::int32_t> ids, epochs;
    for (const Held& h : leases) {
        ids.push_back(h.host);
        epochs.push_back(h.epoch);
    }
    std::vector<Statement> s;
    s.push_back(heartbeat(worker));
    s.push_back(lock_hosts(crawl, ids));
    s.push_back(Statement{"UPDATE flagcrawl.hosts h SET lease_until = now() + $3::int8 * "
                          "interval '1 millisecond'"
                          " FROM unnest($4::int4[], $5::int4[]) AS l(id, epoch)"
                          " WHERE h.id = l.id AND h.crawl = $1 AND h.owner = $2"
                          " AND h.epoch = l.epoch"
                          " RETURNING h.id, h.epoch,"
                          " (EXTRACT(EPOCH FROM h.lease_until - now()) * 1000)::int8, h.pending",
                          Params()
                              .add(crawl)
                              .add(worker)
                              .add(static_cast<std::int64_t>(lease.count()))
                              .add(ids)
                              .add(epochs)});
    s.push_back(state_statement(crawl, worker, lease));
    auto rows = co_await c.run(s);
    if (!rows) {
        co_return rows.error();
    }
    Renewal renewal;
    const Rows& held = (*rows)[2];
    for (int r = 0; r < held.size(); ++r) {
        HostLease l;
        l.host = static_cast<std::int32_t>(held.int64(r, 0));
        l.epoch = static_cast<std::int32_t>(held.int64(r, 1));
        l.remaining = millis(held.int64(r, 2));
        l.pending = held.int64(r, 3);
        renewal.held.push_back(std::move(l));
    }
    renewal.state = crawl_state((*rows)[3]);
    co_return renewal;
}

asio::awaitable<PgResult<std::vector<Delivered>>>
deliver(PgConnection& c, std::int32_t crawl, std::int32_t worker,
        const std::vector<DeliveryRequest>& requests) {
    std::vector<std::int32_t> hosts, epochs, limits;
    for (const DeliveryRequest& r : requests) {
        hosts.push_back(r.host);
        epochs.push_back(r.epoch);
        limits.push_back(r.limit);
    }
    const Statement query{
        // Picked once (a CTE): a subquery rescanned by the join would skip the rows this
        // update already changed and pick more.
        "WITH p AS MATERIALIZED (SELECT r.host, r.epoch, x.key"
        " FROM unnest($3::int4[], $4::int4[], $5::int4[]) AS r(host, epoch, n)"
        " JOIN flagcrawl.hosts h ON h.id = r.host AND h.crawl = $1 AND h.owner = $2"
        " AND h.epoch = r.epoch"
        " CROSS JOIN LATERAL (SELECT q.key FROM flagcrawl.urls q"
        " WHERE q.crawl = $1 AND q.host = r.host AND q.state = 0 AND q.epoch < r.epoch"
        " ORDER BY q.seq LIMIT r.n FOR UPDATE SKIP LOCKED) x)"
        " UPDATE flagcrawl.urls u SET deliveries = u.deliveries + 1, epoch = p.epoch"
        " FROM p WHERE u.crawl = $1 AND u.key = ANY(ARRAY(SELECT key FROM p)) AND u.key = p.key"
        " RETURNING u.host, p.epoch, u.seq, u.key, u.path, u.depth, u.redirects, u.requisite,"
        " u.deliveries",
        Params().add(crawl).add(worker).add(hosts).add(epochs).add(limits)};
    auto rows = co_await c.run(query);
    if (!rows) {
        co_return rows.error();
    }
    std::vector<Delivered> out;
    out.reserve(static_cast<std::size_t>(rows->size()));
    for (int r = 0; r < rows->size(); ++r) {
        Delivered d;
        d.host = static_cast<std::int32_t>(rows->int64(r, 0));
        d.epoch = static_cast<std::int32_t>(rows->int64(r, 1));
        d.seq = rows->int64(r, 2);
        d.url.key = unsigned_key(rows->int64(r, 3));
        d.url.path = rows->text(r, 4);
        d.url.depth = static_cast<int>(rows->int64(r, 5));
        d.url.redirects = static_cast<int>(rows->int64(r, 6));
        d.url.requisite = rows->boolean(r, 7);
        d.deliveries = static_cast<int>(rows->int64(r, 8));
        out.push_back(std::move(d));
    }
    // Discovery order within each host (RETURNING keeps no order).
    std::sort(out.begin(), out.end(), [](const Delivered& a, const Delivered& b) {
        return std::tie(a.host, a.seq) < std::tie(b.host, b.seq);
    });
    co_return out;
}

asio::awaitable<PgResult<BatchResult>> commit_batch(PgConnection& c, std::int32_t crawl,
                                                    std::int32_t worker, const Batch& given) {
    Batch batch = given;
    // Rows in key order, so that two batches inserting or updating the same URLs lock them in
    // the same order.
    std::sort(batch.completions.begin(), batch.completions.end(),
              [](const Completion& a, const Completion& b) {
                  return signed_key(a.key) < signed_key(b.key);
              });
    // Discoveries keep their place in the batch as their order among the host's URLs.
    std::vector<std::int32_t> found_order(batch.discovered.size());
    for (std::size_t i = 0; i < found_order.size(); ++i) {
        found_order[i] = static_cast<std::int32_t>(i);
    }
    std::sort(found_order.begin(), found_order.end(), [&](std::int32_t a, std::int32_t b) {
        return signed_key(batch.discovered[static_cast<std::size_t>(a)].key) <
               signed_key(batch.discovered[static_cast<std::size_t>(b)].key);
    });
    std::vector<std::int64_t> done_keys, done_bytes;
    std::vector<std::int32_t> done_hosts, done_epochs;
    std::vector<std::optional<std::int32_t>> done_status;
    std::vector<std::optional<std::string>> done_kinds;
    std::vector<bool> done_fetched;
    for (const Completion& x : batch.completions) {
        done_keys.push_back(signed_key(x.key));
        done_hosts.push_back(x.host);
        done_epochs.push_back(x.epoch);
        done_status.push_back(x.status);
        done_bytes.push_back(x.bytes);
        done_kinds.push_back(x.error_kind);
        done_fetched.push_back(x.fetched);
    }
    std::vector<std::int64_t> new_keys;
    std::vector<std::string> new_origins, new_paths, origins;
    std::vector<std::int16_t> new_depths, new_redirects;
    std::vector<bool> new_requisite;
    for (std::int32_t i : found_order) {
        const UrlRow& u = batch.discovered[static_cast<std::size_t>(i)];
        new_keys.push_back(signed_key(u.key));
        new_origins.push_back(u.origin);
        new_paths.push_back(u.path);
        new_depths.push_back(static_cast<std::int16_t>(std::min(u.depth, 32767)));
        new_redirects.push_back(static_cast<std::int16_t>(std::min(u.redirects, 32767)));
        new_requisite.push_back(u.requisite);
        origins.push_back(u.origin);
    }
    std::sort(origins.begin(), origins.end());
    origins.erase(std::unique(origins.begin(), origins.end()), origins.end());

    std::vector<Statement> s;
    if (!origins.empty()) {
        s.push_back(Statement{"INSERT INTO flagcrawl.hosts (crawl, origin)"
                              " SELECT $1, o FROM unnest($2::text[]) AS o ORDER BY o"
                              " ON CONFLICT (crawl, origin) DO NOTHING",
                              Params().add(crawl).add(origins)});
    }
    s.push_back(lock_hosts(crawl, done_hosts, origins));
    Params p;
    p.add(crawl)
        .add(worker)
        .add(done_keys)
        .add(done_epochs)
        .add(done_status)
        .add(done_bytes)
        .add(done_kinds)
        .add(done_fetched)
        .add(new_keys)
        .add(new_origins)
        .add(new_paths)
        .add(new_depths)
        .add(new_redirects)
        .add(new_requisite)
        .add(found_order)
        .add(done_hosts);
    s.push_back(Statement{
        "WITH c AS (SELECT * FROM unnest($3::int8[], $4::int4[], $5::int4[], $6::int8[],"
        " $7::text[], $8::bool[], $16::int4[]) AS c(key, epoch, status, bytes, kind, fetched,"
        " host)),"
        " d AS (SELECT * FROM unnest($9::int8[], $10::text[], $11::text[], $12::int2[],"
        " $13::int2[], $14::bool[], $15::int4[])"
        " AS d(key, origin, path, depth, redirects, requisite, n)),"
        " b AS (SELECT nextval('flagcrawl.url_order') AS base),"
        // Fencing: only URLs whose host this worker still owns under the epoch they were
        // handed out under. Each completion meets its own host row by id (joined on the epoch
        // alone, every completion met every host of that epoch: a URL looked up once per host).
        " done AS (UPDATE flagcrawl.urls u SET state = 1, status = c.status, bytes = c.bytes,"
        " error_kind = c.kind, worker = $2, done_at = now()"
        " FROM c JOIN flagcrawl.hosts h ON h.id = c.host AND h.epoch = c.epoch AND h.owner = $2"
        // state <> 1 (for state = 0): by primary key, never through the partial index of
        // queued URLs, which the planner would otherwise pick for a young crawl.
        " WHERE u.crawl = $1 AND u.key = ANY($3::int8[]) AND u.key = c.key AND u.state <> 1"
        " AND u.host = c.host"
        " RETURNING u.host, u.key, c.fetched, c.bytes),"
        " ins AS (INSERT INTO flagcrawl.urls (crawl, host, key, seq, path, depth, redirects,"
        " requisite) SELECT $1, h.id, d.key, b.base + d.n, d.path, d.depth, d.redirects,"
        " d.requisite FROM b, d JOIN flagcrawl.hosts h ON h.crawl = $1 AND h.origin = d.origin"
        " ORDER BY d.key ON CONFLICT (crawl, key) DO NOTHING RETURNING host),"
        " delta AS (SELECT host, sum(n)::int4 AS n FROM (SELECT host, -1 AS n FROM done"
        " UNION ALL SELECT host, 1 FROM ins) t GROUP BY host),"
        " after AS (UPDATE flagcrawl.hosts h SET pending = h.pending + delta.n FROM delta"
        " WHERE h.id = delta.host RETURNING h.id, h.pending, h.owner, h.lease_until, delta.n),"
        " totals AS (UPDATE flagcrawl.crawls k"
        " SET pages = k.pages + (SELECT count(*) FROM done WHERE fetched),"
        " bytes = k.bytes + (SELECT coalesce(sum(bytes), 0) FROM done)"
        " WHERE k.id = $1 AND (k.max_pages > 0 OR k.max_bytes > 0) RETURNING 1),"
        // A host that had no work and no owner has some now: wake the idle workers.
        " woke AS (SELECT pg_notify(" +
            quoted_channel(crawl) +
            ", 'work') FROM after WHERE pending > 0 AND pending - n <= 0"
            " AND (owner IS NULL OR lease_until < now()) LIMIT 1)"
            " SELECT ARRAY(SELECT key FROM done), (SELECT count(*) FROM ins),"
            " ARRAY(SELECT id FROM after WHERE owner = $2 ORDER BY id),"
            " ARRAY(SELECT pending FROM after WHERE owner = $2 ORDER BY id),"
            " (SELECT count(*) FROM totals), (SELECT count(*) FROM woke)",
        std::move(p)});
    // A crawl-wide limit reached by these totals stops the crawl (a new statement: it sees
    // the totals above, and at most one batch makes the change).
    s.push_back(Statement{
        "WITH s AS (UPDATE flagcrawl.crawls SET status = 'stopped', ended_at = now(),"
        " stop_reason = CASE WHEN max_pages > 0 AND pages >= max_pages"
        " THEN '--max-pages ' || max_pages || ' reached'"
        " ELSE '--max-bytes ' || max_bytes || ' reached' END"
        " WHERE id = $1 AND status = 'running' AND ((max_pages > 0 AND pages >= max_pages)"
        " OR (max_bytes > 0 AND bytes >= max_bytes)) RETURNING id)"
        " SELECT pg_notify(" +
            quoted_channel(crawl) + ", 'status') FROM s",
        Params().add(crawl)});
    // Not the heartbeat: a worker counts as live by its renewals and claims only, so that it
    // stops counting in the fair share when its leases lapse.
    s.push_back(Statement{"UPDATE flagcrawl.workers SET last_batch = $2"
                          " WHERE id = $1",
                          Params().add(worker).add(batch.sequence)});
    s.push_back(Statement{"SELECT status, coalesce(stop_reason, '') FROM flagcrawl.crawls"
                          " WHERE id = $1",
                          Params().add(crawl)});
    auto rows = co_await c.run(s);
    if (!rows) {
        co_return rows.error();
    }
    const std::size_t main = origins.empty() ? 1 : 2;
    const Rows& m = (*rows)[main];
    BatchResult result;
    for (std::int64_t key : int_array(m.text(0, 0))) {
        result.accepted.push_back(unsigned_key(key));
    }
    result.inserted = static_cast<std::uint64_t>(m.int64(0, 1));
    const auto ids = int_array(m.text(0, 2));
    const auto pending = int_array(m.text(0, 3));
    for (std::size_t i = 0; i < ids.size() && i < pending.size(); ++i) {
        result.pending.emplace_back(static_cast<std::int32_t>(ids[i]), pending[i]);
    }
    const Rows& status = rows->back();
    if (!status.empty()) {
        result.status = parse_status(status.text(0, 0));
        result.stop_reason = status.text(0, 1);
    }
    co_return result;
}

asio::awaitable<PgResult<void>> release_hosts(PgConnection& c, std::int32_t crawl,
                                              std::int32_t worker,
                                              const std::vector<Release>& releases) {
    std::vector<std::int32_t> ids, epochs, key_epochs;
    std::vector<std::int64_t> waits, keys;
    for (const Release& r : releases) {
        ids.push_back(r.host);
        epochs.push_back(r.epoch);
        waits.push_back(r.wait.count());
        for (std::uint64_t key : r.returned) {
            keys.push_back(signed_key(key));
            key_epochs.push_back(r.epoch);
        }
    }
    std::vector<Statement> s;
    s.push_back(lock_hosts(crawl, ids));
    if (!keys.empty()) {
        s.push_back(Statement{"UPDATE flagcrawl.urls u SET deliveries = GREATEST(u.deliveries - "
                              "1, 0) FROM unnest($2::int8[], $3::int4[]) AS r(key, epoch)"
                              " WHERE u.crawl = $1 AND u.key = ANY($2::int8[])"
                              " AND u.key = r.key AND u.state <> 1 AND u.epoch = r.epoch",
                              Params().add(crawl).add(keys).add(key_epochs)});
    }
    s.push_back(
        Statement{"WITH r AS (UPDATE flagcrawl.hosts h SET owner = NULL, lease_until = NULL,"
                  " next_at = now() + x.wait * interval '1 millisecond'"
                  " FROM unnest($3::int4[], $4::int4[], $5::int8[]) AS x(id, epoch, wait)"
                  " WHERE h.id = x.id AND h.crawl = $1 AND h.owner = $2 AND h.epoch = x.epoch"
                  " RETURNING h.pending)"
                  " SELECT pg_notify(" +
                      quoted_channel(crawl) + ", 'work') FROM r WHERE pending > 0 LIMIT 1",
                  Params().add(crawl).add(worker).add(ids).add(epochs).add(waits)});
    auto rows = co_await c.run(s);
    if (!rows) {
        co_return rows.error();
    }
    co_return PgResult<void>();
}

asio::awaitable<PgResult<void>> analyze_tables(PgConnection& c) {
    const Statement analyze{"ANALYZE flagcrawl.urls, flagcrawl.hosts"};
    auto rows = co_await c.run(analyze);
    if (!rows) {
        co_return rows.error();
    }
    co_return PgResult<void>();
}

asio::awaitable<PgResult<CrawlInfo>> finish_if_done(PgConnection& c, std::int32_t crawl) {
    std::vector<Statement> s;
    s.push_back(
        Statement{"WITH f AS (UPDATE flagcrawl.crawls SET status = 'finished',"
                  " stop_reason = 'frontier exhausted', ended_at = now()"
                  " WHERE id = $1 AND status = 'running'"
                  " AND NOT EXISTS (SELECT 1 FROM flagcrawl.urls WHERE crawl = $1 AND state = 0)"
                  " RETURNING id)"
                  " SELECT pg_notify(" +
                      quoted_channel(crawl) + ", 'status') FROM f",
                  Params().add(crawl)});
    s.push_back(
        Statement{std::string("SELECT ") + k_crawl_columns + " FROM flagcrawl.crawls WHERE id = $1",
                  Params().add(crawl)});
    auto rows = co_await c.run(s);
    if (!rows) {
        co_return rows.error();
    }
    if ((*rows)[1].empty()) {
        co_return PgError{PgError::Kind::server, "", "the crawl was deleted from the server"};
    }
    co_return crawl_info((*rows)[1], 0);
}

asio::awaitable<PgResult<std::optional<SharedStats>>> shared_stats(PgConnection& c,
                                                                   const std::string& name) {
    constexpr const char* k_id = "(SELECT id FROM flagcrawl.crawls WHERE name = $1)";
    const auto text_time = [](const char* column) {
        return std::string("coalesce(to_char(") + column +
               " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')";
    };
    std::vector<Statement> s;
    s.push_back(Statement{std::string("SELECT ") + k_crawl_columns + ", " +
                              text_time("created_at") + ", " + text_time("ended_at") +
                              " FROM flagcrawl.crawls WHERE name = $1",
                          Params().add(name)});
    s.push_back(Statement{
        std::string("SELECT count(*), count(*) FILTER (WHERE state = 1),"
                    " count(*) FILTER (WHERE state = 1 AND error_kind IS NULL),"
                    " count(*) FILTER (WHERE error_kind IS NOT NULL), coalesce(sum(bytes), 0)"
                    " FROM flagcrawl.urls WHERE crawl = ") +
            k_id,
        Params().add(name)});
    s.push_back(
        Statement{std::string("SELECT count(*), count(*) FILTER (WHERE owner IS NOT NULL"
                              " AND lease_until > now()) FROM flagcrawl.hosts WHERE crawl = ") +
                      k_id,
                  Params().add(name)});
    s.push_back(Statement{std::string("SELECT error_kind, count(*) FROM flagcrawl.urls"
                                      " WHERE error_kind IS NOT NULL AND crawl = ") +
                              k_id + " GROUP BY 1 ORDER BY 2 DESC, 1",
                          Params().add(name)});
    s.push_back(Statement{std::string("SELECT w.id, w.label, ") + text_time("w.started_at") + ", " +
                              text_time("w.ended_at") +
                              ", coalesce(w.verdict, ''),"
                              " (SELECT count(*) FROM flagcrawl.urls u WHERE u.crawl = w.crawl"
                              " AND u.worker = w.id),"
                              " (SELECT count(*) FROM flagcrawl.hosts h WHERE h.owner = w.id"
                              " AND h.lease_until > now())"
                              " FROM flagcrawl.workers w WHERE w.crawl = " +
                              k_id + " ORDER BY w.id",
                          Params().add(name)});
    s.push_back(Statement{"SELECT pg_total_relation_size('flagcrawl.urls') +"
                          " pg_total_relation_size('flagcrawl.hosts') +"
                          " pg_total_relation_size('flagcrawl.workers') +"
                          " pg_total_relation_size('flagcrawl.crawls')"});
    auto rows = co_await c.run(s);
    if (!rows) {
        co_return rows.error();
    }
    const Rows& crawl = (*rows)[0];
    if (crawl.empty()) {
        co_return std::optional<SharedStats>();
    }
    SharedStats out;
    out.crawl = crawl_info(crawl, 0);
    out.created_at = crawl.text(0, 8);
    out.ended_at = crawl.text(0, 9);
    const Rows& urls = (*rows)[1];
    out.urls = urls.int64(0, 0);
    out.done = urls.int64(0, 1);
    out.fetched_ok = urls.int64(0, 2);
    out.failed = urls.int64(0, 3);
    out.bytes = urls.int64(0, 4);
    out.hosts = (*rows)[2].int64(0, 0);
    out.hosts_leased = (*rows)[2].int64(0, 1);
    const Rows& kinds = (*rows)[3];
    for (int r = 0; r < kinds.size(); ++r) {
        out.errors_by_kind.emplace_back(std::string(kinds.text(r, 0)), kinds.int64(r, 1));
    }
    const Rows& workers = (*rows)[4];
    for (int r = 0; r < workers.size(); ++r) {
        SharedStats::Worker w;
        w.id = static_cast<std::int32_t>(workers.int64(r, 0));
        w.label = workers.text(r, 1);
        w.started_at = workers.text(r, 2);
        w.ended_at = workers.text(r, 3);
        w.verdict = workers.text(r, 4);
        w.done = workers.int64(r, 5);
        w.hosts_leased = workers.int64(r, 6);
        out.workers.push_back(std::move(w));
    }
    out.server_bytes = (*rows)[5].int64(0, 0);
    co_return std::optional<SharedStats>(std::move(out));
}

PgResult<std::optional<SharedStats>> read_shared_stats(const std::string& conninfo,
                                                       const std::string& name, Millis timeout) {
    asio::io_context io(1);
    std::optional<PgResult<std::optional<SharedStats>>> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto c = co_await PgConnection::connect(conninfo, timeout);
            if (!c) {
                out = PgError{PgError::Kind::connection, "", connect_failure(conninfo, c.error())};
                co_return;
            }
            auto version = co_await schema_version(**c);
            if (!version) {
                out = version.error();
            } else if (*version > k_schema_version) {
                out = newer_schema_error(*version);
            } else if (*version == 0) {
                out = std::optional<SharedStats>();
            } else {
                out = co_await shared_stats(**c, name);
            }
        },
        asio::detached);
    io.run();
    return std::move(*out);
}

} // namespace flagcrawl::pgfrontier
