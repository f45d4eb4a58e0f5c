#!/usr/bin/env bash
# Measures the crawl shared through PostgreSQL (crawl --frontier) against the local crawl, on a
# private PostgreSQL cluster and `flagcrawl serve --site` instances on 127.0.0.11, .12, ...
# (distinct hosts). Not run by ctest. Loopback only; every process it starts is stopped at the end.
#
#   tests/bench/frontier_bench.sh BUILD_DIR [throughput|single|takeover|all]
#
#   throughput  one worker with --frontier against the local crawl (same sites, same options),
#               then 1, 2 and 3 workers: pages/s (median of RUNS), PostgreSQL's CPU seconds per
#               1000 pages (utime+stime of every server process), server bytes per URL.
#               Wall-clock figures: run it on a quiet machine.
#   single      the first part of throughput only: the local crawl against one worker with
#               --frontier (the issue's ">= 60% of local pages/s"), RUNS of each.
#   takeover    3 workers, one killed with kill -9 at about 30%: the delay from its kill to the
#               first request another worker sends to a host it held (target: lease + 1 s), and
#               from the last page's request to the end of the last worker (target: 2 s).
#
# Environment: HOSTS (4), PAGES per host (25000), RUNS (3), CONCURRENCY (16), PER_HOST (8),
# LEASE (30 for throughput; takeover uses TAKEOVER_LEASE, 5), PG_BIN (/usr/lib/postgresql/15/bin),
# PIN: "1" runs PostgreSQL and the site servers on the CPUs SERVER_CPUS (0) and every crawl,
# local or worker, on WORKER_CPUS (1), through taskset: on a two-core machine the crawl then has
# a core of its own, the same one in both modes, instead of competing with the servers for both.
set -euo pipefail

build=${1:?usage: frontier_bench.sh BUILD_DIR [throughput|single|takeover|all]}
what=${2:-all}
flagcrawl=$(realpath "$build/flagcrawl")
hosts=${HOSTS:-4}
pages=${PAGES:-25000}
runs=${RUNS:-3}
concurrency=${CONCURRENCY:-16}
per_host=${PER_HOST:-8}
lease=${LEASE:-30}
takeover_lease=${TAKEOVER_LEASE:-5}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
on_servers=()
on_workers=()
if [ "${PIN:-0}" = 1 ]; then
    on_servers=(taskset -c "${SERVER_CPUS:-0}")
    on_workers=(taskset -c "${WORKER_CPUS:-1}")
fi

work=$(mktemp -d /tmp/flagcrawl-frontier-bench-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
    chown postgres "$work"
    as_pg=(runuser -u postgres --)
fi
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
    done
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The cluster: unix socket only, fsync off (a benchmark of the protocol, not of the disk).
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/data" -U flagcrawl -A trust --no-sync >/dev/null
"${as_pg[@]}" "${on_servers[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/pg.log" -w -o \
    "-c listen_addresses='' -c unix_socket_directories='$work' -c port=5432 -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
uri="postgresql://flagcrawl@/postgres?host=$work&port=5432"
sql() { psql "$uri" -Atqc "$1"; }

seeds=()
for i in $(seq 1 "$hosts"); do
    addr="127.0.0.$((10 + i))"
    "${on_servers[@]}" "$flagcrawl" serve --site "$pages" --seed "$i" --host "$addr" --port 0 \
        --access-log "$work/access-$addr.log" >"$work/serve-$i.out" 2>&1 &
    pids+=($!)
done
for i in $(seq 1 "$hosts"); do
    for _ in $(seq 1 100); do
        grep -q Serving "$work/serve-$i.out" 2>/dev/null && break
        sleep 0.1
    done
    seeds+=("$(grep -o 'http://[^ ]*/' "$work/serve-$i.out")index.html")
done

# CPU seconds (utime + stime) of every PostgreSQL server process, ended children included.
pg_cpu() {
    local postmaster
    postmaster=$(head -1 "$work/data/postmaster.pid")
    awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 + $16 + $17 } END { printf "%.2f", t / hz }' \
        "/proc/$postmaster/stat" $(for c in $(pgrep -P "$postmaster"); do echo "/proc/$c/stat"; done) \
        2>/dev/null
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

options=(--concurrency "$concurrency" --per-host "$per_host" --progress never --stall-after 0
         --json --quiet)

# pages/s of a crawl's JSON summary
rate() { python3 -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["pages_per_s"])'; }

local_run() {
    rm -f "$work/local.db"
    "${on_workers[@]}" "$flagcrawl" crawl "${seeds[@]}" "${options[@]}" --db "$work/local.db" | rate
}

# N workers on crawl NAME: prints aggregate pages/s (pages on the server / wall time of all),
# PostgreSQL CPU per 1000 pages and server bytes per URL.
shared_run() {
    local n=$1 name=$2
    local cpu_before cpu_after started ended done
    cpu_before=$(pg_cpu)
    started=$(date +%s.%N)
    "${on_workers[@]}" "$flagcrawl" crawl "${seeds[@]}" "${options[@]}" --db "$work/$name-1.db" --frontier "$uri" \
        --crawl-name "$name" --lease "$lease" >/dev/null &
    local first=$!
    while [ "$(sql "SELECT count(*) FROM flagcrawl.crawls WHERE name = '$name'" 2>/dev/null)" != 1 ]; do
        sleep 0.05
    done
    local others=()
    for w in $(seq 2 "$n"); do
        "${on_workers[@]}" "$flagcrawl" crawl "${options[@]}" --db "$work/$name-$w.db" --frontier "$uri" \
            --crawl-name "$name" --lease "$lease" >/dev/null &
        others+=($!)
    done
    wait "$first" "${others[@]}"
    ended=$(date +%s.%N)
    cpu_after=$(pg_cpu)
    done=$(sql "SELECT count(*) FROM flagcrawl.urls u JOIN flagcrawl.crawls c ON c.id = u.crawl
                WHERE c.name = '$name' AND u.state = 1")
    python3 - "$done" "$started" "$ended" "$cpu_before" "$cpu_after" <<'EOF'
import sys
done, t0, t1, c0, c1 = (float(x) for x in sys.argv[1:])
print("%.0f %.3f" % (done / (t1 - t0), (c1 - c0) / done * 1000))
EOF
}

if [ "$what" = throughput ] || [ "$what" = single ] || [ "$what" = all ]; then
    echo "sites: $hosts hosts x $pages pages; concurrency $concurrency, per host $per_host; $runs runs${on_workers[*]:+; pinned: servers ${on_servers[*]}, crawls ${on_workers[*]}}"
    local_rates=$(for r in $(seq 1 "$runs"); do local_run; done)
    echo "local (SQLite) pages/s: $(echo "$local_rates" | median)  (runs: $(echo $local_rates))"
    workers=(1 2 3)
    [ "$what" = single ] && workers=(1)
    for n in "${workers[@]}"; do
        results=$(for r in $(seq 1 "$runs"); do shared_run "$n" "t$n-$r"; done)
        echo "$n worker(s) --frontier pages/s: $(echo "$results" | cut -d' ' -f1 | median)" \
             " PostgreSQL CPU s per 1000 pages: $(echo "$results" | cut -d' ' -f2 | median)" \
             " (runs: $(echo $results | tr '\n' ' '))"
    done
    urls=$(sql "SELECT count(*) FROM flagcrawl.urls")
    bytes=$(sql "SELECT pg_total_relation_size('flagcrawl.urls') + pg_total_relation_size('flagcrawl.hosts')")
    sql "VACUUM flagcrawl.urls" >/dev/null
    vacuumed=$(sql "SELECT pg_total_relation_size('flagcrawl.urls') + pg_total_relation_size('flagcrawl.hosts')")
    echo "server bytes per URL: $((bytes / urls)) ($urls URLs; $((vacuumed / urls)) after VACUUM)"
fi

if [ "$what" = takeover ] || [ "$what" = all ]; then
    lease=$takeover_lease
    name=takeover
    : >"$work/kill"
    for f in "$work"/access-*.log; do : >"$f"; done
    "${on_workers[@]}" "$flagcrawl" crawl "${seeds[@]}" "${options[@]}" --db "$work/k1.db" --frontier "$uri" \
        --crawl-name "$name" --lease "$lease" --user-agent "flagcrawl/bench (w1)" >/dev/null &
    w1=$!
    while [ "$(sql "SELECT count(*) FROM flagcrawl.crawls WHERE name = '$name'" 2>/dev/null)" != 1 ]; do
        sleep 0.05
    done
    "${on_workers[@]}" "$flagcrawl" crawl "${options[@]}" --db "$work/k2.db" --frontier "$uri" --crawl-name "$name" \
        --lease "$lease" --user-agent "flagcrawl/bench (w2)" >/dev/null &
    w2=$!
    "${on_workers[@]}" "$flagcrawl" crawl "${options[@]}" --db "$work/k3.db" --frontier "$uri" --crawl-name "$name" \
        --lease "$lease" --user-agent "flagcrawl/bench (w3)" >/dev/null &
    w3=$!
    crawl_id=$(sql "SELECT id FROM flagcrawl.crawls WHERE name = '$name'")
    total=$((hosts * pages))
    while [ "$(sql "SELECT count(*) FROM flagcrawl.urls WHERE crawl = $crawl_id AND state = 1")" -lt $((total * 3 / 10)) ]; do
        sleep 0.1
    done
    # The worker holding the most hosts dies.
    victim=$(sql "SELECT w.label FROM flagcrawl.hosts h JOIN flagcrawl.workers w ON w.id = h.owner
                  WHERE h.crawl = $crawl_id AND h.lease_until > now()
                  GROUP BY w.label ORDER BY count(*) DESC LIMIT 1")
    victim_pid=${victim##*:}
    held=$(sql "SELECT string_agg(h.origin, ' ') FROM flagcrawl.hosts h JOIN flagcrawl.workers w
                ON w.id = h.owner WHERE w.label = '$victim' AND h.lease_until > now()")
    agent=""
    for w in 1 2 3; do
        eval "pid=\$w$w"
        [ "$pid" = "$victim_pid" ] && agent="(w$w)"
    done
    killed_at=$(date +%s.%N)
    kill -9 "$victim_pid"
    wait "$w1" "$w2" "$w3" 2>/dev/null || true
    ended=$(date +%s.%N)
    python3 - "$work" "$killed_at" "$ended" "$agent" "$lease" $held <<'EOF'
import glob, sys
work, killed, ended, agent, lease = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
held = set(h.split("//")[1] for h in sys.argv[6:])
delays, last = [], 0.0
for path in glob.glob(work + "/access-*.log"):
    addr = path.rsplit("access-", 1)[1][:-4]
    hits = []
    for line in open(path):
        parts = line.split(" ", 4)
        hits.append((float(parts[0]), parts[4].strip()))
    hits.sort()
    if hits:
        last = max(last, hits[-1][0])
    if any(h.startswith(addr + ":") for h in held):
        after = [t for t, who in hits if t > killed and agent not in who]
        if after:
            delays.append(after[0] - killed)
print("takeover delay after kill -9 (lease %.0f s): %s s" % (lease, " ".join("%.2f" % d for d in sorted(delays))))
print("end of the last worker after the last page's request: %.2f s" % (ended - last))
EOF
fi
