"""Inputs with many zeros: SciPy sparse matrices, and dense arrays whose zeros the first
layer may skip.

A zero input adds nothing to a first-layer neuron's sum and nothing to the gradient of
the weights leaving it, so the C kernels can train and predict on compressed rows (the
CSR layout) with work in proportion to the nonzero entries, and with the same results as
on the dense array up to rounding.  SciPy is optional: it is needed only to pass SciPy
matrices, never imported otherwise.
"""
import sys

import numpy as np

from . import _validate
from ._kernels import FEW_ROWS, CompressedRows, compress_rows

__all__ = ["CompressedRows", "is_scipy_sparse", "from_scipy", "density", "for_training",
           "SPARSE_BELOW"]

# Dense inputs train on compressed rows when fewer than this fraction of their entries
# are nonzero, by mini-batch size.  Measured with bench/sparse_threshold.py and on W3's
# shape (random inputs, one thread, AMD EPYC Zen 5, AVX-512): with mini-batches of up to
# 16 rows (the dense path's matrix-vector end) compressed rows win below a density of
# about 0.45 on W1's shape and 0.7-0.85 on W2's; with larger mini-batches the packed
# products run near the machine's peak, and compressed rows win only below about 0.08
# on [784, 1024, 1024, 10] (batch 128; 0.2-0.25 on [784, 100, 10]).  Both keep a margin.
SPARSE_BELOW = {"few rows": 0.4, "packed": 0.05}


# Rows sampled (evenly spaced) to estimate the density of a dense input.
DENSITY_SAMPLE_ROWS = 256


def is_scipy_sparse(X):
    """Whether X is a SciPy sparse matrix or array (without importing SciPy)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def from_scipy(X, n_in, dtype, name="X"):
    """A SciPy sparse matrix (CSR; CSC and the other formats are converted once) as
    `CompressedRows` of `dtype`, checked: 2-D, `n_in` columns, finite values.  The
    arrays are shared with X where their types already match (int32 columns, int64
    offsets, `dtype` values); no dense matrix is ever built."""
    _validate.samples_by_features(name, X.shape, n_in)
    if X.format != "csr":
        X = X.tocsr()
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got a sparse matrix of dtype {X.dtype}")
    rows = CompressedRows(np.ascontiguousarray(X.indptr, dtype=np.int64),
                          np.ascontiguousarray(X.indices, dtype=np.int32),
                          np.ascontiguousarray(X.data, dtype=dtype), n_in)
    try:
        _validate.finite(name, rows.data)
    except ValueError:  # name the entry by its row and column, not its place in data
        t = int(np.argmax(~np.isfinite(rows.data)))
        raise ValueError(f"{name} contains {rows.data[t]} at index {rows.position(t)}") from None
    return rows


def density(X):
    """The fraction of nonzero entries of the dense (m, n) array X, estimated on up to
    DENSITY_SAMPLE_ROWS evenly spaced rows (a deterministic sample)."""
    if isinstance(X, CompressedRows):
        return len(X.data) / max(1, X.shape[0] * X.shape[1])
    sample = X[:: max(1, X.shape[0] // DENSITY_SAMPLE_ROWS)]
    return np.count_nonzero(sample) / max(1, sample.size)


def for_training(X, batch_size):
    """X as the C kernels should train on it in mini-batches of `batch_size`:
    CompressedRows as they are; a dense array compressed when fewer of its entries than
    SPARSE_BELOW says are nonzero, else unchanged."""
    below = SPARSE_BELOW["few rows" if batch_size <= FEW_ROWS else "packed"]
    if isinstance(X, CompressedRows) or density(X) >= below:
        return X
    return compress_rows(X)
