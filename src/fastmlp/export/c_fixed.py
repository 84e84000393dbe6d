"""A network as one C99 header in fixed point: int16 weights and activations, no libm.

The numbers (q stands for a stored integer):

- inputs: ``x = q / 2^INPUT_BITS`` (INPUT_BITS = 12: steps of 1/4096, saturating at
  +-8), rounded to nearest from the float inputs;
- layer l's weights: ``W = q / 2^f_l`` with f_l the largest integer for which
  ``max |W| * 2^f_l <= 32767``, so the largest weight uses the whole int16 range (lowered
  if needed so that every bias fits int32 at the sums' scale);
- sums: ``z = b + W a`` exactly, in 64-bit integers, at scale ``2^(f_l + bits of a)``;
  the biases are stored as int32 at that scale;
- hidden activations: ``a = q / 2^ACT_BITS`` (ACT_BITS = 14: sigmoid's [0, 1] is
  0..16384), from a table of sigmoid at every 1/16 on [0, 12] with linear interpolation
  between entries, z first rounded to steps of 2^-Z_BITS;
- the output layer: a sigmoid output as the hidden layers; identity and softmax outputs
  give the sums themselves (forward returns softmax's logits; the largest logit is the
  largest probability, so predict is unchanged).

`simulate` is the same arithmetic in NumPy: the header's twin, exact to the last bit.
"""
import math

import numpy as np

from . import c_common

INPUT_BITS = 12
ACT_BITS = 14
Z_BITS = 12
TABLE_STEP_BITS = 4  # table entries every 2^-4 = 1/16
TABLE_END = 12  # sigmoid(z) for |z| >= 12 is 0 or 1 (off by 6e-6 = 0.1 of the last bit)
MAX_WEIGHT_BITS = 24
INT16_MAX, INT32_MAX = 2**15 - 1, 2**31 - 1
ONE = 1 << ACT_BITS
INTERP_BITS = Z_BITS - TABLE_STEP_BITS


def sigmoid_table():
    """``round(2^ACT_BITS sigmoid(k / 16))`` for k = 0 .. 16 * TABLE_END, int64."""
    z = np.arange(TABLE_END * (1 << TABLE_STEP_BITS) + 1) / (1 << TABLE_STEP_BITS)
    return np.rint(ONE / (1 + np.exp(-z))).astype(np.int64)


def quantise(net):
    """Per layer: ``(Wq int16 (n_out, n_in), bq int32 (n_out,), sum_bits)``, where the
    layer's sums are ``bq + Wq a_q`` at scale ``2^sum_bits``."""
    layers, in_bits = [], INPUT_BITS
    for layer in net.layers:
        W = layer.weights.astype(np.float64)
        b = layer.biases.astype(np.float64)
        w_max, b_max = np.abs(W).max(), np.abs(b).max()
        f = math.floor(math.log2(INT16_MAX / w_max)) if w_max > 0 else MAX_WEIGHT_BITS
        if b_max > 0:
            f = min(f, math.floor(math.log2(INT32_MAX / b_max)) - in_bits)
        f = min(f, MAX_WEIGHT_BITS)
        Wq = np.rint(np.ldexp(W, f)).astype(np.int16)
        bq = np.rint(np.ldexp(b, f + in_bits)).astype(np.int32)
        layers.append((Wq, bq, f + in_bits))
        in_bits = ACT_BITS
    return layers


def _rescale(acc, shift):
    """acc / 2^shift rounded to nearest (ties up): the C header's p_rescale."""
    if shift > 0:
        return (acc + (1 << (shift - 1))) >> shift
    return acc << -shift


def sigmoid_q(z):
    """The header's table sigmoid: z at 2^-Z_BITS (int64 array) to 2^-ACT_BITS."""
    table = sigmoid_table()
    u = np.abs(z)
    inside = u < TABLE_END << Z_BITS
    i = np.where(inside, u >> INTERP_BITS, 0)
    r = u & ((1 << INTERP_BITS) - 1)
    s = table[i] + (((table[i + 1] - table[i]) * r + (1 << (INTERP_BITS - 1))) >> INTERP_BITS)
    s = np.where(inside, s, ONE)
    return np.where(z < 0, ONE - s, s)


def quantise_inputs(X):
    """Float inputs to int16 at 2^-INPUT_BITS, as the header does it (in float32)."""
    v = np.asarray(X, dtype=np.float32) * np.float32(1 << INPUT_BITS)
    v = v + np.where(v >= 0, np.float32(0.5), np.float32(-0.5))
    return np.trunc(np.clip(v, -INT16_MAX - 1, INT16_MAX)).astype(np.int64)


def simulate(net, X):
    """What the fixed-point header's forward and predict return, computed in NumPy.

    Parameters
    ----------
    net : Network
    X : array_like, shape (m, n_inputs)

    Returns
    -------
    out : ndarray, shape (m, n_outputs), float32
        ``NAME_forward``'s outputs (logits for a softmax output).
    labels : ndarray, shape (m,), int64
        ``NAME_predict``'s classes.
    """
    a = quantise_inputs(np.atleast_2d(X))
    layers = quantise(net)
    for Wq, bq, bits in layers[:-1]:
        a = sigmoid_q(_rescale(a @ Wq.T.astype(np.int64) + bq, bits - Z_BITS))
    Wq, bq, bits = layers[-1]
    sums = a @ Wq.T.astype(np.int64) + bq
    if net.output == "sigmoid":
        out = sigmoid_q(_rescale(sums, bits - Z_BITS)).astype(np.float32) / np.float32(ONE)
    else:
        out = sums.astype(np.float32) * np.float32(2.0 ** -bits)
    if sums.shape[1] > 1:
        labels = np.argmax(sums, axis=1)
    elif net.output == "softmax":
        labels = np.ones(len(sums), dtype=np.int64)
    else:
        labels = (sums[:, 0] >= _half(net.output, bits)).astype(np.int64)
    return out, labels


def _half(output, bits):
    """The sum at which a single output reaches 0.5: z = 0 for a sigmoid (s(0) = 1/2),
    z = 0.5 for an identity output."""
    return 0 if output == "sigmoid" else math.ceil(0.5 * 2.0 ** bits)


_HELPERS = """\
/* round(2^14 sigmoid(k / 16)) for k = 0..{n_table}: sigmoid at every 1/16 on [0, {end}]. */
{table}
/* x / 2^shift rounded to nearest, ties up (floor written out: >> of a negative
   number is implementation-defined in C99). */
static inline int64_t {p}_rescale(int64_t x, int shift)
{{
    if (shift <= 0) return x * ((int64_t)1 << -shift);
    x += (int64_t)1 << (shift - 1);
    return x >= 0 ? x >> shift : -((-x + ((int64_t)1 << shift) - 1) >> shift);
}}

/* 2^14 sigmoid(z / 2^{zb}): linear interpolation in the table, and
   sigmoid(-z) = 1 - sigmoid(z).  Off by at most 1.8 / 2^14 = 1.1e-4. */
static inline int16_t {p}_sigmoid_q(int64_t z)
{{
    int64_t u = z < 0 ? -z : z;
    int32_t s = {one};
    if (u < (int64_t){end} << {zb}) {{
        int32_t i = (int32_t)(u >> {ib}), r = (int32_t)(u & {mask});
        int32_t lo = {p}_sigmoid_table[i], hi = {p}_sigmoid_table[i + 1];
        s = lo + (((hi - lo) * r + {half_step}) >> {ib});
    }}
    return (int16_t)(z < 0 ? {one} - s : s);
}}

/* acc_j = b_j + sum_i W_ji a_i, exact in 64 bits: W is (n_out, n_in), row-major. */
static inline void {p}_dense_q(int n_in, int n_out, const int16_t *w, const int32_t *b,
    const int16_t *a, int64_t *acc)
{{
    for (int j = 0; j < n_out; j++) {{
        int64_t s = b[j];
        for (int i = 0; i < n_in; i++) s += (int32_t)w[j * n_in + i] * a[i];
        acc[j] = s;
    }}
}}

/* Sigmoid of each sum (at 2^-(shift + {zb})) into int16 activations at 2^-14. */
static inline void {p}_sigmoid_layer_q(int n, const int64_t *acc, int shift, int16_t *a)
{{
    for (int j = 0; j < n; j++) a[j] = {p}_sigmoid_q({p}_rescale(acc[j], shift));
}}

/* x rounded to nearest at 2^-{P}_INPUT_BITS, saturating at the int16 range; x finite. */
static inline void {p}_inputs_q(const float *x, int16_t *xq)
{{
    for (int i = 0; i < {P}_N_INPUTS; i++) {{
        float v = x[i] * {input_scale};
        v += v >= 0.0f ? 0.5f : -0.5f;
        xq[i] = (int16_t)(v >= 32767.0f ? 32767.0f : v <= -32768.0f ? -32768.0f : v);
    }}
}}
"""


def header(net, name):
    """The text of the fixed-point header for `net`, its symbols prefixed with `name`."""
    p, P = name, name.upper()
    layers = quantise(net)
    n_out = net.sizes[-1]
    *_, out_bits = layers[-1]
    # f per layer: the weights' scale, the sums' less the inputs' (x, then activations)
    weight_bits = [bits - (ACT_BITS if l else INPUT_BITS) for l, (*_, bits) in enumerate(layers)]
    rule = ("1 (a single softmax output is always 1)" if n_out == 1 and net.output == "softmax"
            else c_common.predict_rule(n_out, "output sum"))
    if net.output == "sigmoid":
        returns = ["    the output layer's sigmoid activations (Network.forward's, to about 1e-3)."]
    elif net.output == "identity":
        returns = ["    the output layer's identity activations (Network.forward's)."]
    else:
        returns = ["    the output layer's logits z, NOT probabilities: softmax(z) is",
                   "    Network.forward's output, and the largest z is the most probable class."]
    arithmetic = [
        "arithmetic     fixed point, no floating point beyond reading x and writing out:",
        f"               inputs int16 at 2^-{INPUT_BITS} (saturating at +-{2 ** (15 - INPUT_BITS)}),",
        f"               activations int16 at 2^-{ACT_BITS}, weights int16 at 2^-f per layer,",
        "               f the largest with max|W| 2^f <= 32767 (and the int32 biases in range):",
        "               " + ", ".join(f"layer {l}: f = {f}" for l, f in enumerate(weight_bits)) + ".",
        "               Sums are exact in int64; the sigmoid is a table with linear",
        f"               interpolation (every 1/16 on [0, {TABLE_END}]), off by at most 1.1e-4.",
        "",
        f"void {p}_forward(const float *x, float *out)",
        f"    x: {P}_N_INPUTS floats; out: {P}_N_OUTPUTS floats,",
        *returns,
        f"int {p}_predict(const float *x)",
        f"    {rule}.",
        "Nothing is allocated: the integer activations and sums live on the stack.",
        "No libm: link nothing but this header.",
    ]
    table = sigmoid_table()
    parts = c_common.opening(net, name, "in int16 fixed point", arithmetic, "stdint.h",
                             INPUT_BITS=INPUT_BITS)
    for l, ((Wq, bq, bits), f) in enumerate(zip(layers, weight_bits)):
        parts.append(f"/* layer {l}: W = w{l} / 2^{f}, sums and b = b{l} at 2^-{bits} */")
        parts.append(c_common.array("int16_t", f"{p}_w{l}", Wq, str, per_line=12))
        parts.append(c_common.array("int32_t", f"{p}_b{l}", bq, str, per_line=8))
    parts.append(_HELPERS.format(
        p=p, P=P, n_table=len(table) - 1, end=TABLE_END, zb=Z_BITS, ib=INTERP_BITS,
        mask=(1 << INTERP_BITS) - 1, half_step=1 << (INTERP_BITS - 1), one=ONE,
        input_scale=c_common.float_literal(1 << INPUT_BITS),
        table=c_common.array("int16_t", f"{p}_sigmoid_table", table, str, per_line=12)))
    parts.append(_run(net, layers, p, P))
    parts.append(_forward(net, out_bits, p, P))
    parts.append(_predict(net, out_bits, rule, p, P))
    return c_common.guard(name, "\n".join(parts))


def _run(net, layers, p, P):
    """The integer pass through every layer, leaving the output layer's sums."""
    lines = [f"/* The output layer's sums (at 2^-{layers[-1][2]}) for the inputs x. */",
             f"static inline void {p}_sums_q(const float *x, int64_t *sums)", "{",
             f"    int16_t xq[{P}_N_INPUTS];"]
    if len(layers) > 1:
        lines += [f"    int16_t h[2][{P}_MAX_HIDDEN];", f"    int64_t acc[{P}_MAX_HIDDEN];"]
    lines.append(f"    {p}_inputs_q(x, xq);")
    source = "xq"
    for l, (Wq, _, bits) in enumerate(layers):
        n_out, n_in = Wq.shape
        if l == len(layers) - 1:
            lines.append(f"    {p}_dense_q({n_in}, {n_out}, {p}_w{l}, {p}_b{l}, {source}, sums);")
        else:
            target = f"h[{l % 2}]"
            lines.append(f"    {p}_dense_q({n_in}, {n_out}, {p}_w{l}, {p}_b{l}, {source}, acc);")
            lines.append(f"    {p}_sigmoid_layer_q({n_out}, acc, {bits - Z_BITS}, {target});")
            source = target
    lines.append("}\n")
    return "\n".join(lines)


def _forward(net, out_bits, p, P):
    if net.output == "sigmoid":
        convert = (f"out[j] = (float){p}_sigmoid_q({p}_rescale(sums[j], {out_bits - Z_BITS}))"
                   f" * (1.0f / {ONE}.0f);")
    else:
        convert = f"out[j] = (float)sums[j] * {c_common.float_literal(2.0 ** -out_bits)};"
    return (f"/* The outputs for the inputs x (see the top of this file). */\n"
            f"static inline void {p}_forward(const float *x, float *out)\n{{\n"
            f"    int64_t sums[{P}_N_OUTPUTS];\n    {p}_sums_q(x, sums);\n"
            f"    for (int j = 0; j < {P}_N_OUTPUTS; j++) {convert}\n}}\n")


def _predict(net, out_bits, rule, p, P):
    """predict on the output sums: their largest, or one output's threshold as a sum."""
    if net.output == "softmax":
        one_output = "    (void)sums;\n    return 1;"
    else:
        one_output = f"    return sums[0] >= {_half(net.output, out_bits)}LL;"
    return c_common.predict_function(p, P, rule, net.sizes[-1], "int64_t sums",
                                     f"{p}_sums_q(x, sums)", one_output)
