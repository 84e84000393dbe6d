"""The vectorised NumPy trainer agrees with the reference and with the C kernels."""
import numpy as np
import pytest

import fastmlp
from fastmlp import numpy_backend, reference
from helpers import COMBOS, DTYPES, assert_close, lists, one_hot, toy_data


@pytest.mark.parametrize("cost,output", COMBOS)
def test_backprop_matches_reference(cost, output):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 6, 3], cost=cost, output=output, seed=5)
    weights = [l.weights for l in net.layers]
    biases = [l.biases for l in net.layers]
    ours = numpy_backend.backprop(weights, biases, X, one_hot(y, 3), cost, output)
    ref = reference.backprop([lists(w) for w in weights], [lists(b) for b in biases], lists(X),
                             lists(one_hot(y, 3)), cost, output)
    for kind, fast, slow in zip(("dW", "db", "D"), ours, ref):
        for l in range(3):
            assert_close(fast[l], slow[l], np.float64, f"{kind}[{l}]")


@pytest.mark.parametrize("kind", ["quadratic", "cross_entropy", "log_likelihood"])
def test_cost_matches_reference(kind):
    rng = np.random.default_rng(1)
    A = rng.uniform(0, 1, (6, 4))
    A[0, 0], A[1, 1] = 0.0, 1.0  # saturated outputs stay finite
    A /= A.sum(axis=1, keepdims=True) if kind == "log_likelihood" else 1
    Y = one_hot(rng.integers(0, 4, 6), 4)
    assert numpy_backend.cost(A, Y, kind) == pytest.approx(
        reference.cost(lists(A), lists(Y), kind), rel=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extremes(dtype):
    z = np.array([-1000.0, -50.0, 0.0, 1000.0], dtype=dtype)
    with np.errstate(over="ignore"):  # e^1000 overflows to inf on the way to exactly 0
        a = numpy_backend.sigmoid(z)
    assert a is z  # in place
    np.testing.assert_array_equal(a[[0, 2, 3]], [0.0, 0.5, 1.0])
    assert a[1] == pytest.approx(reference.sigmoid(-50.0), rel=1e-6)


OPTIONS = [
    dict(),
    dict(shuffle=False),
    dict(l2=5.0),
    dict(momentum=0.9),
    dict(l2=2.0, momentum=0.5, batch_size=7),
    dict(batch_size=1),
    dict(validation=True, early_stopping=1, lr_schedule="halve", lr_patience=1),
    dict(lr_schedule=lambda epoch, lr: lr * 0.5),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost,output", COMBOS)
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "plain")
def test_backends_train_the_same_network(dtype, cost, output, options):
    """Larger shapes than the reference can afford: 2 epochs of 300 samples."""
    options = dict(options)
    rng = np.random.default_rng(0)
    X, y = rng.random((300, 64)), rng.integers(0, 10, 300)
    if output == "identity":
        y = rng.random((300, 10))
    if options.pop("validation", False):
        options["validation_data"] = (X[:50], y[:50])
    options.setdefault("batch_size", 10)
    nets = [fastmlp.Network([64, 40, 10], cost=cost, output=output, dtype=dtype, seed=6,
                            backend=backend) for backend in ("c", "numpy")]
    histories = [net.fit(X, y, epochs=2, lr=0.5, **options) for net in nets]
    for layer_c, layer_np in zip(nets[0].layers, nets[1].layers):
        assert layer_np.weights.dtype == dtype
        assert_close(layer_c.weights, layer_np.weights, dtype, "weights", trained=True)
        assert_close(layer_c.biases, layer_np.biases, dtype, "biases", trained=True)
    for field in ("train_cost", "val_cost", "lr"):
        assert_close(np.array(histories[0][field], dtype=float),
                     np.array(histories[1][field], dtype=float), dtype, field, trained=True)
    assert histories[0].train_accuracy == histories[1].train_accuracy
    # training moved the network
    start = fastmlp.Network([64, 40, 10], cost=cost, output=output, dtype=dtype, seed=6)
    assert not np.allclose(start.layers[0].weights, nets[0].layers[0].weights)
