"""The exported C headers, compiled with the system C compiler and run on the digits,
against Network.forward and predict (and the fixed-point header against its NumPy twin)."""
import re
import subprocess

import numpy as np
import pytest

import fastmlp
from fastmlp import datasets
from fastmlp.export import c_fixed, export_c
from fastmlp.numpy_backend import softmax

from helpers import compile_c, needs_cc, run_header

# (cost, output, learning rate): every output activation the headers handle.
KINDS = {"quadratic": ("quadratic", "sigmoid", 3.0), "cross_entropy": ("cross_entropy", "sigmoid", 0.5),
         "log_likelihood": ("log_likelihood", "softmax", 0.5), "identity": ("quadratic", "identity", 0.1)}
# Float header: float32 weights and float32 sums in another order than the kernels'; the
# difference measured up to 6e-7 on sigmoid and softmax outputs, 1.5e-6 on identity ones.
FLOAT_ATOL = 1e-5
# Fixed point: inputs to 2^-12, activations to 2^-14, the table sigmoid to 1.1e-4; the
# outputs measured within 3.2e-4 of forward (sigmoid, softmax) and 5.9e-4 (identity).
FIXED_ATOL = 2e-3


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits()


def trained(kind, dtype, digits, sizes=(64, 30, 10), epochs=5):
    cost, output, lr = KINDS[kind]
    X, y = digits
    net = fastmlp.Network(list(sizes), cost=cost, output=output, dtype=dtype, seed=1)
    net.fit(X, y, epochs=epochs, batch_size=10, lr=lr)
    return net


def classes(net, X):
    """The classes the header's predict returns: Network.predict's, or for a regression
    network, whose predict returns its outputs, the classifier's rule applied to them."""
    out = net.predict(X)
    if net.output != "identity":
        return out
    return (out[:, 0] >= 0.5).astype(np.int64) if out.shape[1] == 1 else np.argmax(out, axis=1)


def every_network(test):
    """Run `test` for every output kind in both dtypes, where a C compiler exists."""
    for mark in (pytest.mark.parametrize("dtype", ["float32", "float64"]),
                 pytest.mark.parametrize("kind", list(KINDS)), needs_cc):
        test = mark(test)
    return test


@every_network
def test_float_header_matches_forward(kind, dtype, digits, tmp_path):
    X, _ = digits
    net = trained(kind, dtype, digits)
    out, labels = run_header(export_c(net, tmp_path / "digits.h"), "digits", X, 10)
    np.testing.assert_allclose(out, net.forward(X), rtol=0, atol=FLOAT_ATOL)
    np.testing.assert_array_equal(labels, classes(net, X))


@every_network
def test_fixed_point_header_agrees_with_forward(kind, dtype, digits, tmp_path):
    X, _ = digits
    net = trained(kind, dtype, digits)
    header = export_c(net, tmp_path / "digits_q.h", fixed_point=True)
    out, labels = run_header(header, "digits_q", X, 10)
    twin_out, twin_labels = c_fixed.simulate(net, X)
    np.testing.assert_array_equal(out, twin_out)
    np.testing.assert_array_equal(labels, twin_labels)
    agreement = np.mean(labels == classes(net, X))
    assert agreement >= 0.99, f"fixed point agrees with predict on {agreement:.2%} of the digits"
    probabilities = softmax(out) if net.output == "softmax" else out
    np.testing.assert_allclose(probabilities, net.forward(X), rtol=0, atol=FIXED_ATOL)


@needs_cc
@pytest.mark.parametrize("fixed_point", [False, True])
@pytest.mark.parametrize("kind", ["quadratic", "identity", "cross_entropy"])
def test_one_output_and_three_layers(kind, fixed_point, tmp_path):
    """A single output (predict thresholds it at 0.5) and two hidden layers (the
    activations alternate between two buffers)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (300, 6))
    y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    for sizes in ([6, 5, 1], [6, 7, 4, 1]):
        cost, output, lr = KINDS[kind]
        net = fastmlp.Network(sizes, cost=cost, output=output, seed=2)
        net.fit(X, y[:, None].astype(float), epochs=20, batch_size=10, lr=lr)
        out, labels = run_header(export_c(net, tmp_path / "small.h", fixed_point=fixed_point),
                                 "small", X, 1)
        if fixed_point:
            twin_out, twin_labels = c_fixed.simulate(net, X)
            np.testing.assert_array_equal(out, twin_out)
            np.testing.assert_array_equal(labels, twin_labels)
        np.testing.assert_allclose(out, net.forward(X), rtol=0,
                                   atol=FIXED_ATOL if fixed_point else FLOAT_ATOL)
        agreement = np.mean(labels == classes(net, X))
        assert agreement >= (0.99 if fixed_point else 1.0), (sizes, agreement)


@needs_cc
def test_table_sigmoid_error_bound(tmp_path):
    """Every z from -13 to 13 in steps of 2^-12: the C table sigmoid equals its NumPy twin
    and is within 1.8 / 2^14 of the true sigmoid (0.5 for rounding the table, 0.77 for
    interpolating between entries 1/16 apart: h^2 max|s''| / 8, 0.5 for rounding the
    interpolated value)."""
    net = fastmlp.Network([2, 2], seed=0)
    header = export_c(net, tmp_path / "s.h", fixed_point=True)
    zmax = 13 << c_fixed.Z_BITS
    program = compile_c(f'#include <stdio.h>\n#include "{header.name}"\nint main(void) {{\n'
                        f"    for (long z = -{zmax}; z <= {zmax}; z++) printf(\"%d\\n\", s_sigmoid_q(z));\n"
                        "    return 0;\n}\n", tmp_path, "table")
    printed = subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout
    got = np.array(printed.split(), dtype=np.int64)
    z = np.arange(-zmax, zmax + 1)
    np.testing.assert_array_equal(got, c_fixed.sigmoid_q(z))
    error = np.abs(got / 2.0**14 - 1 / (1 + np.exp(-z / 2.0**c_fixed.Z_BITS))).max()
    assert 0.5 / 2**14 < error <= 1.8 / 2**14


@pytest.mark.parametrize("fixed_point", [False, True])
def test_header_states_the_network_and_calls_no_libm_but_expf(fixed_point, digits, tmp_path):
    net = trained("cross_entropy", "float32", digits, epochs=2)
    text = export_c(net, tmp_path / "digits-v2.h", fixed_point=fixed_point).read_text()
    last = net.history.records()[-1]
    for fact in ["64 -> 30 -> 10", "cross_entropy", "sigmoid", "trained as     float32",
                 "epochs trained 2", f"epoch 2: train_cost {last['train_cost']:.6g}",
                 "void digits_v2_forward(const float *x, float *out)",
                 "int digits_v2_predict(const float *x)"]:
        assert fact in text
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    called = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", code)) - {"if", "for", "return", "sizeof"}
    outside = {f for f in called if not f.startswith("digits_v2_")}
    assert outside == (set() if fixed_point else {"expf"})
    assert ("#include <math.h>" in text) != fixed_point


def test_network_method_writes_the_same_header(tmp_path):
    net = fastmlp.Network([3, 2], seed=0)
    a = export_c(net, tmp_path / "a.h", fixed_point=True, name="net")
    b = net.export_c(tmp_path / "b.h", fixed_point=True, name="net")
    assert a.read_text() == b.read_text()


def test_bad_input_is_refused_by_name(tmp_path):
    net = fastmlp.Network([3, 2], seed=0)
    with pytest.raises(ValueError, match=r"name='2net' is not a C identifier"):
        export_c(net, tmp_path / "x.h", name="2net")
    with pytest.raises(TypeError, match="expected a fastmlp.Network, got list"):
        export_c([1, 2], tmp_path / "x.h")
    net.layers[0].weights[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"layers\[0\]\.weights contains nan at index \(1, 2\): only "):
        export_c(net, tmp_path / "x.h")
    assert not (tmp_path / "x.h").exists()
    assert "net_2024_model_forward" in export_c(fastmlp.Network([2, 1]),
                                                tmp_path / "2024-model.h").read_text()


@needs_cc
@pytest.mark.parametrize("fixed_point", [False, True])
def test_a_file_name_beyond_ascii_gives_a_c_identifier(fixed_point, tmp_path):
    """In modèle.h the è becomes _, as any character a C identifier cannot hold (a letter
    outside ASCII is one); the header compiles and computes as the network does."""
    X = np.random.default_rng(0).uniform(0, 1, (50, 3))
    net = fastmlp.Network([3, 4, 3], seed=0)
    header = export_c(net, tmp_path / "modèle.h", fixed_point=fixed_point)
    assert "int mod_le_predict(const float *x)" in header.read_text(encoding="ascii")
    out, labels = run_header(header, "mod_le", X, 3)
    if fixed_point:
        twin_out, twin_labels = c_fixed.simulate(net, X)
        np.testing.assert_array_equal(out, twin_out)
        np.testing.assert_array_equal(labels, twin_labels)
    else:
        np.testing.assert_allclose(out, net.forward(X), rtol=0, atol=FLOAT_ATOL)
        np.testing.assert_array_equal(labels, net.predict(X))


def test_a_failed_export_leaves_the_existing_header_as_it_was(tmp_path, monkeypatch):
    """Text that cannot be written as ASCII, and a write that fails on the disk: either
    way the header already there keeps its bytes, and no temporary file is left."""
    import errno
    import os

    from fastmlp.export import c_float

    net = fastmlp.Network([3, 2], seed=0)
    path = export_c(net, tmp_path / "net.h")
    before = path.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(c_float, "header", lambda net, name: "/* é */\n")
        with pytest.raises(UnicodeEncodeError):
            export_c(net, path)
    assert path.read_bytes() == before
    with monkeypatch.context() as patch:
        def disk_full(fd):
            raise OSError(errno.ENOSPC, "No space left on device")
        patch.setattr(os, "fsync", disk_full)
        with pytest.raises(OSError, match="No space left"):
            export_c(fastmlp.Network([3, 5, 2], seed=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.h"]
