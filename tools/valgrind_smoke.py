"""A training smoke test for tools/valgrind.sh: small networks of several shapes, online
(batch 1), small, >16 and >256 mini-batches, with and without momentum, in both dtypes;
each trained network is checked against the NumPy backend, which trains the same one.
Then the same on inputs with few nonzeros (the compressed-rows kernels, training and
forward), and calls the kernels refuse, so that memory lost on an error path shows."""
import numpy as np

import fastmlp
from fastmlp import _kernels
from fastmlp._testing import unaligned
from fastmlp.sparse import SPARSE_BELOW, CompressedRows, compress_rows, for_training

# (sizes, batch_size, momentum): batch 1 is the online path, <= 16 the small-batch path,
# larger ones the packed matrix products; 300 rows give a last, short mini-batch.
CASES = [([7, 5, 3], 1, 0.0), ([7, 5, 3], 4, 0.9), ([13, 17, 9, 4], 16, 0.0),
         ([13, 17, 9, 4], 33, 0.5), ([31, 40, 10], 257, 0.9), ([3, 1], 300, 0.0)]
# Rounding differs between the kernels and NumPy; 3 epochs stay far inside these.
TOLERANCE = {"float32": 2e-3, "float64": 1e-8}
# The fraction of inputs kept nonzero in the sparse runs: below both of SPARSE_BELOW's
# densities, so every batch size trains on compressed rows.
SPARSE_KEEP = min(SPARSE_BELOW.values()) / 2


def train_both(X, y, sizes, dtype, batch, momentum):
    """The network trained on the C kernels and on NumPy, and their largest parameter
    gap as a fraction of the dtype's tolerance (asserted at most 1)."""
    nets = [fastmlp.Network(sizes, dtype=dtype, seed=1, backend=b) for b in ("c", "numpy")]
    for net in nets:
        net.fit(X, y, epochs=3, batch_size=batch, lr=0.5, momentum=momentum)
    worst = 0.0
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        gap = float(np.max(np.abs(a.astype(np.float64) - b)))
        assert gap <= TOLERANCE[dtype], f"{dtype} {sizes} batch {batch}: differs from NumPy by {gap}"
        worst = max(worst, gap / TOLERANCE[dtype])
    return nets[0], worst


def sparse_forward(net, X):
    """The kernels' forward pass on X as compressed rows, checked against the dense one."""
    arrays = _kernels.NetworkArrays(net._weights(), net._biases(), output=net.output)
    out = np.empty((len(X), net.sizes[-1]), dtype=net.dtype)
    assert _kernels.network_forward(arrays, compress_rows(X.astype(net.dtype)), out) is None
    gap = float(np.max(np.abs(out - net.forward(X))))
    assert gap <= TOLERANCE[net.dtype.name], f"{net.sizes}: compressed-rows forward off by {gap}"


def refused_calls():
    """Calls the kernels refuse, each after some of its set-up: the error must be raised
    (checked here) and whatever the call allocated freed (valgrind's part)."""
    rng = np.random.default_rng(2)
    W = [rng.normal(size=(6, 4)), rng.normal(size=(3, 6))]
    b = [np.zeros(6), np.zeros(3)]
    arrays = _kernels.NetworkArrays(W, b, writable=True)
    X, Y = rng.uniform(0, 1, (5, 4)), np.eye(3)[[0, 1, 2, 0, 1]]
    refused = [
        ("an unaligned X", ValueError,
         lambda: _kernels.network_forward(arrays, unaligned(X), np.empty((5, 3)))),
        ("an unaligned weight", ValueError,
         lambda: _kernels.NetworkArrays([unaligned(W[0]), W[1]], b)),
        ("out of the wrong shape", ValueError,
         lambda: _kernels.network_forward(arrays, X, np.empty((5, 2))))]
    # compressed rows whose column 4 is past the 4 inputs: refused inside the C kernels
    lying = _kernels.CompressedRows(np.array([0, 1, 2], dtype=np.int64),
                                    np.array([0, 4], dtype=np.int32), np.ones(2), 4)
    work = np.empty(_kernels.train_workspace_size(arrays, 1, True))
    refused += [
        ("a column past the inputs (forward)", _kernels.KernelError,
         lambda: _kernels.network_forward(arrays, lying, np.empty((2, 3)))),
        ("a column past the inputs (training)", _kernels.KernelError,
         lambda: _kernels.train_epoch(arrays, lying, Y[:2], None, None, 1, "quadratic",
                                      0.1, 0, 0, work))]
    for what, error, call in refused:
        try:
            call()
        except error:
            continue
        raise AssertionError(f"the kernels accepted {what}")
    X[3, 2] = np.nan  # not an exception: the pass stops and names the first bad entry
    assert _kernels.network_forward(arrays, X, np.empty((5, 3))) == (3, 2)
    return len(refused) + 1


def main():
    rng = np.random.default_rng(0)
    worst, trainings = 0.0, 0
    for dtype in TOLERANCE:
        for sizes, batch, momentum in CASES:
            X = rng.uniform(0, 1, (300, sizes[0]))
            y = rng.integers(0, sizes[-1], 300) if sizes[-1] > 1 else rng.integers(0, 2, 300)
            sparse = X * (rng.random(X.shape) < SPARSE_KEEP)
            assert isinstance(for_training(sparse, batch), CompressedRows)
            for inputs in (X, sparse):
                net, gap = train_both(inputs, y, sizes, dtype, batch, momentum)
                worst, trainings = max(worst, gap), trainings + 1
                out = net.forward(inputs)
                assert np.isfinite(out).all() and out.shape == (300, sizes[-1])
            sparse_forward(net, sparse)
    refusals = refused_calls()
    print(f"valgrind smoke: {trainings} trainings on ISA {fastmlp.get_isa()} (half on inputs "
          f"with {SPARSE_KEEP:.3g} of them nonzero) agree with the NumPy backend (largest gap "
          f"{worst:.2g} of its tolerance); {refusals} refused calls raised their errors")


if __name__ == "__main__":
    main()
