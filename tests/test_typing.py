"""The type hints: mypy is clean on src/ with the configuration in pyproject.toml, and a
user's mistake against the typed API is caught."""
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api", reason="needs mypy (in the test extra)")

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"


def run_mypy(*args):
    stdout, stderr, status = mypy_api.run(["--config-file", str(CONFIG), "--no-incremental",
                                           *args])
    return stdout + stderr, status


@pytest.mark.skipif(not (ROOT / "src" / "fastmlp").is_dir(), reason="needs the source tree")
def test_mypy_is_clean_on_src():
    output, status = run_mypy(str(ROOT / "src" / "fastmlp"))
    assert status == 0, output
    assert "Success: no issues found" in output


def test_package_is_marked_typed():
    import fastmlp
    assert (Path(fastmlp.__file__).parent / "py.typed").is_file()


def test_a_misuse_of_the_typed_api_is_reported(tmp_path):
    script = tmp_path / "misuse.py"
    script.write_text(
        "from fastmlp.datasets import load_digits\n"
        "from fastmlp.history import History\n"
        "X, y = load_digits()\n"
        "epochs: list[str] = History().epoch\n"
        "load_digits(3)\n")
    output, status = run_mypy(str(script))
    assert status == 1
    assert 'misuse.py:4: error: Incompatible types in assignment (expression has type "list[int]"' in output
    assert 'misuse.py:5: error: Too many arguments for "load_digits"' in output
