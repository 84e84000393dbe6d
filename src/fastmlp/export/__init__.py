"""Exporting a trained network: a self-contained C99 header, or an ONNX model.

``export_c`` needs nothing beyond NumPy; ``export_onnx`` needs the ``onnx`` extra
(``pip install 'fastmlp[onnx]'``).
"""
from . import c_common


def export_c(net, path, *, fixed_point=False, name=None):
    """Write `net` as one C99 header of ``static const`` weights and two functions.

    Parameters
    ----------
    net : Network
    path : str or os.PathLike
        The header to write (``"digits.h"``).
    fixed_point : bool
        False: float32 weights and arithmetic, ``expf`` for the sigmoid (see
        `fastmlp.export.c_float`).  True: int16 weights and activations with a scale per
        layer, a table sigmoid and no libm (see `fastmlp.export.c_fixed`).
    name : str, optional
        Prefix of every symbol (``NAME_forward``, ``NAME_predict``, ``NAME_N_INPUTS``...);
        defaults to the file's stem made into a C identifier.

    Returns
    -------
    pathlib.Path
        The header written.  It defines ``void NAME_forward(const float *x, float *out)``
        (x: n_inputs floats, out: n_outputs floats) and ``int NAME_predict(const float *x)``.
    """
    c_common.check_network(net)
    name = c_common.c_name(path, name)
    if fixed_point:
        from .c_fixed import header
    else:
        from .c_float import header
    return c_common.write(path, header(net, name))


def export_onnx(net, path):
    """Write `net` as an ONNX model: Gemm nodes, each followed by its activation.

    Parameters
    ----------
    net : Network
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
        The model written: one input ``"x"`` of shape (batch, n_inputs) and one output
        ``"y"`` of shape (batch, n_outputs), in the network's dtype, equal to
        ``net.forward(x)``.
    """
    from .onnx_model import save
    c_common.check_network(net)
    return save(net, path)


__all__ = ["export_c", "export_onnx"]
