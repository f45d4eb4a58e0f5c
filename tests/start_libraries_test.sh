#!/usr/bin/env bash
# The shared libraries flagcrawl loads at start (ARCHITECTURE.md, "Memory"): not libpq, which a
# shared crawl opens when it first needs it (crawler/pgfrontier/pg_connection.cpp), nor OpenSSL's
# libssl, which only libpq needs. The list is the dynamic loader's own: with
# LD_TRACE_LOADED_OBJECTS set it loads the libraries, prints them and exits without running main.
#
#   tests/start_libraries_test.sh FLAGCRAWL
set -euo pipefail
binary=${1:?usage: start_libraries_test.sh FLAGCRAWL}

loaded=$(LD_TRACE_LOADED_OBJECTS=1 "$binary")
if ! grep -q 'libcurl' <<<"$loaded"; then
    echo "no list of libraries from the dynamic loader:" >&2
    echo "$loaded" >&2
    exit 1
fi
if unwanted=$(grep -E '\blib(pq|ssl)\.so' <<<"$loaded"); then
    echo "flagcrawl loads at start what only a shared crawl needs:" >&2
    echo "$unwanted" >&2
    exit 1
fi
echo "ok: $(grep -c '=>' <<<"$loaded") libraries at start, neither libpq nor libssl"
