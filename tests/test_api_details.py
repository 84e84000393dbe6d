"""Network.summary, predict on a regression network, and what `import fastmlp` loads."""
import subprocess
import sys

import numpy as np

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
