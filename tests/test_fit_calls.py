"""What a fit or partial_fit call promises about the network's state: momentum carried
between partial_fit calls, per-sample weights, the thread count of one call, one fit at a
time, Ctrl-C rolled back to a completed epoch."""
import signal
import threading

import numpy as np
import pytest

import fastmlp
from helpers import DTYPES, TRAINED_TOLERANCE, snapshot, toy_data


def assert_same_parameters(a, b, dtype, exact=False):
    for x, y in zip(a, b):
        if exact:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, **TRAINED_TOLERANCE[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_partial_fit_continues_one_run_with_its_velocities(backend, dtype):
    """Two partial_fit calls on the halves of the data train as one epoch over all of it."""
    X, y = toy_data(40, 6, seed=0)
    whole = fastmlp.Network([6, 5, 3], dtype=dtype, seed=1, backend=backend)
    whole.fit(X, y, epochs=1, batch_size=5, lr=0.5, momentum=0.9, shuffle=False)
    halves = fastmlp.Network([6, 5, 3], dtype=dtype, seed=1, backend=backend)
    halves.partial_fit(X[:20], y[:20], batch_size=5, lr=0.5, momentum=0.9, shuffle=False)
    history = halves.partial_fit(X[20:], y[20:], batch_size=5, lr=0.5, momentum=0.9, shuffle=False)
    assert_same_parameters(snapshot(halves), snapshot(whole), dtype)
    assert history is halves.history and len(history) == 2 and halves.epochs_trained == 2
    # without the velocities carried over, the second half trains differently
    fresh = fastmlp.Network([6, 5, 3], dtype=dtype, seed=1, backend=backend)
    fresh.partial_fit(X[:20], y[:20], batch_size=5, lr=0.5, momentum=0.9, shuffle=False)
    fresh._velocities = None
    fresh.partial_fit(X[20:], y[20:], batch_size=5, lr=0.5, momentum=0.9, shuffle=False)
    assert not np.allclose(fresh.parameters()[0], whole.parameters()[0], rtol=1e-6)


def test_fit_starts_momentum_afresh():
    X, y = toy_data(40, 6, seed=1)
    a = fastmlp.Network([6, 4, 3], seed=2)
    a.partial_fit(X, y, batch_size=8, lr=0.5, momentum=0.8)
    a.fit(X, y, epochs=1, batch_size=8, lr=0.5, momentum=0.8)
    b = fastmlp.Network([6, 4, 3], seed=2)
    b.partial_fit(X, y, batch_size=8, lr=0.5, momentum=0.8)
    b._velocities = None  # what fit does: velocities from zero
    b.partial_fit(X, y, batch_size=8, lr=0.5, momentum=0.8)
    assert_same_parameters(snapshot(a), snapshot(b), np.float64, exact=True)
    assert len(a.history) == 1  # fit's history replaces partial_fit's


@pytest.mark.parametrize("dtype", DTYPES)
def test_equal_sample_weights_train_exactly_as_none(dtype):
    X, y = toy_data(40, 6, seed=2)
    plain = fastmlp.Network([6, 5, 3], dtype=dtype, seed=3)
    plain.fit(X, y, epochs=2, batch_size=7, lr=1.0)
    weighted = fastmlp.Network([6, 5, 3], dtype=dtype, seed=3)
    weighted.fit(X, y, epochs=2, batch_size=7, lr=1.0, sample_weight=np.full(40, 3.5))
    assert_same_parameters(snapshot(weighted), snapshot(plain), dtype, exact=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_weights_match_the_numpy_twin(dtype):
    X, y = toy_data(40, 6, seed=3)
    w = np.random.default_rng(4).random(40) * 3
    nets = [fastmlp.Network([6, 5, 3], dtype=dtype, seed=5, backend=b) for b in ("c", "numpy")]
    for net in nets:
        net.fit(X, y, epochs=3, batch_size=6, lr=0.8, momentum=0.5, l2=0.1, sample_weight=w)
    assert_same_parameters(snapshot(nets[0]), snapshot(nets[1]), dtype)
    unweighted = fastmlp.Network([6, 5, 3], dtype=dtype, seed=5)
    unweighted.fit(X, y, epochs=3, batch_size=6, lr=0.8, momentum=0.5, l2=0.1)
    assert not np.allclose(unweighted.parameters()[0], nets[0].parameters()[0], rtol=1e-3)


@pytest.mark.parametrize("weights,message", [
    (np.ones(39), r"sample_weight has shape \(39,\), expected \(40,\)"),
    (np.r_[np.ones(39), -1.0], r"sample_weight\[39\] = -1.0 is negative"),
    (np.r_[np.nan, np.ones(39)], "sample_weight contains nan at index 0"),
    (np.zeros(40), "sample_weight is 0 for every sample"),
])
def test_bad_sample_weights_are_refused(weights, message):
    X, y = toy_data(40, 6, seed=4)
    net = fastmlp.Network([6, 3, 3], seed=0)
    before = snapshot(net)
    with pytest.raises(ValueError, match=message):
        net.fit(X, y, epochs=1, batch_size=4, lr=0.1, sample_weight=weights)
    assert_same_parameters(snapshot(net), before, np.float64, exact=True)


def test_threads_of_one_call_leave_every_other_count_alone():
    default = fastmlp.get_num_threads()
    n = default % 64 + 1  # a count other than the default, within 1..64
    seen = {}

    def other():
        seen["other"] = fastmlp.get_num_threads()

    with fastmlp.threads(n):
        seen["inside"] = fastmlp.get_num_threads()
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == {"inside": n, "other": default}
    assert fastmlp.get_num_threads() == default
    X, y = toy_data(40, 6, seed=5)
    net = fastmlp.Network([6, 3, 3], seed=0)
    net.fit(X, y, epochs=1, batch_size=4, lr=0.1, threads=n,
            callbacks=[lambda net, record: seen.__setitem__("during", fastmlp.get_num_threads())])
    assert seen["during"] == n and fastmlp.get_num_threads() == default


def test_a_second_fit_on_a_training_network_is_refused():
    X, y = toy_data(40, 6, seed=6)
    net = fastmlp.Network([6, 3, 3], seed=0)
    errors = []

    def refit(network, record):
        try:
            network.fit(X, y, epochs=1, batch_size=4, lr=0.1)
        except RuntimeError as error:
            errors.append(str(error))

    net.fit(X, y, epochs=2, batch_size=4, lr=0.1, callbacks=[refit])
    assert len(errors) == 2 and "already training" in errors[0]
    assert net.epochs_trained == 2
    net.fit(X, y, epochs=1, batch_size=4, lr=0.1)  # free again afterwards
    assert net.epochs_trained == 3


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_outputs_that_overflow_are_an_error_not_class_0(backend):
    net = fastmlp.Network([2, 1], output="identity", seed=0, backend=backend)
    net.layers[0].weights = [[1.0, 1.0]]
    x = np.array([[0.5, 0.5], [1e308, 1e308]])
    for call in (net.forward, net.predict, lambda X: net.evaluate(X, [0.0, 0.0])):
        with pytest.raises(FloatingPointError, match="outputs for row 1 are not finite"):
            call(x)


def test_ctrl_c_rolls_back_to_the_last_completed_epoch():
    """SIGINT lands inside an epoch; the network then holds exactly the completed epochs."""
    rng = np.random.default_rng(0)
    X, y = rng.random((6000, 300)), rng.integers(0, 10, 6000)
    net = fastmlp.Network([300, 200, 10], seed=1)
    timer = threading.Timer(0.3, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=1000, batch_size=1, lr=0.1, momentum=0.5)
    timer.join()
    assert net.history.stopped == "interrupted"
    assert net.epochs_trained == len(net.history)
    replay = fastmlp.Network([300, 200, 10], seed=1)
    if net.epochs_trained:
        replay.fit(X, y, epochs=net.epochs_trained, batch_size=1, lr=0.1, momentum=0.5)
    assert_same_parameters(snapshot(net), snapshot(replay), np.float64, exact=True)


@pytest.mark.parametrize("batch", [1, 7])
def test_an_epoch_reports_progress_between_chunks(batch, monkeypatch):
    """The C epoch returns to Python every chunk of mini-batches (fixed by the network's
    size, so results never depend on timing); progress counts samples up to n."""
    from fastmlp import kernel_backend

    X, y = toy_data(100, 6, seed=7)
    Y = np.eye(3)[y]
    net = fastmlp.Network([6, 5, 3], seed=0)
    flops_per_batch = 6 * sum(w.size for w in net._weights()) * batch
    monkeypatch.setattr(kernel_backend, "FLOPS_PER_CALL", 3 * flops_per_batch)
    trainer = kernel_backend.Trainer(net._weights(), net._biases(), batch_size=batch,
                                     cost="quadratic", output="sigmoid")
    seen = []
    trainer.epoch(X, Y, None, 0.5, 0.0, on_progress=seen.append)
    assert seen == [min(k * 3 * batch, 100) for k in range(1, len(seen) + 1)]
    assert seen[-1] == 100 and len(seen) == -(-100 // (3 * batch))
