"""Fuzz every entry point of fastmlp._kernels with hypothesis.

    python tools/fuzz_kernels.py [--examples N] [--seed S] [--trace]

Each entry point (found by introspection: every public callable of the module) gets N
generated calls (default $FASTMLP_FUZZ_EXAMPLES, else 200): arrays of the right shapes
and dtypes, often spoiled (a wrong shape, dtype or number of dimensions, Fortran order,
a strided view, data not aligned to its elements, None, a Python list, read-only), lists of the wrong length, odd numbers.
Every call must return, or raise ValueError, TypeError, _kernels.KernelError (or, from
network_forward, FloatingPointError for outputs that overflowed); any other
exception is a failure, and a crash kills the process: run it in a subprocess, with
``--trace`` to print each call on stderr before it is made, so the last line names the
call that crashed.  The summary counts the outcomes per entry point; the exit status is
0 when every call behaved.
"""
import argparse
import collections
import os
import sys

import numpy as np
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from fastmlp import _kernels
from fastmlp._testing import unaligned

FLOATS = [np.float32, np.float64]
BAD_DTYPES = [np.float16, np.int32, np.int64, np.complex128, np.bool_, ">f8", ">f4"]
# FloatingPointError: network_forward's documented answer to outputs that overflowed.
ALLOWED = (ValueError, TypeError, _kernels.KernelError, FloatingPointError)
# How often an argument is spoiled, drawn once per call: about one argument in this many.
# Some calls are then all valid and reach the C code, others are spoiled everywhere.
SPOIL_RATES = [10**6, 100, 30, 10, 3]


def entry_points():
    """The public callables of _kernels (NetworkArrays included), except exception classes."""
    return sorted(name for name in dir(_kernels) if not name.startswith("_")
                  and callable(getattr(_kernels, name))
                  and not (isinstance(getattr(_kernels, name), type)
                           and issubclass(getattr(_kernels, name), BaseException)))


# --- building blocks --------------------------------------------------------------------------

@st.composite
def world(draw, max_layers=4):
    """A network description: dtype, layer sizes (input first) and a number of rows."""
    layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.sampled_from(list(range(1, 8)) * 3 + [0]),  # a zero now and then
                          min_size=layers + 1, max_size=layers + 1))
    return dict(dtype=draw(st.sampled_from(FLOATS)), sizes=sizes, spoil=draw(st.sampled_from(SPOIL_RATES)),
                m=draw(st.sampled_from(list(range(1, 10)) * 2 + [0])),
                seed=draw(st.integers(0, 2**32 - 1)))


def _values(rng, shape, dtype, special):
    a = rng.standard_normal(shape)
    if special and a.size:
        a.flat[rng.integers(a.size)] = rng.choice([np.nan, np.inf, -np.inf, 1e308])
    with np.errstate(over="ignore"):
        return a.astype(dtype)


def chance(k):
    """True about one time in k.  (sampled_from draws its items about evenly; hypothesis
    draws the lower bound of st.integers about twice as often as the other values.)"""
    return st.sampled_from([True] + [False] * (k - 1)) if k < 1000 else st.just(False)


@st.composite
def array(draw, w, shape, dtype=None, spoil=True):
    """An array of `shape` and the world's dtype, spoiled now and then."""
    dtype = w["dtype"] if dtype is None else dtype
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = _values(rng, shape, dtype, special=draw(chance(30)))
    if not spoil or not draw(chance(w["spoil"])):
        return a
    how = draw(st.sampled_from(["shape", "shape", "dtype", "fortran", "strided", "none", "list",
                                "ndim", "readonly", "scalar", "unaligned"]))
    if how == "shape" and shape:
        shape = list(shape)
        i = draw(st.integers(0, len(shape) - 1))
        shape[i] = max(0, shape[i] + draw(st.sampled_from([-1, 1, 2, -shape[i]])))
        return _values(rng, tuple(shape), dtype, False)
    if how == "dtype":
        with np.errstate(invalid="ignore", over="ignore"):
            return a.astype(draw(st.sampled_from(BAD_DTYPES)))
    if how == "fortran":
        return np.asfortranarray(a.reshape(tuple(reversed(a.shape))).T) if a.ndim == 2 else a
    if how == "strided":
        wide = np.empty(a.shape[:-1] + (2 * a.shape[-1],) if a.ndim else (2,), dtype=a.dtype)
        view = wide[..., ::2]
        view[...] = a
        return view
    if how == "unaligned":
        return unaligned(a)
    if how == "none":
        return None
    if how == "list":
        return a.tolist()
    if how == "ndim":
        return a.reshape(a.shape + (1,)) if draw(st.booleans()) or a.ndim < 2 else a.reshape(-1)
    if how == "readonly":
        a.flags.writeable = False
        return a
    return 1.5


@st.composite
def array_list(draw, w, shapes, spoil=True):
    """A list of arrays of `shapes`, sometimes one too few or too many, or not a list."""
    items = [draw(array(w, s, spoil=spoil)) for s in shapes]
    if spoil and draw(chance(w["spoil"])):
        how = draw(st.sampled_from(["drop", "extra", "empty", "tuple", "none"]))
        if how == "drop" and items:
            return items[:-1]
        if how == "extra":
            return items + [items[-1] if items else np.zeros((1, 1))]
        if how == "empty":
            return []
        if how == "tuple":
            return tuple(items)
        return None
    return items


def layer_shapes(w):
    sizes = w["sizes"]
    return [(o, i) for i, o in zip(sizes[:-1], sizes[1:])], [(o,) for o in sizes[1:]]


def code():
    """An activation or cost code: mostly valid, sometimes not."""
    return st.sampled_from([0, 1, 2, 0, 1, 2, -1, 3, 99])


def number():
    """A rate or coefficient: mostly ordinary, sometimes negative, NaN, infinite or huge."""
    return st.sampled_from([0.0, 0.1, 0.5, 0.9] * 4 + [1.0, -1.0, float("nan"), float("inf"), 1e300])


def count():
    return st.sampled_from(list(range(1, 13)) * 3 + [0, -1, 2**31, 2**40, 2**62])


# --- one strategy per entry point: (args, kwargs) ---------------------------------------------

class Lazy:
    """An argument built just before the call (`make`), from parts that may be spoiled."""

    def make(self):
        raise NotImplementedError


class Arrays(Lazy):
    """_kernels.NetworkArrays(*args, **kwargs): a network description."""

    def __init__(self, args, kwargs):
        self.args, self.kwargs = args, kwargs

    def make(self):
        return _kernels.NetworkArrays(*self.args, **self.kwargs)

    def __str__(self):
        return f"NetworkArrays({describe_call(self.args, self.kwargs)})"


class Rows(Lazy):
    """_kernels.CompressedRows(*args): inputs as compressed rows."""

    def __init__(self, args):
        self.args = args

    def make(self):
        return _kernels.CompressedRows(*self.args)

    def __str__(self):
        return f"CompressedRows({describe_call(self.args, {})})"


class Workspace(Lazy):
    """train_epoch's workspace: as long as train_workspace_size says for the world's
    (valid) network and mini-batches of `batch` rows (of compressed rows or not), plus
    `extra` elements (None: an empty array)."""

    def __init__(self, w, batch, extra, compressed=False):
        self.w, self.batch, self.extra, self.compressed = w, batch, extra, compressed

    def make(self):
        dtype, (ws, bs) = self.w["dtype"], layer_shapes(self.w)
        if self.extra is None or 0 in self.w["sizes"]:
            return np.empty(0, dtype=dtype)
        arrays = _kernels.NetworkArrays([np.empty(s, dtype=dtype) for s in ws],
                                        [np.empty(s, dtype=dtype) for s in bs])
        need = _kernels.train_workspace_size(arrays, self.batch if 1 <= self.batch <= 12 else 1,
                                             self.compressed)
        return np.empty(max(need + self.extra, 0), dtype=dtype)

    def __str__(self):
        return f"workspace(extra={self.extra})"


@st.composite
def compressed_rows(draw, w, shape):
    """CompressedRows' arguments for an m x n matrix of the world's dtype, about a third
    nonzero, sometimes spoiled: a column out of range, offsets that decrease or run
    past the data, a NaN, a wrong dtype, a short indptr."""
    m, n = shape
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dense = _values(rng, shape, w["dtype"], False) * (rng.random(shape) < 0.3)
    indptr = np.concatenate([[0], np.cumsum(np.count_nonzero(dense, axis=1))]).astype(np.int64)
    indices, data = np.nonzero(dense)[1].astype(np.int32), dense[dense != 0]
    if draw(chance(w["spoil"])) and len(data):
        t = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["column", "negative", "offsets", "past", "nan", "dtype", "short"]))
        if how == "column":
            indices[t] = n + draw(st.sampled_from([0, 1, 2**30]))
        elif how == "negative":
            indices[t] = -1
        elif how == "offsets" and m > 1:
            indptr[1], indptr[2] = indptr[2] + 1, indptr[1]
        elif how == "past":
            indptr[-1] = len(data) + 5
        elif how == "nan":
            data[t] = np.nan
        elif how == "dtype":
            indices = indices.astype(np.int64)
        elif how == "short":
            indptr = indptr[:-1]
    return indptr, indices, data, draw(st.sampled_from([n] * 8 + [n - 1, -1, 2**40]))


def inputs(w, shape):
    """X as a dense (m, n) array or as compressed rows (drawn: (X, is_compressed))."""
    return st.booleans().flatmap(
        lambda compressed: compressed_rows(w, shape).map(lambda args: (Rows(args), True))
        if compressed else array(w, shape).map(lambda X: (X, False)))


@st.composite
def network_arrays(draw, w=None, writable=None):
    """The arguments of NetworkArrays for the world's network, often spoiled."""
    w = draw(world()) if w is None else w
    ws, bs = layer_shapes(w)
    velocities = draw(st.booleans())
    args = [draw(array_list(w, ws)), draw(array_list(w, bs))]
    if velocities or draw(chance(w["spoil"])):
        args += [draw(array_list(w, ws)), draw(st.none() | array_list(w, bs)) if not velocities
                 else draw(array_list(w, bs))]
    output = draw(st.sampled_from(["sigmoid", "identity", "softmax"]))
    kwargs = dict(output=draw(st.sampled_from(["relu", None])) if draw(chance(w["spoil"])) else output,
                  writable=draw(st.booleans()) if writable is None else writable)
    return args, kwargs


def described_network(w, writable=None):
    """A NetworkArrays for train_* and network_forward, or now and then something else."""
    return chance(w["spoil"]).flatmap(
        lambda spoil: st.sampled_from([None, [], "network"]) if spoil
        else network_arrays(w, writable).map(lambda call: Arrays(*call)))


@st.composite
def train_workspace_size(draw):
    w = draw(world())
    return (draw(described_network(w)), draw(count())), {}


@st.composite
def train_epoch(draw):
    w = draw(world())
    m, sizes = w["m"], w["sizes"]
    batch = draw(count())
    order = None
    if draw(st.booleans()):
        order = np.random.default_rng(w["seed"]).permutation(m).astype(np.int64)
        if m and draw(chance(5)):  # an index out of range
            order[draw(st.integers(0, m - 1))] = draw(st.sampled_from([m, -1, 2**40]))
        order = draw(st.sampled_from([order] * 8 + [order.astype(np.int32), order[:-1], None]))
    X, compressed = draw(inputs(w, (m, sizes[0])))
    args = (draw(described_network(w, writable=draw(st.sampled_from([True] * 5 + [False])))),
            X, draw(array(w, (m, sizes[-1]))), order,
            draw(st.none() | array(w, (m,))), batch,
            draw(st.sampled_from(["hinge", None])) if draw(chance(w["spoil"]))
            else draw(st.sampled_from(["quadratic", "cross_entropy", "log_likelihood"])),
            draw(number()), draw(number()), draw(st.sampled_from([0.0, 0.0, 0.0, 0.5]) | number()),
            Workspace(w, batch, draw(st.sampled_from([-1, 1, None])) if draw(chance(w["spoil"])) else 0,
                      compressed))
    kwargs = {}
    if draw(chance(4)):
        kwargs = dict(first_batch=draw(st.integers(-1, 3) | count()), n_batches=draw(st.integers(-1, 3) | count()))
    return args, kwargs


@st.composite
def network_forward(draw):
    w = draw(world())
    m, sizes = w["m"], w["sizes"]
    return (draw(described_network(w)), draw(inputs(w, (m, sizes[0])))[0],
            draw(array(w, (m, sizes[-1])))), {}


@st.composite
def forward_sample(draw):
    w = draw(world())
    sizes = w["sizes"]
    return (draw(described_network(w)), draw(array(w, (sizes[0],))), draw(array(w, (sizes[-1],)))), {}


@st.composite
def compress_rows(draw):
    w = draw(world())
    return (draw(array(w, (w["m"], w["sizes"][0]))),), {}


@st.composite
def dense_forward(draw):
    w = draw(world(max_layers=1))
    (n_in, n_out), m = w["sizes"], w["m"]
    return (draw(array(w, (m, n_in))), draw(array(w, (n_out, n_in))), draw(array(w, (n_out,))),
            draw(array(w, (m, n_out))), draw(code())), {}


@st.composite
def dense_backward(draw):
    w = draw(world(max_layers=1))
    (n_in, n_out), m = w["sizes"], w["m"]
    dX = draw(st.none() | array(w, (m, n_in)))
    return (draw(array(w, (m, n_in))), draw(array(w, (n_out, n_in))), draw(array(w, (m, n_out))),
            draw(array(w, (m, n_out))), draw(array(w, (m, n_out))), draw(array(w, (n_out, n_in))),
            draw(array(w, (n_out,))), dX, draw(code())), {}


@st.composite
def sgd_update(draw):
    w = draw(world(max_layers=1))
    n = w["sizes"][0] * w["sizes"][1]
    return (draw(array(w, (n,))), draw(array(w, (n,))), draw(st.none() | array(w, (n,)))), \
        dict(lr=draw(number()), l2=draw(number()), momentum=draw(number()))


@st.composite
def cost(draw):
    w = draw(world(max_layers=1))
    shape = (w["m"], w["sizes"][1])
    return (draw(array(w, shape)), draw(array(w, shape)), draw(code())), {}


@st.composite
def elementwise(draw):
    w = draw(world(max_layers=1))
    x = draw(array(w, (w["m"] * w["sizes"][0],)))
    return (x, x if draw(st.booleans()) else draw(array(w, (w["m"] * w["sizes"][0],)))), {}


def thread_count():
    # 2**31: past a C int (once an OverflowError from Cython's conversion)
    return st.sampled_from([1, 2, 0, -1, 64, 65, None, 1.5, 2**31]).map(lambda v: ((v,), {}))


def no_arguments():
    return st.just(((), {})) | st.just(((1,), {}))


def strategies():
    """The strategy of each entry point (built after the command line is read)."""
    return {
        "NetworkArrays": network_arrays(), "train_workspace_size": train_workspace_size(),
        "train_epoch": train_epoch(), "network_forward": network_forward(), "dense_forward": dense_forward(),
        "dense_backward": dense_backward(), "sgd_update": sgd_update(), "cost": cost(),
        "exp": elementwise(), "sigmoid": elementwise(),
        "CompressedRows": world().flatmap(lambda w: compressed_rows(w, (w["m"], w["sizes"][0])))
        .map(lambda args: (args, {})),
        "compress_rows": compress_rows(), "forward_sample": forward_sample(),
        "get_isa": no_arguments(), "supported_isas": no_arguments(), "get_num_threads": no_arguments(),
        "get_local_num_threads": no_arguments(),
        "set_isa": st.sampled_from(["baseline", "avx2", "avx512", "neon", "", None, 1]).map(lambda v: ((v,), {})),
        "set_num_threads": thread_count(), "set_local_num_threads": thread_count(),
    }


# Calls that crashed fastmlp 0.1 (weights, biases and velocities were then lists passed
# to train_epoch itself), tried before the generated ones.
def known_calls():
    W = [np.full((512, 300), .01), np.full((10, 512), .01)]
    b = [np.zeros(512), np.zeros(10)]
    X, Y = np.random.default_rng(0).random((64, 300)), np.eye(10)[np.arange(64) % 10]
    fortran = [np.asfortranarray(W[0]), W[1]]
    good = _kernels.NetworkArrays(W, b, writable=True)
    work = np.zeros(_kernels.train_workspace_size(good, 32))
    return [
        ("NetworkArrays", (W, b, [np.zeros((1, 1)), np.zeros((10, 512))], b), {}),  # short velocity
        ("NetworkArrays", (W, [np.zeros(5), b[1]]), {}),                              # short bias
        ("NetworkArrays", (W, b[:1]), {}),                                           # too few biases
        ("NetworkArrays", (W, b, W[:1], b[:1]), {}),                                 # too few velocities
        ("NetworkArrays", ([W[0], np.zeros((10, 7))], b), {}),                      # shapes do not chain
        ("NetworkArrays", (fortran, b), {"writable": True}),                         # Fortran order
        ("NetworkArrays", ([W[0].astype(np.float32), W[1]], b), {}),                 # one wrong dtype
        ("NetworkArrays", ([], []), {}),
        ("NetworkArrays", ([None], [None]), {}),
        ("train_workspace_size", ([], 1), {}),
        ("train_epoch", (good, X[:, :5], Y, None, None, 32, "quadratic", .5, 0., 0., work), {}),
        ("train_epoch", (good, X, Y, None, None, 32, "quadratic", .5, 0., .9, work), {}),
        ("train_epoch", (good, X, Y, None, None, 32, "quadratic", .5, 0., 0., work[:10]), {}),
        ("network_forward", (good, X.astype(np.float32), np.empty((64, 10), np.float32)), {}),
    ]


# --- running ----------------------------------------------------------------------------------

def describe(value):
    """A short description of an argument: arrays by shape, dtype and layout."""
    if isinstance(value, np.ndarray):
        layout = "C" if value.flags.c_contiguous else "F" if value.flags.f_contiguous else "strided"
        flags = ("" if value.flags.writeable else ":ro") + ("" if value.flags.aligned else ":unaligned")
        return f"array{value.shape}:{value.dtype.str}:{layout}{flags}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, Lazy):
        return str(value)
    return repr(value)


def describe_call(args, kwargs):
    return ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])


class Runner:
    def __init__(self, trace):
        self.trace = trace
        self.strategies = strategies()
        self.outcomes = collections.defaultdict(collections.Counter)
        self.failures = []

    def call(self, name, args, kwargs):
        isa, threads = _kernels.get_isa(), _kernels.get_num_threads()
        text = f"{name}({describe_call(args, kwargs)})"
        if self.trace:
            print(f"CALL {text}", file=sys.stderr, flush=True)
        try:
            args = tuple(a.make() if isinstance(a, Lazy) else a for a in args)
            getattr(_kernels, name)(*args, **kwargs)
            self.outcomes[name]["returned"] += 1
        except ALLOWED as error:
            self.outcomes[name][type(error).__name__] += 1
            if not str(error):
                self.failures.append(f"{text}: {type(error).__name__} with an empty message")
        except Exception as error:
            self.outcomes[name][type(error).__name__] += 1
            self.failures.append(f"{text}: {type(error).__name__}: {error}")
        finally:  # the global settings stay as they were for the next call
            _kernels.set_isa(isa)
            _kernels.set_num_threads(threads)

    def fuzz(self, name, examples, seed_value):
        @seed(seed_value)
        @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                  suppress_health_check=list(HealthCheck), phases=["generate"])
        @given(self.strategies[name])
        def run(call):
            self.call(name, *call)

        run()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FASTMLP_FUZZ_EXAMPLES", 200)),
                        help="generated calls per entry point")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FASTMLP_FUZZ_SEED", 0)))
    parser.add_argument("--trace", action="store_true", help="print each call on stderr first")
    args = parser.parse_args(argv)

    names = entry_points()
    missing = [n for n in names if n not in strategies()]
    if missing:
        print(f"FAIL: entry points without a fuzz strategy: {missing}")
        return 2
    runner = Runner(args.trace)
    for name, call_args, call_kwargs in known_calls():
        runner.call(name, call_args, call_kwargs)
    for name in names:
        runner.fuzz(name, args.examples, args.seed)

    total = sum(sum(c.values()) for c in runner.outcomes.values())
    print(f"fuzzed {len(names)} entry points of fastmlp._kernels, {total} calls "
          f"(seed {args.seed}, {args.examples} generated per entry point, ISA {_kernels.get_isa()})")
    for name in names:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(runner.outcomes[name].items()))
        print(f"  {name:22s} {counts}")
    for failure in runner.failures[:10]:
        print(f"FAIL: {failure}")
    print(f"{'FAIL' if runner.failures else 'OK'}: {len(runner.failures)} calls misbehaved, "
          f"0 crashed (a crash ends the process before this line)")
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
