#!/usr/bin/env bash
# The large-crawl measure: one crawl of the whole synthetic site of `serve --site PAGES` (default
# 1,000,000 pages) with the server and the crawl on a core each, as a peer benchmark
# pins them. Prints the crawl's pages/s for each successive 100,000 requests (from the arrival
# times in the server's access log: a crawl whose frontier or seen-set slowed down as it grew
# shows falling figures), its wall time, CPU, peak RSS, and `stats` (the seen-set's RAM per seen
# URL). Not run by ctest; wall-clock figures: run it on a quiet machine.
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
status=0
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' -o "$work/time.txt" \
    $on_crawl "$flagcrawl" crawl "${url}index.html" --db "$work/crawl.db" -c "$concurrency" \
    --depth -1 --max-per-dir 0 --progress never -q || status=$?
cat "$work/time.txt"
[ "$status" -eq 0 ] || echo "large_crawl: the crawl exited $status" >&2

# Access log lines: arrival time (Unix seconds), method, target, status.
awk -v b="$bucket" '
    NR == 1 { start = $1 }
    NR % b == 0 { printf "requests %8d-%8d: %7.0f pages/s\n", NR - b + 1, NR, b / ($1 - start); start = $1 }
    END { if (NR % b) printf "requests %8d-%8d: %7.0f pages/s\n", NR - NR % b + 1, NR, (NR % b) / ($1 - start) }
' "$work/access.log"
"$flagcrawl" stats --db "$work/crawl.db"
exit "$status"
