#!/usr/bin/env bash
# Instructions per crawled page (callgrind, the whole crawl process summed over its threads) and
# where they go, by component (self cost, k instructions per page). Not run by ctest. Instruction
# counts hold on a loaded machine, unlike wall-clock figures. Loopback only; the server it starts
# (a separate `flagcrawl serve --root` process, so that its instructions are not counted) is
# stopped at the end.
#
#   tests/bench/crawl_profile.sh FLAGCRAWL SITE_DIR [crawl options...]
#
# SITE_DIR: a site written by the bench harness's generator for a loopback host and port, e.g.
#   python3 /work/shared/bench/gen_site.py --out SITE --pages 5000 --seed 1 \
#       --host 127.0.0.1:PORT --expected SITE/expected.json
# (the port is read back from SITE/expected.json's "host"; pick a free one). The crawl runs as the
# bench harness runs it: `crawl http://HOST/index.html --db DB -c 64`, plus the options given.
# Under valgrind the crawl runs ~40x slower, so what is batched by time (the writer commits every
# 50 ms) is batched smaller: commits count several times what they cost in a real run.
# Environment: OUT (a temporary folder): where callgrind.out, the DB and the logs are kept.
set -euo pipefail

flagcrawl=$(realpath "${1:?usage: crawl_profile.sh FLAGCRAWL SITE_DIR [crawl options...]}")
site=$(realpath "${2:?usage: crawl_profile.sh FLAGCRAWL SITE_DIR [crawl options...]}")
shift 2
host=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["host"])' \
    "$site/expected.json")
case $host in
127.*:*) ;;
*)
    echo "crawl_profile.sh: $site/expected.json: host $host is not a loopback host:port" >&2
    exit 2
    ;;
esac
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
rm -f "$out"/crawl.db*

timeout -k 5 3600 "$flagcrawl" serve --root "$site" --host "${host%:*}" --port "${host##*:}" \
    >"$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    grep -qs "^Serving" "$out/serve.log" && break
    sleep 0.1
done

timeout -k 5 3500 valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
    "$flagcrawl" crawl "http://$host/index.html" --db "$out/crawl.db" -c 64 "$@" \
    >"$out/crawl.log" 2>&1
pages=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
    "select count(*) from pages").fetchone()[0])' "$out/crawl.db")

callgrind_annotate --threshold=100 "$out/callgrind.out" 2>/dev/null |
    python3 -c '
import re, sys
pages = int(sys.argv[1])
# First match wins; a function is counted under one component only.
rules = [
    ("SQLite", r"libsqlite3"),
    ("libcurl per transfer (and its TLS, zlib, IDN libraries)",
     r"libcurl|libnghttp|libssl|libz\.so|libcrypto|libidn2|libpsl|libbrotli|libzstd"),
    ("libc mem*/str*", r"(memmove|memcpy|memset|memchr|memcmp|strlen|strchr|strcmp|strncmp|"
     r"strcspn|strspn|memrchr|rawmemchr|strcasecmp|strncasecmp|stpcpy|strcpy)[-_a-z0-9.]*\.S"),
    ("malloc/free", r"malloc\.c|operator new|operator delete|arena\.c"),
    ("link scanner (and the page parser vectors)", r"html_detail|crawler::html|LinkExtractor|"
     r"is_plain_text|Candidate"),
    ("writer code (links JSON)", r"flagcrawl::storage|append_json"),
    ("scope + trap rules", r"UrlFilter|repeats_a_segment|[Ss]cope|[Tt]rap"),
    ("URL resolution + keys", r"UrlBuilder|url_detail|key_hash|append_encoded|"
     r"flagcrawl::crawler::Url|normalize_key|SeenSet|parse_ipv4|parse_host"),
    ("frontier + loop + hand-off", r"flagcrawl::crawler"),
    ("fetch engine (Asio, callbacks)", r"flagcrawl::fetch|boost"),
    ("startup (ld.so)", r"ld-linux|dl-"),
    ("libc, libstdc++ other", r"libc\.so|libm\.so|libstdc\+\+|libgcc"),
]
totals = {name: 0 for name, _ in rules}
totals["other"] = 0
program = 0
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)", line)
    if not m:
        continue
    ir = int(m.group(1).replace(",", ""))
    if "PROGRAM TOTALS" in m.group(2):
        program = ir
        continue
    name = next((n for n, rx in rules if re.search(rx, m.group(2))), "other")
    totals[name] += ir
print("%d pages (rows of the pages table), %.1f k instructions per page" %
      (pages, program / pages / 1000))
print("| where (self cost) | k instructions per page |\n| --- | ---: |")
for name, ir in totals.items():
    print("| %s | %.1f |" % (name, ir / pages / 1000))
' "$pages"
# What committing costs (inclusive) depends on how many transactions the run made, which varies
# from run to run under valgrind: compare two builds on the rest as well.
callgrind_annotate --inclusive=yes --threshold=100 "$out/callgrind.out" 2>/dev/null |
    python3 -c '
import re, sys
pages = int(sys.argv[1])
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+.*flagcrawl::storage::Transaction::commit\(\)", line)
    if m:
        print("of which committing transactions (inclusive): %.1f k per page" %
              (int(m.group(1).replace(",", "")) / pages / 1000))
        break
' "$pages"
echo "callgrind output, DB and logs: $out"
