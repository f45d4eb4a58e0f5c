#!/usr/bin/env bash
# Builds the real-page corpus for the link differential (tests/corpus/links_diff): installs
# Debian documentation packages (their HTML was written by many generators: Sphinx, DocBook,
# Doxygen, rustdoc, MediaWiki exports, hand-written pages) and copies their .html files into
# DEST (default /work/corpus), one folder per package. Idempotent; needs root or sudo.
# Usage: tests/corpus/fetch_corpus.sh [DEST]
set -euo pipefail
dest=${1:-/work/corpus}
packages=(python3.11-doc cppreference-doc-en-html postgresql-doc-15 debian-reference-en
          libstdc++-12-doc rust-doc nodejs-doc)
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
installed=()
for p in "${packages[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        installed+=("$p")
    elif DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$p" \
            >/dev/null 2>&1; then
        installed+=("$p")
    else
        echo "fetch_corpus: $p did not install; skipped" >&2
    fi
done
mkdir -p "$dest"
total=0
for p in "${installed[@]}"; do
    mkdir -p "$dest/$p"
    # Follow the package's file list (symlinked doc trees included), keep regular .html files.
    dpkg -L "$p" | grep -E '\.html?$' | while read -r f; do
        [ -f "$f" ] || continue
        rel=${f#/}
        mkdir -p "$dest/$p/$(dirname "$rel")"
        cp -L "$f" "$dest/$p/$rel"
    done
    n=$(find "$dest/$p" -type f -name '*.htm*' | wc -l)
    echo "fetch_corpus: $p: $n pages"
    total=$((total + n))
done
echo "fetch_corpus: $total pages in $dest"
