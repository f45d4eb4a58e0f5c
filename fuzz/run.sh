#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, with memory, per-input time and process
# limits, under `nice` so that other work on the machine goes on. The corpus grows in
# $FUZZ_WORK/corpus/TARGET (default /tmp/flagcrawl-fuzz), seeded from fuzz/seeds/TARGET; crash
# inputs land in $FUZZ_WORK/crashes/TARGET. Prints libFuzzer's final stats line.
# Usage: fuzz/run.sh TARGET SECONDS [BUILD_DIR]   (BUILD_DIR default: build-fuzz)
set -euo pipefail
target=${1:?usage: fuzz/run.sh TARGET SECONDS [BUILD_DIR]}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS [BUILD_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
build=${3:-$here/../build-fuzz}
work=${FUZZ_WORK:-/tmp/flagcrawl-fuzz}
binary=$build/fuzz/$target
[ -x "$binary" ] || { echo "run.sh: $binary not built (see fuzz/README.md)" >&2; exit 2; }
mkdir -p "$work/corpus/$target" "$work/crashes/$target"
seeds=()
seed_dir=$here/seeds/${target%_diff} # the differential starts from the link seeds
[ -d "$seed_dir" ] && seeds=("$seed_dir")
dict=()
[ -f "$here/$target.dict" ] && dict=("-dict=$here/$target.dict")
# -rss_limit_mb bounds memory, -timeout one input's time, -max_total_time the run; the outer
# timeout is a backstop; ulimit -v is left to ASan (which reserves address space).
ulimit -u 4096
log=$work/$target.log
timeout -k 10 $((seconds + 60)) nice -n 10 "$binary" "$work/corpus/$target" "${seeds[@]}" \
    "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -artifact_prefix="$work/crashes/$target/" -print_final_stats=1 >"$log" 2>&1 || status=$?
grep -E '^(#[0-9]+|stat::|==[0-9]+==|SUMMARY|Done)' "$log" | tail -12
exit "${status:-0}"
