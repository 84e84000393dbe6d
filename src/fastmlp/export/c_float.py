"""A network as one C99 header computing in float32 (``expf`` is the only libm call)."""
import numpy as np

from .._metrics import layer_activations
from . import c_common


_DENSE = """\
/* z_j = b_j + sum_i W_ji x_i for j < n_out: W is (n_out, n_in), row-major. */
static inline void {p}_dense(int n_in, int n_out, const float *w,
    const float *b, const float *x, float *z)
{{
    for (int j = 0; j < n_out; j++) {{
        float s = b[j];
        for (int i = 0; i < n_in; i++) s += w[j * n_in + i] * x[i];
        z[j] = s;
    }}
}}
"""

_ACTIVATIONS = {"sigmoid": """\
/* sigmoid(z) = 1 / (1 + e^-z), written so that expf never overflows. */
static inline void {p}_sigmoid(int n, float *z)
{{
    for (int j = 0; j < n; j++) {{
        if (z[j] >= 0.0f) {{
            z[j] = 1.0f / (1.0f + expf(-z[j]));
        }} else {{
            float e = expf(z[j]);
            z[j] = e / (1.0f + e);
        }}
    }}
}}
""", "softmax": """\
/* softmax(z)_j = e^(z_j - max z) / sum_k e^(z_k - max z). */
static inline void {p}_softmax(int n, float *z)
{{
    float top = z[0], sum = 0.0f;
    for (int j = 1; j < n; j++) top = z[j] > top ? z[j] : top;
    for (int j = 0; j < n; j++) sum += z[j] = expf(z[j] - top);
    for (int j = 0; j < n; j++) z[j] /= sum;
}}
"""}

def header(net, name):
    """The text of the float32 header for `net`, its symbols prefixed with `name`."""
    p, P = name, name.upper()
    layers = net.layers
    rule = c_common.predict_rule(net.sizes[-1])
    arithmetic = [
        "arithmetic     float32: weights rounded to float, sums accumulated in float"
        + (" (the network itself computes in float64)" if net.dtype == np.float64 else ""),
        "",
        f"void {p}_forward(const float *x, float *out)",
        f"    x: {P}_N_INPUTS floats; out: {P}_N_OUTPUTS floats, the output layer's",
        f"    {net.output} activations (what Network.forward returns).",
        f"int {p}_predict(const float *x)",
        f"    {rule}.",
        "Nothing is allocated: the hidden layers' activations live on the stack",
        f"({P}_MAX_HIDDEN floats, twice). Link with -lm for expf.",
    ]
    parts = c_common.opening(net, name, "computing in float32", arithmetic, "math.h")
    for l, layer in enumerate(layers):
        parts.append(c_common.array("float", f"{p}_w{l}", layer.weights, c_common.float_literal))
        parts.append(c_common.array("float", f"{p}_b{l}", layer.biases, c_common.float_literal))
    parts.append(_DENSE.format(p=p))
    used = {"sigmoid"} if len(layers) > 1 else set()
    used |= {net.output} & set(_ACTIVATIONS)
    parts += [_ACTIVATIONS[a].format(p=p) for a in sorted(used)]
    parts.append(_forward(net, p, P))
    parts.append(c_common.predict_function(p, P, rule, net.sizes[-1], "float out",
                                           f"{p}_forward(x, out)", "    return out[0] >= 0.5f;"))
    return c_common.guard(name, "\n".join(parts))


def _forward(net, p, P):
    """The forward function: one dense call and one activation per layer, the hidden
    activations alternating between two stack buffers."""
    lines = ["/* The output layer's activations for the inputs x. */",
             f"static inline void {p}_forward(const float *x, float *out)", "{"]
    if len(net.layers) > 1:
        lines.append(f"    float h[2][{P}_MAX_HIDDEN];")
    source = "x"
    activations = layer_activations(len(net.layers), net.output)
    for l, layer in enumerate(net.layers):
        last = l == len(net.layers) - 1
        target = "out" if last else f"h[{l % 2}]"
        activation = activations[l]
        lines.append(f"    {p}_dense({layer.n_in}, {layer.n_out}, {p}_w{l}, {p}_b{l}, "
                     f"{source}, {target});")
        if activation != "identity":
            lines.append(f"    {p}_{activation}({layer.n_out}, {target});")
        source = target
    lines.append("}\n")
    return "\n".join(lines)
