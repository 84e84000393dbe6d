"""The bundled digits, and the IDX reader on tiny files made here (and on MNIST if present)."""
import os

import numpy as np
import pytest

from fastmlp import datasets
from helpers import write_idx


def test_load_digits():
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 1
    assert set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(y[:10], np.arange(10))


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_from_tiny_idx_files(tmp_path, compress):
    rng = np.random.default_rng(0)
    for part, (images, labels), count in [("train", datasets.MNIST_FILES["train"], 5),
                                          ("test", datasets.MNIST_FILES["test"], 3)]:
        pixels = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        suffix = ".gz" if compress else ""
        write_idx(tmp_path / (images + suffix), 2051, (count, 28, 28), pixels.tobytes(), compress)
        write_idx(tmp_path / (labels + suffix), 2049, (count,), bytes(range(count)), compress)
        if part == "train":
            expected = pixels.reshape(count, 784) / 256.0
    data = datasets.load_mnist(tmp_path)
    X, y = data["train"]
    np.testing.assert_array_equal(X, expected)
    np.testing.assert_array_equal(y, np.arange(5))
    assert data["test"][0].shape == (3, 784)


def test_read_idx_refuses_bad_files(tmp_path):
    write_idx(tmp_path / "bad-magic", 1234, (2,), b"\x00\x01")
    with pytest.raises(ValueError, match="magic number 1234"):
        datasets.read_idx(tmp_path / "bad-magic")
    write_idx(tmp_path / "short", 2049, (5,), b"\x00\x01")
    with pytest.raises(ValueError, match="needs exactly 13"):
        datasets.read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        datasets.load_mnist(tmp_path)


def test_split_is_seeded_and_disjoint():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    (a, ya), (b, yb) = datasets.split(X, y, 0.3, seed=1)
    assert len(b) == 3 and len(a) == 7
    assert sorted(np.concatenate([ya, yb])) == list(range(10))
    np.testing.assert_array_equal(datasets.split(X, y, 0.3, seed=1)[1][1], yb)


@pytest.mark.skipif(not os.environ.get(datasets.DATA_ENV), reason="$FASTMLP_DATA is not set")
def test_real_mnist():
    data = datasets.load_mnist()
    X, y = data["train"]
    assert X.shape == (60000, 784) and data["test"][0].shape == (10000, 784)
    assert 0 <= X.min() and X.max() < 1
    assert np.bincount(y).min() > 5000
