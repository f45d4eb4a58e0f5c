#!/usr/bin/env bash
# Process faults (issue 9): kills `flagcrawl download` and `flagcrawl crawl` with SIGKILL and
# SIGINT at random moments, RUNS times per command and signal, against a local synthetic site
# whose replies are slowed a little so that each kill lands mid-run. After each kill it checks:
#   - `PRAGMA integrity_check` of the run's database says ok;
#   - no partial file under a final name (download: every file not named .NAME.part is whole,
#     byte for byte what an uninterrupted run saved);
#   - the re-run (download) or `crawl --resume` completes: exit 0, every file / page of an
#     uninterrupted run there;
#   - nothing fetched twice beyond what was in flight: in the server's access log, the killed run
#     asked for no target twice (download); the resume of a killed crawl asks for no URL the
#     killed run had recorded (robots.txt excepted): what it fetches again is only what was in
#     flight at the kill in the wide sense (requested, being parsed, or queued for the database
#     writer, whose batches a SIGKILL loses), and the line says how many.
#   - the killed run is recorded as such once a later flagcrawl opened the file: `killed` after
#     SIGKILL, `interrupted` after SIGINT (or `finished` when it had recorded its end before the
#     signal landed), and no run is left `running`.
# Prints one line per run, the pass counts and, for the crawls killed with SIGKILL, the URLs
# fetched again (min/median/max); exits 1 if any run failed.
#
# Usage: tests/faults/kill_runs.sh [BUILD_DIR (default build)] [RUNS (default 20)] [SEED]
#   SEED (default: random) seeds the kill moments, so that a run can be repeated; PAGES
#   (environment, default 300) is the size of the synthetic site. ctest runs a short version
#   (label `faults`). Exit 77 (skipped) when a tool it needs is missing.
# Bounded: every command runs under `timeout`; the server is stopped on exit.
set -uo pipefail

build=${1:-build}
runs=${2:-20}
seed=${3:-$RANDOM}
pages=${PAGES:-300}
RANDOM=$seed
exe=$(realpath "$build/flagcrawl")
[[ -x $exe ]] || { echo "kill_runs: no flagcrawl executable in $build" >&2; exit 2; }
for tool in sqlite3 pgrep sha256sum; do
    command -v $tool >/dev/null || { echo "kill_runs: SKIPPED: $tool (the command) is needed" >&2; exit 77; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/flagcrawl-kill.XXXXXX")
server_pid=
cleanup() {
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

conc=4
log=$work/access.log
timeout -k 5 3600 "$exe" serve --site "$pages" --seed 5 --delay 0.004-0.012 --threads 2 \
    --access-log "$log" --port 0 >"$work/serve.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    grep -q "Serving" "$work/serve.out" && break
    sleep 0.05
done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.out" | head -1)
[[ -n $base ]] || { echo "kill_runs: the server did not start: $(cat "$work/serve.out")" >&2; exit 2; }

log_lines() { wc -l <"$log"; }
# Targets asked more than once in the access log after line $1, robots.txt excepted.
twice_since() {
    tail -n +"$(($1 + 1))" "$log" | awk '$3 != "/robots.txt" { n[$3]++ } END { c = 0; for (t in n) if (n[t] > 1) c++; print c }'
}
integrity() { sqlite3 "$1" "PRAGMA integrity_check;" 2>&1 | head -1; }

# The reference: an uninterrupted crawl (its pages, its requests) and download (its files).
timeout -k 5 120 "$exe" crawl "$base/index.html" --db "$work/ref.db" -c $conc --progress never \
    >/dev/null 2>&1 || { echo "kill_runs: the reference crawl failed" >&2; exit 2; }
cp "$log" "$work/crawl.lines"
ref_pages() {
    sqlite3 "$1" "SELECT DISTINCT url FROM pages WHERE kind = 'page' AND http_status = 200;" | sort
}
ref_pages "$work/ref.db" >"$work/ref.pages"
# Download list: content pages and images (distinct file names).
grep -E '/p[0-9]+\.html$' "$work/ref.pages" >"$work/list.txt"
for i in $(seq -w 0 39); do echo "$base/img/img$i.gif"; done >>"$work/list.txt"
l0=$(log_lines)
timeout -k 5 120 "$exe" download -i "$work/list.txt" -o "$work/ref" --db "$work/refd.db" \
    -c $conc --progress never >/dev/null 2>&1 || { echo "kill_runs: the reference download failed" >&2; exit 2; }
download_requests=$(($(log_lines) - l0))
crawl_requests=$(wc -l <"$work/crawl.lines")
(cd "$work/ref" && sha256sum -- * | sort) >"$work/ref.sums"
echo "site $base: $(wc -l <"$work/ref.pages") pages ($crawl_requests requests), $(wc -l <"$work/list.txt") files ($download_requests requests); $runs runs per command and signal, seed $seed"

# A random moment of a run: after between 5% and 85% of its `requests` (a count, so that the
# kill lands mid-run however loaded the machine is).
moment() { awk -v n="$1" -v r="$RANDOM" 'BEGIN { printf "%d", n * (0.05 + 0.8 * r / 32767) }'; }
# Waits until the access log has `$2` lines more than `$1`, or process `$3` ended.
wait_for_requests() {
    local deadline=$((SECONDS + 60))
    while (($(log_lines) < $1 + $2)) && kill -0 "$3" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.005
    done
}

declare -A passed=()
failed_any=0
fail() { echo "  FAIL $*"; ok=0; }
again_after_kill=()

# The killed run (the file's first) as a later flagcrawl recorded it, and no run left running. A
# run may have recorded its end just before the signal landed (it then exits 137 or 130 after
# `finished`, which is true): on a loaded machine the signal can come a few hundred ms late.
check_statuses() { # $1 database, $2 signal
    local want=interrupted status left
    [[ $2 == KILL ]] && want=killed
    status=$(sqlite3 "$1" "SELECT status FROM runs WHERE id = 1;")
    [[ $status == "$want" || $status == finished ]] || fail "the killed run is '$status', not '$want'"
    [[ $status == finished ]] && echo "  note: the run had recorded its end before the signal"
    left=$(sqlite3 "$1" "SELECT count(*) FROM runs WHERE status = 'running';")
    [[ $left == 0 ]] || fail "$left runs left 'running'"
}

one_download() { # $1 signal, $2 run number
    local dir=$work/d$2-$1 at code ok=1 start
    mkdir -p "$dir"
    at=$(moment "$download_requests")
    start=$(log_lines)
    timeout -k 5 120 "$exe" download -i "$work/list.txt" -o "$dir/out" --db "$dir/r.db" -c $conc \
        --progress never >"$dir/1.out" 2>&1 &
    local pid=$!
    wait_for_requests "$start" "$at" $pid
    kill -s "$1" "$(pgrep -P $pid || echo $pid)" 2>/dev/null
    { wait $pid; } 2>/dev/null; code=$?
    [[ $(integrity "$dir/r.db") == ok ]] || fail "integrity: $(integrity "$dir/r.db")"
    if [[ -d $dir/out ]]; then
        local f
        for f in "$dir/out"/*; do
            [[ -e $f ]] || continue
            local name=${f##*/}
            grep -q "  $name\$" "$work/ref.sums" || { fail "unexpected file $name"; continue; }
            [[ $(cd "$dir/out" && sha256sum -- "$name") == "$(grep "  $name\$" "$work/ref.sums")" ]] ||
                fail "partial file under its final name: $name"
        done
    fi
    local twice
    twice=$(twice_since "$start")
    [[ $twice -eq 0 ]] || fail "$twice targets asked twice by the killed run"
    timeout -k 5 120 "$exe" download -i "$work/list.txt" -o "$dir/out" --db "$dir/r.db" -c $conc \
        --progress never >"$dir/2.out" 2>&1 || fail "re-run exit $?: $(tail -2 "$dir/2.out")"
    [[ $(cd "$dir/out" && sha256sum -- * | sort) == "$(cat "$work/ref.sums")" ]] ||
        fail "re-run: the files differ from an uninterrupted run"
    [[ $(integrity "$dir/r.db") == ok ]] || fail "integrity after the re-run"
    check_statuses "$dir/r.db" "$1"
    echo "download $1 #$2 after ${at} requests: exit $code, $( [[ $ok == 1 ]] && echo pass || echo FAIL)"
    [[ $ok == 1 ]] && passed[download-$1]=$((${passed[download-$1]:-0} + 1))
    [[ $ok == 1 ]] || failed_any=1
    rm -rf "$dir"
}

one_crawl() { # $1 signal, $2 run number
    local dir=$work/c$2-$1 at code ok=1 start
    mkdir -p "$dir"
    at=$(moment "$crawl_requests")
    start=$(log_lines)
    timeout -k 5 120 "$exe" crawl "$base/index.html" --db "$dir/c.db" -c $conc --progress never \
        >"$dir/1.out" 2>&1 &
    local pid=$!
    wait_for_requests "$start" "$at" $pid
    kill -s "$1" "$(pgrep -P $pid || echo $pid)" 2>/dev/null
    { wait $pid; } 2>/dev/null; code=$?
    [[ $(integrity "$dir/c.db") == ok ]] || fail "integrity: $(integrity "$dir/c.db")"
    # The targets the killed run recorded (fetched, durable).
    sqlite3 "$dir/c.db" "SELECT DISTINCT substr(url, length('$base') + 1) FROM pages
        WHERE attempts > 0 AND kind != 'robots';" | sort >"$dir/recorded"
    local killed_lines resume_start
    resume_start=$(log_lines)
    killed_lines=$((resume_start - start))
    timeout -k 5 120 "$exe" crawl --resume --db "$dir/c.db" --progress never >"$dir/2.out" 2>&1 ||
        fail "resume exit $?: $(tail -2 "$dir/2.out")"
    [[ $(integrity "$dir/c.db") == ok ]] || fail "integrity after the resume"
    check_statuses "$dir/c.db" "$1"
    [[ $(ref_pages "$dir/c.db") == "$(cat "$work/ref.pages")" ]] ||
        fail "resumed crawl: pages differ from an uninterrupted crawl ($(ref_pages "$dir/c.db" | wc -l) of $(wc -l <"$work/ref.pages"))"
    tail -n +"$((resume_start + 1))" "$log" | awk '$3 != "/robots.txt" { print $3 }' | sort -u \
        >"$dir/resumed"
    local again twice
    again=$(comm -12 "$dir/recorded" "$dir/resumed" | wc -l)
    [[ $again -eq 0 ]] || fail "$again URLs recorded by the killed run fetched again: $(comm -12 "$dir/recorded" "$dir/resumed" | head -3 | tr '\n' ' ')"
    twice=$(twice_since "$start")
    [[ $1 == KILL ]] && again_after_kill+=("$twice")
    echo "crawl $1 #$2 after ${at} requests: exit $code, $killed_lines requests before the kill, $(wc -l <"$dir/recorded") recorded, $twice fetched again (in flight), $( [[ $ok == 1 ]] && echo pass || echo FAIL)"
    [[ $ok == 1 ]] && passed[crawl-$1]=$((${passed[crawl-$1]:-0} + 1))
    [[ $ok == 1 ]] || failed_any=1
    rm -rf "$dir"
}

for i in $(seq "$runs"); do
    for sig in KILL INT; do
        one_download $sig "$i"
        one_crawl $sig "$i"
    done
done
for key in download-KILL download-INT crawl-KILL crawl-INT; do
    echo "$key: ${passed[$key]:-0}/$runs passed"
done
if ((${#again_after_kill[@]} > 0)); then
    sorted=($(printf '%s\n' "${again_after_kill[@]}" | sort -n))
    n=${#sorted[@]}
    echo "crawl-KILL URLs fetched again (in flight at the kill): min ${sorted[0]}, median ${sorted[$((n / 2))]}, max ${sorted[$((n - 1))]}"
fi
exit $failed_any
