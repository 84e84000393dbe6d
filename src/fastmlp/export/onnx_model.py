"""A network as an ONNX model: per layer a Gemm node (``Y = X W^T + b``), then Sigmoid,
Softmax (along the features) or nothing for an identity output."""
from pathlib import Path

import numpy as np

from .._metrics import layer_activations

OPSET = 13  # Softmax over one axis (opset 13's definition), Gemm with transB
ACTIVATION_OPS = {"sigmoid": "Sigmoid", "softmax": "Softmax", "identity": None}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("exporting to ONNX needs the onnx package: "
                          "pip install 'fastmlp[onnx]'") from None
    return onnx


def model(net):
    """The ``onnx.ModelProto`` of `net`: input "x" (batch, n_inputs) and output "y"
    (batch, n_outputs), both in the network's dtype."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    from .. import __version__

    elem = TensorProto.FLOAT if net.dtype == np.float32 else TensorProto.DOUBLE
    nodes, initializers, current = [], [], "x"
    activations = layer_activations(len(net.layers), net.output)
    for l, layer in enumerate(net.layers):
        last = l == len(net.layers) - 1
        activation = activations[l]
        op = ACTIVATION_OPS[activation]
        z = f"z{l}" if op else "y"
        initializers += [numpy_helper.from_array(layer.weights, f"W{l}"),
                         numpy_helper.from_array(layer.biases, f"b{l}")]
        nodes.append(helper.make_node("Gemm", [current, f"W{l}", f"b{l}"], [z], transB=1,
                                      name=f"dense{l}"))
        if op:
            current = "y" if last else f"a{l}"
            attributes = {"axis": 1} if op == "Softmax" else {}
            nodes.append(helper.make_node(op, [z], [current], name=f"{activation}{l}", **attributes))
    graph = helper.make_graph(
        nodes, "fastmlp",
        [helper.make_tensor_value_info("x", elem, ["batch", net.sizes[0]])],
        [helper.make_tensor_value_info("y", elem, ["batch", net.sizes[-1]])],
        initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="fastmlp", producer_version=__version__)
    proto.ir_version = 8  # readable by onnxruntime 1.14 and later
    helper.set_model_props(proto, {"cost": net.cost, "output": net.output,
                                   "sizes": str(net.sizes),
                                   "epochs_trained": str(net.epochs_trained)})
    onnx.checker.check_model(proto)
    return proto


def save(net, path):
    """Write `model(net)` to `path`; return the path."""
    _onnx().save(model(net), str(path))
    return Path(path)
