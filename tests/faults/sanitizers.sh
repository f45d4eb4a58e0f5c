#!/usr/bin/env bash
# The suite under the sanitizers (issue 9): builds the project in its own build folder with
# AddressSanitizer + UndefinedBehaviorSanitizer (-DFLAGCRAWL_ASAN=ON) and/or ThreadSanitizer
# (-DFLAGCRAWL_TSAN=ON), then runs the whole ctest suite there; any report fails the test that
# produced it. Not part of the default CI run (a sanitized build and suite take several times
# as long).
#
# Usage: tests/faults/sanitizers.sh [asan|tsan|both (default)] [ctest arguments...]
#   e.g. tests/faults/sanitizers.sh tsan -R 'Crawl|Frontier'
# Build folders: build-asan, build-tsan (kept, so that a second run rebuilds only what changed).
# JOBS (environment, default 2) is the build's and ctest's parallelism. A cold sanitized build
# takes several times as long as the Release build (GCC 12 is slow on the Asio/Beast coroutine
# files under -fsanitize).
#
# Address-space randomization: GCC 12's TSan (and ASan) runtimes map their shadow memory at fixed
# addresses that a kernel with more than 28 bits of mmap randomization (vm.mmap_rnd_bits, 32 on
# some distributions) can overlap; the process then dies at startup with "ThreadSanitizer:
# unexpected memory mapping". Above 28 bits the tests run under `setarch -R` (randomization off
# for ctest and every process it starts; needs no privilege, unlike lowering the sysctl).
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=${1:-both}
shift || true
case $mode in
asan) kinds=(asan) ;;
tsan) kinds=(tsan) ;;
both) kinds=(asan tsan) ;;
*) echo "usage: $0 [asan|tsan|both] [ctest arguments...]" >&2; exit 2 ;;
esac

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
jobs=${JOBS:-2}

status=0
for kind in "${kinds[@]}"; do
    dir=build-$kind
    option=-DFLAGCRAWL_ASAN=ON
    [[ $kind == tsan ]] && option=-DFLAGCRAWL_TSAN=ON
    cmake -S . -B "$dir" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$option"
    cmake --build "$dir" -j "$jobs"
    # halt_on_error: the first report ends the test that produced it, with a non-zero status.
    export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    no_aslr=()
    if [[ $(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0) -gt 28 ]]; then
        no_aslr=(setarch "$(uname -m)" -R)
    fi
    if ! "${no_aslr[@]}" ctest --test-dir "$dir" -j "$jobs" --output-on-failure "$@"; then
        echo "sanitizers: $kind: some tests failed (see above)" >&2
        status=1
    fi
done
exit $status
