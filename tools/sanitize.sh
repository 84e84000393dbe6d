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
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${SANITIZE_VENV:-$ROOT/build/sanitize-venv}"
LOGS="$ROOT/build/sanitize-logs"
FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
. "$VENV/bin/activate"
pip install -q scikit-build-core cython cython-cmake numpy ninja cmake pytest hypothesis threadpoolctl
pip install -q --no-build-isolation --force-reinstall --no-deps . \
    -Cbuild-dir=build/sanitize -Ccmake.build-type=RelWithDebInfo \
    "-Ccmake.define.CMAKE_C_FLAGS=$FLAGS" \
    "-Ccmake.define.CMAKE_MODULE_LINKER_FLAGS=-fsanitize=address,undefined" \
    "-Ccmake.define.CMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined"

LIBASAN="$(gcc -print-file-name=libasan.so)"
ISAS="$(cd /tmp && LD_PRELOAD="$LIBASAN" ASAN_OPTIONS=detect_leaks=0 \
        python -c 'import fastmlp; print(" ".join(fastmlp.supported_isas()))')"
rm -rf "$LOGS" && mkdir -p "$LOGS"
export LD_PRELOAD="$LIBASAN" FASTMLP_SANITIZED=1 PYTHONMALLOC=malloc
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$LOGS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan"

status=0
summary=()
for isa in $ISAS; do
    echo "=== FASTMLP_ISA=$isa: the test suite under ASan + UBSan ==="
    # from the tests folder, so that `import fastmlp` is the sanitized install
    if (cd tests && FASTMLP_ISA=$isa python -m pytest -q -p no:cacheprovider "$@" . \
            2>&1 | tee "$LOGS/pytest-$isa.txt" | tail -n 5); then
        result="$(tail -n 1 "$LOGS/pytest-$isa.txt")"
    else
        result="pytest failed: $(tail -n 1 "$LOGS/pytest-$isa.txt")"
        status=1
    fi
    reports=$(find "$LOGS" -name 'asan.*' -o -name 'ubsan.*' | wc -l)
    summary+=("$isa: $result; sanitizer reports so far: $reports")
done

echo
echo "=== sanitize.sh summary ($(python -c 'import platform; print(platform.processor() or platform.machine())'), $(gcc -dumpfullversion)) ==="
for line in "${summary[@]}"; do echo "  $line"; done
reports=$(find "$LOGS" -name 'asan.*' -o -name 'ubsan.*' | wc -l)
if [ "$reports" -gt 0 ]; then
    echo "FAIL: $reports sanitizer report(s), in $LOGS:"
    find "$LOGS" -name 'asan.*' -o -name 'ubsan.*' | head
    status=1
fi
[ "$status" -eq 0 ] && echo "OK: every path passed with 0 sanitizer reports" || echo "FAIL"
exit "$status"
