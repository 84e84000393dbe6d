"""The fast matrix product against its plain reference (csrc/gemm_reference.template.h).

Shapes cross every tile and block edge, A's rows lie 4 KB apart or not, every epilogue
kind runs on 1 and 2 threads, in both dtypes, on every instruction-set path this CPU
runs, with the cache blocks derived from this machine and with small blocks forced.
The reference itself is checked against NumPy, the test entry's argument checks are
exercised, and training with mini-batches longer than one K block is checked against
the NumPy twin.
"""
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st
from threadpoolctl import threadpool_limits

import fastmlp
from fastmlp import _kernels, _machine, _testing, numpy_backend
from fastmlp._testing import unaligned
from helpers import DTYPES, assert_close, random_array

# The fast product's blocking (csrc/gemm.template.h): register tiles of MR = 6 rows by NR
# columns, NR = 2 vectors (8, 16, 32 float32 lanes or 4, 8, 16 float64 lanes on the
# baseline, avx2, avx512 paths); K in equal blocks of at most kc <= KC = 256; C in blocks
# of mc rows and nc columns.  mc, nc and kc come from this machine's caches ("derived":
# often larger than every shape here) or are forced ("small": mc = 2 MR, nc = 2 NR,
# kc = 96).  A's rows are read in place in K blocks of 64 or more, unless they lie a
# multiple of 4 KB apart.
SHAPES = [  # M, N, K; the K blocks with derived kc = 256 / small kc = 96
    (1, 1, 1),        # a single element: nothing but edge tiles
    (5, 3, 2),        # less than one tile either way
    (6, 32, 255),     # one full MR panel; whole NR panels on every path; K = KC - 1; 85 x 3
    (13, 33, 256),    # two panels and a row; a column past every NR; K = KC, one block; 86 x 3
    (73, 64, 257),    # K = KC + 1: two K blocks, 129 + 128; 86 + 86 + 85
    (150, 40, 64),    # kc = 64: the shortest rows read in place; one block either way
    (20, 515, 63),    # kc = 63: rows too short to read in place; across small nc
    (145, 520, 513),  # three K blocks of 171; six of 86 and 83; across small mc and nc
]
# Small blocks put many mc, nc and K block edges inside the shapes above, every thread's
# slice of C (split in whole tiles) among them; SGD without C then runs K (<= KC) as one
# block longer than kc.
BLOCKS = ["derived", "small"]


def forced_blocks(blocks, dtype, isa):
    """The `blocks` argument of _testing.gemm for one of BLOCKS."""
    if blocks == "derived":
        return None
    tile = _testing.gemm_layout(dtype, isa)
    return 2 * tile["mr"], 2 * tile["nr"], 96
# The products the layers compute (the three uses at the top of gemm.template.h), with
# the matrices' rows as long as their length ("tight"), longer ("padded": every matrix,
# C, S, W and V included, checked untouched past its end), or a multiple of 4 KB apart
# (A's rows, which then are packed rather than read in place).
OPERANDS = [("X W^T", "tight"), ("X W^T", "padded"), ("X W^T", "4 KB"),
            ("D W", "tight"), ("D W", "4 KB"), ("D^T X", "tight"), ("D^T X", "padded")]
KINDS = ["none", "scale", "bias", "bias, sigmoid", "dsigmoid", "sgd", "sgd, momentum"]
THREADS = [1, 2]


def stored(rng, rows, cols, dtype, spacing):
    """A random rows x cols matrix whose rows lie `spacing` apart in a larger buffer:
    "tight", "padded" (3 more elements) or "4 KB" (the next multiple of 4096 bytes)."""
    itemsize = np.dtype(dtype).itemsize
    ld = {"tight": cols, "padded": cols + 3,
          "4 KB": -(-cols * itemsize // 4096) * 4096 // itemsize}[spacing]
    return random_array(rng, (rows, ld), dtype)[:, :cols]


def operands(rng, use, spacing, M, N, K, dtype):
    """A (M x K) and B (K x N) of one use; B scaled by 1 / sqrt(K) so that the products
    stay near 1 in size, as a layer's initial weights keep them."""
    pad = "padded" if spacing == "padded" else "tight"
    if use == "D^T X":
        A = stored(rng, K, M, dtype, spacing).T
    else:
        A = stored(rng, M, K, dtype, spacing)
    if use == "X W^T":
        B = stored(rng, N, K, dtype, pad).T
    else:
        B = stored(rng, K, N, dtype, pad)
    B *= dtype(1 / np.sqrt(K))
    return A, B


def epilogue(rng, kind, M, N, dtype, spacing):
    """The keyword arguments of one epilogue kind; W and V are the initial values."""
    pad = "padded" if spacing == "padded" else "tight"
    if kind == "scale":
        return dict(kind="scale", scale=0.3)
    if kind.startswith("bias"):
        return dict(kind="bias_act", bias=random_array(rng, N, dtype), sigmoid=kind.endswith("sigmoid"))
    if kind == "dsigmoid":  # sigmoid outputs, in (0.1, 0.9)
        S = stored(rng, M, N, dtype, pad)
        S[...] = rng.uniform(0.1, 0.9, (M, N))
        return dict(kind="dsigmoid", S=S)
    if kind.startswith("sgd"):
        e = dict(kind="sgd", scale=1 / 7, lr=0.5, decay=0.01, W=stored(rng, M, N, dtype, pad))
        if kind.endswith("momentum"):
            e.update(V=stored(rng, M, N, dtype, pad), momentum=0.9)
            e["V"] *= dtype(0.1)
        return e
    return dict(kind="none")


def nan_padded_copy(a):
    """A copy of `a` (rows of a wider buffer) with its rows as far apart, NaN between them."""
    buffer = np.full((a.shape[0], a.strides[0] // a.itemsize), np.nan, dtype=a.dtype)
    buffer[:, :a.shape[1]] = a
    return buffer[:, :a.shape[1]]


def product(A, B, e, padded, **how):
    """Run one product, the fast one or the reference as `how` says, on fresh copies of W
    and V and a fresh C (its rows 3 elements apart when `padded`); return the outputs by
    name (C, or W and V), after checking that nothing past the end of a row was written."""
    (M, K), N = A.shape, B.shape[1]
    e = {name: nan_padded_copy(v) if name in ("W", "V") else v for name, v in e.items()}
    out = {name: e[name] for name in ("W", "V") if name in e}
    C = None
    if e["kind"] != "sgd" or K > _testing.KC:  # SGD's scratch for partial sums
        C = np.full((M, N + 3 if padded else N), np.nan, dtype=A.dtype)[:, :N]
        if e["kind"] != "sgd":
            out["C"] = C
    _testing.gemm(A, B, C, **e, **how)
    for name, a in out.items():
        assert np.isnan(a.base[:, N:]).all(), f"{name} written past the end of its rows"
    return {name: a.copy() for name, a in out.items()}


@pytest.mark.parametrize("blocks", BLOCKS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use,spacing", OPERANDS)
@pytest.mark.parametrize("M,N,K", SHAPES)
def test_fast_product_matches_reference(M, N, K, use, spacing, kind, dtype, blocks):
    rng = np.random.default_rng([M, N, K])
    A, B = operands(rng, use, spacing, M, N, K, dtype)
    e = epilogue(rng, kind, M, N, dtype, spacing)
    inputs = {name: a for name, a in dict(A=A, B=B, **e).items() if isinstance(a, np.ndarray)}
    before = {name: a.copy() for name, a in inputs.items()}
    padded = spacing == "padded"
    expected = product(A, B, e, padded, reference=True, isa="baseline")
    if "W" in e:  # the update moved W: a comparison of unchanged copies would prove nothing
        assert np.abs(expected["W"] - e["W"]).max() > 1e-3
    for isa in _kernels.supported_isas():
        for threads in THREADS:
            got = product(A, B, e, padded, threads=threads, isa=isa,
                          blocks=forced_blocks(blocks, dtype, isa))
            for name, value in expected.items():
                assert_close(got[name], value, dtype,
                             f"{name}: {isa} path, {threads} threads, {blocks} blocks")
    for name, a in inputs.items():  # inputs are only read
        np.testing.assert_array_equal(a, before[name], err_msg=name)


@given(M=st.integers(1, 80), N=st.integers(1, 80), K=st.integers(1, 300),
       use_spacing=st.sampled_from(OPERANDS), kind=st.sampled_from(KINDS),
       dtype=st.sampled_from(DTYPES), threads=st.integers(1, 3),
       isa=st.sampled_from(_kernels.supported_isas()),
       tiles=st.none() | st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, _testing.KC)))
def test_fast_product_matches_reference_on_random_shapes(M, N, K, use_spacing, kind, dtype,
                                                         threads, isa, tiles):
    """tiles: the derived blocks (None), or mc and nc in register tiles and kc."""
    rng = np.random.default_rng([M, N, K])
    use, spacing = use_spacing
    A, B = operands(rng, use, spacing, M, N, K, dtype)
    e = epilogue(rng, kind, M, N, dtype, spacing)
    padded = spacing == "padded"
    blocks = None
    if tiles:
        tile = _testing.gemm_layout(dtype, isa)
        blocks = tiles[0] * tile["mr"], tiles[1] * tile["nr"], tiles[2]
    expected = product(A, B, e, padded, reference=True)
    got = product(A, B, e, padded, threads=threads, isa=isa, blocks=blocks)
    for name, value in expected.items():
        assert_close(got[name], value, dtype, f"{name}: {isa} path, {threads} threads, blocks {blocks}")


def numpy_product(A, B, e):
    """The epilogue contract written again in NumPy, in float64 from the same values."""
    c = A.astype(np.float64) @ B.astype(np.float64)
    kind = e["kind"]
    if kind == "scale":
        return dict(C=c * e["scale"])
    if kind == "bias_act":
        z = c + e["bias"]
        return dict(C=numpy_backend.sigmoid(z) if e["sigmoid"] else z)
    if kind == "dsigmoid":
        S = e["S"].astype(np.float64)
        return dict(C=c * S * (1 - S))
    if kind == "sgd":  # the rule of fm_sgd_update
        W = e["W"].astype(np.float64)
        step = e["lr"] * (e["scale"] * c + e["decay"] * W)
        if "V" not in e:
            return dict(W=W - step)
        V = e["momentum"] * e["V"].astype(np.float64) - step
        return dict(W=W + V, V=V)
    return dict(C=c)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (7, 5, 3), (13, 33, 300)])
def test_reference_matches_numpy(M, N, K, kind, dtype):
    """The reference is the spec: its maths checked against NumPy's product."""
    rng = np.random.default_rng([M, N, K])
    for use, spacing in OPERANDS:
        A, B = operands(rng, use, spacing, M, N, K, dtype)
        e = epilogue(rng, kind, M, N, dtype, spacing)
        e64 = {name: float(dtype(v)) if isinstance(v, float) else v for name, v in e.items()}
        got = product(A, B, e, spacing == "padded", reference=True)
        for name, value in numpy_product(A, B, e64).items():
            assert_close(got[name], value, dtype, f"{name}, {use}, {spacing}")


def bad_calls():
    """(what is wrong, the call's arguments, the message that must name it)."""
    A, B, C = np.ones((4, 3)), np.ones((3, 2)), np.zeros((4, 2))
    W, V = np.ones((4, 2)), np.zeros((4, 2))
    sgd = dict(kind="sgd", W=W, lr=0.1)
    wide = np.ones((4, 7))
    return [
        ("A a list", ([[1.0]], B, C), {}, "A must be a 2-D NumPy array of float32 or float64"),
        ("A of ints", (np.ones((4, 3), int), B, C), {}, "A must be a 2-D NumPy array"),
        ("A 1-D", (np.ones(3), B, C), {}, "A must be a 2-D"),
        ("B a scalar", (A, 2.0, C), {}, "B must be a 2-D NumPy array"),
        ("B of another dtype", (A, B.astype(np.float32), C), {}, "B has dtype float32, expected float64"),
        ("B's rows not K", (A, np.ones((4, 2)), C), {}, r"B has shape \(4, 2\), expected \(3, 2\)"),
        ("K = 0", (A[:, :0], B[:0], C), {}, "M = 4, N = 2, K = 0"),
        ("C's shape", (A, B, np.zeros((4, 3))), {}, r"C has shape \(4, 3\), expected \(4, 2\)"),
        ("C missing", (A, B, None), {}, "kind='none' with K = 3 needs C as output"),
        ("C read-only", (A, B, np.broadcast_to(0.0, (4, 2))), {}, "C is read-only"),
        ("C transposed", (A, B, np.zeros((2, 4)).T), {}, "C .* must have contiguous rows"),
        ("A strided both ways", (wide[:, ::2][:, :3], B, C), {}, "A .* must have contiguous rows or columns"),
        ("A reversed", (A[::-1], B, C), {}, r"A \(shape \(4, 3\), strides \(-24, 8\)\)"),
        ("A's rows overlapping", (np.lib.stride_tricks.as_strided(wide, (4, 3), (8, 8)), B, C), {},
         "A .* that do not overlap"),
        ("A unaligned", (unaligned(A), B, C), {}, "A is not aligned to its 8-byte elements"),
        ("C is A", (wide[:, :2], np.ones((2, 2)), wide[:, 2:4]), {}, "C shares memory with A"),
        ("unknown kind", (A, B, C), dict(kind="relu"), "kind='relu' is not one of 'none', 'scale'"),
        ("kind not a name", (A, B, C), dict(kind=["sgd"]), r"kind=\['sgd'\] is not one of"),
        ("a keyword the kind ignores", (A, B, C), dict(bias=np.ones(2)), "kind='none' does not read bias"),
        ("scale for bias_act", (A, B, C), dict(kind="bias_act", bias=np.ones(2), scale=2.0),
         "does not read scale"),
        ("bias missing", (A, B, C), dict(kind="bias_act"), "kind='bias_act' needs bias"),
        ("bias's length", (A, B, C), dict(kind="bias_act", bias=np.ones(3)), r"bias has shape \(3,\)"),
        ("bias strided", (A, B, C), dict(kind="bias_act", bias=np.ones(4)[::2]), "bias must be contiguous"),
        ("S missing", (A, B, C), dict(kind="dsigmoid"), "kind='dsigmoid' needs S"),
        ("S's shape", (A, B, C), dict(kind="dsigmoid", S=np.ones((2, 4))), r"S has shape \(2, 4\)"),
        ("W missing", (A, B, None), dict(kind="sgd"), "kind='sgd' needs W"),
        ("SGD beyond one K block without C", (np.ones((4, 300)), np.ones((300, 2)), None), sgd,
         "kind='sgd' with K = 300 needs C for its partial sums when K > 256"),
        ("W read-only", (A, B, None), dict(sgd, W=np.broadcast_to(1.0, (4, 2))), "W is read-only"),
        ("V shares W", (A, B, None), dict(sgd, V=W, momentum=0.5), "W shares memory with V"),
        ("V's rows apart from W's", (A, B, None), dict(sgd, V=np.zeros((4, 5))[:, :2], momentum=0.5),
         "V's rows are 5 elements apart, W's 2"),
        ("momentum without V", (A, B, None), dict(sgd, momentum=0.5), "momentum = 0.5 needs V"),
        ("momentum 1", (A, B, None), dict(sgd, V=V, momentum=1.0), r"momentum = 1.0 .* \[0, 1\)"),
        ("negative lr", (A, B, None), dict(sgd, lr=-0.1), "lr = -0.1 is not finite"),
        ("NaN decay", (A, B, None), dict(sgd, decay=float("nan")), "decay = nan is not finite"),
        ("lr beyond float32", (A.astype(np.float32), B.astype(np.float32), None),
         dict(sgd, W=W.astype(np.float32), lr=1e300), "lr = 1e[+]?300 is not finite .* float32"),
        ("scale not a number", (A, B, C), dict(kind="scale", scale="big"), "scale must be a number"),
        ("sigmoid not a bool", (A, B, C), dict(kind="bias_act", bias=np.ones(2), sigmoid=1),
         "sigmoid and reference must be True or False"),
        ("no threads", (A, B, C), dict(threads=0), "threads must be between 1 and 64, got 0"),
        ("too many threads", (A, B, C), dict(threads=65), "threads must be between 1 and 64, got 65"),
        ("threads a float", (A, B, C), dict(threads=1.5), "threads must be an integer, got 1.5"),
        ("an unknown path", (A, B, C), dict(isa="sse9"), "isa='sse9' is not one of 'baseline', 'avx2'"),
        ("two blocks", (A, B, C), dict(blocks=(6, 8)), r"blocks must be three integers \(mc, nc, kc\)"),
        ("a block not an integer", (A, B, C), dict(blocks=(6, 8.0, 8)), "blocks must be three integers"),
        ("mc not in whole tiles", (A, B, C), dict(blocks=(7, 64, 8)),
         "mc = 7 is not a positive multiple of the register tile's 6 for float64"),
        ("nc not in whole tiles", (A, B, C), dict(blocks=(6, 1, 8)), "nc = 1 is not a positive multiple"),
        ("kc 0", (A, B, C), dict(blocks=(6, 64, 0)), "kc = 0 is not between 1 and KC = 256"),
        ("kc beyond KC", (A, B, C), dict(blocks=(6, 64, 257)), "kc = 257 is not between 1 and KC = 256"),
    ]


@pytest.mark.parametrize("args,kwargs,message", [pytest.param(*call, id=what) for what, *call in bad_calls()])
def test_gemm_refuses_bad_arguments(args, kwargs, message):
    outputs = [a for a in (args[2], kwargs.get("W"), kwargs.get("V"))
               if isinstance(a, np.ndarray) and a.flags.writeable]
    before = [a.copy() for a in outputs]
    with pytest.raises(ValueError, match=message):
        _testing.gemm(*args, **kwargs)
    for a, a0 in zip(outputs, before):
        np.testing.assert_array_equal(a, a0)


@pytest.mark.parametrize("isa", _kernels.supported_isas())
def test_layout_is_the_register_tile_and_the_blocks_of_this_machines_caches(isa):
    vector_bytes = {"baseline": 16, "avx2": 32, "avx512": 64}[isa]
    for dtype in DTYPES:
        itemsize = np.dtype(dtype).itemsize
        layout = _testing.gemm_layout(dtype, isa)
        assert (layout["mr"], layout["nr"]) == (6, 2 * vector_bytes // itemsize)
        derived = _machine.blocks_for(_machine.caches(), itemsize, layout["mr"], layout["nr"])
        assert (layout["mc"], layout["nc"], layout["kc"]) == derived


@pytest.mark.parametrize("dtype", DTYPES)
def test_blocks_larger_than_the_default_scratch_grow_it(dtype):
    """Blocks whose packing buffers pass the pool's 1.25 MB default (4.8 MB in float32,
    9.6 MB in float64), then a small product again: both agree with the reference."""
    rng = np.random.default_rng(5)
    tile = _testing.gemm_layout(dtype, None)
    mc, nc = 100 * tile["mr"], 4096 // tile["nr"] * tile["nr"]
    for M, N, K in [(mc, nc, _testing.KC), (7, 9, 11)]:
        A, B = random_array(rng, (M, K), dtype), random_array(rng, (K, N), dtype, 1 / np.sqrt(K))
        got, expected = np.empty((M, N), dtype), np.empty((M, N), dtype)
        _testing.gemm(A, B, got, threads=2, blocks=(mc, nc, _testing.KC))
        _testing.gemm(A, B, expected, reference=True)
        assert_close(got, expected, dtype, f"{M} x {N} x {K}")


@pytest.mark.parametrize("isa", _kernels.supported_isas())
def test_blocks_reach_the_kernel_and_only_kc_changes_the_rounding(isa):
    """Every element is summed over K in the same order whatever mc and nc are (so threads,
    which split C, do not change results either): bit-identical.  Another kc cuts K into
    other blocks, which float32 rounding shows."""
    rng = np.random.default_rng(9)
    M, N, K = 145, 520, 513
    A, B = random_array(rng, (M, K), np.float32), random_array(rng, (K, N), np.float32, 1 / np.sqrt(K))
    tile = _testing.gemm_layout(np.float32, isa)
    mr, nr = tile["mr"], tile["nr"]
    out = {}
    for blocks in [(mr, nr, 96), (20 * mr, 10 * nr, 96), (mr, nr, 171)]:
        out[blocks] = np.empty((M, N), np.float32)
        _testing.gemm(A, B, out[blocks], threads=2, isa=isa, blocks=blocks)
    np.testing.assert_array_equal(out[mr, nr, 96], out[20 * mr, 10 * nr, 96])
    assert not np.array_equal(out[mr, nr, 96], out[mr, nr, 171])
    assert_close(out[mr, nr, 171], A.astype(np.float64) @ B, np.float32, "kc 171")


def test_gemm_refuses_a_path_this_cpu_lacks(monkeypatch):
    """A CPU that runs only the baseline path, whatever this one runs."""
    monkeypatch.setattr(_kernels, "supported_isas", lambda: ("baseline",))
    with pytest.raises(ValueError, match=re.escape(
            "this CPU cannot run the 'avx512' path; it runs ('baseline',)")):
        _testing.gemm(np.ones((2, 2)), np.ones((2, 2)), np.zeros((2, 2)), isa="avx512")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [300, 600])
@pytest.mark.parametrize("options", [dict(), dict(l2=5.0), dict(momentum=0.8),
                                     dict(l2=5.0, momentum=0.8)],
                         ids=lambda o: ",".join(o) or "plain")
def test_training_on_batches_beyond_one_k_block(every_isa, dtype, batch, options):
    """Mini-batches of 300 and 600 rows (and a last one of 100 or 400): the weight update
    sums over the batch in two or three K blocks through its gradient buffer.  The C
    backend and the NumPy twin train the same network."""
    rng = np.random.default_rng(batch)
    X, y = rng.random((1000, 64)), rng.integers(0, 10, 1000)
    nets = [fastmlp.Network([64, 40, 10], dtype=dtype, seed=7, backend=backend)
            for backend in ("c", "numpy")]
    # NumPy's BLAS on one thread: its threads spinning against fastmlp's cost 50x here
    with threadpool_limits(limits=1, user_api="blas"):
        histories = [net.fit(X, y, epochs=4, batch_size=batch, lr=3.0, **options) for net in nets]
    for l, (layer_c, layer_np) in enumerate(zip(nets[0].layers, nets[1].layers)):
        assert_close(layer_c.weights, layer_np.weights, dtype, f"weights[{l}]", trained=True)
        assert_close(layer_c.biases, layer_np.biases, dtype, f"biases[{l}]", trained=True)
    assert_close(histories[0].train_cost, histories[1].train_cost, dtype, "train_cost", trained=True)
    assert histories[0].train_accuracy == histories[1].train_accuracy
    start = fastmlp.Network([64, 40, 10], dtype=dtype, seed=7).layers[0].weights
    assert np.abs(nets[0].layers[0].weights - start).max() > 1e-2  # training moved it
