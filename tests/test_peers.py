"""The benchmark's contenders compute what fastmlp computes (the suite also checks this
before it times anything)."""
import numpy as np
import pytest

from fastmlp import peers, reference
from helpers import assert_close, lists


@pytest.mark.parametrize("batch", [1, 4])
def test_nielsen_epoch_matches_reference(batch):
    rng = np.random.default_rng(batch)
    sizes = [6, 5, 3]
    X, Y = rng.random((9, 6)), np.eye(3)[rng.integers(0, 3, 9)]
    W = [rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    b = [rng.standard_normal(o) for o in sizes[1:]]
    ref_W, ref_b = [lists(w) for w in W], [lists(v) for v in b]
    order = rng.permutation(9)
    for start in range(0, 9, batch):
        rows = order[start:start + batch]
        reference.train_step(ref_W, ref_b, lists(X[rows]), lists(Y[rows]), 0.7)
    peers.nielsen_epoch(W, b, X, Y, batch, 0.7, order)
    for l in range(2):
        assert_close(W[l], ref_W[l], np.float64, f"W[{l}]", trained=True)
        assert_close(b[l], ref_b[l], np.float64, f"b[{l}]", trained=True)
