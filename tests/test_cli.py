"""The command line."""
import re
import subprocess
import sys

import numpy as np

import fastmlp
from fastmlp.cli import main
from helpers import write_idx


def test_demo_reaches_90_percent_on_held_out_digits(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert accuracy > 0.9, out


def test_info_names_the_version(capsys):
    assert main(["info"]) == 0
    assert f"fastmlp {fastmlp.__version__}" in capsys.readouterr().out


def test_bad_argument_is_reported_not_raised(capsys):
    assert main(["demo", "--lr", "-1"]) == 2
    assert "lr must be finite, >= 0" in capsys.readouterr().err


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "fastmlp", "info"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("fastmlp ")


def test_train_on_tiny_mnist_and_save(tmp_path, capsys):
    from fastmlp import datasets

    rng = np.random.default_rng(0)
    for part, count in (("train", 50010), ("test", 20)):
        images, labels = datasets.MNIST_FILES[part]
        y = rng.integers(0, 10, count, dtype=np.uint8)
        pixels = np.zeros((count, 28, 28), dtype=np.uint8)
        pixels[np.arange(count), y, :] = 255  # digit d lights up row d: easy to learn
        write_idx(tmp_path / images, 2051, (count, 28, 28), pixels.tobytes())
        write_idx(tmp_path / labels, 2049, (count,), y.tobytes())
    code = main(["train", "--data", str(tmp_path), "--epochs", "1", "--batch-size", "100",
                 "--save", str(tmp_path / "net.npz")])
    out = capsys.readouterr().out
    assert code == 0 and "Epoch 1: " in out
    assert float(re.search(r"test accuracy (\d\.\d+)", out).group(1)) == 1.0
    assert fastmlp.load(tmp_path / "net.npz").epochs_trained == 1


def test_train_without_data_says_so(capsys, monkeypatch):
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    assert main(["train"]) == 2
    assert "FASTMLP_DATA is not set" in capsys.readouterr().err
