"""Input checks with messages that name the problem: shapes with both numbers, the
position of the first NaN, the allowed choices."""
import numbers

import numpy as np

DTYPES = ("float32", "float64")


def choice(name, value, allowed):
    """Return value if it is one of `allowed`, else raise ValueError listing them."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}")
    return value


def as_dtype(dtype):
    """numpy dtype for "float32" / "float64" (or the numpy types themselves)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise ValueError(f"dtype={dtype!r} is not one of {', '.join(map(repr, DTYPES))}")
    return dt


def positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def nonnegative_float(name, value, upper=None):
    """A finite real number >= 0 (and < upper when given)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (upper is not None and value >= upper):
        bound = f" and < {upper}" if upper is not None else ""
        raise ValueError(f"{name} must be finite, >= 0{bound}; got {value!r}")
    return value


def finite(name, array):
    """Raise ValueError naming the first non-finite entry of `array`, if any."""
    # A NaN or an infinity makes the sum non-finite, and summing needs no array-sized
    # temporary; only then (or when finite values overflow the sum) look entry by entry.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(array, dtype=np.float64)):
            return
    bad = ~np.isfinite(array)
    if bad.any():
        raise nonfinite_error(name, array, tuple(int(i) for i in np.argwhere(bad)[0]))


def overflow_error(row):
    """The FloatingPointError for outputs that overflowed although the inputs are finite."""
    return FloatingPointError(
        f"the network's outputs for row {row} are not finite although its inputs are: the "
        f"inputs (or the weights) are so large that they overflowed inside the network; "
        f"scale the inputs down")


def nonfinite_error(name, array, where):
    """The ValueError for the NaN or infinity at index `where` (a tuple) of `array`."""
    index = where[0] if len(where) == 1 else where
    return ValueError(f"{name} contains {array[where]} at index {index}")


def _numeric(name, value):
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {array.dtype}")
    return array


def _contiguous_aligned(array, dtype):
    """`array` as a C-contiguous array of `dtype` whose elements are aligned (what the
    kernels load), copied only when it is not one already.  (np.require does the same at
    about seven times the cost, which a one-sample forward pass would feel.)"""
    array = np.ascontiguousarray(array, dtype=dtype)
    return array if array.flags.aligned else array.copy()


def samples_by_features(name, shape, n_in):
    """Raise ValueError unless `shape` is (samples, n_in)."""
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (samples, features), got {len(shape)}-D shape {shape}")
    if shape[1] != n_in:
        raise ValueError(f"{name} has {shape[1]} features per sample, the network expects {n_in}")


def inputs(X, n_in, dtype, name="X", check_finite=True):
    """X as a C-contiguous (m, n_in) array of `dtype`, and whether it was one sample (1-D).

    With check_finite=False the caller promises to check for NaN and infinity itself (the
    C forward pass does, while it reads X anyway).
    """
    X = _numeric(name, X)
    single = X.ndim == 1
    if single:
        X = X[np.newaxis, :]
    samples_by_features(name, X.shape, n_in)
    X = _contiguous_aligned(X, dtype)
    if check_finite:
        finite(name, X)
    return X, single


def targets(y, m, n_out, dtype, name="y"):
    """Targets as a C-contiguous (m, n_out) float array.

    Accepts integer class labels of shape (m,) (one-hot encoded here), a float array of
    shape (m, n_out), or, for a network with one output, a float array of shape (m,).
    """
    y = _numeric(name, y)
    if y.ndim == 0 or y.shape[0] != m:
        raise ValueError(f"{name} has {y.shape[0] if y.ndim else 0} rows, X has {m}")
    if y.ndim == 1 and n_out == 1:
        y = y[:, np.newaxis]
    if y.ndim == 1:
        labels = labels_of(name, y, n_out)
        Y = np.zeros((m, n_out), dtype=dtype)
        Y[np.arange(m), labels] = 1
        return Y
    if y.ndim != 2 or y.shape[1] != n_out:
        raise ValueError(f"{name} has shape {y.shape}: pass class labels of shape ({m},) "
                         f"or targets of shape ({m}, {n_out})")
    Y = _contiguous_aligned(y, dtype)
    finite(name, Y)
    return Y


def labels_of(name, y, n_classes=None):
    """A 1-D array of class labels as int64, checked to lie in [0, n_classes) (without
    n_classes: whole numbers from 0 up, the largest setting the class count)."""
    if y.dtype.kind == "f":
        finite(name, y)
        if np.any(y != np.round(y)):
            i = int(np.argmax(y != np.round(y)))
            raise ValueError(f"{name} holds class labels but {name}[{i}] = {y[i]} is not an integer")
    # compared before the cast to int64, which would wrap a huge float around
    upper = np.iinfo(np.int64).max if n_classes is None else n_classes
    bad = (y < 0) | (y >= upper)
    if bad.any():
        i = int(np.argmax(bad))
        allowed = "(a whole number >= 0)" if n_classes is None else f"in 0..{n_classes - 1}"
        raise ValueError(f"{name}[{i}] = {y[i]} is not a class label {allowed}")
    return y.astype(np.int64)


def sample_scale(sample_weight, n, dtype):
    """Per-sample gradient weights w / mean(w) as a C-contiguous (n,) array of `dtype`,
    from `sample_weight`: (n,), finite, >= 0, not all 0; None when all are equal."""
    w = _numeric("sample_weight", sample_weight).astype(np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}, expected ({n},): one weight per sample")
    finite("sample_weight", w)
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise ValueError(f"sample_weight[{i}] = {w[i]} is negative")
    total = w.sum()
    if total <= 0:
        raise ValueError("sample_weight is 0 for every sample")
    if (w == w[0]).all():  # equal weights are no weights (n / total * w rounds off 1)
        return None
    return np.ascontiguousarray(w * (n / total), dtype=dtype)
