#!/usr/bin/env bash
# Build fastmlp with ThreadSanitizer, in a virtual environment of its own, and run the
# tests that use the thread pool (the GEMM's panels, the split steps, the pool's life
# cycle) once per instruction-set path this CPU supports.  Fails on any test failure and
# on any ThreadSanitizer report.
#
#   tools/tsan.sh [pytest arguments...]      (a few minutes per path on 2 cores)
#
# CPython is not built with TSan, so libtsan is preloaded; only fastmlp's C is
# instrumented, which is what is checked here.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${TSAN_VENV:-$ROOT/build/tsan-venv}"
LOGS="$ROOT/build/tsan-logs"
TESTS="${TSAN_TESTS:-test_split_steps.py test_threads.py test_runtime_pool.py test_gemm.py}"

. tools/sanitizers.sh
sanitized_build "$VENV" build/tsan thread || exit 1

# OpenBLAS's own threads are not instrumented and would only add noise
export LD_PRELOAD="$(gcc -print-file-name=libtsan.so)" OPENBLAS_NUM_THREADS=1 FASTMLP_SANITIZED=1
# die_after_fork=0: the fork tests start threads in the child, which TSan does not follow
export TSAN_OPTIONS="halt_on_error=0:report_signal_unsafe=0:second_deadlock_stack=1:die_after_fork=0"
REPORT='WARNING: ThreadSanitizer'
# shellcheck disable=SC2086  # $TESTS: a list of test files
run_per_isa "the threaded tests under ThreadSanitizer" 12 "$@" $TESTS

echo
echo "=== tsan.sh summary ==="
for line in "${summary[@]}"; do echo "  $line"; done
[ "$status" -eq 0 ] && [ "$(cat "$LOGS"/pytest-*.txt | grep -c "$REPORT")" -eq 0 ] \
    && echo "OK: every path passed with 0 ThreadSanitizer reports" && exit 0
echo "FAIL"
exit 1
