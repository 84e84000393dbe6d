"""Every C kernel against the pure-Python reference, in both dtypes and many shapes."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from fastmlp import _kernels, reference
from fastmlp._metrics import count_correct
from helpers import DTYPES, assert_close, lists, random_array

ACT, COST = _kernels.ACTIVATIONS, _kernels.COSTS

# Batch rows, inputs, neurons: m = 1 (matrix-vector), single inputs and neurons, odd sizes.
sizes = st.integers(1, 9) | st.sampled_from([1, 13, 31, 64])
shapes = st.tuples(sizes, sizes, sizes)
seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from(DTYPES)
EDGE_SHAPES = [(1, 1, 1), (1, 784, 30), (10, 30, 10), (7, 1, 5), (3, 5, 1), (2, 300, 40),
               (130, 40, 70), (131, 70, 20), (40, 512, 9)]  # packed and in-place rows of X


# Every test here runs once per instruction-set path this CPU supports (conftest.py).
pytestmark = pytest.mark.usefixtures("every_isa")


def layer_arrays(seed, m, n_in, n_out, dtype):
    rng = np.random.default_rng(seed)
    X = random_array(rng, (m, n_in), dtype)
    W = random_array(rng, (n_out, n_in), dtype, scale=1 / np.sqrt(n_in))
    b = random_array(rng, n_out, dtype)
    return X, W, b


# --- exp and sigmoid -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_error_bound(dtype):
    """At most 2 ulp from exp over the whole range (float64's libm exp as the yardstick,
    itself within 1 ulp), with exact 0, inf and NaN at the edges."""
    x = np.concatenate([np.linspace(-750, 710, 200_001), np.linspace(-1, 1, 50_001),
                        np.random.default_rng(0).uniform(-100, 80, 50_000)]).astype(dtype)
    y = np.empty_like(x)
    _kernels.exp(x, y)
    with np.errstate(over="ignore"):
        exact = np.exp(x.astype(np.float64))
        rounded = exact.astype(dtype)
    finite = np.isfinite(rounded) & (rounded > 0)
    ulps = np.abs(y[finite] - exact[finite]) / np.spacing(rounded[finite]).astype(np.float64)
    assert ulps.max() <= 2.0, f"{ulps.max()} ulp at x = {x[finite][np.argmax(ulps)]}"
    np.testing.assert_array_equal(np.isinf(y), np.isinf(rounded))
    np.testing.assert_array_equal(y == 0, rounded == 0)
    edges = np.array([-np.inf, -1e30, 0.0, np.inf, np.nan], dtype=dtype)
    _kernels.exp(edges, edges)
    np.testing.assert_array_equal(edges, [0.0, 0.0, 1.0, np.inf, np.nan])


@given(n=st.integers(0, 200), seed=seeds, dtype=dtypes, scale=st.sampled_from([1, 10, 100]))
def test_sigmoid_matches_reference(n, seed, dtype, scale):
    z = random_array(np.random.default_rng(seed), n, dtype, scale)
    a = np.empty_like(z)
    _kernels.sigmoid(z, a)
    assert_close(a, [reference.sigmoid(v) for v in lists(z)], dtype, "sigmoid")


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extremes_are_exact(dtype):
    z = np.array([-1000, -100, 0, 100, 1000], dtype=dtype)
    a = np.empty_like(z)
    with np.errstate(all="raise"):
        _kernels.sigmoid(z, a)
    assert a[0] == 0 and a[-1] == 1 and a[2] == 0.5
    assert a[3] == 1 and 0 <= a[1] < 1e-40
    assert np.all(np.isfinite(a))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_in_place(dtype):
    z = np.linspace(-5, 5, 11).astype(dtype)
    expected = [reference.sigmoid(v) for v in lists(z)]
    _kernels.sigmoid(z, z)
    assert_close(z, expected, dtype, "in-place sigmoid")


# --- dense forward -----------------------------------------------------------------------

def check_forward(seed, m, n_in, n_out, dtype, activation):
    X, W, b = layer_arrays(seed, m, n_in, n_out, dtype)
    A = np.full((m, n_out), np.nan, dtype=dtype)
    _kernels.dense_forward(X, W, b, A, ACT[activation])
    ref = reference.dense_forward(lists(X), lists(W), lists(b), activation)
    assert_close(A, ref, dtype, f"dense_forward {activation} {m}x{n_in}->{n_out}")


@given(shape=shapes, seed=seeds, dtype=dtypes,
       activation=st.sampled_from(["sigmoid", "identity", "softmax"]))
def test_dense_forward_matches_reference(shape, seed, dtype, activation):
    check_forward(seed, *shape, dtype, activation)


@pytest.mark.parametrize("shape", EDGE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_edge_shapes(shape, dtype):
    check_forward(0, *shape, dtype, "sigmoid")


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_forward_empty_batch(dtype):
    """No rows: no error, no output rows (as the reference), nothing written anywhere."""
    X, W, b = layer_arrays(0, 0, 3, 2, dtype)
    buffer = np.full((2, 2), 7, dtype=dtype)
    A = buffer[:0]  # no rows, at the start of memory the kernel must leave alone
    assert reference.dense_forward(lists(X), lists(W), lists(b), "sigmoid") == []
    _kernels.dense_forward(X, W, b, A, _kernels.SIGMOID)
    assert A.shape == (0, 2)
    np.testing.assert_array_equal(buffer, 7)


# --- dense backward ----------------------------------------------------------------------

def check_backward(seed, m, n_in, n_out, dtype, activation, input_grad):
    X, W, b = layer_arrays(seed, m, n_in, n_out, dtype)
    A = np.empty((m, n_out), dtype=dtype)
    _kernels.dense_forward(X, W, b, A, ACT[activation])
    G = random_array(np.random.default_rng(seed + 1), (m, n_out), dtype)
    D = np.full((m, n_out), np.nan, dtype=dtype)
    dW = np.full((n_out, n_in), np.nan, dtype=dtype)
    db = np.full(n_out, np.nan, dtype=dtype)
    dX = np.full((m, n_in), np.nan, dtype=dtype) if input_grad else None
    _kernels.dense_backward(X, W, A, G, D, dW, db, dX, ACT[activation])

    ref_D, ref_dW, ref_db, ref_dX = reference.dense_backward(
        lists(X), lists(W), lists(A), lists(G), activation, input_grad)
    what = f"dense_backward {activation} {m}x{n_in}->{n_out}"
    assert_close(D, ref_D, dtype, what + " D")
    assert_close(dW, ref_dW, dtype, what + " dW")
    assert_close(db, ref_db, dtype, what + " db")
    if input_grad:
        assert_close(dX, ref_dX, dtype, what + " dX")


@given(shape=shapes, seed=st.integers(0, 2**31), dtype=dtypes,
       activation=st.sampled_from(["sigmoid", "identity"]), input_grad=st.booleans())
def test_dense_backward_matches_reference(shape, seed, dtype, activation, input_grad):
    check_backward(seed, *shape, dtype, activation, input_grad)


@pytest.mark.parametrize("shape", EDGE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_edge_shapes(shape, dtype):
    check_backward(0, *shape, dtype, "sigmoid", input_grad=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_backward_refuses_softmax(dtype):
    X, W, b = layer_arrays(0, 2, 3, 4, dtype)
    A, G, D = (np.zeros((2, 4), dtype) for _ in range(3))
    with pytest.raises(_kernels.KernelError, match="cannot differentiate"):
        _kernels.dense_backward(X, W, A, G, D, np.zeros_like(W), np.zeros_like(b), None,
                                _kernels.SOFTMAX)


# --- SGD update ----------------------------------------------------------------------------

@given(n=st.integers(0, 100), seed=seeds, dtype=dtypes,
       lr=st.sampled_from([0.0, 0.1, 3.0]), decay=st.sampled_from([0.0, 1e-3]),
       momentum=st.sampled_from([0.0, 0.5, 0.9]))
def test_sgd_update_matches_reference(n, seed, dtype, lr, decay, momentum):
    rng = np.random.default_rng(seed)
    g, p, v = (random_array(rng, n, dtype) for _ in range(3))
    ref_p, ref_v = lists(p), lists(v)
    reference.sgd_update(ref_p, lists(g), float(dtype(lr)), float(dtype(decay)),
                         float(dtype(momentum)), ref_v)
    _kernels.sgd_update(g, p, v if momentum else None, lr=lr, decay=decay, momentum=momentum)
    assert_close(p, ref_p, dtype, "sgd_update p")
    if momentum:
        assert_close(v, ref_v, dtype, "sgd_update v")


@pytest.mark.parametrize("kwargs", [dict(lr=-1.0), dict(decay=-0.1), dict(momentum=1.0),
                                    dict(lr=float("nan"))])
def test_sgd_update_refuses_bad_scalars(kwargs):
    g, p = np.ones(3), np.ones(3)
    with pytest.raises(_kernels.KernelError, match="out of range"):
        _kernels.sgd_update(g, p, np.zeros(3), **kwargs)
    assert np.all(p == 1)


def test_sgd_update_momentum_needs_velocity():
    with pytest.raises(_kernels.KernelError, match="NULL"):
        _kernels.sgd_update(np.ones(3), np.ones(3), None, lr=0.1, momentum=0.5)


# --- cost ------------------------------------------------------------------------------------

@given(shape=st.tuples(sizes, sizes), seed=seeds, dtype=dtypes,
       kind=st.sampled_from(list(COST)), labels=st.booleans())
def test_cost_matches_reference(shape, seed, dtype, kind, labels):
    m, n = shape
    rng = np.random.default_rng(seed)
    A = rng.uniform(0, 1, (m, n)).astype(dtype)
    if kind == "log_likelihood":
        A /= A.sum(axis=1, keepdims=True)
    Y = (np.eye(n)[rng.integers(0, n, m)] if labels else rng.uniform(0, 1, (m, n))).astype(dtype)
    ref = reference.cost(lists(A), lists(Y), kind)
    assert_close(_kernels.cost(A, Y, COST[kind]), ref, np.float64 if dtype == np.float64 else dtype,
                 f"cost {kind}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["cross_entropy", "log_likelihood"])
def test_cost_is_finite_at_saturated_outputs(dtype, kind):
    A = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=dtype)
    Y = np.array([[1.0, 0.0], [1.0, 0.0]], dtype=dtype)  # the first row is wrong, fully
    c = _kernels.cost(A, Y, COST[kind])
    # ln(0) is taken as ln(smallest normal), -87 in float32: large, but finite
    assert np.isfinite(c) and c > 40
    assert _kernels.cost(Y, Y, COST[kind]) == 0.0


# --- a whole epoch --------------------------------------------------------------------------

PAIRINGS = [("quadratic", "sigmoid"), ("cross_entropy", "sigmoid"), ("log_likelihood", "softmax"),
            ("quadratic", "identity")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch,momentum,ordered,pairing",
                         [(4, 0.0, False, 0), (3, 0.6, True, 0), (1, 0.0, True, 0),
                          (23, 0.3, False, 0), (5, 0.0, True, 1), (2, 0.5, False, 2),
                          (7, 0.0, False, 3),
                          # one sample per step: the fused online path
                          (1, 0.6, False, 0), (1, 0.0, False, 1), (1, 0.4, True, 2),
                          (1, 0.0, True, 3)])
def test_train_epoch_matches_reference(dtype, batch, momentum, ordered, pairing):
    """One call trains a whole epoch: the reference does it mini-batch by mini-batch."""
    check_train_epoch([5, 7, 4, 3], dtype, batch, momentum, ordered, *PAIRINGS[pairing])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch,momentum,ordered", [(1, 0.0, True), (1, 0.5, False),
                                                    (10, 0.0, True), (10, 0.5, False),
                                                    (20, 0.5, True)])
def test_epoch_on_wide_layers_matches_reference(dtype, batch, momentum, ordered):
    """Rows long enough for the vector loops of the online and small-batch updates, with a
    remainder after them; samples read in place (batch <= 16) and gathered (20)."""
    check_train_epoch([70, 41, 3], dtype, batch, momentum, ordered, "quadratic", "sigmoid")


def check_train_epoch(sizes, dtype, batch, momentum, ordered, cost, output):
    rng = np.random.default_rng(batch)
    X = rng.random((23, sizes[0])).astype(dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 23)]
    W = [random_array(rng, (o, i), dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [random_array(rng, o, dtype) for o in sizes[1:]]
    ref_W, ref_b = [lists(w) for w in W], [lists(v) for v in b]
    order = rng.permutation(23) if ordered else None
    rows = order if ordered else np.arange(23)
    lr = 0.1 if output == "identity" else 0.8
    l2 = 0.01
    velocities = [[0.0] * len(r) for w, v in zip(ref_W, ref_b) for r in w + [v]]
    ref_cost, ref_correct = 0.0, 0
    for start in range(0, 23, batch):
        picked = rows[start:start + batch]
        out = reference.feedforward(ref_W, ref_b, lists(X[picked]), output)[-1]
        ref_cost += reference.cost(out, lists(Y[picked]), cost) * len(picked)
        ref_correct += count_correct(np.array(out), Y[picked])
        reference.train_step(ref_W, ref_b, lists(X[picked]), lists(Y[picked]), lr, cost=cost,
                             output=output, decay=l2, momentum=momentum, velocities=velocities)
    vW, vb = ([np.zeros_like(w) for w in W], [np.zeros_like(v) for v in b]) if momentum else (None, None)
    arrays = _kernels.NetworkArrays(W, b, vW, vb, output=output, writable=True)
    work = np.empty(_kernels.train_workspace_size(arrays, batch), dtype=dtype)
    cost_sum, correct, failed = _kernels.train_epoch(
        arrays, X, Y, order, None, batch, cost, lr, l2, momentum, work)
    assert failed is None
    assert correct == ref_correct
    assert_close(cost_sum, ref_cost, dtype, "cost", trained=True)
    for l in range(len(W)):
        assert_close(W[l], ref_W[l], dtype, f"W[{l}]", trained=True)
        assert_close(b[l], ref_b[l], dtype, f"b[{l}]", trained=True)


@pytest.mark.parametrize("batch", [1, 2])
def test_train_epoch_stops_at_a_non_finite_cost(batch):
    W, b = [np.ones((2, 3))], [np.zeros(2)]
    X = np.ones((6, 3))
    Y = np.zeros((6, 2))
    Y[4, 0] = np.inf  # the third mini-batch of two, the fifth of one
    arrays = _kernels.NetworkArrays(W, b, writable=True)
    work = np.empty(_kernels.train_workspace_size(arrays, batch))
    cost_sum, correct, failed = _kernels.train_epoch(
        arrays, X, Y, None, None, batch, "quadratic", 0.1, 0.0, 0.0, work)
    # the epoch stops before updating with the bad mini-batch; the earlier ones count and
    # train exactly as the reference trains the first 4 samples
    ref_W, ref_b = [lists(np.ones((2, 3)))], [[0.0, 0.0]]
    ref_cost, ref_correct = 0.0, 0
    for start in range(0, 4, batch):
        rows = slice(start, start + batch)
        out = reference.feedforward(ref_W, ref_b, lists(X[rows]))[-1]
        ref_cost += reference.cost(out, lists(Y[rows]), "quadratic") * batch
        ref_correct += count_correct(np.array(out), Y[rows])
        reference.train_step(ref_W, ref_b, lists(X[rows]), lists(Y[rows]), 0.1)
    assert failed == 4 // batch
    assert correct == ref_correct
    assert_close(cost_sum, ref_cost, np.float64, "cost of the good mini-batches")
    assert_close(W[0], ref_W[0], np.float64, "W after the good mini-batches", trained=True)
    assert_close(b[0], ref_b[0], np.float64, "b after the good mini-batches", trained=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch,momentum", [(1, 0.0), (3, 0.5), (20, 0.0), (2, 0.7)])
def test_an_epoch_in_chunks_equals_the_epoch_in_one_call(batch, momentum, dtype):
    """Python regains control between chunks of mini-batches; the chunks train the same
    network as one call (to rounding: batch 1 fuses a step with the next sample's forward
    pass, which a chunk's end cuts)."""
    rng = np.random.default_rng(batch)
    sizes = [30, 17, 4]
    X = rng.random((41, 30)).astype(dtype)
    Y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 41)]
    order = rng.permutation(41)
    W = [random_array(rng, (o, i), dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [random_array(rng, o, dtype) for o in sizes[1:]]
    results = []
    for chunk in (0, 1, 4):
        Wc, bc = [w.copy() for w in W], [v.copy() for v in b]
        vs = ([np.zeros_like(w) for w in W], [np.zeros_like(v) for v in b]) if momentum else (None, None)
        arrays = _kernels.NetworkArrays(Wc, bc, *vs, writable=True)
        work = np.empty(_kernels.train_workspace_size(arrays, batch), dtype=dtype)
        batches = -(-41 // batch)
        total_cost, total_correct = 0.0, 0
        for first in range(0, batches, chunk or batches):
            c, k, failed = _kernels.train_epoch(arrays, X, Y, order, None, batch, "quadratic",
                                                0.5, 0.001, momentum, work, first, chunk)
            assert failed is None
            total_cost += c
            total_correct += k
        results.append((Wc, bc, total_cost, total_correct))
    for Wc, bc, total_cost, total_correct in results[1:]:
        for l in range(2):
            assert_close(Wc[l], results[0][0][l], dtype, f"W[{l}]", trained=True)
            assert_close(bc[l], results[0][1][l], dtype, f"b[{l}]", trained=True)
        assert_close(total_cost, results[0][2], dtype, "cost", trained=True)
        assert total_correct == results[0][3]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 4, 40])
def test_sample_scale_weighs_each_gradient(batch, dtype):
    """A scale of 2 on a sample counts it twice: with the whole data in one mini-batch,
    scales (2, 1, 1, ...) over n samples train as the data with that sample repeated, whose
    mini-batch has n + 1 rows; and a scale of 0 drops a sample."""
    rng = np.random.default_rng(7)
    n, sizes = 39, [6, 5, 3]
    X = rng.random((n, 6)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, n)]
    W = [random_array(rng, (o, i), dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [random_array(rng, o, dtype) for o in sizes[1:]]

    def train(X, Y, scale, batch):
        Wc, bc = [w.copy() for w in W], [v.copy() for v in b]
        arrays = _kernels.NetworkArrays(Wc, bc, writable=True)
        work = np.empty(_kernels.train_workspace_size(arrays, batch), dtype=dtype)
        _kernels.train_epoch(arrays, X, Y, None, scale, batch, "cross_entropy", 0.9, 0.0, 0.0, work)
        return Wc + bc

    if batch == 40:  # the whole data set in one step
        scale = np.ones(n, dtype=dtype)
        scale[0] = 2
        scale *= n / scale.sum()
        weighted = train(X, Y, scale, n)
        repeated = train(np.vstack([X[:1], X]), np.vstack([Y[:1], Y]), None, n + 1)
    else:  # a zero scale drops a sample from the gradient, not from the mini-batch count
        scale = np.ones(n, dtype=dtype)
        scale[1::2] = 0
        weighted = train(X, Y, scale, batch)
        ref_W, ref_b = [lists(w) for w in W], [lists(v) for v in b]
        for start in range(0, n, batch):
            rows = [i for i in range(start, min(start + batch, n)) if i % 2 == 0]
            m = min(start + batch, n) - start
            if rows:  # the reference averages over its own rows: rescale the rate to 1/m
                reference.train_step(ref_W, ref_b, lists(X[rows]), lists(Y[rows]),
                                     0.9 * len(rows) / m, cost="cross_entropy")
        repeated = [np.array(a) for a in ref_W + ref_b]
    for got, want in zip(weighted, repeated):
        assert_close(got, want, dtype, "weighted training", trained=True)


def test_network_arrays_checks_every_shape():
    W, b = [np.ones((4, 3)), np.ones((2, 4))], [np.zeros(4), np.zeros(2)]
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(2, 5\), expected \(2, 4\)"):
        _kernels.NetworkArrays([W[0], np.ones((2, 5))], b)
    with pytest.raises(ValueError, match=r"biases\[0\] has shape \(3,\), expected \(4,\)"):
        _kernels.NetworkArrays(W, [np.zeros(3), b[1]])
    with pytest.raises(ValueError, match="2 weight matrices need 2 bias vectors, got 1"):
        _kernels.NetworkArrays(W, b[:1])
    with pytest.raises(ValueError, match="1 to 64 layers, got 0"):
        _kernels.NetworkArrays([], [])
    with pytest.raises(ValueError, match="2 layers need 2 velocities each"):
        _kernels.NetworkArrays(W, b, [np.zeros((4, 3))], [np.zeros(4)])
    with pytest.raises(ValueError, match=r"vweights\[0\] has shape \(1, 1\), expected \(4, 3\)"):
        _kernels.NetworkArrays(W, b, [np.zeros((1, 1)), np.zeros((2, 4))], b)
    with pytest.raises(ValueError, match=r"weights\[1\] has dtype float32, expected float64"):
        _kernels.NetworkArrays([W[0], W[1].astype(np.float32)], b)
    with pytest.raises(ValueError, match=r"weights\[0\] must be C-contiguous"):
        _kernels.NetworkArrays([np.asfortranarray(np.ones((4, 3))), W[1]], b)
    with pytest.raises(TypeError, match=r"biases\[1\] must be a NumPy array, got list"):
        _kernels.NetworkArrays(W, [b[0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="read-only"):
        frozen = np.ones((4, 3))
        frozen.flags.writeable = False
        _kernels.NetworkArrays([frozen, W[1]], b, writable=True)
    with pytest.raises(ValueError, match="output='tanh' is not one of"):
        _kernels.NetworkArrays(W, b, output="tanh")
    arrays = _kernels.NetworkArrays(W, b)
    assert arrays.sizes == (3, 4, 2) and arrays.dtype == np.float64


def test_train_epoch_refuses_bad_arguments():
    W, b = [np.ones((2, 3))], [np.zeros(2)]
    X, Y = np.ones((4, 3)), np.zeros((4, 2))
    arrays = _kernels.NetworkArrays(W, b, writable=True)
    work = np.empty(_kernels.train_workspace_size(arrays, 2))
    args = dict(cost="quadratic", lr=0.1, decay=0.0, momentum=0.0)

    def run(order=None, batch=2, work=work, arrays=arrays, Y=Y, scale=None, **changes):
        a = {**args, **changes}
        return _kernels.train_epoch(arrays, X, Y, order, scale, batch, a["cost"], a["lr"],
                                    a["decay"], a["momentum"], work)

    with pytest.raises(_kernels.KernelError, match="out of range"):
        run(order=np.array([0, 1, 2, 9]))
    with pytest.raises(_kernels.KernelError, match="out of range"):
        run(scale=np.array([1.0, -1.0, 1.0, 1.0]))
    with pytest.raises(_kernels.KernelError, match="unknown cost"):
        run(cost="cross_entropy", arrays=_kernels.NetworkArrays(W, b, output="identity", writable=True))
    with pytest.raises(ValueError, match="cost='hinge' is not one of"):
        run(cost="hinge")
    with pytest.raises(ValueError, match="work has 3 elements"):
        run(work=work[:3])
    with pytest.raises(ValueError, match="momentum=0.5 needs velocities"):
        run(momentum=0.5)
    with pytest.raises(ValueError, match=r"Y has shape \(4, 3\), expected \(4, 2\)"):
        run(Y=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="writable=True"):
        run(arrays=_kernels.NetworkArrays(W, b))
    with pytest.raises(ValueError, match="X has dtype float32, the network's arrays are float64"):
        _kernels.train_epoch(arrays, X.astype(np.float32), Y.astype(np.float32), None, None, 2,
                             "quadratic", 0.1, 0.0, 0.0, work.astype(np.float32))
    np.testing.assert_array_equal(W[0], 1.0)  # nothing was touched


def test_train_workspace_size_grows_with_the_batch():
    arrays = _kernels.NetworkArrays([np.zeros((30, 784)), np.zeros((10, 30))], [np.zeros(30), np.zeros(10)])
    small, large = (_kernels.train_workspace_size(arrays, m) for m in (10, 100))
    # a mini-batch's targets, and activations and errors of each layer; the inputs of a
    # batch of up to 16 are read where they lie, a larger batch's are gathered
    assert 10 * (10 + 2 * 30 + 2 * 10) <= small < 10 * 784
    assert large >= 100 * (784 + 10 + 2 * 30 + 2 * 10)
    # beyond one K block of the product, the weight gradient needs a buffer of its own
    assert _kernels.train_workspace_size(arrays, 300) >= 300 * (784 + 10 + 2 * 40) + 30 * 784
    with pytest.raises(ValueError, match="batch must be >= 1, got 0"):
        _kernels.train_workspace_size(arrays, 0)


# --- the whole network's forward pass ---------------------------------------------------------

def network_arrays(seed, sizes, m, dtype):
    rng = np.random.default_rng(seed)
    X = random_array(rng, (m, sizes[0]), dtype)
    W = [random_array(rng, (o, i), dtype, scale=1 / np.sqrt(i)) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [random_array(rng, o, dtype) for o in sizes[1:]]
    return X, W, b


# One sample (the matrix-vector path), a few rows, and more rows than one block (1024),
# with one layer, several, and single neurons.
NETWORK_CASES = [([5], 1), ([5, 3], 1), ([9, 7, 4], 1), ([1, 1, 1], 2), ([13, 31, 1, 3], 17),
                 ([784, 30, 10], 3), ([20, 40, 10], 1100), ([100, 30, 7], 500)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", ["sigmoid", "identity", "softmax"])
@pytest.mark.parametrize("sizes,m", NETWORK_CASES)
def test_network_forward_matches_reference(sizes, m, output, dtype):
    sizes = sizes + [6] if len(sizes) == 1 else sizes
    X, W, b = network_arrays(m, sizes, m, dtype)
    out = np.full((m, sizes[-1]), np.nan, dtype=dtype)
    assert _kernels.network_forward(_kernels.NetworkArrays(W, b, output=output), X, out) is None
    ref = reference.feedforward([lists(w) for w in W], [lists(v) for v in b], lists(X), output)[-1]
    assert_close(out, ref, dtype, f"network_forward {sizes} m={m} {output}")


@pytest.mark.parametrize("dtype", DTYPES)
# rows 0 and 3 in the first block of 1024 rows, row 1200 in the second
@pytest.mark.parametrize("where", [(0, 0), (3, 4), (1200, 19)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_network_forward_finds_the_first_non_finite_input(where, bad, dtype):
    X, W, b = network_arrays(0, [20, 8, 3], 1300, dtype)
    X[where] = bad
    X[1250, 2] = np.nan  # a later one is not the one reported
    out = np.empty((1300, 3), dtype=dtype)
    assert _kernels.network_forward(_kernels.NetworkArrays(W, b), X, out) == where


@pytest.mark.parametrize("dtype", DTYPES)
def test_network_forward_reports_outputs_that_overflow(dtype):
    """Finite inputs too large for the network: an error naming the row, never a NaN."""
    X, W, b = network_arrays(0, [3, 2], 6, dtype)
    W[0][:] = 1
    X[4] = [np.finfo(dtype).max, np.finfo(dtype).max, 0]  # max + max overflows to inf
    out = np.empty((6, 2), dtype=dtype)
    with pytest.raises(FloatingPointError, match="outputs for row 4 are not finite"):
        _kernels.network_forward(_kernels.NetworkArrays(W, b, output="identity"), X, out)


def test_network_forward_checks_its_arguments():
    X, W, b = network_arrays(0, [4, 3, 2], 5, np.float64)
    arrays = _kernels.NetworkArrays(W, b)
    with pytest.raises(ValueError, match=r"out has shape \(5, 3\), expected \(5, 2\)"):
        _kernels.network_forward(arrays, X, np.empty((5, 3)))
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\), expected \(5, 4\)"):
        _kernels.network_forward(arrays, X[:, :3].copy(), np.empty((5, 2)))
    with pytest.raises(ValueError, match="X has dtype float32"):
        _kernels.network_forward(arrays, X.astype(np.float32), np.empty((5, 2), np.float32))
    empty = np.empty((0, 2))
    assert _kernels.network_forward(arrays, X[:0], empty) is None


# --- argument checks and purity ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_do_not_modify_inputs(dtype):
    X, W, b = layer_arrays(3, 5, 7, 4, dtype)
    A = np.empty((5, 4), dtype)
    G = random_array(np.random.default_rng(4), (5, 4), dtype)
    inputs = [X, W, b, G]
    before = [x.copy() for x in inputs]
    _kernels.dense_forward(X, W, b, A, _kernels.SIGMOID)
    A_before = A.copy()
    _kernels.dense_backward(X, W, A, G, np.empty_like(A), np.empty_like(W), np.empty_like(b),
                            np.empty_like(X), _kernels.SIGMOID)
    _kernels.cost(A, G, _kernels.QUADRATIC)
    g = G.reshape(-1).copy()
    _kernels.sgd_update(g, np.zeros_like(g), lr=0.5)
    _kernels.network_forward(_kernels.NetworkArrays([W], [b]), X, np.empty_like(A))
    for x, x0 in zip(inputs + [A, g], before + [A_before, G.reshape(-1)]):
        np.testing.assert_array_equal(x, x0)


def test_wrappers_name_both_shapes():
    X, W, b = layer_arrays(0, 2, 3, 4, np.float64)
    with pytest.raises(ValueError, match=r"A has shape \(2, 5\), expected \(2, 4\)"):
        _kernels.dense_forward(X, W, b, np.empty((2, 5)), _kernels.SIGMOID)
    with pytest.raises(ValueError, match=r"W has shape \(4, 2\), expected \(4, 3\)"):
        _kernels.dense_forward(X, W[:, :2].copy(), b, np.empty((2, 4)), _kernels.SIGMOID)


def test_unknown_activation_and_cost_are_refused():
    X, W, b = layer_arrays(0, 2, 3, 4, np.float64)
    with pytest.raises(_kernels.KernelError, match="activation"):
        _kernels.dense_forward(X, W, b, np.empty((2, 4)), 7)
    with pytest.raises(_kernels.KernelError, match="unknown cost"):
        _kernels.cost(np.zeros((2, 2)), np.zeros((2, 2)), 9)


def test_none_is_refused_where_an_array_is_required():
    with pytest.raises(TypeError):
        _kernels.sigmoid(None, np.zeros(3))
