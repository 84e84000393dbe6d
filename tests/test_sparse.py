"""Inputs with many zeros: the first layer on compressed rows against the dense path and
the reference, SciPy matrices in, memory that never holds the dense matrix, bad input."""
import tracemalloc

import numpy as np
import pytest

import fastmlp
from fastmlp import _kernels, kernel_backend, reference, sparse
from helpers import COMBOS, DTYPES, assert_close, lists, one_hot, reference_fit

scipy_sparse = pytest.importorskip("scipy.sparse")

# Training on compressed rows equals training on the dense array up to rounding: the
# same sums in another order, and with weight decay (no momentum) the decay kept as a
# scale W = s V.  Over the few epochs below, float64 agrees to ~1e-14 and float32 to
# ~1e-5 (observed); these bounds leave a margin of 100x.
SAME_UP_TO_ROUNDING = {np.dtype("float64"): dict(rtol=1e-11, atol=1e-12),
                       np.dtype("float32"): dict(rtol=1e-3, atol=1e-3)}


def sparse_data(rng, n, n_in, density, dtype):
    """n rows of n_in inputs, each nonzero (uniform in (0, 1]) with probability density;
    some rows entirely zero."""
    X = (1 - rng.random((n, n_in))) * (rng.random((n, n_in)) < density)
    X[::7] = 0
    return X.astype(dtype)


def train_in_chunks(X, Y, W, b, *, dtype, batch, cost, output, lr, decay, momentum,
                    sample_scale, order, chunk=3):
    """Train a copy of (W, b) on X (dense or CompressedRows) through _kernels directly,
    an epoch in calls of `chunk` mini-batches; return the parameters and the outputs the
    trained network gives for X."""
    W, b = [w.copy() for w in W], [x.copy() for x in b]
    velocities = ([np.full_like(w, 0.01) for w in W], [np.full_like(x, 0.01) for x in b])
    arrays = _kernels.NetworkArrays(W, b, *(velocities if momentum else (None, None)),
                                    output=output, writable=True)
    compressed = isinstance(X, _kernels.CompressedRows)
    work = np.empty(_kernels.train_workspace_size(arrays, batch, compressed), dtype=dtype)
    n = Y.shape[0]
    for first in range(0, -(-n // batch), chunk):
        *_, failed = _kernels.train_epoch(arrays, X, Y, order, sample_scale, batch, cost, lr,
                                          decay, momentum, work, first, chunk)
        assert failed is None
    out = np.empty_like(Y)
    assert _kernels.network_forward(arrays, X, out) is None
    return W + b + (velocities[0] if momentum else []), out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 5, 20, 300])  # online, few rows, packed, > one K block
@pytest.mark.parametrize("decay,momentum", [(0, 0), (1e-3, 0), (0.4, 0), (0, 0.8), (1e-3, 0.8)],
                         ids=["plain", "l2", "l2-folded", "momentum", "l2+momentum"])
@pytest.mark.parametrize("cost,output", COMBOS)
def test_compressed_rows_train_as_the_dense_array(every_isa, dtype, batch, decay, momentum,
                                                  cost, output):
    """Every path (online, few rows, packed products), every SGD rule (decay large
    enough that the lazy scale is folded back mid-call), every cost, every ISA: the
    parameters after an epoch in chunks, and the outputs, equal the dense path's."""
    rng = np.random.default_rng(batch)
    n, sizes = 331 if batch == 300 else 97, [50, 13, 7, 4]
    X = sparse_data(rng, n, sizes[0], 0.15, dtype)
    Y = (one_hot(rng.integers(0, 4, n), 4) if output != "identity" else rng.random((n, 4)))
    Y = Y.astype(dtype)
    W = [rng.standard_normal((o, i)).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [rng.standard_normal(o).astype(dtype) for o in sizes[1:]]
    settings = dict(dtype=dtype, batch=batch, cost=cost, output=output, lr=0.5, decay=decay,
                    momentum=momentum, sample_scale=rng.random(n).astype(dtype) * 2,
                    order=rng.permutation(n))
    dense, dense_out = train_in_chunks(X, Y, W, b, **settings)
    compressed, compressed_out = train_in_chunks(_kernels.compress_rows(X), Y, W, b, **settings)
    assert not np.array_equal(dense[0], W[0]), "training did not move the first layer"
    tol = SAME_UP_TO_ROUNDING[np.dtype(dtype)]
    for i, (c, d) in enumerate(zip(compressed, dense)):
        np.testing.assert_allclose(c, d, err_msg=f"parameter {i}", **tol)
    np.testing.assert_allclose(compressed_out, dense_out, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,dense_row", [(1, None), (2, None), (3, 1), (16, None), (16, 15),
                                            (17, None)])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_inference_on_few_rows_with_many_zeros(every_isa, dtype, rows, dense_row, output):
    """Up to 16 rows of a dense X with few nonzeros go through their nonzeros alone (one
    denser row sends the block through the dense product; 17 rows always do); the
    outputs, dense or compressed X, equal the reference's."""
    rng = np.random.default_rng(rows)
    X = sparse_data(rng, rows, 40, 0.1, dtype)
    if dense_row is not None:
        X[dense_row] = rng.random(40)
    W = [rng.standard_normal((o, i)).astype(dtype) for i, o in [(40, 9), (9, 3)]]
    b = [rng.standard_normal(o).astype(dtype) for o in (9, 3)]
    arrays = _kernels.NetworkArrays(W, b, output=output)
    expected = reference.feedforward([lists(w) for w in W], [lists(x) for x in b], lists(X),
                                     output)[-1]
    for inputs in (X, _kernels.compress_rows(X)):
        out = np.empty((rows, 3), dtype=dtype)
        assert _kernels.network_forward(arrays, inputs, out) is None
        assert_close(out, expected, dtype, type(inputs).__name__)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", [dict(l2=3.0), dict(momentum=0.7), dict(batch_size=1)],
                         ids=lambda o: ",".join(o))
def test_scipy_input_matches_the_reference(dtype, options):
    """fit on a SciPy CSR matrix against fit written with the pure-Python reference on the
    dense array."""
    rng = np.random.default_rng(5)
    X = sparse_data(rng, 30, 12, 0.3, np.float64)
    y = rng.integers(0, 3, 30)
    options = {"batch_size": 4, **options}
    net = fastmlp.Network([12, 5, 3], cost="cross_entropy", dtype=dtype, seed=2)
    weights, biases, costs, _ = reference_fit(net, X.astype(dtype), one_hot(y, 3).astype(dtype),
                                              epochs=2, lr=0.6, **options)
    history = net.fit(scipy_sparse.csr_matrix(X), y, epochs=2, lr=0.6, **options)
    for l, layer in enumerate(net.layers):
        assert_close(layer.weights, weights[l], dtype, f"weights[{l}]", trained=True)
        assert_close(layer.biases, biases[l], dtype, f"biases[{l}]", trained=True)
    assert_close(history.train_cost, costs, dtype, "train_cost", trained=True)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scipy_formats_train_and_predict_as_dense(fmt, dtype, monkeypatch):
    """fit, partial_fit, forward, predict, evaluate and validation data take SciPy
    matrices; the results equal those of the dense array trained on the dense path."""
    rng = np.random.default_rng(8)
    X = sparse_data(rng, 60, 40, 0.1, np.float64)
    y = rng.integers(0, 3, 60)
    Xs = getattr(scipy_sparse, f"{fmt}_matrix")(X)
    on_sparse, on_dense = (fastmlp.Network([40, 6, 3], dtype=dtype, seed=1) for _ in range(2))
    h1 = on_sparse.fit(Xs, y, epochs=2, batch_size=5, lr=0.5, l2=1.0, validation_data=(Xs, y))
    val1 = list(h1.val_cost)
    on_sparse.partial_fit(Xs, y, batch_size=5, lr=0.5)
    with monkeypatch.context() as m:
        m.setattr(sparse, "SPARSE_BELOW", {"few rows": 0.0, "packed": 0.0})  # dense stays dense
        h2 = on_dense.fit(X, y, epochs=2, batch_size=5, lr=0.5, l2=1.0, validation_data=(X, y))
        val2 = list(h2.val_cost)
        on_dense.partial_fit(X, y, batch_size=5, lr=0.5)
    tol = SAME_UP_TO_ROUNDING[np.dtype(dtype)]
    for p, q in zip(on_sparse.parameters(), on_dense.parameters()):
        np.testing.assert_allclose(p, q, **tol)
    np.testing.assert_allclose(val1, val2, **tol)
    np.testing.assert_allclose(on_sparse.forward(Xs), on_sparse.forward(X), **tol)
    np.testing.assert_array_equal(on_sparse.predict(Xs), on_sparse.predict(X))
    np.testing.assert_allclose(on_sparse.evaluate(Xs, y), on_sparse.evaluate(X, y), **tol)


@pytest.mark.parametrize("batch,below", [(5, 0.4), (16, 0.4), (17, 0.05), (128, 0.05)])
def test_dense_inputs_choose_their_path_by_density(batch, below):
    """A dense X with few nonzeros (for the mini-batch size) is compressed once per
    trainer; a denser one is not."""
    assert sparse.SPARSE_BELOW["few rows" if batch <= 16 else "packed"] == below
    rng = np.random.default_rng(0)
    net = fastmlp.Network([30, 4, 2], seed=0)
    trainer = kernel_backend.Trainer(net._weights(), net._biases(), batch_size=batch,
                                     cost="quadratic", output="sigmoid")
    few = sparse_data(rng, 200, 30, below / 3, np.float64)
    many = sparse_data(rng, 200, 30, below * 2, np.float64)
    assert sparse.density(few) < below <= sparse.density(many)
    compressed = trainer._prepared(few)[0]
    assert isinstance(compressed, _kernels.CompressedRows)
    assert trainer._prepared(few)[0] is compressed  # the same X is compressed only once
    assert trainer._prepared(many)[0] is many


def test_inputs_that_are_all_zero_train_the_biases_alone():
    """No nonzero input at all (a first layer with no work): the weights stay, the biases
    learn, as on the dense path."""
    net = fastmlp.Network([6, 3], seed=0)
    W = net.layers[0].weights.copy()
    net.fit(scipy_sparse.csr_matrix((10, 6)), np.ones(10, dtype=int), epochs=2, batch_size=2, lr=0.5)
    np.testing.assert_array_equal(net.layers[0].weights, W)
    assert net.layers[0].biases[1] > net.layers[0].biases[0]


def test_compress_rows_equals_scipy():
    rng = np.random.default_rng(3)
    for dtype in DTYPES:
        X = sparse_data(rng, 40, 70, 0.2, dtype)
        rows, ref = _kernels.compress_rows(X), scipy_sparse.csr_matrix(X)
        np.testing.assert_array_equal(rows.indptr, ref.indptr)
        np.testing.assert_array_equal(rows.indices, ref.indices)
        np.testing.assert_array_equal(rows.data, ref.data)
        assert rows.shape == X.shape and rows.data.dtype == dtype


def test_wide_sparse_data_never_becomes_dense():
    """200,000 features at 0.1% density: fit, predict and evaluate stay far below the
    3.2 GB a dense float64 copy of X would take (and still learn the data)."""
    n, n_in = 2000, 200_000
    rng = np.random.default_rng(0)
    X = scipy_sparse.random(n, n_in, density=0.001, format="csr", random_state=rng,
                            data_rvs=lambda k: np.ones(k))
    y = np.asarray(X[:, : n_in // 2].sum(axis=1) > X[:, n_in // 2:].sum(axis=1)).ravel().astype(int)
    net = fastmlp.Network([n_in, 8, 2], cost="cross_entropy", seed=0)
    tracemalloc.start()
    try:
        net.fit(X, y, epochs=3, batch_size=10, lr=0.5, l2=0.1)
        predicted = net.predict(X)
        _, accuracy = net.evaluate(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the weights are 200,000 x 8 doubles (12.8 MB), held a few times (the input-major
    # copy, the epoch's rollback copy); the dense X would be 3.2 GB
    assert peak < 100e6, f"peak {peak / 1e6:.0f} MB"
    assert accuracy == np.mean(predicted == y) and accuracy > 0.9


def test_numpy_backend_refuses_sparse_input_by_name():
    X = scipy_sparse.csr_matrix(np.eye(4))
    net = fastmlp.Network([4, 2], backend="numpy")
    with pytest.raises(ValueError, match="backend='numpy'.*toarray"):
        net.fit(X, [0, 1, 0, 1], epochs=1, batch_size=2, lr=0.1)
    with pytest.raises(TypeError, match="SciPy sparse matrix.*toarray"):
        fastmlp.Network([4, 2]).backprop(X, [0, 1, 0, 1])


def test_bad_sparse_input_is_refused_and_changes_nothing():
    net = fastmlp.Network([5, 3, 2], seed=0)
    before = [p.copy() for p in net.parameters()]
    X = scipy_sparse.csr_matrix(np.eye(4, 5))
    X.data[2] = np.nan
    with pytest.raises(ValueError, match=r"X contains nan at index \(2, 2\)"):
        net.fit(X, [0, 1, 0, 1], epochs=1, batch_size=2, lr=0.1)
    with pytest.raises(ValueError, match="6 features per sample, the network expects 5"):
        net.predict(scipy_sparse.csr_matrix(np.eye(4, 6)))
    # compressed rows that lie reach the kernels' own checks, never memory
    arrays = _kernels.NetworkArrays(net._weights(), net._biases(), writable=True)
    Y = np.eye(2)[[0, 1]]
    work = np.empty(_kernels.train_workspace_size(arrays, 1, True))
    for indptr, indices, why in [([0, 1, 2], [0, 5], "column 5 of 5"),
                                 ([0, 1, 2], [0, -1], "negative column"),
                                 ([0, 2, 1], [0, 1], "offsets decrease"),
                                 ([-1, 1, 2], [0, 1], "negative offset"),
                                 ([0, 3, 2], [0, 1], "an offset past the data")]:
        rows = _kernels.CompressedRows(np.array(indptr, dtype=np.int64),
                                       np.array(indices, dtype=np.int32), np.ones(2), 5)
        with pytest.raises(_kernels.KernelError, match="offset or a column index"):
            _kernels.train_epoch(arrays, rows, Y, None, None, 1, "quadratic", 0.1, 0, 0, work)
            pytest.fail(f"training accepted rows with {why}")
        with pytest.raises(_kernels.KernelError, match="offset or a column index"):
            _kernels.network_forward(arrays, rows, np.empty((2, 2)))
            pytest.fail(f"inference accepted rows with {why}")
    with pytest.raises(ValueError, match="indptr"):
        _kernels.CompressedRows(np.array([0, 3], dtype=np.int64), np.zeros(2, np.int32),
                                np.ones(2), 5)
    with pytest.raises(ValueError, match="indptr must be a NumPy array of int64, got int32"):
        _kernels.CompressedRows(np.array([0, 2], dtype=np.int32), np.zeros(2, np.int32),
                                np.ones(2), 5)
    with pytest.raises(ValueError, match="indices must be a NumPy array of int32, got int64"):
        _kernels.CompressedRows(np.array([0, 2], dtype=np.int64), np.zeros(2, np.int64),
                                np.ones(2), 5)
    for p, q in zip(net.parameters(), before):
        np.testing.assert_array_equal(p, q)


def test_verbose_fit_with_sparse_validation_data(capsys):
    """The per-epoch line counts the validation samples of a sparse matrix too."""
    rng = np.random.default_rng(6)
    X = scipy_sparse.csr_matrix(sparse_data(rng, 30, 8, 0.2, np.float64))
    y = rng.integers(0, 2, 30)
    net = fastmlp.Network([8, 3, 2], seed=0)
    net.fit(X, y, epochs=1, batch_size=5, lr=0.5, validation_data=(X[:12], y[:12]), verbose=True)
    assert f"Epoch 1: {round(net.history.val_accuracy[0] * 12)} / 12 (" in capsys.readouterr().out
