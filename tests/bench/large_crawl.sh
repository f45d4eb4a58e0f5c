#!/usr/bin/env bash
# The large-crawl measure: one crawl of the whole synthetic site of `serve --site PAGES` (default
# 1,000,000 pages) with the server and the crawl on a core each, as a peer benchmark
# pins them. Prints, for each successive 100,000 requests, the crawl's pages/s (from the arrival
# times in the server's access log) and its CPU per request (a crawl whose frontier or seen-set
# slowed down as it grew shows falling pages/s and rising CPU), then its wall time, CPU, peak RSS,
# and `stats` (the seen-set's RAM per seen URL). Not run by ctest; pages/s is a wall-clock figure:
# run it on a quiet machine (CPU per request is far less sensitive to other load).
#
#   tests/bench/large_crawl.sh BUILD_DIR [PAGES]
#
# Environment: WORK (folder for the site's access log and the crawl DB; default
# /dev/shm/flagcrawl-large, removed first), CONCURRENCY (64), BUCKET (100000 requests),
# SERVER_CPU (0) and CRAWL_CPU (1): taskset CPUs, empty for no pinning.
# Every process it starts is stopped at the end.
set -euo pipefail

build=${1:?usage: large_crawl.sh BUILD_DIR [PAGES]}
pages=${2:-1000000}
flagcrawl=$(realpath "$build/flagcrawl")
work=${WORK:-/dev/shm/flagcrawl-large}
concurrency=${CONCURRENCY:-64}
bucket=${BUCKET:-100000}
pin() { if [ -n "$1" ]; then echo taskset -c "$1"; fi; }
on_server=$(pin "${SERVER_CPU-0}")
on_crawl=$(pin "${CRAWL_CPU-1}")

rm -rf "$work"
mkdir -p "$work"
server_pid=
cleanup() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

# The server prints its URL once it listens; port 0 takes a free one.
$on_server "$flagcrawl" serve --site "$pages" --port 0 --access-log "$work/access.log" >"$work/serve.out" 2>&1 &
server_pid=$!
url=
for _ in $(seq 100); do
    url=$(grep -o 'http://[^ ]*/' "$work/serve.out" || true)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "large_crawl: the server did not start: $(cat "$work/serve.out")" >&2; exit 3; }

echo "crawl of ${url}index.html: $pages pages, -c $concurrency, whole site (--depth -1 --max-per-dir 0)"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' -o "$work/time.txt" \
    $on_crawl "$flagcrawl" crawl "${url}index.html" --db "$work/crawl.db" -c "$concurrency" \
    --depth -1 --max-per-dir 0 --progress never -q &
time_pid=$!
# The crawl's CPU (user + system clock ticks, /proc/PID/stat) against the access log's size,
# every 0.2 s: CPU per request for each bucket, a figure that another process's load on the
# machine slows down far less than pages/s. The sampler reads two small files, not the log.
crawl_pid=
for _ in $(seq 50); do
    crawl_pid=$(pgrep -P "$time_pid" || true)
    [ -n "$crawl_pid" ] && break
    sleep 0.02
done
ticks=$(getconf CLK_TCK)
while [ -n "$crawl_pid" ] && cpu=$(awk '{ print $14 + $15 }' "/proc/$crawl_pid/stat" 2>/dev/null); do
    echo "$(stat -c %s "$work/access.log") $cpu"
    sleep 0.2
done >"$work/cpu.txt"
status=0
wait "$time_pid" || status=$?
cat "$work/time.txt"
# The last sample: the whole log, at the CPU time reported once the crawl ended.
awk -v size="$(stat -c %s "$work/access.log")" -v tck="$ticks" '
    { for (i = 1; i < NF; i++) if ($i == "user" || $i == "sys") cpu += $(i + 1) }
    END { printf "%d %.0f\n", size, cpu * tck }' "$work/time.txt" >>"$work/cpu.txt"
[ "$status" -eq 0 ] || echo "large_crawl: the crawl exited $status" >&2

# Access log lines: arrival time (Unix seconds), method, target, status. A bucket's CPU is the
# difference of the samples nearest (at or after) its first and last lines' offsets.
awk -v b="$bucket" -v tck="$ticks" '
    FNR == NR { size[++n] = $1; cpu[n] = $2; next }
    function cpu_at(offset,   i) { for (i = 1; i < n && size[i] < offset; i++) {} return cpu[i] }
    { offset += length($0) + 1 }
    FNR == 1 { start = $1; from = cpu_at(0) }
    FNR % b == 0 || (last && FNR == last) {
        count = FNR % b ? FNR % b : b; to = cpu_at(offset)
        printf "requests %8d-%8d: %7.0f pages/s, ", FNR - count + 1, FNR, count / ($1 - start)
        # A bucket shorter than the sampling period may fall between two samples.
        if (to > from) printf "%5.1f us CPU per request\n", (to - from) / tck * 1e6 / count
        else print "CPU not sampled"
        start = $1; from = to
    }
' "$work/cpu.txt" last="$(wc -l <"$work/access.log")" "$work/access.log"
"$flagcrawl" stats --db "$work/crawl.db"
exit "$status"
