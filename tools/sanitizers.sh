# Sourced by tools/sanitize.sh and tools/tsan.sh.

# Make the virtual environment $1 (if missing), activate it, install the build tools and
# the test extra's packages as pyproject.toml lists them, and build fastmlp into it in
# build folder $2 with the sanitizers $3 (a -fsanitize= list).  Returns non-zero when a
# step fails.
sanitized_build() {
    local venv="$1" build_dir="$2" sanitizers="$3"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" || return 1
    fi
    . "$venv/bin/activate"
    pip install -q scikit-build-core cython cython-cmake numpy ninja cmake || return 1
    python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))
               ["project"]["optional-dependencies"]["test"]))' > "$venv/test-requirements.txt"
    pip install -q -r "$venv/test-requirements.txt" || return 1
    pip install -q --no-build-isolation --force-reinstall --no-deps . \
        -Cbuild-dir="$build_dir" -Ccmake.build-type=RelWithDebInfo \
        "-Ccmake.define.CMAKE_C_FLAGS=-fsanitize=$sanitizers -fno-omit-frame-pointer -g" \
        "-Ccmake.define.CMAKE_MODULE_LINKER_FLAGS=-fsanitize=$sanitizers" \
        "-Ccmake.define.CMAKE_SHARED_LINKER_FLAGS=-fsanitize=$sanitizers"
}

# Run pytest with the arguments given, once per instruction-set path this CPU runs (from
# the tests folder, so that `import fastmlp` is the sanitized install), each into
# $LOGS/pytest-<isa>.txt; print the lines matching the regex $REPORT with $2 lines after
# each, and set `status` (1 when pytest failed) and `summary` (a line per path).
#   run_per_isa LABEL CONTEXT [pytest arguments...]
run_per_isa() {
    local label="$1" context="$2" isas isa log result reports
    shift 2
    isas="$(cd /tmp && python -c 'import fastmlp; print(" ".join(fastmlp.supported_isas()))')" \
        || { status=1; summary=("fastmlp did not import"); return; }
    rm -rf "$LOGS" && mkdir -p "$LOGS"
    status=0
    summary=()
    for isa in $isas; do
        echo "=== FASTMLP_ISA=$isa: $label ==="
        log="$LOGS/pytest-$isa.txt"
        if (cd tests && FASTMLP_ISA=$isa python -m pytest -q -p no:cacheprovider --capture=sys "$@" \
                > "$log" 2>&1); then
            result="$(tail -n 1 "$log")"
        else
            result="pytest failed ($(tail -n 1 "$log"))"
            status=1
        fi
        reports=$(grep -cE "$REPORT" "$log" || true)
        summary+=("$isa: $result; $reports sanitizer reports")
        grep -E -A"$context" "$REPORT" "$log" | head -n 40 || true
    done
}
