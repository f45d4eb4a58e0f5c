// The tables of a shared crawl on the PostgreSQL server, in the schema `flagcrawl` of the
// database the connection string names. This comment is the reference for readers (psql, stats).
//
// flagcrawl.meta     key/value; 'schema_version' is the version of these tables. A build refuses
//                    a newer version and brings an older one up to date.
// flagcrawl.crawls   one row per named crawl: its seeds (JSON array), the options that define it
//                    (JSON object), crawl-wide limits (max_pages, max_bytes: 0 none) with the
//                    totals counted against them (pages, bytes: kept only when a limit is set),
//                    status 'running' | 'finished' (no URL left undone) | 'stopped' (a
//                    crawl-wide limit reached), stop_reason as the workers print it.
// flagcrawl.workers  one row per worker process that joined: label (host:pid), seen_at (its
//                    last renewal or claim), last_batch (the sequence number of its last
//                    committed batch: after a connection loss the worker reads it to learn whether
//                    the batch in flight committed), ended_at and verdict once it exited.
// flagcrawl.hosts    one row per origin ("http://h:port"): pending (its URLs not done yet), the
//                    lease (owner = workers.id, epoch bumped by every claim, lease_until on the
//                    server's clock) and next_at, the earliest time of its next request, set when
//                    a worker hands the host back so that the next owner keeps the delay.
// flagcrawl.urls     the seen-set, the queue and the ledger in one row per URL: the primary key
//                    (crawl, key) is the seen-set (key: the 64-bit key of crawler/url, as a
//                    signed bigint); host, path (the URL after its origin), depth, redirects,
//                    requisite; seq (discovery order, the order a host's URLs are handed out);
//                    state 0 queued, 1 done; deliveries (times handed to a worker; a URL handed
//                    out a fourth time is recorded as failed instead) and epoch (the host lease
//                    that last took it). Once done, the ledger: status (HTTP status, NULL without
//                    a response), bytes, error_kind (NULL when not failed), worker, done_at.
#pragma once

#include "crawler/pgfrontier/pg_connection.hpp"

namespace flagcrawl::pgfrontier {

// The version of the tables above this build reads and writes.
inline constexpr int k_schema_version = 1;

// Makes sure the tables exist at k_schema_version: creates them on first use (under an advisory
// lock, since workers may start together; every step is idempotent), brings an older version up
// to date, and refuses a newer one with an error that says so (not transient).
asio::awaitable<PgResult<void>> ensure_schema(PgConnection& connection);

// The version of the tables on the server, 0 when there are none; creates nothing.
asio::awaitable<PgResult<int>> schema_version(PgConnection& connection);
// The error for a server whose tables are newer than this build's.
PgError newer_schema_error(int version);

} // namespace flagcrawl::pgfrontier
