#!/usr/bin/env bash
# Build fastmlp with AddressSanitizer and UndefinedBehaviorSanitizer, in a virtual
# environment of its own, and run the whole test suite once per instruction-set path this
# CPU supports (FASTMLP_ISA=baseline|avx2|avx512).  Fails on any test failure and on any
# sanitizer report; prints a summary line per path.
#
#   tools/sanitize.sh [pytest arguments...]      (about 10 minutes per path on 2 cores)
#
# CPython itself is not built with ASan, so libasan is preloaded and leak detection is
# off (the interpreter keeps memory until exit); the fuzz, the fork and the signal tests
# run their subprocesses under the same sanitizers.  Tests that measure RSS skip
# themselves ($FASTMLP_SANITIZED): ASan's quarantine holds freed memory on purpose.
set -uo pipefail  # not -e: every path runs, and the summary says what failed
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${SANITIZE_VENV:-$ROOT/build/sanitize-venv}"
LOGS="$ROOT/build/sanitize-logs"

. tools/sanitizers.sh
sanitized_build "$VENV" build/sanitize address,undefined || exit 1

LIBASAN="$(gcc -print-file-name=libasan.so)"
# libstdc++ too, so that ASan finds the real __cxa_throw for C++ extensions (matplotlib,
# onnxruntime) loaded after it
export LD_PRELOAD="$LIBASAN $(gcc -print-file-name=libstdc++.so)" FASTMLP_SANITIZED=1 PYTHONMALLOC=malloc
# ASan stops at its first report; UBSan reports every one and carries on.  Both write to
# stderr, which pytest leaves alone (--capture=sys) so that the reports reach the log.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0"
REPORT='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer'
run_per_isa "the test suite under ASan + UBSan" 3 "$@" .

echo
echo "=== sanitize.sh summary ($(python -c 'import platform; print(platform.processor() or platform.machine())'), $(gcc -dumpfullversion)) ==="
for line in "${summary[@]}"; do echo "  $line"; done
reports=$(cat "$LOGS"/pytest-*.txt | grep -cE "$REPORT" || true)
if [ "$reports" -gt 0 ]; then
    echo "FAIL: $reports sanitizer report(s); distinct places:"
    cat "$LOGS"/pytest-*.txt | grep -oE "[A-Za-z0-9_.]+\.[ch]:[0-9]+:[0-9]+: runtime error: .*|ERROR: AddressSanitizer: [a-z-]+" \
        | sed -E 's/(of|by) -?[0-9]+/\1 N/g; s/0x[0-9a-f]+/ADDR/g' | sort | uniq -c | head -n 20
    status=1
fi
[ "$status" -eq 0 ] && echo "OK: every path passed with 0 sanitizer reports" || echo "FAIL"
exit "$status"
