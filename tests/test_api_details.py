"""Network.summary, predict on a regression network, and what `import fastmlp` loads."""
import subprocess
import sys

import numpy as np
import pytest

import fastmlp


def test_summary_lists_layers_parameters_dtype_cost_and_epochs():
    net = fastmlp.Network([4, 3, 2], cost="cross_entropy", dtype="float32", seed=0)
    net.fit(np.eye(4), [0, 1, 1, 0], epochs=2, batch_size=2, lr=0.1)
    lines = net.summary().splitlines()
    assert lines[0] == "Network [4, 3, 2]"
    assert lines[1].split() == ["layer", "inputs", "neurons", "activation", "weights", "biases",
                                "parameters"]
    # 4 x 3 weights + 3 biases = 15; 3 x 2 + 2 = 8; 23 in all
    assert lines[2].split() == ["1", "4", "3", "sigmoid", "12", "3", "15"]
    assert lines[3].split() == ["2", "3", "2", "sigmoid", "6", "2", "8"]
    assert lines[4] == ("total parameters: 23; dtype float32; cost cross_entropy; "
                        "epochs trained: 2")
    assert len(lines) == 5


def test_summary_names_the_output_activation_and_groups_thousands():
    text = fastmlp.Network([784, 100, 1], output="identity").summary()
    assert text.splitlines()[2].split() == ["1", "784", "100", "sigmoid", "78,400", "100",
                                            "78,500"]
    assert text.splitlines()[3].split() == ["2", "100", "1", "identity", "100", "1", "101"]
    assert "total parameters: 78,601;" in text


def test_predict_on_a_regression_network_returns_its_outputs():
    net = fastmlp.Network([3, 4, 2], output="identity", seed=0)
    X = np.random.default_rng(0).standard_normal((5, 3))
    out = net.predict(X)
    assert out.dtype == np.float64 and out.shape == (5, 2)
    np.testing.assert_array_equal(out, net.forward(X))
    np.testing.assert_array_equal(net.predict(X[0]), net.forward(X)[0])
    # outputs well outside [0, 1], which 0/1 labels could not be
    net.layers[-1].biases = [10.0, -10.0]
    assert (net.predict(X)[:, 0] > 5).all() and (net.predict(X)[:, 1] < -5).all()


def test_predict_on_a_classifier_still_returns_labels():
    net = fastmlp.Network([2, 2], seed=0)
    net.layers[0].weights, net.layers[0].biases = [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]
    np.testing.assert_array_equal(net.predict([[5.0, -5.0], [-5.0, 5.0]]), [0, 1])


EXTRAS = ("fastmlp.plot", "fastmlp.export", "matplotlib", "onnx")


def extras_loaded_by(code):
    """The modules of EXTRAS that running `code` in a fresh interpreter imports."""
    probe = f"import sys; {code}; print(sorted(m for m in {EXTRAS!r} if m in sys.modules))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_datasets_is_an_attribute_and_extras_are_not_imported():
    assert extras_loaded_by("import fastmlp; fastmlp.datasets.load_digits") == "[]"


def test_the_command_line_imports_no_extras():
    assert extras_loaded_by("import fastmlp.cli; fastmlp.cli.build_parser()") == "[]"


def test_equal_sample_weights_of_any_value_train_exactly_as_none():
    """w / mean(w) of equal weights is 1 in exact arithmetic but not always in floating
    point (50 weights of 0.1 give 1.0000000000000002): equal weights are no weights."""
    rng = np.random.default_rng(0)
    X, y = rng.random((50, 4)), rng.integers(0, 2, 50)
    plain, weighted = (fastmlp.Network([4, 3, 2], seed=1) for _ in range(2))
    plain.fit(X, y, epochs=2, batch_size=7, lr=0.5)
    for w in (0.1, 0.7, 3.0):
        again = fastmlp.Network([4, 3, 2], seed=1)
        again.fit(X, y, epochs=2, batch_size=7, lr=0.5, sample_weight=np.full(50, w))
        for p, q in zip(plain.parameters(), again.parameters()):
            np.testing.assert_array_equal(p, q)


def test_ctrl_c_in_the_validation_pass_rolls_the_epoch_back(monkeypatch):
    """An interrupt that lands in an epoch's validation pass (one C call, so Python sees
    the signal as it returns) undoes that epoch like one inside training."""
    rng = np.random.default_rng(1)
    X, y = rng.random((40, 4)), rng.integers(0, 2, 40)
    net = fastmlp.Network([4, 3, 2], seed=2)
    score, calls = net._score, []

    def interrupted_on_the_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return score(*args)

    monkeypatch.setattr(net, "_score", interrupted_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=3, batch_size=5, lr=0.5, validation_data=(X, y))
    replay = fastmlp.Network([4, 3, 2], seed=2)
    replay.fit(X, y, epochs=1, batch_size=5, lr=0.5)
    assert net.epochs_trained == 1 and len(net.history) == 1
    assert net.history.stopped == "interrupted"
    for p, q in zip(net.parameters(), replay.parameters()):
        np.testing.assert_array_equal(p, q)


def test_layers_are_fixed_their_arrays_live():
    """`net.layers` cannot be replaced entry by entry (a forward set-up built from them
    would go stale); writing into a layer's arrays changes the network at once."""
    net = fastmlp.Network([3, 2, 2], seed=0)
    x = np.ones(3)
    net.forward(x)
    with pytest.raises(TypeError):
        net.layers[0] = fastmlp.Layer(3, 2)
    before = net.forward(x)
    net.layers[1].biases[:] += 5
    assert not np.array_equal(net.forward(x), before)
    import pickle
    assert isinstance(pickle.loads(pickle.dumps(net)).layers, tuple)


def test_monitor_chooses_the_best_epoch_and_stops():
    """fit(monitor=f): f(net, record) is the score the best epoch is chosen by; early
    stopping restores that epoch's parameters."""
    rng = np.random.default_rng(3)
    X, y = rng.random((60, 4)), rng.integers(0, 2, 60)
    scores = [0.1, 0.9, 0.2, 0.3, 0.4, 0.5]  # best at epoch 2, then 4 epochs without
    net = fastmlp.Network([4, 3, 2], seed=4)
    snapshots = {}
    history = net.fit(X, y, epochs=6, batch_size=6, lr=0.5, validation_data=(X, y),
                      early_stopping=3,
                      callbacks=[lambda n, r: snapshots.update({r["epoch"]: [p.copy() for p in n.parameters()]})],
                      monitor=lambda n, r: scores[r["epoch"] - 1])
    assert history.best_epoch == 2 and len(history) == 5 and history.stopped == "early_stopping"
    for p, q in zip(net.parameters(), snapshots[2]):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match="monitor need validation_data"):
        net.fit(X, y, epochs=1, batch_size=6, lr=0.5, monitor=lambda n, r: 0.0)
    with pytest.raises(TypeError, match="monitor must be a callable"):
        net.fit(X, y, epochs=1, batch_size=6, lr=0.5, validation_data=(X, y), monitor=3)
