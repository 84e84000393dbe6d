"""The benchmark's contenders compute what fastmlp computes (the suite also checks this
before it times anything)."""
import numpy as np
import pytest

from fastmlp import peers, reference
from helpers import assert_close, lists


@pytest.mark.parametrize("batch", [1, 4])
def test_nielsen_trainer_matches_reference(batch):
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
    trainer = peers.NielsenTrainer(W, b, batch_size=batch)
    assert trainer.epoch(X, Y, order, 0.7, 0.0) == (0.0, 0, None)
    for l in range(2):
        assert_close(W[l], ref_W[l], np.float64, f"W[{l}]", trained=True)
        assert_close(b[l], ref_b[l], np.float64, f"b[{l}]", trained=True)


def test_peers_refuse_what_they_do_not_train():
    W, b = [np.zeros((2, 3))], [np.zeros(2)]
    with pytest.raises(ValueError, match="quadratic cost on sigmoid layers"):
        peers.NielsenTrainer(W, b, batch_size=1, cost="cross_entropy")
    with pytest.raises(ValueError, match="plain SGD only"):
        peers.NielsenTrainer(W, b, batch_size=1).epoch(np.zeros((1, 3)), np.zeros((1, 2)), None,
                                                       0.1, 0.5)
