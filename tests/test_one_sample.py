"""One sample per call: the lean path from `Network.forward(x)` into C, against the
reference and the general path, and its refusals."""
import numpy as np
import pytest

import fastmlp
from fastmlp import _kernels, reference
from helpers import DTYPES, assert_close, lists


def network(dtype, output="sigmoid", sizes=(9, 7, 4)):
    cost = {"sigmoid": "quadratic", "softmax": "log_likelihood", "identity": "quadratic"}[output]
    return fastmlp.Network(list(sizes), cost=cost, output=output, dtype=dtype, seed=3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "identity"])
@pytest.mark.parametrize("zeros", [False, True], ids=["dense", "mostly-zero"])
def test_one_sample_equals_the_reference_and_the_batch(every_isa, dtype, output, zeros):
    net = network(dtype, output)
    x = np.random.default_rng(1).random(9).astype(dtype)
    if zeros:  # few enough nonzeros for the first layer to go through them alone
        x[1:] = 0
    weights, biases = net._weights(), net._biases()
    expected = reference.feedforward([lists(w) for w in weights], [lists(b) for b in biases],
                                     lists(x[np.newaxis]), output)[-1][0]
    out = net.forward(x)
    assert out.shape == (4,) and out.dtype == dtype
    assert_close(out, expected, dtype)
    np.testing.assert_array_equal(out, net.forward(x[np.newaxis])[0])
    np.testing.assert_array_equal(net.predict(x), net.predict(x[np.newaxis])[0])


@pytest.mark.parametrize("x", [lambda x: x.astype(np.float32), lambda x: np.repeat(x, 2)[::2],
                               lambda x: x.tolist()], ids=["other-dtype", "strided", "list"])
def test_samples_the_lean_path_cannot_take_go_the_general_way(x):
    net = network(np.float64)
    base = np.random.default_rng(2).random(9)
    np.testing.assert_allclose(net.forward(x(base)), net.forward(base[np.newaxis])[0],
                               rtol=1e-6)


def test_one_bad_sample_is_named():
    net = network(np.float64)
    x = np.ones(9)
    x[4] = np.nan
    with pytest.raises(ValueError, match="X contains nan at index 4"):
        net.forward(x)
    with pytest.raises(ValueError, match="X has 8 features per sample, the network expects 9"):
        net.forward(np.ones(8))


def test_forward_sample_refuses_what_it_cannot_read():
    net = network(np.float64)
    arrays = _kernels.NetworkArrays(net._weights(), net._biases())
    x, out = np.ones(9), np.empty(4)
    assert _kernels.forward_sample(arrays, x, out) is None
    for bad_x, bad_out, message in [
            (np.ones(9, np.float32), out, "x must be a 1-D array of the network's dtype"),
            (np.ones((1, 9)), out, "x must be a 1-D array"),
            (np.ones(8), out, "x has 8 entries, expected 9"),
            (x, np.empty(5), "out has 5 entries, expected 4"),
            (np.frombuffer(b"\0" + np.ones(9).tobytes(), dtype=np.float64, offset=1, count=9), out,
             "x must be a 1-D array of the network's dtype|not aligned")]:
        with pytest.raises(ValueError, match=message):
            _kernels.forward_sample(arrays, bad_x, bad_out)
    with pytest.raises((BufferError, ValueError), match="contiguous"):
        _kernels.forward_sample(arrays, np.ones(18)[::2], out)
    read_only = np.empty(4)
    read_only.flags.writeable = False
    with pytest.raises((BufferError, ValueError)):
        _kernels.forward_sample(arrays, x, read_only)
    x[2] = np.inf
    assert _kernels.forward_sample(arrays, x, out) == (0, 2)
    wide = fastmlp.Network([5000, 300, 2], seed=0)  # a workspace larger than the stack's
    arrays = _kernels.NetworkArrays(wide._weights(), wide._biases())
    out2 = np.empty(2)
    assert _kernels.forward_sample(arrays, np.ones(5000), out2) is None
    np.testing.assert_allclose(out2, wide.forward(np.ones((1, 5000)))[0], rtol=1e-12)
