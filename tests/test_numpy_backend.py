"""The vectorised NumPy trainer agrees with the reference and with the C kernels."""
import numpy as np
import pytest

import fastmlp
from fastmlp import numpy_backend, reference
from helpers import DTYPES, assert_close, lists
from test_network import COMBOS, one_hot, toy_data


@pytest.mark.parametrize("cost,output", COMBOS)
def test_backprop_matches_reference(cost, output):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 6, 3], cost=cost, output=output, seed=5)
    weights = [l.weights for l in net.layers]
    biases = [l.biases for l in net.layers]
    ours = numpy_backend.backprop(weights, biases, X, one_hot(y, 3), cost, output)
    ref = reference.backprop([lists(w) for w in weights], [lists(b) for b in biases], lists(X),
                             lists(one_hot(y, 3)),
                             cost, output)
    for kind, fast, slow in zip(("dW", "db", "D"), ours, ref):
        for l in range(3):
            assert_close(fast[l], slow[l], np.float64, f"{kind}[{l}]")


def test_sigmoid_extremes():
    z = np.array([-1000.0, 0.0, 1000.0])
    with np.errstate(over="raise"):
        np.testing.assert_array_equal(numpy_backend.sigmoid(z), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_epoch_matches_network_fit(dtype):
    """A larger shape than the reference can afford: one epoch, 300 samples, batch 10."""
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 64)).astype(dtype), rng.integers(0, 10, 300)
    net = fastmlp.Network([64, 40, 10], dtype=dtype, seed=6)
    weights = [l.weights.copy() for l in net.layers]
    biases = [l.biases.copy() for l in net.layers]
    numpy_backend.train_epoch(weights, biases, X, np.eye(10, dtype=dtype)[y], 10, 3.0)
    net.fit(X, y, epochs=1, batch_size=10, lr=3.0, shuffle=False)
    for layer, W, b in zip(net.layers, weights, biases):
        assert W.dtype == dtype
        assert_close(layer.weights, W, dtype, "weights")
        assert_close(layer.biases, b, dtype, "biases")
