"""Training on data larger than memory: `partial_fit` over chunks of rows, one at a time."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from . import _validate

Estimator = TypeVar("Estimator")


def row_chunks(X: Any, y: Any, rows: int) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """Consecutive slices ``(X[i:i + rows], y[i:i + rows])`` of two sliceable arrays.

    X may be a NumPy memmap (``np.load(path, mmap_mode="r")``), an h5py or zarr dataset:
    each slice is read when it is reached, so only one chunk is in memory at a time.

    Parameters
    ----------
    X : array, shape (n_samples, n_features)
    y : array, shape (n_samples,) or (n_samples, n_targets)
    rows : int
        Rows per chunk; the last chunk holds the rest.
    """
    rows = _validate.positive_int("rows", rows)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows, y has {len(y)}")
    for start in range(0, len(X), rows):
        yield np.asarray(X[start:start + rows]), np.asarray(y[start:start + rows])


def partial_fit_chunks(estimator: Estimator,
                       chunks: Iterable[tuple[NDArray[Any], NDArray[Any]]],
                       **partial_fit_params: Any) -> Estimator:
    """Call ``estimator.partial_fit(X_chunk, y_chunk, **partial_fit_params)`` per chunk.

    One pass over the chunks is one epoch of the data seen chunk by chunk: with fastmlp's
    estimators each call continues exactly where the previous one stopped (parameters and
    momentum velocities), and `l2` decays by ``learning_rate * l2 / len(chunk)`` per step.

    Parameters
    ----------
    estimator : FastMLPClassifier, FastMLPRegressor, or anything with ``partial_fit``
    chunks : iterable of (X_chunk, y_chunk)
        For instance `row_chunks` of a memmap, or `fastmlp.dask.blocks` of Dask arrays.
    **partial_fit_params
        Passed on every call, such as ``classes=`` (needed by a classifier's first call).

    Returns
    -------
    estimator
    """
    for X_chunk, y_chunk in chunks:
        estimator.partial_fit(X_chunk, y_chunk, **partial_fit_params)  # type: ignore[attr-defined]
    return estimator
