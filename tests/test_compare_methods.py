"""compare_methods: nudging each parameter against backprop, the same gradient and the counts."""
import numpy as np
import pytest

import fastmlp
from helpers import COMBOS, DTYPES, backprop_off_by_a_tenth, snapshot, toy_data

# |backprop - central difference| allowed.  The nudges run in float64 with eps = 1e-6:
# truncation is about eps^2 |C'''| ~ 1e-12 and rounding about 1e-16 |C| / eps ~ 1e-10, so
# float64 is held to 1e-8.  A float32 backprop rounds each gradient to about 1e-7 of the
# sums it adds (terms up to about 1 here), so float32 is held to 1e-5.
TOLERANCE = {np.dtype("float64"): 1e-8, np.dtype("float32"): 1e-5}


def toy(dtype, cost="quadratic", output=None, sizes=(5, 4, 3), m=7):
    net = fastmlp.Network(list(sizes), cost=cost, output=output, dtype=dtype, seed=2)
    return net, *toy_data(m, sizes[0], sizes[-1], seed=4)


def count_forward_passes(monkeypatch):
    calls = []
    real = fastmlp.Network.evaluate

    def counted(self, X, y):
        calls.append(len(X))
        return real(self, X, y)

    monkeypatch.setattr(fastmlp.Network, "evaluate", counted)
    return calls


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost,output", COMBOS)
def test_every_parameter_nudged_agrees_with_backprop(monkeypatch, dtype, cost, output):
    net, X, y = toy(dtype, cost, output)
    before = snapshot(net)
    calls = count_forward_passes(monkeypatch)
    result = fastmlp.compare_methods(net, X, y)
    assert result.parameters == 5 * 4 + 4 + 4 * 3 + 3 == result.nudged
    assert result.forward_passes == 2 * result.parameters == len(calls)
    assert calls == [7] * len(calls)  # each forward pass runs over all of X
    assert result.samples == 7 and result.sizes == [5, 4, 3]
    assert result.max_gradient > 1e-3  # a gradient of zeros would agree trivially
    assert result.max_difference <= TOLERANCE[np.dtype(dtype)]
    assert result.nudge_seconds_all == result.nudge_seconds > 0
    assert result.backprop_seconds > 0
    for p, p0 in zip(snapshot(net), before):
        np.testing.assert_array_equal(p, p0)


def test_a_wrong_backprop_shows_as_a_difference(monkeypatch):
    net, X, y = toy(np.float64)
    backprop_off_by_a_tenth(monkeypatch)
    result = fastmlp.compare_methods(net, X, y)
    assert result.max_difference > 0.05 * result.max_gradient


def test_a_sample_of_parameters_is_extrapolated(monkeypatch):
    net, X, y = toy(np.float64, sizes=(30, 20, 10))
    calls = count_forward_passes(monkeypatch)
    result = fastmlp.compare_methods(net, X, y, sample=50, seed=1)
    assert result.parameters == 30 * 20 + 20 + 20 * 10 + 10
    assert result.nudged == 50 and result.forward_passes == 100 == len(calls)
    assert result.extrapolated
    assert result.nudge_seconds_all == pytest.approx(result.nudge_seconds * 830 / 50, rel=1e-12)
    assert result.max_difference <= TOLERANCE[np.dtype("float64")]
    assert fastmlp.compare_methods(net, X, y, sample=10_000).nudged == 830


def test_text_answers_the_question():
    net, X, y = toy(np.float64)
    text = str(fastmlp.compare_methods(net, X, y))
    assert text.startswith("Network [5, 4, 3], 7 samples, 39 parameters: nudging each "
                           "parameter took ")
    assert "(78 forward passes)" in text
    assert "Why not nudge each weight?" in text and "all 39 derivatives" in text
    assert len(text.splitlines()) == 3
    sampled = str(fastmlp.compare_methods(net, X, y, sample=5))
    assert "measured on 5 of them, 10 forward passes" in sampled and "extrapolated" in sampled


@pytest.mark.parametrize("kwargs,message", [
    (dict(eps=0.0), "eps must be > 0"), (dict(eps=-1e-6), "eps must be finite, >= 0"),
    (dict(sample=0), "sample must be an integer >= 1")])
def test_bad_arguments(kwargs, message):
    net, X, y = toy(np.float64)
    with pytest.raises(ValueError, match=message):
        fastmlp.compare_methods(net, X, y, **kwargs)
