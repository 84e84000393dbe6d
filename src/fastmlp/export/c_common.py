"""What both C headers share: the header's name, its opening comment, array literals."""
import os
import re
from pathlib import Path

import numpy as np

from ..serialization import _write_atomically

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
IDENTIFIER_RULE = "a C identifier (ASCII letters, digits and _, not starting with a digit)"


def is_identifier(name):
    """Whether `name` is a str that C accepts as an identifier (IDENTIFIER_RULE)."""
    return isinstance(name, str) and _IDENTIFIER.match(name) is not None


def check_network(net):
    """Refuse anything but a Network with finite parameters, naming the first bad value."""
    from .._validate import finite
    from ..network import Network

    if not isinstance(net, Network):
        raise TypeError(f"expected a fastmlp.Network, got {type(net).__name__}")
    for l, layer in enumerate(net.layers):
        for what, values in zip(("weights", "biases"), layer.parameters()):
            try:
                finite(f"layers[{l}].{what}", values)
            except ValueError as error:
                raise ValueError(f"{error}: only a network with finite parameters can be "
                                 "exported") from None


def c_name(path, name):
    """The prefix of every symbol in the header: `name`, or the file's stem made into a
    C identifier: every character but an ASCII letter, digit or _ becomes _ ("digits-v2.h"
    gives "digits_v2", "modèle.h" gives "mod_le")."""
    if name is None:
        name = re.sub(r"[^A-Za-z0-9_]", "_", Path(path).name.split(".")[0]) or "network"
        if name[0].isdigit():
            name = "net_" + name
        return name
    if not is_identifier(name):
        raise ValueError(f"name={name!r} is not {IDENTIFIER_RULE}")
    return name


def _record_line(history):
    if history is None or len(history) == 0:
        return "none"
    last = history.records()[-1]
    shown = [f"{key} {value:.6g}" for key, value in last.items()
             if key != "epoch" and value is not None]
    return f"epoch {last['epoch']}: " + ", ".join(shown)


def description(net, title, arithmetic):
    """The lines of the header's opening comment that describe the network.

    Parameters
    ----------
    net : Network
    title : str
        The first line.
    arithmetic : list of str
        Lines saying how the header computes (dtype, scales), inserted after the facts.
    """
    sizes = net.sizes
    n_params = sum(layer.weights.size + layer.biases.size for layer in net.layers)
    multiply_adds = sum(layer.weights.size for layer in net.layers)
    lines = [
        title,
        "",
        f"sizes          {' -> '.join(map(str, sizes))} ({len(net.layers)} layers, "
        f"{n_params:,} parameters)",
        f"work           {multiply_adds:,} multiply-adds per sample",
        f"cost           {net.cost} (the training cost)",
        f"output         {net.output}",
        f"trained as     {net.dtype.name}",
        f"epochs trained {net.epochs_trained}",
        f"last record    {_record_line(net.history)}",
        "",
        *arithmetic,
    ]
    return lines


def opening(net, name, what, arithmetic, include, **defines):
    """The header's opening comment, its #include and its sizes as macros:
    NAME_N_INPUTS, NAME_N_OUTPUTS, NAME_MAX_HIDDEN (the widest hidden layer, 1 without
    one) and NAME_<key> for each of `defines`."""
    P = name.upper()
    hidden = [layer.n_out for layer in net.layers[:-1]] or [1]
    macros = {"N_INPUTS": net.sizes[0], "N_OUTPUTS": net.sizes[-1],
              "MAX_HIDDEN": max(hidden), **defines}
    return [comment(description(net, f"{name}.h: a fastmlp network as C99, {what}.", arithmetic)),
            f"#include <{include}>\n",
            "".join(f"#define {P}_{key} {value}\n" for key, value in macros.items())]


def comment(lines):
    """A C block comment of `lines`."""
    body = "\n".join((" * " + line).rstrip() for line in lines)
    return f"/*\n{body}\n */\n"


def float_literal(value):
    """The shortest decimal that reads back as the same float32, as a C float literal."""
    return np.format_float_scientific(np.float32(value), unique=True) + "f"


def array(ctype, name, values, literal, per_line=8):
    """`static const ctype name[n] = {...};`, a matrix flattened row-major
    (``name[rows * cols]``, each row starting a line).

    literal : callable turning one NumPy scalar into its C literal.
    """
    values = np.asarray(values)
    rows = values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values[None, :]
    dims = " * ".join(map(str, values.shape))
    lines = []
    for row in rows:
        items = [literal(v) for v in row]
        lines += [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{dims}] = {{\n    {body}\n}};\n"


def predict_rule(n_outputs, largest="output"):
    """The header's predict, as its comment states it: a threshold at 0.5 for one output,
    else the index of the `largest`.  This is Network.predict's rule for a classifier; a
    regression network's predict returns its outputs, and its header's the same rule."""
    return ("1 when the output is at least 0.5, else 0" if n_outputs == 1 else
            f"the index of the largest {largest} (the first, on a tie)")


def predict_function(p, P, rule, n_outputs, values, fill, one_output):
    """The header's ``int p_predict(const float *x)``.

    It declares `values` ("ctype name", an array of P_N_OUTPUTS), fills it with the C
    call `fill`, and returns the index of its largest entry (the first, on a tie), or for
    a single output runs the C statements `one_output`.  `rule` is what predict returns,
    in words, for the comment.
    """
    array = values.split()[-1]
    if n_outputs > 1:
        body = (f"    int best = 0;\n"
                f"    for (int j = 1; j < {P}_N_OUTPUTS; j++) "
                f"best = {array}[j] > {array}[best] ? j : best;\n"
                f"    return best;")
    else:
        body = one_output
    return (f"/* The predicted class of x: {rule}. */\n"
            f"static inline int {p}_predict(const float *x)\n{{\n"
            f"    {values}[{P}_N_OUTPUTS];\n    {fill};\n{body}\n}}\n")


def guard(name, body):
    """`body` inside an include guard named for `name`."""
    macro = f"{name.upper()}_H"
    return f"#ifndef {macro}\n#define {macro}\n\n{body}\n#endif /* {macro} */\n"


def write(path, text):
    """Write the header `text` (ASCII) to `path` atomically: an existing file is replaced
    whole or, if anything fails, left as it was."""
    data = text.encode("ascii")
    _write_atomically(os.fspath(path), lambda f: f.write(data))
    return Path(path)
