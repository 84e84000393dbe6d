"""The command line: every command on tiny data, its numbers checked against the API, and
every error path: exit code 2, one line naming the option, no traceback."""
import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import datasets
from fastmlp.cli import main
from fastmlp.cli.demo import speed_line
from helpers import write_idx


def run_cli(capsys, *argv):
    """The stdout of ``fastmlp argv``, which must succeed (exit code 0)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def fails(capsys, argv, *fragments):
    """``fastmlp argv`` exits with 2 and one line on stderr holding every fragment;
    returns what it printed on stdout."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert re.match(r"fastmlp( [\w-]+)?: error: ", err) and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return out


def number(pattern, text):
    return float(re.search(pattern, text).group(1))


# --- tiny data ---------------------------------------------------------------------------

def easy_images(count, rng):
    """(pixels (count, 28, 28) uint8, labels (count,) uint8): digit d lights up row d."""
    y = rng.integers(0, 10, count, dtype=np.uint8)
    pixels = np.zeros((count, 28, 28), dtype=np.uint8)
    pixels[np.arange(count), y, :] = 255
    return pixels, y


def write_mnist(folder, n_train, n_test, seed=0):
    """A MNIST folder of easy images; returns its {"train": (X, y), "test": (X, y)}."""
    rng = np.random.default_rng(seed)
    for part, count in (("train", n_train), ("test", n_test)):
        images, labels = datasets.MNIST_FILES[part]
        pixels, y = easy_images(count, rng)
        write_idx(folder / images, 2051, pixels.shape, pixels.tobytes())
        write_idx(folder / labels, 2049, y.shape, y.tobytes())
    return datasets.load_mnist(folder)


def write_csv(path, X, y, label_column=2):
    """X and y as a CSV file with the labels in the column named "label" at label_column."""
    names = [f"x{j}" for j in range(X.shape[1])]
    names.insert(label_column, "label")
    table = np.insert(X, label_column, y, axis=1)
    np.savetxt(path, table, delimiter=",", header=",".join(names), comments="", fmt="%.17g")
    return path


@pytest.fixture
def digits_csv(tmp_path):
    X, y = datasets.load_digits()
    return write_csv(tmp_path / "digits.csv", X, y), X, y


@pytest.fixture
def model(tmp_path, digits_csv):
    """A [64, 30, 10] network trained on the digits for 5 epochs, saved, and its data."""
    path, X, y = digits_csv
    net = fastmlp.Network([64, 30, 10], seed=0)
    net.fit(X, y, epochs=5, batch_size=10, lr=3.0)
    net.save(tmp_path / "model.npz")
    return tmp_path / "model.npz", net, X, y


# --- happy paths --------------------------------------------------------------------------

def test_demo_prints_both_backends_accuracy_and_the_speed_ratio(capsys):
    out = run_cli(capsys, "demo", "--epochs", 10)
    ours = number(r"(?m)^test accuracy (\d\.\d+)", out)
    twin = number(r"NumPy twin \(same seed\): test accuracy (\d\.\d+)", out)
    assert ours > 0.9, out
    # The same seed and data: the twin computes the same network to within rounding.
    assert abs(ours - twin) <= 1 / 449, out
    assert number(r"fastmlp \d+\.\d+ s, NumPy \d+\.\d+ s: ([\d.]+)x", out) > 0


def test_speed_line_rounds_the_ratio():
    assert speed_line(0.03, 0.41) == "fastmlp 0.03 s, NumPy 0.41 s: 14x"
    assert speed_line(0.1, 0.32) == "fastmlp 0.10 s, NumPy 0.32 s: 3.2x"


def test_demo_compare_methods_counts_two_forward_passes_per_parameter(capsys):
    out = run_cli(capsys, "demo", "--epochs", 1, "--hidden", 5, "--compare-methods")
    parameters = 64 * 5 + 5 + 5 * 10 + 10
    assert f"{parameters:,} parameters" in out
    assert f"({2 * parameters:,} forward passes)" in out


def test_info_names_the_version(capsys):
    assert f"fastmlp {fastmlp.__version__}" in run_cli(capsys, "info")


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "fastmlp", "info"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("fastmlp ")


@pytest.mark.parametrize("command", ["demo", "train", "evaluate", "predict", "export-c",
                                     "bench"])
def test_help_shows_defaults(capsys, command):
    with pytest.raises(SystemExit) as stop:
        from fastmlp.cli import build_parser
        build_parser().parse_args([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    expected = {"demo": "(default: 30)", "train": "(default: 3.0)", "evaluate": "$FASTMLP_DATA",
                "predict": "$FASTMLP_DATA", "export-c": "(default: the name of OUT.h",
                "bench": "(default: 3)"}[command]
    assert expected in " ".join(out.split()), out


def test_train_on_a_mnist_folder_holds_out_the_last_10000(tmp_path, capsys):
    data = write_mnist(tmp_path, 10_030, 20)
    out = run_cli(capsys, "train", "--data", tmp_path, "--epochs", 2, "--batch-size", 5,
                  "--save", tmp_path / "net.npz")
    assert "training on 30 samples, validating on 10,000" in out
    net = fastmlp.load(tmp_path / "net.npz")
    assert net.sizes == [784, 30, 10] and net.epochs_trained == 2
    # the printed numbers are the saved network's
    X_val, y_val = data["train"][0][-10_000:], data["train"][1][-10_000:]
    correct = round(net.evaluate(X_val, y_val)[1] * 10_000)
    assert f"Epoch 2: {correct} / 10000" in out
    cost, accuracy = net.evaluate(*data["test"])
    assert f"test accuracy {accuracy:.4f} ({round(accuracy * 20)} / 20), cost {cost:.4f}" in out


def test_train_from_idx_paths_equals_the_same_training_through_the_api(tmp_path, capsys):
    rng = np.random.default_rng(1)
    pixels, y = easy_images(200, rng)
    write_idx(tmp_path / "images.idx", 2051, pixels.shape, pixels.tobytes())
    write_idx(tmp_path / "labels.idx", 2049, y.shape, y.tobytes())
    out = run_cli(capsys, "train", "--images", tmp_path / "images.idx", "--labels",
                  tmp_path / "labels.idx", "--hidden", "6,5", "--cost", "cross_entropy",
                  "--init", "glorot", "--epochs", 8, "--batch-size", 4, "--lr", 0.5, "--l2", 0.1,
                  "--momentum", 0.5, "--dtype", "float32", "--seed", 3, "--threads", 1,
                  "--validation-fraction", 0.25, "--save", tmp_path / "net.npz")
    saved = fastmlp.load(tmp_path / "net.npz")

    X = pixels.reshape(200, 784) / 256.0
    (X_train, y_train), (X_val, y_val) = datasets.split(X, y, 0.25, seed=3)
    net = fastmlp.Network([784, 6, 5, 10], cost="cross_entropy", init="glorot",
                          dtype="float32", seed=3)
    net.fit(X_train, y_train, epochs=8, batch_size=4, lr=0.5, l2=0.1, momentum=0.5)
    for mine, theirs in zip(saved.layers, net.layers):
        np.testing.assert_array_equal(mine.weights, theirs.weights)
        np.testing.assert_array_equal(mine.biases, theirs.biases)
    assert "training on 150 samples, validating on 50" in out
    accuracy = saved.evaluate(X_val, y_val)[1]
    assert f"Epoch 8: {round(accuracy * 50)} / 50" in out and accuracy == 1.0, out


def test_train_on_csv_then_evaluate_and_predict(tmp_path, capsys, digits_csv):
    path, X, y = digits_csv
    out = run_cli(capsys, "train", "--data", path, "--label-column", "label", "--epochs", 10,
                  "--validation-fraction", 0.25, "--save", tmp_path / "net.npz")
    net = fastmlp.load(tmp_path / "net.npz")
    assert net.sizes == [64, 30, 10]  # the label column is not a feature
    (_, _), (X_val, y_val) = datasets.split(X, y, 0.25, seed=0)
    accuracy = net.evaluate(X_val, y_val)[1]
    assert accuracy > 0.9 and f"Epoch 10: {round(accuracy * len(y_val))} / {len(y_val)}" in out

    out = run_cli(capsys, "evaluate", tmp_path / "net.npz", "--data", path,
                  "--label-column", "label")
    cost, accuracy = net.evaluate(X, y)
    assert f"accuracy {accuracy:.4f} ({round(accuracy * len(y))} / {len(y)})" in out
    assert f"cost {cost:.4f}" in out

    run_cli(capsys, "predict", tmp_path / "net.npz", "--data", path, "--label-column", "label",
            "--output", tmp_path / "predictions.csv")
    written = np.loadtxt(tmp_path / "predictions.csv", delimiter=",", skiprows=1, dtype=np.int64)
    np.testing.assert_array_equal(written, net.predict(X))


def test_regression_from_npz_and_its_predictions_on_stdout(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (200, 2))
    y = 0.5 * X[:, 0] - 0.25 * X[:, 1] + 0.1
    np.savez(tmp_path / "line.npz", X=X, y=y)
    out = run_cli(capsys, "train", "--data", tmp_path / "line.npz", "--output", "identity",
                  "--hidden", 4, "--epochs", 200, "--lr", 0.5, "--save", tmp_path / "net.npz")
    net = fastmlp.load(tmp_path / "net.npz")
    assert net.sizes == [2, 4, 1] and net.output == "identity"
    assert net.evaluate(X, y)[0] < 1e-3  # quadratic cost, 1/2 mean squared error
    assert "Epoch 200 complete (train cost" in out

    np.savez(tmp_path / "inputs.npz", X=X[:5])  # no y: predict needs none
    out = run_cli(capsys, "predict", tmp_path / "net.npz", "--data", tmp_path / "inputs.npz")
    lines = out.splitlines()
    assert lines[0] == "output0"
    np.testing.assert_allclose([float(v) for v in lines[1:]], net.forward(X[:5])[:, 0],
                               rtol=1e-8)
    np.testing.assert_allclose(net.forward(X[:5])[:, 0], y[:5], atol=0.05)


def test_evaluate_and_predict_read_the_test_part_of_a_mnist_folder(tmp_path, capsys):
    data = write_mnist(tmp_path, 5, 12)
    net = fastmlp.Network([784, 10, 10], seed=0)
    net.save(tmp_path / "net.npz")
    out = run_cli(capsys, "evaluate", tmp_path / "net.npz", "--data", tmp_path)
    cost, accuracy = net.evaluate(*data["test"])
    assert f"accuracy {accuracy:.4f} ({round(accuracy * 12)} / 12), cost {cost:.4f}" in out
    out = run_cli(capsys, "predict", tmp_path / "net.npz", "--data", tmp_path)
    assert [int(v) for v in out.split()[1:]] == net.predict(data["test"][0]).tolist()


def test_export_c_writes_the_networks_header(tmp_path, capsys, model):
    path, net, _, _ = model
    out = run_cli(capsys, "export-c", path, tmp_path / "digits.h", "--name", "digits")
    header = (tmp_path / "digits.h").read_text()
    assert "digits.h" in out
    assert "void digits_forward(const float *x, float *out)" in header
    assert re.search(r"#define DIGITS_N_INPUTS\s+64\b", header)


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_train_plots_the_learning_curves(tmp_path, capsys, monkeypatch, digits_csv):
    from fastmlp.plot import LearningCurveDisplay

    drawn = []
    original = LearningCurveDisplay.from_history.__func__
    monkeypatch.setattr(LearningCurveDisplay, "from_history", classmethod(
        lambda cls, history: drawn.append(original(cls, history)) or drawn[-1]))
    path, _, _ = digits_csv
    out = run_cli(capsys, "train", "--data", path, "--label-column", "label", "--epochs", 3,
                  "--validation-fraction", 0.25, "--plot", tmp_path / "curves.png")
    assert f"learning curves drawn to {tmp_path / 'curves.png'}" in out
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the curve drawn is the run printed: epochs 1-3 and their training costs
    line = drawn[0].lines_["train_cost"]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    printed = [float(c) for c in re.findall(r"train cost (\d\.\d+)", out)]
    np.testing.assert_allclose(line.get_ydata(), printed, atol=5e-5)


def test_plot_without_matplotlib_stops_before_training(tmp_path, capsys, monkeypatch,
                                                        digits_csv):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails
    path, _, _ = digits_csv
    out = fails(capsys, ["train", "--data", path, "--label-column", "label",
                         "--plot", tmp_path / "curves.png"], "pip install 'fastmlp[plot]'")
    assert "Epoch" not in out and not (tmp_path / "curves.png").exists()


def test_ctrl_c_during_training_saves_the_epochs_completed(tmp_path, capsys, monkeypatch,
                                                           digits_csv):
    fit = fastmlp.Network.fit

    def interrupted_after_two_epochs(self, *args, **kwargs):
        fit(self, *args, **{**kwargs, "epochs": 2})
        raise KeyboardInterrupt
    monkeypatch.setattr(fastmlp.Network, "fit", interrupted_after_two_epochs)
    path, _, _ = digits_csv
    code = main(["train", "--data", str(path), "--label-column", "label",
                 "--save", str(tmp_path / "net.npz")])
    out, err = capsys.readouterr()
    assert code == 130 and err == "fastmlp train: interrupted\n"
    assert f"saved the network of epoch 2 to {tmp_path / 'net.npz'}" in out
    assert fastmlp.load(tmp_path / "net.npz").epochs_trained == 2


# --- errors: one line naming the option, exit code 2, no traceback -----------------------

@pytest.mark.parametrize("argv, fragments", [
    (["train", "--hidden", ""], ["argument --hidden", "empty size"]),
    (["train", "--hidden", "30,,10"], ["argument --hidden", "empty size"]),
    (["train", "--hidden", "abc"], ["argument --hidden", "'abc' is not a whole number"]),
    (["train", "--hidden", "0"], ["argument --hidden", ">= 1, got 0"]),
    (["train", "--hidden", "-3"], ["argument --hidden", ">= 1, got -3"]),
    (["train", "--hidden", "30,x"], ["argument --hidden", "'x' in '30,x'"]),
    (["train", "--seed", "-1"], ["argument --seed", ">= 0, got -1"]),
    (["train", "--epochs", "-1"], ["argument --epochs", ">= 1, got -1"]),
    (["train", "--batch-size", "0"], ["argument --batch-size"]),
    (["train", "--lr", "-1"], ["argument --lr", ">= 0"]),
    (["train", "--lr", "nan"], ["argument --lr", "finite"]),
    (["train", "--l2", "x"], ["argument --l2", "'x' is not a number"]),
    (["train", "--momentum", "1"], ["argument --momentum", "< 1"]),
    (["train", "--validation-fraction", "1"], ["argument --validation-fraction", "< 1"]),
    (["train", "--threads", "0"], ["argument --threads", ">= 1"]),
    (["train", "--threads", "1000"], ["argument --threads", "1000"]),
    (["train", "--cost", "hinge"], ["argument --cost", "quadratic"]),
    (["train", "--dtype", "float16"], ["argument --dtype", "float32"]),
    (["train", "--output", "identity", "--cost", "cross_entropy"],
     ["--output identity does not go with --cost cross_entropy"]),
    (["train", "--data", "/nonexistent"], ["argument --data", "/nonexistent does not exist"]),
    (["train", "--save", "/no/such/dir/m.npz"], ["argument --save", "does not exist"]),
    (["train", "--save", "model.txt"], ["argument --save", ".npz"]),
    (["train", "--plot", "curves.txt"], ["argument --plot", ".png"]),
    (["bench", "--only", "W9"], ["argument --only", "'W9'", "W1", "W4b"]),
    (["bench", "--repeats", "0"], ["argument --repeats", ">= 1, got 0"]),
    (["bench", "--threads", "0"], ["argument --threads"]),
    (["evaluate", "/nonexistent.npz"], ["argument MODEL.npz", "does not exist"]),
    (["predict", __file__], ["argument MODEL.npz", ".npz"]),
    (["export-c", __file__, "out.h"], ["argument MODEL.npz"]),
    (["export-c", "m.npz", "out.c"], ["argument MODEL.npz"]),
    (["frobnicate"], ["invalid choice", "train"]),
])
def test_bad_arguments_stop_before_any_data_is_read(capsys, monkeypatch, argv, fragments):
    def no_loading(*args, **kwargs):
        raise AssertionError("data was read before the arguments were checked")
    monkeypatch.setattr("fastmlp.cli.data.load", no_loading)
    monkeypatch.setenv("FASTMLP_DATA", "/nonexistent")
    fails(capsys, argv, *fragments)


def test_output_files_are_checked(tmp_path, capsys, model):
    path, _, _, _ = model
    fails(capsys, ["predict", path, "--output", tmp_path / "no" / "p.csv"],
          "argument --output", "does not exist")
    fails(capsys, ["export-c", path, tmp_path / "out.c"], "argument OUT.h", ".h")
    fails(capsys, ["export-c", path, tmp_path / "out.h", "--name", "1st"],
          "argument --name", "not a C identifier")
    fails(capsys, ["train", "--save", tmp_path], "argument --save", ".npz")
    (tmp_path / "dir.npz").mkdir()
    fails(capsys, ["train", "--save", tmp_path / "dir.npz"], "argument --save", "is a folder")


def test_train_without_data_says_so(capsys, monkeypatch):
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    fails(capsys, ["train"], "--data", "FASTMLP_DATA is not set")
    monkeypatch.setenv("FASTMLP_DATA", "/nonexistent")
    fails(capsys, ["train"], "--data ($FASTMLP_DATA)", "/nonexistent does not exist")


def test_bad_data_is_reported_naming_the_option(tmp_path, capsys, digits_csv):
    csv_path, X, y = digits_csv
    fails(capsys, ["train", "--labels", csv_path], "--labels goes with --images")
    fails(capsys, ["train", "--images", csv_path], "--labels", "--images needs")
    fails(capsys, ["train", "--data", tmp_path], "--data", "holds neither train-images")
    fails(capsys, ["train", "--data", csv_path], "--label-column", "columns: x0, x1, label")
    fails(capsys, ["train", "--data", csv_path, "--label-column", "digit"],
          "--label-column", "no column 'digit'")
    np.savez(tmp_path / "d.npz", X=X, y=y)
    fails(capsys, ["train", "--data", tmp_path / "d.npz", "--label-column", "y"],
          "--label-column applies to CSV data")

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,x,1\n")
    fails(capsys, ["train", "--data", bad, "--label-column", "label"],
          "--data", "line 3, column 'b': 'x' is not a number")
    bad.write_text("a,b,label\n1,2,0\n3,1\n")
    fails(capsys, ["train", "--data", bad, "--label-column", "label"],
          "--data", "line 3 has 2 values, the first row names 3 columns")
    bad.write_text("a,b,label\n")
    fails(capsys, ["train", "--data", bad, "--label-column", "label"], "--data", "no data")
    bad.write_text("a,b,label\n1,2,0.5\n3,1,1\n")
    fails(capsys, ["train", "--data", bad, "--label-column", "label"],
          "--data", "--output identity")

    np.savez(tmp_path / "other.npz", inputs=X)
    fails(capsys, ["train", "--data", tmp_path / "other.npz"],
          "--data", "holds the arrays inputs", "fastmlp reads X")
    np.savez(tmp_path / "flat.npz", X=X[:, 0], y=y)
    fails(capsys, ["train", "--data", tmp_path / "flat.npz"],
          "--data", "X must be 2-D (samples, features), got shape (1797,)")
    np.savez(tmp_path / "few.npz", X=X[:3], y=y[:3])
    fails(capsys, ["train", "--data", tmp_path / "few.npz", "--validation-fraction", "0.9"],
          "--validation-fraction 0.9 of 3 samples leaves 0 to train on")
    write_mnist(tmp_path, 50, 5)
    fails(capsys, ["train", "--data", tmp_path], "--data", "50 training images",
          "--validation-fraction")
    write_idx(tmp_path / "labels.idx", 2049, (4,), bytes(4))
    fails(capsys, ["train", "--images", tmp_path / "labels.idx", "--labels",
                   tmp_path / "labels.idx"], "--images", "holds labels, not images")


def test_divergence_names_the_learning_rate(tmp_path, capsys):
    X = np.linspace(0, 1, 20)[:, None]
    np.savez(tmp_path / "d.npz", X=X, y=1e6 * X[:, 0])
    fails(capsys, ["train", "--data", tmp_path / "d.npz", "--output", "identity",
                   "--lr", "1e30", "--epochs", "3"], "--lr 1e+30", "diverged")


def test_saved_model_and_data_that_do_not_fit(tmp_path, capsys, model):
    path, _, X, y = model
    np.savez(tmp_path / "wide.npz", X=np.zeros((3, 65)), y=np.zeros(3))
    fails(capsys, ["evaluate", path, "--data", tmp_path / "wide.npz"],
          "--data", "65 features per sample, the network expects 64")
    np.savez(tmp_path / "labels.npz", X=X[:3], y=[0, 1, 12])
    fails(capsys, ["evaluate", path, "--data", tmp_path / "labels.npz"],
          "--data", "y[2] = 12 is not a class label in 0..9")
    np.savez(tmp_path / "unlabelled.npz", X=X[:3])
    fails(capsys, ["evaluate", path, "--data", tmp_path / "unlabelled.npz"],
          "--data", "holds the arrays X;", "and y (labels")
    csv_path = write_csv(tmp_path / "d.csv", X[:3], y[:3])
    fails(capsys, ["predict", path, "--data", csv_path], "--label-column")
    fails(capsys, ["evaluate", tmp_path / "unlabelled.npz", "--data", csv_path],
          "MODEL.npz")


@pytest.mark.parametrize("argv", [["train", "--hidden", "abc"], ["bench", "--only", "W9"],
                                  ["evaluate", __file__.replace(".py", ".npz")]])
def test_no_traceback_from_the_installed_command(argv):
    result = subprocess.run([sys.executable, "-m", "fastmlp", *argv], capture_output=True,
                            text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("name, accepted", [
    ("net", True), ("_x9", True), ("Net_2", True),
    ("1st", False), ("modèle", False), ("a-b", False), ("", False), ("net\n", False)])
def test_export_c_name_is_checked_by_the_librarys_rule(name, accepted, tmp_path, capsys):
    """--name is checked when the command line is read, by the library's own rule."""
    from fastmlp.export import export_c

    net = fastmlp.Network([3, 2], seed=0)
    net.save(tmp_path / "m.npz")
    argv = ["export-c", tmp_path / "m.npz", tmp_path / "out.h", "--name", name]
    if accepted:
        run_cli(capsys, *argv)
        assert f"int {name}_predict(const float *x)" in (tmp_path / "out.h").read_text()
        export_c(net, tmp_path / "api.h", name=name)
    else:
        fails(capsys, argv, f"argument --name: {name!r} is not a C identifier (ASCII letters, "
                            "digits and _, not starting with a digit)")
        with pytest.raises(ValueError, match=f"name={re.escape(repr(name))} is not a C identifier"):
            export_c(net, tmp_path / "api.h", name=name)
        assert not (tmp_path / "out.h").exists() and not (tmp_path / "api.h").exists()


@pytest.mark.parametrize("labels, message", [
    ([0, 1, 2.5], "y holds class labels but y[2] = 2.5 is not an integer"),
    ([0, -1, 1], "y[1] = -1 is not a class label"),
    ([0, 1e30, 1], "y[1] = 1e+30 is not a class label (a whole number >= 0)"),
    ([0, np.nan, 1], "y contains nan at index 1"),
    ([0, 1, -np.inf], "y contains -inf at index 2")])
def test_train_names_the_label_that_is_not_a_class(labels, message, tmp_path, capsys):
    np.savez(tmp_path / "d.npz", X=np.zeros((3, 2)), y=np.array(labels))
    fails(capsys, ["train", "--data", tmp_path / "d.npz", "--epochs", 1],
          "--data", message, "; for a regression give --output identity")


def test_train_sizes_the_output_layer_from_the_labels():
    from fastmlp.cli.train import output_size

    assert output_size(np.array([0.0, 3.0, 1.0]), "sigmoid") == 4
    assert output_size(np.array([2, 0], dtype=np.uint8), "softmax") == 3
    assert output_size(np.array([0.5, -7.0]), "identity") == 1
    assert output_size(np.zeros((4, 5)), "sigmoid") == 5


def test_option_converters_raise_only_argument_type_error():
    """argparse reports an ArgumentTypeError's own message; a ValueError or TypeError
    would become "invalid <function name> value", and anything else a traceback.  Every
    converter on the parser, given text no option accepts (a name too long for the file
    system among them), either converts it or raises ArgumentTypeError."""
    import argparse

    from fastmlp.cli import build_parser

    converters, parsers = [], [build_parser()]
    while parsers:
        for action in parsers.pop()._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers += action.choices.values()
            elif callable(action.type) and action.type.__module__.startswith("fastmlp."):
                converters.append((action.option_strings or action.metavar, action.type))
    assert {convert.__qualname__ for _, convert in converters} == {
        "integer.<locals>.convert", "real.<locals>.convert", "hidden_sizes", "thread_count",
        "existing_file.<locals>.convert", "new_file.<locals>.convert", "c_identifier",
        "data_path"}
    long = "9" * 5000
    texts = ["", " ", "abc", "-1", "0", "0.5", "nan", "-inf", "1e999", long, ",,", "30,",
             "é", "\udcff", "a\0b.h", "x\0/y.npz", "/nonexistent/out.h", ".",
             *(long + suffix for suffix in (".h", ".npz", ".csv", ".png"))]
    raised = []
    for option, convert in converters:
        for text in texts:
            try:
                convert(text)
            except argparse.ArgumentTypeError:
                pass
            except Exception as error:
                raised.append(f"{option} {text[:20]!r}...: {error!r}"[:120])
    assert raised == []
