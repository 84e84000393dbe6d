"""Shared test helpers: the tolerance table, conversions to the reference's lists."""
import numpy as np

# How far a kernel may be from the pure-Python reference, |fast - ref| <= atol + rtol |ref|.
# The reference computes in float64 from the same input values (float32 inputs are exact
# in float64), so the only differences are the kernels' rounding and summation order.
TOLERANCE = {
    # float64: a dot product of n terms of size <= S is off by at most about n * eps * S
    # (eps = 2.2e-16).  The tests use n <= 100 and S <= 100, so 1e-12 absolute is a
    # margin of about 500x over that bound; rtol covers large values.
    np.dtype("float64"): dict(rtol=1e-10, atol=1e-12),
    # float32: the kernels accumulate in float32 (eps = 1.2e-7).  Sums of up to 100 terms
    # of size up to 10 can be off by about sqrt(n) * eps * sum|terms| ~ 1e-4 in the
    # typical case; sigmoid outputs are compressed into (0, 1) so they do better.
    np.dtype("float32"): dict(rtol=2e-4, atol=2e-4),
}
# After many training steps: every SGD step feeds its rounding into the next, and steep
# regions of the cost amplify it, so two exact-arithmetic-equal trajectories drift apart
# by more than one kernel call's error.  Over the tens of steps these tests run, float64
# stays within 1e-8 and float32 within about 1e-3 (observed up to 2.5e-4 relative).
TRAINED_TOLERANCE = {
    np.dtype("float64"): dict(rtol=1e-8, atol=1e-9),
    np.dtype("float32"): dict(rtol=1e-3, atol=1e-3),
}
DTYPES = [np.float32, np.float64]


def assert_close(fast, ref, dtype, what="", trained=False):
    tol = (TRAINED_TOLERANCE if trained else TOLERANCE)[np.dtype(dtype)]
    fast = np.asarray(fast, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert fast.shape == ref.shape, f"{what}: shape {fast.shape} != reference {ref.shape}"
    np.testing.assert_allclose(fast, ref, err_msg=what, **tol)


def lists(array):
    """A NumPy array as the reference's nested lists of Python floats."""
    return np.asarray(array, dtype=np.float64).tolist()


def random_array(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)
