"""Data sets: the bundled optical digits, and MNIST read from a path.

MNIST is not shipped; point `load_mnist` at a folder holding its four IDX files
(gzipped or not), or set the environment variable FASTMLP_DATA to that folder.
"""
import gzip
import io
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

PathLike = str | os.PathLike[str]

DATA_ENV = "FASTMLP_DATA"
IDX_IMAGES, IDX_LABELS = 2051, 2049
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def load_digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The UCI optical digits (1,797 images of 8x8), bundled with fastmlp.

    Returns ``(X, y)``: X float64 of shape (1797, 64) scaled to [0, 1], y int64 labels 0-9.
    Credit: E. Alpaydin and C. Kaynak, UCI Machine Learning Repository (CC BY 4.0).
    """
    source = resources.files("fastmlp").joinpath("data/optdigits.csv.gz")
    with source.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    return table[:, :64] / 16.0, table[:, 64]


def _open(path: PathLike) -> io.BufferedIOBase:
    path = Path(path)
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path: PathLike) -> NDArray[np.uint8]:
    """Read an IDX file (images: magic 2051, labels: magic 2049), gzipped or not.

    Returns a uint8 array of shape (count, rows, cols) for images, (count,) for labels.
    Raises ValueError for a wrong magic number or a truncated file.
    """
    with _open(path) as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes is too short for an IDX header")
    magic = int.from_bytes(data[0:4], "big")
    if magic not in (IDX_IMAGES, IDX_LABELS):
        raise ValueError(f"{path}: magic number {magic} is neither {IDX_IMAGES} (images) "
                         f"nor {IDX_LABELS} (labels)")
    n_dims = 3 if magic == IDX_IMAGES else 1
    header = 4 + 4 * n_dims
    if len(data) < header:
        raise ValueError(f"{path}: truncated header ({len(data)} of {header} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(n_dims))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"{path}: {len(data)} bytes, but a header for shape {shape} "
                         f"needs exactly {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def scale_images(images: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Images (count, rows, cols) of uint8 pixels as inputs (count, rows * cols) of float64
    holding pixel / 256, in [0, 1) as in Nielsen's mnist.pkl.gz."""
    return images.reshape(len(images), -1) / 256.0


def find_mnist(path: PathLike | None = None) -> Path | None:
    """The folder holding the MNIST IDX files: `path`, else $FASTMLP_DATA; None if neither."""
    path = path if path is not None else os.environ.get(DATA_ENV)
    return Path(path) if path else None


def _idx_file(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"{folder} holds neither {stem}.gz nor {stem}")


def load_mnist(path: PathLike | None = None
               ) -> dict[str, tuple[NDArray[np.float64], NDArray[np.int64]]]:
    """MNIST from its IDX files in `path` (default: $FASTMLP_DATA).

    Returns ``{"train": (X, y), "test": (X, y)}`` with X float64 of shape (n, 784)
    as `scale_images` makes it and y int64 labels.
    Nielsen's split takes the first 50,000 training images for training and the last
    10,000 for validation.
    """
    folder = find_mnist(path)
    if folder is None:
        raise FileNotFoundError(f"no MNIST folder given and ${DATA_ENV} is not set")
    out = {}
    for part, (images, labels) in MNIST_FILES.items():
        X = read_idx(_idx_file(folder, images))
        y = read_idx(_idx_file(folder, labels))
        if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
            raise ValueError(f"{folder}: {part} images {X.shape} and labels {y.shape} do not match")
        out[part] = (scale_images(X), y.astype(np.int64))
    return out


def split(X: NDArray[Any], y: NDArray[Any], test_fraction: float, seed: int | None = None
          ) -> tuple[tuple[NDArray[Any], NDArray[Any]], tuple[NDArray[Any], NDArray[Any]]]:
    """Shuffle (X, y) with a seeded Generator and split off the last `test_fraction`."""
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    train, test = order[n_test:], order[:n_test]
    return (X[train], y[train]), (X[test], y[test])
