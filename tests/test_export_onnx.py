"""The ONNX export, run in onnxruntime against Network.forward."""
import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import datasets
from fastmlp.export import export_onnx

# (cost, output, learning rate): Sigmoid, Softmax and no activation after the last Gemm.
KINDS = [("quadratic", "sigmoid", 3.0), ("cross_entropy", "sigmoid", 0.5),
         ("log_likelihood", "softmax", 0.5), ("quadratic", "identity", 0.1)]
# onnxruntime sums in another order (and float32 with FMA); differences measured up to
# 9.6e-7 in float32 and 1.8e-15 in float64.
ATOL = {"float32": 1e-5, "float64": 1e-12}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cost, output, lr", KINDS)
def test_onnxruntime_matches_forward(cost, output, lr, dtype, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    X, y = datasets.load_digits()
    net = fastmlp.Network([64, 30, 20, 10], cost=cost, output=output, dtype=dtype, seed=3)
    net.fit(X, y, epochs=3, batch_size=10, lr=lr)
    path = net.export_onnx(tmp_path / "digits.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    [out] = session.run(["y"], {"x": X.astype(dtype)})
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out, net.forward(X), rtol=0, atol=ATOL[dtype])
    assert [node.op_type for node in __import__("onnx").load(str(path)).graph.node] == (
        ["Gemm", "Sigmoid", "Gemm", "Sigmoid", "Gemm"]
        + {"sigmoid": ["Sigmoid"], "softmax": ["Softmax"], "identity": []}[output])


def test_missing_onnx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'fastmlp\[onnx\]'"):
        export_onnx(fastmlp.Network([2, 1]), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
