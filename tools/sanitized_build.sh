# Sourced by tools/sanitize.sh and tools/tsan.sh: make the virtual environment $1 (if
# missing), activate it, install the build tools and the test extra's packages as
# pyproject.toml lists them, and build fastmlp into it in build folder $2 with the
# sanitizers $3 (a -fsanitize= list).  Returns non-zero when a step fails.
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
