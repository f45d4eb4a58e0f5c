#!/usr/bin/env bash
# The flagcrawl binary's layout (ARCHITECTURE.md, "Memory"): the functions cli/hot_functions.txt
# lists sit side by side, so that a run keeps few 64 KiB windows of code resident. Passes when
# the middle 90% of the listed functions found in the binary (by address) span less than twice
# their total size (a link that ignored the list scatters them over the whole text) and at least
# half of the listed functions are still in the binary (else: regenerate the list).
#
#   tests/hot_layout_test.sh FLAGCRAWL HOT_FUNCTIONS_TXT ORDERED
#
# ORDERED: whether the build links with the list (cli/CMakeLists.txt: gold found, no sanitizer);
# when not, the test is skipped (exit 77).
set -euo pipefail
usage="usage: hot_layout_test.sh FLAGCRAWL HOT_FUNCTIONS_TXT ORDERED"
binary=${1:?$usage}
list=${2:?$usage}
case ${3:?$usage} in
ON | TRUE | 1) ;;
*)
    echo "skipped: this build links flagcrawl without the list (no gold, or a sanitizer build)"
    exit 77
    ;;
esac

listed=$(grep -vc '^#' "$list")
# Start and size (decimal) of each listed function, by start.
found=$(nm -S --defined-only -t d "$binary" | awk -v list="$list" '
    BEGIN {
        while ((getline line < list) > 0) {
            if (line ~ /^#/) continue
            if (sub(/^\.text\.unlikely\./, "", line)) line = line ".cold"
            else if (!sub(/^\.text\.startup\./, "", line)) sub(/^\.text\./, "", line)
            wanted[line] = 1
        }
    }
    NF == 4 && ($4 in wanted) && !($4 in seen) { seen[$4] = 1; print $1 + 0, $2 + 0 }' |
    sort -n)
echo "$found" | awk -v listed="$listed" '
    { start[NR] = $1; total += $2 }
    END {
        n = NR
        # Code changes rename and remove functions; the layout degrades slowly, so only a list
        # that lost half its functions fails.
        if (n < listed * 0.5) {
            printf "only %d of the %d listed functions are in the binary: regenerate the list " \
                   "(tests/bench/hot_functions.py)\n", n, listed
            exit 1
        }
        span = start[int(n * 0.95)] - start[int(n * 0.05) + 1]
        printf "%d listed functions, %d KiB of code; the middle 90%% span %d KiB\n",
               n, total / 1024, span / 1024
        exit (span < 2 * total) ? 0 : 1
    }'
