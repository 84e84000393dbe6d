"""Network: training and backprop against the reference, the API, and bad input."""
import copy

import numpy as np
import pytest

import fastmlp
from fastmlp import reference
from helpers import COMBOS, DTYPES, assert_close, lists, one_hot, params, snapshot, toy_data


def assert_same_params(net, weights, biases, dtype):
    for l, layer in enumerate(net.layers):
        assert_close(layer.weights, weights[l], dtype, f"layer {l} weights")
        assert_close(layer.biases, biases[l], dtype, f"layer {l} biases")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost,output", COMBOS)
def test_backprop_matches_reference(dtype, cost, output):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 6, 3], cost=cost, output=output, dtype=dtype, seed=1)
    grads = net.backprop(X, y)
    Xd = X.astype(dtype)  # the reference sees the same (rounded) inputs
    weights, biases = params(net)
    dWs, dbs, deltas = reference.backprop(weights, biases, lists(Xd), lists(one_hot(y, 3)),
                                          cost, output)
    for l in range(3):
        assert grads.weights[l].dtype == dtype
        assert_close(grads.weights[l], dWs[l], dtype, f"dW[{l}]")
        assert_close(grads.biases[l], dbs[l], dtype, f"db[{l}]")
        assert_close(grads.errors[l], deltas[l], dtype, f"D[{l}]")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shuffle", [False, True])
def test_fit_matches_reference_steps(dtype, shuffle):
    """Two epochs of mini-batch SGD (23 samples in batches of 4: the last has 3)."""
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], dtype=dtype, seed=2)
    weights, biases = params(net)
    rng = copy.deepcopy(net.rng)  # the stream fit draws its shuffling order from
    Xd, Y = X.astype(dtype).astype(np.float64), one_hot(y, 3)
    lr = 0.75
    for _ in range(2):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        for start in range(0, len(X), 4):
            rows = order[start:start + 4]
            reference.train_step(weights, biases, lists(Xd[rows]), lists(Y[rows]), lr)
    net.fit(X, y, epochs=2, batch_size=4, lr=lr, shuffle=shuffle)
    assert_same_params(net, weights, biases, dtype)
    # the network moved: a test of an unchanged network against itself would prove nothing
    assert not np.allclose(net.layers[0].weights, fastmlp.Network([5, 4, 3], dtype=dtype,
                                                                  seed=2).layers[0].weights)


def test_gradient_matches_central_differences():
    """Each weight's gradient equals the cost's central-difference derivative (float64)."""
    X, y = toy_data(m=7)
    for cost, output in COMBOS:
        net = fastmlp.Network([5, 4, 3], cost=cost, output=output, seed=3)
        grads = net.backprop(X, y)
        h = 1e-6
        for l, layer in enumerate(net.layers):
            for param, grad in ((layer.weights, grads.weights[l]), (layer.biases, grads.biases[l])):
                numeric = np.empty_like(param)
                for i in np.ndindex(param.shape):
                    saved = param[i]
                    param[i] = saved + h
                    c_plus = net.evaluate(X, y)[0]
                    param[i] = saved - h
                    c_minus = net.evaluate(X, y)[0]
                    param[i] = saved
                    numeric[i] = (c_plus - c_minus) / (2 * h)
                # central differences are accurate to about h^2 * C''' + eps * C / h ~ 1e-9
                np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8,
                                           err_msg=f"{cost}/{output} layer {l}")
                assert np.abs(numeric).max() > 1e-4, "an all-zero gradient proves nothing"


def test_same_seed_same_network_and_training():
    X, y = toy_data()
    a, b, c = (fastmlp.Network([5, 8, 3], seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.layers[0].weights, b.layers[0].weights)
    assert not np.array_equal(a.layers[0].weights, c.layers[0].weights)
    for net in (a, b):
        net.fit(X, y, epochs=3, batch_size=5, lr=1.0)
    for la, lb in zip(a.layers, b.layers):
        np.testing.assert_array_equal(la.weights, lb.weights)
        np.testing.assert_array_equal(la.biases, lb.biases)


def test_default_initialisation_is_standard_normal():
    net = fastmlp.Network([400, 300, 10], seed=0)
    w = net.layers[0].weights
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    b = fastmlp.Network([400, 300, 10], init="scaled", seed=0).layers[0].weights
    assert abs(b.std() - 1 / np.sqrt(400)) < 0.001


def test_parameters_are_live():
    net = fastmlp.Network([3, 2], seed=0)
    x = np.array([0.5, -1.0, 2.0])
    layer = net.layers[0]
    layer.weights[...] = 0
    layer.biases[...] = [0.0, 1000.0]
    np.testing.assert_array_equal(net.forward(x), [0.5, 1.0])
    layer.weights = [[1, 0, 0], [0, 0, 0]]
    assert net.forward(x)[0] == pytest.approx(reference.sigmoid(0.5))
    with pytest.raises(ValueError, match=r"weights must have shape \(2, 3\), got \(3, 2\)"):
        layer.weights = np.zeros((3, 2))


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_predict_evaluate(dtype):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], dtype=dtype, seed=4)
    A = net.forward(X)
    assert A.shape == (23, 3) and A.dtype == dtype
    weights, biases = params(net)
    ref = reference.feedforward(weights, biases, lists(X.astype(dtype)))[-1]
    assert_close(A, ref, dtype, "forward")
    assert_close(net.forward(X[0]), A[0], dtype, "one sample (matrix-vector path)")
    np.testing.assert_array_equal(net.predict(X), np.argmax(ref, axis=1))
    cost, accuracy = net.evaluate(X, y)
    assert accuracy == np.mean(np.argmax(ref, axis=1) == y)
    assert cost == pytest.approx(reference.cost(ref, lists(one_hot(y, 3))), rel=1e-5)


def test_fit_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (400, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    net = fastmlp.Network([2, 8, 2], seed=0)
    assert net.evaluate(X, y)[1] < 0.9
    net.fit(X, y, epochs=20, batch_size=10, lr=3.0)
    assert net.evaluate(X, y)[1] > 0.95


def test_float_targets_and_single_output():
    X = np.linspace(0, 1, 50)[:, None]
    target = 0.2 + 0.5 * X[:, 0]
    net = fastmlp.Network([1, 1], output="identity", seed=0)
    net.fit(X, target, epochs=200, batch_size=10, lr=0.5)
    np.testing.assert_allclose(net.layers[0].weights, [[0.5]], atol=1e-3)
    np.testing.assert_allclose(net.layers[0].biases, [0.2], atol=1e-3)


# --- bad input: a clear error, and the network exactly as it was --------------------------

@pytest.mark.parametrize("make_bad,message", [
    (lambda X, y: (X[:, :4], y), "4 features per sample, the network expects 5"),
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 12, np.nan, X), y),
     r"X contains nan at index \(2, 2\)"),
    (lambda X, y: (X, y[:-1]), "y has 22 rows, X has 23"),
    (lambda X, y: (X, np.where(np.arange(len(y)) == 5, 3, y)), r"y\[5\] = 3 is not a class label in 0..2"),
    (lambda X, y: (X, np.ones((23, 4))), r"y has shape \(23, 4\)"),
    (lambda X, y: (X, np.full(23, 0.5)), r"y\[0\] = 0.5 is not an integer"),
    (lambda X, y: (X[None], y), "X must be 2-D"),
    (lambda X, y: (X.astype(str), y), "X must hold numbers"),
])
def test_bad_data_is_refused_and_leaves_the_network_unchanged(make_bad, message):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], seed=0)
    before = snapshot(net)
    Xb, yb = make_bad(X, y)
    with pytest.raises((ValueError, TypeError), match=message):
        net.fit(Xb, yb, epochs=1, batch_size=4, lr=1.0)
    for p, p0 in zip(snapshot(net), before):
        np.testing.assert_array_equal(p, p0)


@pytest.mark.parametrize("kwargs,message", [
    (dict(epochs=1, batch_size=0, lr=1.0), "batch_size must be an integer >= 1, got 0"),
    (dict(epochs=1.5, batch_size=4, lr=1.0), "epochs must be an integer"),
    (dict(epochs=1, batch_size=4, lr=-1.0), "lr must be finite, >= 0"),
    (dict(epochs=1, batch_size=4, lr=float("inf")), "lr must be finite"),
])
def test_bad_training_options(kwargs, message):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], seed=0)
    with pytest.raises(ValueError, match=message):
        net.fit(X, y, **kwargs)


@pytest.mark.parametrize("kwargs,message", [
    (dict(sizes=[5]), "at least 2 entries"),
    (dict(sizes=[5, 0, 3]), r"sizes\[1\] must be an integer >= 1, got 0"),
    (dict(sizes=[5, 3], cost="mse"), "cost='mse' is not one of 'quadratic', 'cross_entropy', 'log_likelihood'"),
    (dict(sizes=[5, 3], cost="cross_entropy", output="identity"), "output"),
    (dict(sizes=[5, 3], dtype="float16"), "dtype='float16' is not one of 'float32', 'float64'"),
    (dict(sizes=[5, 3], init="zeros"), "init='zeros' is not one of"),
])
def test_bad_network_arguments(kwargs, message):
    sizes = kwargs.pop("sizes")
    with pytest.raises(ValueError, match=message):
        fastmlp.Network(sizes, **kwargs)


def test_repr_names_the_network():
    net = fastmlp.Network([5, 4, 3], dtype="float32")
    assert repr(net) == ("Network(sizes=[5, 4, 3], cost='quadratic', output='sigmoid', "
                         "dtype='float32')")
    assert repr(net.layers[1]) == "Layer(n_in=4, n_out=3, dtype='float32')"


def test_forward_reads_the_live_weights_and_copies_their_own():
    """Forward passes reuse a C description of the network built once; it must follow
    writes into the live arrays, and a copy must use its own arrays."""
    import copy
    import pickle

    net = fastmlp.Network([4, 3, 2], seed=0)
    x = np.linspace(0, 1, 4)
    before = net.forward(x)
    clone, pickled = copy.deepcopy(net), pickle.loads(pickle.dumps(net))
    net.layers[1].biases[:] += 5.0
    after = net.forward(x)
    assert np.all(after > before)
    np.testing.assert_allclose(after, numpy_forward(net, x), rtol=1e-12)
    np.testing.assert_array_equal(clone.forward(x), before)
    np.testing.assert_array_equal(pickled.forward(x), before)


def numpy_forward(net, x):
    from fastmlp import numpy_backend

    return numpy_backend.forward(net._weights(), net._biases(), x[None], net.output)[0]
