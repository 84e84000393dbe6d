"""Dask helpers: training chunk by chunk from Dask arrays, one fastmlp thread count per worker.

Needs ``pip install 'fastmlp[dask]'``.  Sweeps need no helper: run scikit-learn's
`GridSearchCV(..., n_jobs=-1)` under ``joblib.parallel_config("dask")`` with a
`distributed.Client`, and register `FastmlpThreads` with that client first.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:
    import dask
    from distributed import WorkerPlugin
except ImportError:
    raise ImportError("fastmlp.dask needs dask and distributed: pip install 'fastmlp[dask]'") from None


def blocks(X: Any, y: Any) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """The row blocks of two Dask arrays as NumPy arrays, computed one pair at a time.

    Parameters
    ----------
    X : dask.array.Array, shape (n_samples, n_features)
        Chunked along rows only (it is rechunked to one chunk of columns otherwise).
    y : dask.array.Array, shape (n_samples,) or (n_samples, n_targets)
        Rechunked to X's row chunks when they differ.

    Yields
    ------
    (X_block, y_block) : ndarray, shapes (rows, n_features) and (rows,) or (rows, n_targets)
    """
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows, y has {y.shape[0]}")
    X = X.rechunk({1: -1})
    y = y.rechunk({0: X.chunks[0], **({1: -1} if y.ndim == 2 else {})})
    for i in range(X.numblocks[0]):
        X_block, y_block = dask.compute(X.blocks[i], y.blocks[i])
        yield np.asarray(X_block), np.asarray(y_block)


class FastmlpThreads(WorkerPlugin):
    """Set fastmlp's thread count in every worker of a cluster.

    A worker already runs as many tasks at once as it has threads; if fastmlp's pool also
    started a thread per core inside each task, the cores would be oversubscribed.
    ``client.register_plugin(FastmlpThreads())`` sets fastmlp's process-wide count (the
    one threadpoolctl reports under user_api "fastmlp") to `n` in every worker, now and
    in workers that join later.  An estimator's ``n_threads`` still overrides it for its
    own calls.

    Parameters
    ----------
    n : int, default=1
        fastmlp threads per task.
    """

    name = "fastmlp-threads"

    def __init__(self, n: int = 1) -> None:
        self.n = n

    def setup(self, worker: Any) -> None:
        import fastmlp
        fastmlp.set_num_threads(self.n)
