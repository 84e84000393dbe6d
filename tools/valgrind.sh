#!/usr/bin/env bash
# valgrind memcheck over a training smoke test (tools/valgrind_smoke.py) on the baseline
# and AVX2 paths (valgrind cannot run AVX-512 code).  Fails when memcheck finds an error
# whose stack passes through fastmlp's extension, or on memory it lost; errors
# inside CPython or NumPy alone, and blocks the interpreter holds at exit, are counted and
# not failed on.  Uses the fastmlp installed in the current Python.
#
#   tools/valgrind.sh        (a few minutes: valgrind runs Python about 30x slower)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
OUT="${VALGRIND_OUT:-build/valgrind}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"  # absolute: memcheck runs from /tmp
ISAS="$(cd /tmp && python -c 'import fastmlp; print(" ".join(i for i in fastmlp.supported_isas() if i != "avx512"))')"

status=0
for isa in $ISAS; do
    xml="$OUT/memcheck-$isa.xml"
    echo "=== valgrind memcheck, FASTMLP_ISA=$isa ==="
    # PYTHONMALLOC=malloc: every Python allocation goes through malloc, where memcheck sees it
    (cd /tmp && FASTMLP_ISA=$isa PYTHONMALLOC=malloc valgrind --tool=memcheck --xml=yes \
        --xml-file="$xml" --num-callers=40 --error-limit=no --leak-check=full \
        --track-origins=no python "$ROOT/tools/valgrind_smoke.py") || status=1
    python - "$xml" "$isa" <<'PY' || status=1
import sys
import xml.etree.ElementTree as ET

path, isa = sys.argv[1:]
errors = ET.parse(path).getroot().findall("error")
ours = []
for error in errors:
    frames = error.findall("./stack/frame")
    where = [(f.findtext("obj") or "") + " " + (f.findtext("fn") or "") for f in frames]
    # a frame in the extension (the Cython layer _kernels) or in a C kernel (fm_*)
    in_fastmlp = any("_kernels" in w or " fm_" in w for w in where)
    kind = error.findtext("kind")
    if kind.startswith("Leak_"):
        # Blocks still held at exit: the interpreter keeps its modules' types (created by
        # the extension's init too) until the end.  Only memory lost in fastmlp counts.
        if kind in ("Leak_DefinitelyLost", "Leak_IndirectlyLost") and in_fastmlp:
            ours.append((kind, where[:6]))
    elif in_fastmlp:
        ours.append((kind, where[:6]))
leaks = sum(e.findtext("kind").startswith("Leak_") for e in errors)
print(f"{isa}: {len(errors) - leaks} memcheck errors and {leaks} blocks held at exit in all "
      f"(CPython, NumPy), {len(ours)} in fastmlp code")
for kind, where in ours[:10]:
    print(f"  {kind}:", *where, sep="\n    ")
sys.exit(1 if ours else 0)
PY
done
[ "$status" -eq 0 ] && echo "OK: no memcheck error in fastmlp code" || echo "FAIL"
exit "$status"
