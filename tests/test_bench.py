"""The benchmark suite's rows, table and JSON, on tiny workloads and products (their
numbers are meaningless: the values checked are the relations between them), and the
pieces it measures with: the L2 floor, the competing process, the bare product's entry."""
import json
import os
import sys
import time
import tracemalloc

import numpy as np
import pytest

from fastmlp import _testing, benchmark, benchmark_products, runtime
from fastmlp.benchmark_measure import competing_process, l2_floor_seconds, parameter_bytes

Workload = benchmark.Workload
TINY = [  # (full, quick) samples: the run is "quick"
    Workload("W1", "nielsen", [20, 6, 3], 4, (0, 40), ("float64", "float32"), (1, 2), "train", True),
    Workload("W2", "online", [20, 6, 3], 1, (0, 12), ("float32",), (1,), "train", True),
    Workload("W3", "wide", [20, 8, 3], 8, (0, 48), ("float32", "float64"), (1, 2), "train", False),
    Workload("W4b", "one at a time", [20, 6, 3], None, (0, 10), ("float64",), (1,),
             "infer_single", False),
]
TINY_PRODUCTS = [("tiny A B", 8, 12, 16, "A B"), ("tiny D^T X", 7, 5, 9, "D^T X")]


def tiny_data():
    rng = np.random.default_rng(0)
    X = rng.random((60, 20))
    return {"MNIST": (X * (rng.random(X.shape) < 0.2), rng.integers(0, 3, 60)),
            "dense": (X, rng.integers(0, 3, 60))}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "tiny.json"
    echoed = []
    rows, products, info = benchmark.run("quick", repeats=1, json_path=str(path), torch=False,
                                         echo=echoed.append, compete=True, workloads=TINY,
                                         products=TINY_PRODUCTS, data=tiny_data())
    return rows, products, info, path, echoed


def test_rows_cover_each_dataset_dtype_thread_count_and_the_competitor(tiny_run):
    rows, _, _, _, echoed = tiny_run
    got = [(r["name"], r["dtype"], r["threads"]) for r in rows]
    expected = [(f"W1 {d}", dt, t) for dt in ("float64", "float32") for t in (1, 2)
                for d in ("MNIST", "dense")]
    expected += [("W2 MNIST", "float32", 1), ("W2 dense", "float32", 1)]
    expected += [("W3 MNIST", "float32", 1), ("W3 MNIST", "float32", 2)]  # quick: float32
    expected += [("W4b MNIST", "float64", 1)]
    expected += [(f"W1 {d} +busy", "float64", t) for t in (1, 2) for d in ("MNIST", "dense")]
    expected += [("W3 MNIST +busy", "float32", 1), ("W3 MNIST +busy", "float32", 2)]
    assert got == expected
    assert [r["competing"] for r in rows] == [name.endswith("+busy") for name, _, _ in expected]
    assert len(echoed) == 1 + len(rows) + 4 * len(TINY_PRODUCTS)  # a line per row


def test_each_row_derives_its_columns_from_its_timings(tiny_run):
    rows, _, info, _, _ = tiny_run
    for r in rows:
        flops = (benchmark.training_flops(r["sizes"]) if r["batch"] else
                 benchmark.inference_flops(r["sizes"]))
        assert r["samples_per_s"] == pytest.approx(r["samples"] / r["seconds"])
        assert r["gflops"] == pytest.approx(r["samples_per_s"] * flops / 1e9)
        assert info["matmul_peak_gflops"][f"{r['dtype']} x{r['threads']}"] == round(r["peak_gflops"], 1)
        assert r["percent_of_peak"] == pytest.approx(100 * r["gflops"] / r["peak_gflops"])
        assert set(r["peers"]) == ({"numpy", "loop"} if r["batch"] == 1 else {"numpy"})
        for peer in r["peers"].values():
            assert peer["speedup"] == pytest.approx(r["samples_per_s"] / peer["samples_per_s"])
        if r["batch"] == 1:  # online training: the L2 floor
            floor = 2 * parameter_bytes(r["sizes"], r["dtype"]) / info["l2_bandwidth"]
            assert r["l2_floor_seconds"] == pytest.approx(floor)
            assert r["percent_of_l2_floor"] == pytest.approx(100 * floor * r["samples_per_s"])
        else:
            assert "l2_floor_seconds" not in r


def test_product_rows_compare_the_same_product(tiny_run):
    _, products, info, _, _ = tiny_run
    assert [(p["product"], p["dtype"], p["threads"]) for p in products] == [
        (name, dt, t) for name, *_ in TINY_PRODUCTS for dt in ("float32", "float64") for t in (1, 2)]
    for p in products:
        flops = 2 * p["M"] * p["N"] * p["K"]
        assert p["calls"] == benchmark_products.MAX_CALLS  # tiny: many calls per timing
        assert p["gflops"] == pytest.approx(flops / p["seconds"] / 1e9)
        assert p["speedup"] == pytest.approx(p["gflops"] / p["numpy_gflops"])
        assert p["percent_of_peak"] == pytest.approx(100 * p["gflops"] / p["peak_gflops"])


def test_table_and_json_hold_every_row(tiny_run):
    rows, products, info, path, _ = tiny_run
    saved = json.loads(path.read_text())
    assert saved["rows"] == json.loads(json.dumps(rows))
    assert saved["products"] == json.loads(json.dumps(products))
    assert saved["machine"]["caches"] == runtime.machine()["caches"]
    assert saved["machine"]["gemm_blocks"]["float64"] == _testing.gemm_layout("float64")
    table = benchmark.format_table(rows, info, products).splitlines()
    for line in runtime.describe_machine(runtime.machine()):
        assert line in table
    assert any(line.startswith(f"path {runtime.get_isa()} ") for line in table)
    assert "rows marked +busy ran while a competing CPU-bound process spun on one core" in table
    body = [line.split() for line in table if line[:2] in ("W1", "W2", "W3", "W4")]
    assert len(body) == len(rows)
    for words, r in zip(body, rows):  # name, dtype, threads, ..., % L2, and three ratios
        assert words[:-11] == r["name"].split()
        assert words[-11:-9] == [r["dtype"], str(r["threads"])]
        assert words[-4] == (f"{r['percent_of_l2_floor']:.1f}%" if r["batch"] == 1 else "-")
        assert words[-3] == f"{r['peers']['numpy']['speedup']:.2f}x"
    assert sum(line.startswith("tiny ") for line in table) == len(products)


def test_the_header_says_when_numpys_threads_could_not_be_pinned(tiny_run, monkeypatch):
    rows, products, info, _, _ = tiny_run
    warning = "WARNING: NumPy's BLAS threads are not pinned"
    assert info["blas_pinned"]  # the test extra installs threadpoolctl
    assert not any(warning in line for line in benchmark.header(info))
    unpinned = dict(info, blas_pinned=False)
    assert sum(warning in line for line in benchmark.header(unpinned)) == 1
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # not importable
    assert benchmark.machine()["blas_pinned"] is False


def test_parameter_bytes_and_the_l2_floor_by_hand():
    # W2 [784, 100, 10] in float64: (784 + 1) 100 + (100 + 1) 10 = 79,510 parameters;
    # at 32 bytes per cycle and 3.25 GHz, two sweeps take 2 x 636,080 / 104e9 = 12.2 us.
    assert parameter_bytes([784, 100, 10], "float64") == 636_080
    assert parameter_bytes([784, 100, 10], "float32") == 318_040
    assert l2_floor_seconds([784, 100, 10], "float64", 32 * 3.25e9) == pytest.approx(12.232e-6, rel=1e-4)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc/<pid>/stat")
def test_the_competing_process_spins_during_the_block_only():
    with competing_process() as pid:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # its user time grows: it computes
            with open(f"/proc/{pid}/stat") as f:
                utime = int(f.read().rsplit(")", 1)[1].split()[11])
            if utime > 0:
                break
            time.sleep(0.05)
        assert utime > 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_bare_product_entry_copies_nothing():
    """fastmlp._testing.gemm, as the product rows call it, allocates neither copies of its
    operands nor of its output: under a tenth of one operand's bytes per call."""
    rng = np.random.default_rng(0)
    A, B, C = rng.random((128, 128)), rng.random((128, 128)).T, np.empty((128, 128))
    _testing.gemm(A, B, C)
    tracemalloc.start()
    try:
        for _ in range(10):
            _testing.gemm(A, B, C)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < A.nbytes / 10
    np.testing.assert_allclose(C, A @ B, rtol=1e-12)
