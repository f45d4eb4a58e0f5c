#!/usr/bin/env bash
# Checks WARC files with a real WARC reader (the warcio npm package): installs it once into
# WORK_DIR (outside the source tree), then runs check_warc.mjs. Exit 77 (the tests' "skipped")
# when node or npm is missing or the package cannot be installed.
# Usage: run_check.sh WORK_DIR INDEX.cdxj FILE.warc.gz...
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$1"; shift
command -v node >/dev/null 2>&1 || { echo "node is not installed" >&2; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "npm is not installed" >&2; exit 77; }
mkdir -p "$work" || exit 77
# One install at a time (tests run in parallel); the package files are copied beside it so
# that node resolves "warcio" from the script's folder.
(
    flock 9
    cp "$here/package.json" "$here/check_warc.mjs" "$work/"
    if [ ! -d "$work/node_modules/warcio" ]; then
        timeout 300 npm install --prefix "$work" --no-audit --no-fund --loglevel=error \
            >"$work/npm.log" 2>&1 || { cat "$work/npm.log" >&2; exit 77; }
    fi
) 9>"$work/.lock" || exit $?
exec node "$work/check_warc.mjs" "$@"
