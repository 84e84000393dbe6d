"""save / load, pickle and deepcopy."""
import copy
import json
import pickle
import zipfile

import numpy as np
import pytest

import fastmlp
from fastmlp import serialization
from helpers import DTYPES, toy_data


def trained(dtype="float64", **kwargs):
    X, y = toy_data()
    net = fastmlp.Network([5, 4, 3], dtype=dtype, seed=7, **kwargs)
    net.fit(X, y, epochs=2, batch_size=4, lr=1.0)
    return net


def assert_identical(a, b):
    assert (a.sizes, a.cost, a.output, a.dtype, a.backend, a.epochs_trained) == \
           (b.sizes, b.cost, b.output, b.dtype, b.backend, b.epochs_trained)
    for la, lb in zip(a.layers, b.layers):
        assert la.weights.tobytes() == lb.weights.tobytes()
        assert la.biases.tobytes() == lb.biases.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_save_load_is_bit_for_bit_and_continues_identically(tmp_path, dtype):
    net = trained(dtype, cost="log_likelihood")
    net.save(tmp_path / "net.npz")
    loaded = fastmlp.load(tmp_path / "net.npz")
    assert_identical(net, loaded)
    X, y = toy_data()
    net.fit(X, y, epochs=1, batch_size=4, lr=1.0)  # the shuffling stream was saved too
    loaded.fit(X, y, epochs=1, batch_size=4, lr=1.0)
    assert_identical(net, loaded)


def test_file_holds_no_pickle(tmp_path):
    trained().save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["W0", "W1", "b0", "b1", "header"]
        header = json.loads(data["header"].tobytes())
    assert header["format_version"] == serialization.FORMAT_VERSION
    assert header["sizes"] == [5, 4, 3] and header["fastmlp_version"] == fastmlp.__version__


def test_truncated_file_is_refused(tmp_path):
    trained().save(tmp_path / "net.npz")
    raw = (tmp_path / "net.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match="not a readable fastmlp file"):
        fastmlp.load(tmp_path / "cut.npz")


def rewrite(src, dst, change):
    """Copy a saved network, letting `change(name, array)` alter its arrays."""
    with np.load(src) as data:
        arrays = {name: change(name, data[name].copy()) for name in data.files}
    with open(dst, "wb") as f:
        np.savez(f, **arrays)


def test_tampered_parameters_are_refused(tmp_path):
    trained().save(tmp_path / "net.npz")

    def nudge(name, a):
        if name == "W1":
            a[0, 0] += 1e-12
        return a

    rewrite(tmp_path / "net.npz", tmp_path / "bad.npz", nudge)
    with pytest.raises(ValueError, match="altered or damaged"):
        fastmlp.load(tmp_path / "bad.npz")


def edit_header(tmp_path, edit):
    trained().save(tmp_path / "net.npz")

    def change(name, a):
        if name != "header":
            return a
        header = json.loads(a.tobytes())
        edit(header)
        return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)

    rewrite(tmp_path / "net.npz", tmp_path / "edited.npz", change)
    return tmp_path / "edited.npz"


def test_newer_format_is_refused(tmp_path):
    path = edit_header(tmp_path, lambda h: h.update(format_version=99))
    with pytest.raises(ValueError, match="format 99.*upgrade fastmlp"):
        fastmlp.load(path)


def test_altered_header_is_refused(tmp_path):
    path = edit_header(tmp_path, lambda h: h.update(cost="cross_entropy"))
    with pytest.raises(ValueError, match="altered or damaged"):
        fastmlp.load(path)


def test_other_files_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="no fastmlp header"):
        fastmlp.load(tmp_path / "plain.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable fastmlp file"):
        fastmlp.load(tmp_path / "text.npz")
    with pytest.raises(FileNotFoundError):
        fastmlp.load(tmp_path / "missing.npz")
    assert not zipfile.is_zipfile(tmp_path / "text.npz")


@pytest.mark.parametrize("clone", [lambda n: pickle.loads(pickle.dumps(n)),
                                   copy.deepcopy], ids=["pickle", "deepcopy"])
def test_copies_are_identical_and_independent(clone):
    net = trained()
    other = clone(net)
    assert_identical(net, other)
    other.layers[0].weights[0, 0] += 1.0
    assert other.layers[0].weights[0, 0] != net.layers[0].weights[0, 0]
    X, y = toy_data()
    np.testing.assert_array_equal(clone(net).forward(X), net.forward(X))
