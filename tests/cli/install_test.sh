#!/usr/bin/env bash
# Install.InstallsBinaryManPageAndCompletion: `cmake --install BUILD --prefix P` puts the binary,
# the man page and the bash completion where users and their tools look, the man page renders
# with `man -l`, and the completion completes commands, options and files.
# Usage: install_test.sh BUILD_DIR. Exit 77 (ctest: skipped) when man is not installed.
set -euo pipefail
build=$1
prefix=$(mktemp -d "${TMPDIR:-/tmp}/flagcrawl-install-XXXXXX")
trap 'rm -rf "$prefix"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
[[ -x $prefix/bin/flagcrawl ]] || fail "no $prefix/bin/flagcrawl"
"$prefix/bin/flagcrawl" --version | grep -q '^flagcrawl ' || fail "installed binary does not run"
man_page=$prefix/share/man/man1/flagcrawl.1
completion=$prefix/share/bash-completion/completions/flagcrawl
[[ -s $man_page ]] || fail "no man page at $man_page"
[[ -s $completion ]] || fail "no bash completion at $completion"

# The completion: a command name, a command's option, a file after an option taking one.
complete_words() { # the words of the command line; prints COMPREPLY, one a line
    (
        cd "$prefix"
        # shellcheck source=/dev/null
        source "$completion"
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _flagcrawl
        printf '%s\n' "${COMPREPLY[@]}"
    )
}
[[ $(complete_words flagcrawl dow) == download ]] || fail "'flagcrawl dow<TAB>' does not complete download"
complete_words flagcrawl download --ski | grep -qx -- --skip-existing ||
    fail "'flagcrawl download --ski<TAB>' does not offer --skip-existing"
complete_words flagcrawl crawl --res | grep -qx -- --resume || fail "'crawl --res<TAB>' does not offer --resume"
complete_words flagcrawl bench fl | grep -qx flags || fail "'bench fl<TAB>' does not offer flags"
complete_words flagcrawl download -i b | grep -qx bin || fail "'download -i b<TAB>' does not complete a file"
if complete_words flagcrawl download --cra | grep -q -- --crawl-name; then
    fail "download completes crawl's options"
fi

if ! command -v man >/dev/null 2>&1; then
    echo "SKIPPED: man is not installed (the man page was installed but not rendered)"
    exit 77
fi
# Overstrike (bold as X\bX) removed, as col -b would.
rendered=$(MANPAGER=cat MANWIDTH=80 man -l "$man_page" 2>&1 | sed 's/.\x08//g')
for expected in "flagcrawl - concurrent downloader" "--skip-existing" "flagcrawl download" \
    "Examples:" "EXIT STATUS" ".config/flagcrawl/config"; do
    grep -qF -- "$expected" <<<"$rendered" || fail "man -l does not render '$expected'"
done
warnings=$(MANPAGER=cat MANWIDTH=80 man --warnings -l "$man_page" 2>&1 >/dev/null || true)
[[ -z $warnings ]] || fail "the man page has roff warnings: $(head -5 <<<"$warnings")"
echo "installed and rendered: $prefix"
