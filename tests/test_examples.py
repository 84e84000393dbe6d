"""Every example runs at its --quick settings and prints (and draws) what it promises."""
import os
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
PNG = b"\x89PNG\r\n\x1a\n"  # the first bytes of every PNG file
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="needs the source tree's examples/")


def run(monkeypatch, name, *args):
    """Run examples/name with `args`; return its globals."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", [name, *args])
    return runpy.run_path(str(EXAMPLES / name), run_name="__main__")


@pytest.fixture
def pictures():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    yield
    plt.close("all")


def test_linear_regression_converges_to_the_line(monkeypatch, capsys):
    run(monkeypatch, "linear_regression.py", "--quick")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "true line: m = 2.5, b = -0.7"
    steps = [tuple(map(float, re.findall(r"[mb] = ([-+.\d]+)", line))) for line in lines[1:]]
    errors = [abs(m - 2.5) + abs(b + 0.7) for m, b in steps]
    assert errors[-1] < 1e-4 < errors[0]  # 100 epochs bring both within 1e-4
    assert errors[-2] < errors[2] < errors[1]  # and the printed steps close in on it
    assert lines[-1].startswith("learned line: m = 2.5")


def test_xor_learns_and_draws_its_blame(monkeypatch, capsys, tmp_path, pictures):
    g = run(monkeypatch, "xor.py", "--out", str(tmp_path), "--quick")
    out = capsys.readouterr().out
    assert "all four right: True" in out
    np.testing.assert_array_equal(g["net"].predict(g["X"]), [0, 1, 1, 0])
    assert "BP1  delta^2_0" in out and "Who received the most blame" in out
    for name in ("xor_blame_before.png", "xor_blame.png", "xor_network.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_digits_draws_curves_network_and_blame(monkeypatch, capsys, tmp_path, pictures):
    g = run(monkeypatch, "digits.py", "--out", str(tmp_path), "--quick")
    out = capsys.readouterr().out
    accuracy = float(re.search(r"validation accuracy (\d\.\d+)", out).group(1))
    assert accuracy > 0.8 and len(g["history"]) == 3
    i = g["i"]
    assert g["net"].predict(g["X_test"][i]) != g["y_test"][i]  # the picture shows a mistake
    for name in ("digits_curves.png", "digits_network.png", "digits_blame.png"):
        picture = (tmp_path / name).read_bytes()
        assert picture[:8] == PNG and len(picture) < 200_000


def test_nudge_or_backprop_prints_both_networks(monkeypatch, capsys):
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    run(monkeypatch, "nudge_or_backprop.py", "--quick")
    out = capsys.readouterr().out
    assert "Network [64, 10, 10], 10 samples, 760 parameters" in out
    assert ("Network [784, 30, 10], 10 samples, 23,860 parameters" in out
            and "measured on 100 of them, 200 forward passes" in out)
    assert out.count("Why not nudge each weight?") == 2
    differences = [float(d) for d in re.findall(r"largest difference ([\d.e+-]+)", out)]
    assert len(differences) == 2 and max(differences) < 1e-7


@pytest.mark.skipif(not os.environ.get("FASTMLP_DATA"), reason="$FASTMLP_DATA is not set")
@pytest.mark.parametrize("name,line,least", [
    # One epoch on 1,000 images.  Chapter 1's quadratic cost on N(0, 1) weights learns
    # slowly at first (0.19 with seed 0); chapter 3's cross-entropy gets far (0.8).
    # Chance is 0.1.
    ("nielsen_chapter1.py", r"test accuracy after epoch 1: (\d\.\d+)", 0.15),
    ("nielsen_chapter3.py", r"validation accuracy after epoch 1: (\d\.\d+)", 0.6)])
def test_nielsen_runs(monkeypatch, capsys, name, line, least):
    g = run(monkeypatch, name, "--quick")
    assert len(g["X_train"]) == 1000 and len(g["history"]) == 1
    accuracy = float(re.search(line, capsys.readouterr().out).group(1))
    assert least < accuracy < 1.0
