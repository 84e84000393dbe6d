"""fit's options, against the pure-Python reference where there is arithmetic to check."""
import copy

import numpy as np
import pytest

import fastmlp
from helpers import (COMBOS, DTYPES, assert_close, backprop_off_by_a_tenth, one_hot, reference_fit,
                     snapshot, toy_data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost,output", COMBOS)
@pytest.mark.parametrize("options", [dict(l2=3.0), dict(momentum=0.7), dict(l2=1.0, momentum=0.5),
                                     dict(shuffle=False, batch_size=1)],
                         ids=lambda o: ",".join(o))
def test_fit_options_match_reference(dtype, cost, output, options):
    X, y = toy_data()
    Y = one_hot(y, 3) if output != "identity" else np.random.default_rng(1).random((23, 3))
    options = {"batch_size": 4, **options}
    net = fastmlp.Network([5, 4, 3], cost=cost, output=output, dtype=dtype, seed=2)
    weights, biases, costs, accuracies = reference_fit(net, X.astype(dtype), Y.astype(dtype),
                                                       epochs=2, lr=0.6, **options)
    history = net.fit(X, Y, epochs=2, lr=0.6, **options)
    for l, layer in enumerate(net.layers):
        assert layer.weights.dtype == dtype
        assert_close(layer.weights, weights[l], dtype, f"weights[{l}]", trained=True)
        assert_close(layer.biases, biases[l], dtype, f"biases[{l}]", trained=True)
    assert_close(history.train_cost, costs, dtype, "train_cost", trained=True)
    assert history.train_accuracy == accuracies


def test_second_fit_continues_the_first():
    X, y = toy_data()
    once, twice = (fastmlp.Network([5, 4, 3], seed=3) for _ in range(2))
    h = once.fit(X, y, epochs=2, batch_size=4, lr=1.0)
    twice.fit(X, y, epochs=1, batch_size=4, lr=1.0)
    h2 = twice.fit(X, y, epochs=1, batch_size=4, lr=1.0)
    for a, b in zip(once.layers, twice.layers):
        np.testing.assert_array_equal(a.weights, b.weights)
    assert h.epoch == [1, 2] and h2.epoch == [2] and twice.epochs_trained == 2
    assert twice.history is h2


def test_history_and_validation():
    X, y = toy_data(m=60)
    net = fastmlp.Network([5, 6, 3], seed=4)
    _, _, costs, accuracies = reference_fit(net, X[:40], one_hot(y[:40], 3), epochs=3,
                                            batch_size=8, lr=2.0)
    seen = []
    history = net.fit(X[:40], y[:40], epochs=3, batch_size=8, lr=2.0,
                      validation_data=(X[40:], y[40:]),
                      callbacks=[lambda n, r: seen.append((r, n.evaluate(X[40:], y[40:])))])
    assert len(history) == 3 and history.stopped == "epochs"
    assert history["lr"] == [2.0] * 3 and all(s > 0 for s in history.seconds)
    for record, (val_cost, val_accuracy) in seen:
        assert record["val_cost"] == pytest.approx(val_cost, rel=1e-12)
        assert record["val_accuracy"] == val_accuracy
        assert record["train_accuracy"] == accuracies[record["epoch"] - 1]
        assert_close(record["train_cost"], costs[record["epoch"] - 1], np.float64, "train_cost",
                     trained=True)
    assert history.records()[-1] == seen[-1][0]
    assert "3 epochs" in repr(history)


def test_early_stopping_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    X, y = rng.random((80, 5)), rng.integers(0, 3, 80)  # noise: validation soon stops improving
    net = fastmlp.Network([5, 6, 3], seed=5)
    snapshots = {}
    history = net.fit(X[:60], y[:60], epochs=100, batch_size=5, lr=3.0,
                      validation_data=(X[60:], y[60:]), early_stopping=3,
                      callbacks=[lambda n, r: snapshots.update({r["epoch"]: copy.deepcopy(n)})])
    assert history.stopped == "early_stopping" and len(history) < 100
    best = history.best_epoch
    assert history.val_accuracy[best - 1] == max(history.val_accuracy)
    assert len(history) == best + 3  # three epochs without improvement after the best
    for restored, kept in zip(net.layers, snapshots[best].layers):
        np.testing.assert_array_equal(restored.weights, kept.weights)


def test_halving_schedule_follows_validation_accuracy():
    rng = np.random.default_rng(1)
    X, y = rng.random((80, 5)), rng.integers(0, 3, 80)
    net = fastmlp.Network([5, 6, 3], seed=6)
    history = net.fit(X[:60], y[:60], epochs=500, batch_size=5, lr=1.0,
                      validation_data=(X[60:], y[60:]), lr_schedule="halve", lr_patience=2)
    # replay the rule: halve after 2 epochs without a new best, stop below lr0 / 128
    lr, best, stale = 1.0, -1.0, 0
    for epoch, (used, accuracy) in enumerate(zip(history.lr, history.val_accuracy), 1):
        assert used == lr, f"epoch {epoch}"
        if accuracy > best:
            best, stale = accuracy, 0
        else:
            stale += 1
            if stale % 2 == 0:
                lr /= 2
    assert history.stopped == "lr_schedule" and lr < 1.0 / 128


def test_callable_schedule_and_stop_training():
    X, y = toy_data()

    def stop_at_three(net, record):
        if record["epoch"] == 3:
            raise fastmlp.StopTraining

    history = fastmlp.Network([5, 4, 3], seed=0).fit(
        X, y, epochs=10, batch_size=4, lr=1.0, lr_schedule=lambda epoch, lr: lr * 0.1,
        callbacks=[stop_at_three])
    assert history.stopped == "callback"
    np.testing.assert_allclose(history.lr, [1.0, 0.1, 0.01])


def test_verbose_prints_nielsen_style_lines(capsys):
    X, y = toy_data(m=30)
    fastmlp.Network([5, 4, 3], seed=0).fit(X[:20], y[:20], epochs=2, batch_size=5, lr=1.0,
                                           validation_data=(X[20:], y[20:]), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1: ") and " / 10 (train cost " in lines[0]


def test_progress_bar_needs_tqdm_only_when_asked():
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], seed=0)
    net.fit(X, y, epochs=1, batch_size=4, lr=1.0, progress=False)
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install 'fastmlp\[progress\]'"):
            net.fit(X, y, epochs=1, batch_size=4, lr=1.0, progress=True)
    else:
        assert len(net.fit(X, y, epochs=2, batch_size=4, lr=1.0, progress=True)) == 2


def test_divergence_stops_and_restores_the_last_good_epoch():
    X = np.linspace(0, 1, 40)[:, None]
    net = fastmlp.Network([1, 3, 1], output="identity", seed=0)
    net.fit(X, 3 * X, epochs=1, batch_size=10, lr=0.01)
    good = snapshot(net)
    with pytest.raises(fastmlp.DivergenceError,
                       match=r"epoch 2, mini-batch \d+: .*end of epoch 1.*smaller learning rate"):
        net.fit(X, 3 * X, epochs=5, batch_size=10, lr=1e200)
    for p, p0 in zip(snapshot(net), good):
        np.testing.assert_array_equal(p, p0)
    assert net.epochs_trained == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_float32_stays_float32(dtype):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], dtype=dtype, seed=0)
    net.fit(X.astype(np.float64), y, epochs=1, batch_size=4, lr=1.0, momentum=0.5)
    assert all(p.dtype == dtype for l in net.layers for p in l.parameters())
    assert net.forward(X).dtype == dtype
    assert all(g.dtype == dtype for g in net.backprop(X, y).weights)


def test_predict_proba():
    X, y = toy_data()
    for cost, output in [("quadratic", "sigmoid"), ("log_likelihood", "softmax")]:
        p = fastmlp.Network([5, 4, 3], cost=cost, seed=0).predict_proba(X)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        np.testing.assert_array_equal(np.argmax(p, axis=1),
                                      fastmlp.Network([5, 4, 3], cost=cost, seed=0).predict(X))
    binary = fastmlp.Network([5, 1], seed=0)
    np.testing.assert_allclose(binary.predict_proba(X)[:, 1], binary.forward(X)[:, 0])
    with pytest.raises(ValueError, match="identity output"):
        fastmlp.Network([5, 1], output="identity").predict_proba(X)


def test_regression_learns_a_line():
    """y = m x + b with an identity output: the single neuron's weight and bias are m and b."""
    X = np.linspace(-1, 1, 40)[:, None]
    net = fastmlp.Network([1, 1], output="identity", seed=0)
    history = net.fit(X, 2.5 * X[:, 0] - 0.7, epochs=300, batch_size=4, lr=0.1)
    assert net.layers[0].weights[0, 0] == pytest.approx(2.5, abs=1e-6)
    assert net.layers[0].biases[0] == pytest.approx(-0.7, abs=1e-6)
    assert history.train_accuracy[-1] is None and net.evaluate(X, 2.5 * X[:, 0] - 0.7)[1] is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost,output", COMBOS)
def test_gradcheck_passes_and_can_fail(monkeypatch, dtype, cost, output):
    X, y = toy_data(m=6)
    net = fastmlp.Network([5, 4, 3], cost=cost, output=output, dtype=dtype, seed=1)
    before = snapshot(net)
    assert fastmlp.gradcheck(net, X, y) < 1e-6
    for p, p0 in zip(snapshot(net), before):
        np.testing.assert_array_equal(p, p0)
    backprop_off_by_a_tenth(monkeypatch)
    assert fastmlp.gradcheck(net, X, y) > 0.01


@pytest.mark.parametrize("kwargs,message", [
    (dict(momentum=1.0), "momentum must be finite, >= 0 and < 1"),
    (dict(l2=-1.0), "l2 must be finite, >= 0"),
    (dict(early_stopping=3), "need validation_data"),
    (dict(lr_schedule="halve"), "need validation_data"),
    (dict(lr_schedule="cosine"), "lr_schedule='cosine' is not one of 'constant', 'halve'"),
    (dict(callbacks=[3]), "callbacks must be callables"),
    (dict(validation_data=(np.zeros((2, 4)), [0, 1])), "validation X has 4 features per sample"),
])
def test_bad_options_are_refused_before_training(kwargs, message):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], seed=0)
    before = snapshot(net)
    with pytest.raises((ValueError, TypeError), match=message):
        net.fit(X, y, epochs=1, batch_size=4, lr=1.0, **kwargs)
    for p, p0 in zip(snapshot(net), before):
        np.testing.assert_array_equal(p, p0)
    assert net.epochs_trained == 0 and net.history is None


def test_glorot_initialisation_range():
    w = fastmlp.Network([30, 20, 5], init="glorot", seed=0).layers[0].weights
    limit = np.sqrt(6 / 50)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    assert fastmlp.Network([3, 2], cost="cross_entropy", seed=0).layers[0].weights.std() < 1
