"""save / load (damaged and forged files, interrupted saves), pickle and deepcopy."""
import copy
import hashlib
import json
import os
import pickle
import re
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import fastmlp
from fastmlp import LoadError, serialization
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
    for cut in (0, 10, len(raw) // 2, len(raw) - 1):
        (tmp_path / "cut.npz").write_bytes(raw[:cut])
        with pytest.raises(LoadError, match="not a .npz|damaged") as caught:
            fastmlp.load(tmp_path / "cut.npz")
        assert_own_words(caught.value)


def assert_own_words(error):
    """A LoadError message that explains itself, without NumPy's advice about pickles."""
    assert type(error) is LoadError and isinstance(error, ValueError)
    message = str(error)
    assert len(message) > 20 and "allow_pickle" not in message and "()" not in message


def test_every_flipped_bit_is_refused_or_harmless(tmp_path):
    """Flip one bit at every byte of a saved file: load refuses the file, or (for a
    byte that only the zip format reads, such as a timestamp) returns the same network;
    every byte of the header and of the parameters is refused."""
    net = trained()
    net.save(tmp_path / "net.npz")
    raw = bytearray((tmp_path / "net.npz").read_bytes())
    with np.load(tmp_path / "net.npz") as data:
        payloads = [data[name].tobytes() for name in data.files]
    spans = [(raw.find(p), raw.find(p) + len(p)) for p in payloads]
    assert all(start >= 0 for start, _ in spans)
    harmless = []
    for i in range(len(raw)):
        raw[i] ^= 0x10
        (tmp_path / "flip.npz").write_bytes(raw)
        raw[i] ^= 0x10
        try:
            loaded = fastmlp.load(tmp_path / "flip.npz")
        except LoadError as error:
            assert_own_words(error)
        else:
            assert_identical(net, loaded)
            harmless.append(i)
    assert not [i for i in harmless if any(a <= i < b for a, b in spans)]
    assert len(harmless) < 0.25 * len(raw)


def rewrite(src, dst, change):
    """Copy a saved network, letting `change(name, array)` alter its arrays (None drops one)."""
    with np.load(src) as data:
        arrays = {name: change(name, data[name].copy()) for name in data.files}
    with open(dst, "wb") as f:
        np.savez(f, **{name: a for name, a in arrays.items() if a is not None})


def test_tampered_parameters_are_refused(tmp_path):
    trained().save(tmp_path / "net.npz")

    def nudge(name, a):
        if name == "W1":
            a[0, 0] += 1e-12
        return a

    rewrite(tmp_path / "net.npz", tmp_path / "bad.npz", nudge)
    with pytest.raises(LoadError, match="altered or damaged"):
        fastmlp.load(tmp_path / "bad.npz")


def read_header(path):
    with np.load(path) as data:
        return json.loads(data["header"].tobytes())


def forge(tmp_path, edit_header=None, edit_arrays=None, resign=True, dtype="float64"):
    """Rewrite a saved network through `edit_header(header)` and `edit_arrays(arrays)`.

    With ``resign``, the checksum is recomputed as a forger would, so the file passes
    the checksum and only the checks of its content can refuse it.
    """
    trained(dtype).save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        arrays = {name: data[name] for name in data.files if name != "header"}
    header = read_header(tmp_path / "net.npz")
    if edit_arrays:
        edit_arrays(arrays)
    if edit_header:
        edit_header(header)
    if resign:
        header.pop("sha256", None)
        names = [n for n in serialization._parameter_names(len(arrays) // 2) if n in arrays]
        header["sha256"] = serialization._digest(header, [(n, arrays[n]) for n in names])
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(tmp_path / "forged.npz", "wb") as f:
        np.savez(f, header=encoded, **arrays)
    return tmp_path / "forged.npz"


def test_newer_format_is_refused(tmp_path):
    path = forge(tmp_path, lambda h: h.update(format_version=99))
    with pytest.raises(LoadError, match="format 99.*upgrade fastmlp"):
        fastmlp.load(path)


@pytest.mark.parametrize("version", [0, -1, "2", True, None, 1.5])
def test_invalid_format_version_is_refused(tmp_path, version):
    path = forge(tmp_path, lambda h: h.update(format_version=version))
    with pytest.raises(LoadError, match="'format_version' must be one of") as caught:
        fastmlp.load(path)
    assert_own_words(caught.value)


@pytest.mark.parametrize("resign", [False, True], ids=["damaged", "forged"])
def test_altered_header_is_refused(tmp_path, resign):
    path = forge(tmp_path, lambda h: h.update(cost="cross_entropy", output="sigmoid"), resign=resign)
    if resign:  # a consistent header that was re-signed loads as what it now says
        assert fastmlp.load(path).cost == "cross_entropy"
    else:
        with pytest.raises(LoadError, match="altered or damaged"):
            fastmlp.load(path)


# Header fields a forger may change; each must be refused with the field named.
BAD_FIELDS = [
    ("cost", None), ("cost", "hinge"), ("cost", ["quadratic"]), ("output", "softmax"),
    ("output", {"sigmoid": 1}), ("dtype", "float16"), ("dtype", None), ("dtype", ["float32"]),
    ("backend", "gpu"), ("backend", ["c"]), ("epochs_trained", -5), ("epochs_trained", 2.5),
    ("epochs_trained", True), ("epochs_trained", None), ("sizes", [5]), ("sizes", [5, 0, 3]),
    ("sizes", "5,4,3"), ("sizes", None), ("rng_state", None), ("rng_state", {"state": 1}),
    ("sha256", None),
]


@pytest.mark.parametrize("field,value", BAD_FIELDS)
def test_invalid_header_field_is_refused(tmp_path, field, value):
    def edit(header):
        if value is None:
            del header[field]  # None stands for a missing field
        else:
            header[field] = value

    path = forge(tmp_path, edit, resign=field != "sha256")
    with pytest.raises(LoadError, match=f"'{field}'" if field != "sizes" or value else "sizes") \
            as caught:
        fastmlp.load(path)
    assert_own_words(caught.value)


@pytest.mark.parametrize("stored", [">f4", "<i4", "<f8"])
def test_wrong_stored_dtype_is_refused(tmp_path, stored):
    """The same bytes labelled big-endian or integer would load as different numbers."""
    def relabel(arrays):
        arrays["W0"] = arrays["W0"].view(stored) if stored != "<f8" else arrays["W0"].astype("<f8")

    for resign in (False, True):
        path = forge(tmp_path, edit_arrays=relabel, resign=resign, dtype="float32")
        with pytest.raises(LoadError, match=f"stores W0 as {stored}.*header says float32"):
            fastmlp.load(path)


def test_checksum_covers_dtype_and_shape():
    a = np.arange(6, dtype="<f4")
    base = serialization._digest({}, [("W0", a)])
    assert serialization._digest({}, [("W0", a.view(">f4"))]) != base
    assert serialization._digest({}, [("W0", a.view("<i4"))]) != base
    assert serialization._digest({}, [("W0", a.reshape(2, 3))]) != base
    assert serialization._digest({}, [("W0", a.copy())]) == base


@pytest.mark.parametrize("change", ["missing", "extra", "transposed"])
def test_wrong_arrays_are_refused(tmp_path, change):
    def edit(arrays):
        if change == "missing":
            del arrays["b1"]
        elif change == "extra":
            arrays["W9"] = np.zeros(3)
        else:
            arrays["W0"] = np.ascontiguousarray(arrays["W0"].T)

    path = forge(tmp_path, edit_arrays=edit)
    match = "with shape (5, 4).*needs (4, 5)" if change == "transposed" else \
        "does not hold the arrays of a [5, 4, 3] network"
    with pytest.raises(LoadError, match=re.escape(match).replace(r"\.\*", ".*")):
        fastmlp.load(path)


def test_other_files_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(LoadError, match="no readable fastmlp header"):
        fastmlp.load(tmp_path / "plain.npz")
    np.savez(tmp_path / "other.npz", header=np.frombuffer(b'{"format": "x"}', dtype=np.uint8))
    with pytest.raises(LoadError, match="not a fastmlp network file.*'x'"):
        fastmlp.load(tmp_path / "other.npz")
    for name, raw in {"bytes": b"\xff\xfe{", "nested": b"[" * 100_000, "list": b"[1, 2]"}.items():
        np.savez(tmp_path / f"{name}.npz", header=np.frombuffer(raw, dtype=np.uint8))
        with pytest.raises(LoadError, match="no readable fastmlp header"):
            fastmlp.load(tmp_path / f"{name}.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(LoadError, match="not a .npz"):
        fastmlp.load(tmp_path / "text.npz")
    with zipfile.ZipFile(tmp_path / "notes.npz", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(LoadError, match="'readme.txt' that is not a NumPy array"):
        fastmlp.load(tmp_path / "notes.npz")
    with pytest.raises(FileNotFoundError):
        fastmlp.load(tmp_path / "missing.npz")
    with pytest.raises(IsADirectoryError):
        fastmlp.load(tmp_path)


def test_pickled_objects_are_refused_without_unpickling(tmp_path):
    net = trained()
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        arrays = dict(data)
    arrays["W0"] = np.array([Boom()], dtype=object)
    np.savez(tmp_path / "pickled.npz", **arrays)
    with pytest.raises(LoadError, match="stores 'W0.npy' as Python objects") as caught:
        fastmlp.load(tmp_path / "pickled.npz")
    assert_own_words(caught.value)
    assert not Boom.unpickled


class Boom:
    """An object that records being unpickled."""
    unpickled = False

    def __reduce__(self):
        return (Boom._arm, ())

    @staticmethod
    def _arm():
        Boom.unpickled = True
        return Boom()


def test_format_1_files_still_load(tmp_path):
    """fastmlp 0.1 wrote format 1: its checksum covered the header and the bytes only."""
    net = trained("float32")
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as data:
        arrays = {name: data[name] for name in data.files if name != "header"}
    header = read_header(tmp_path / "net.npz")
    header.pop("sha256")
    header["format_version"] = 1
    names = ["W0", "b0", "W1", "b1"]

    def write(arrays):
        h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())  # format 1's digest
        for name in names:
            h.update(arrays[name].tobytes())
        signed = dict(header, sha256=h.hexdigest())
        encoded = np.frombuffer(json.dumps(signed).encode(), dtype=np.uint8)
        with open(tmp_path / "v1.npz", "wb") as f:
            np.savez(f, header=encoded, **arrays)
        return tmp_path / "v1.npz"

    assert_identical(net, fastmlp.load(write(arrays)))
    # format 1's checksum cannot see a relabelled dtype; the dtype check does
    with pytest.raises(LoadError, match="stores W0 as >f4"):
        fastmlp.load(write(dict(arrays, W0=arrays["W0"].view(">f4"))))


# --- the save itself -------------------------------------------------------------------------

def test_save_leaves_only_the_target_with_the_usual_permissions(tmp_path):
    trained().save(tmp_path / "net.npz")
    trained().save(str(tmp_path / "net.npz"))  # over an existing file, and from a str
    assert os.listdir(tmp_path) == ["net.npz"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "net.npz").st_mode) == 0o666 & ~umask


def test_save_is_flushed_to_disk_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    trained().save(tmp_path / "net.npz")
    assert events[:2] == ["fsync", "replace"]


@pytest.mark.parametrize("failure", [OSError("No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_failed_save_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch, failure):
    old = trained()
    old.save(tmp_path / "net.npz")
    before = (tmp_path / "net.npz").read_bytes()
    real_savez = np.savez

    def fail_midway(f, **arrays):
        real_savez(f, **arrays)  # most of the bytes are written, none of them renamed
        raise failure

    monkeypatch.setattr(np, "savez", fail_midway)
    with pytest.raises(type(failure)):
        trained().save(tmp_path / "net.npz")
    assert (tmp_path / "net.npz").read_bytes() == before
    assert os.listdir(tmp_path) == ["net.npz"]


BIG = [5000, 5000, 10]  # float64: 200 MB of weights
SCENARIOS = Path(__file__).parent / "subprocess_scenarios.py"


def start_big_save(path):
    process = subprocess.Popen([sys.executable, str(SCENARIOS), "save_big", str(path), json.dumps(BIG)],
                               stdout=subprocess.PIPE, text=True)
    line = json.loads(process.stdout.readline())
    assert line["event"] == "saving", line
    return process


def assert_old_or_new(path):
    """The target is the old small network, or the complete new big one."""
    loaded = fastmlp.load(path)
    assert (loaded.sizes, loaded.epochs_trained) in (([5, 4, 3], 2), (BIG, 7))
    return "new" if loaded.sizes == BIG else "old"


def wait_for_moment(process, folder, moment, timeout=30):
    """Return once the save `process` makes in `folder` reaches `moment`: "start" (the
    save was called), "temp-1MB" / "temp-100MB" (its temporary file holds that much), or
    "end"; kill it and fail when it does not within `timeout` seconds."""
    need = {"temp-1MB": 1e6, "temp-100MB": 100e6}.get(moment)
    if need is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in os.listdir(folder):
            try:
                if f.endswith(".tmp") and os.stat(folder / f).st_size >= need:
                    return
            except FileNotFoundError:  # renamed meanwhile
                pass
        time.sleep(0.0005)
    process.kill()
    process.communicate()
    pytest.fail(f"the save did not reach the moment {moment!r} within {timeout} s")


@pytest.mark.parametrize("moment", ["start", "temp-1MB", "temp-100MB", "end"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_signal_during_a_big_save_leaves_old_or_new(tmp_path, sig, moment):
    """kill -9 or Ctrl-C at several moments of a 200 MB save: the target is always the
    old file or the complete new one; after Ctrl-C no temporary file is left behind."""
    trained().save(tmp_path / "net.npz")
    process = start_big_save(tmp_path / "net.npz")
    if moment == "end":
        json.loads(process.stdout.readline())  # "saved"
    wait_for_moment(process, tmp_path, moment)
    process.send_signal(sig)
    out, _ = process.communicate(timeout=60)
    outcome = assert_old_or_new(tmp_path / "net.npz")
    leftovers = [f for f in os.listdir(tmp_path) if f != "net.npz"]
    if moment == "end":
        assert outcome == "new" and not leftovers
    elif sig == signal.SIGINT:
        report = json.loads(out.splitlines()[-1])
        assert report["files"] == ["net.npz"] and not leftovers  # no temporary file left
        if moment.startswith("temp-"):  # the save was writing: Ctrl-C reached it
            assert report["event"] == "interrupted", report
        assert outcome == {"interrupted": "old", "saved": "new"}[report["event"]]
    else:  # a process killed outright cannot clean up; its temporary file is all it leaves
        assert all(f.startswith(".net.npz.") and f.endswith(".tmp") for f in leftovers)
        assert outcome == "old" or not leftovers


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
