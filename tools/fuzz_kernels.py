"""Fuzz every entry point of fastmlp._kernels with hypothesis.

    python tools/fuzz_kernels.py [--examples N] [--seed S] [--trace]

Each entry point (found by introspection: every public callable of the module) gets N
generated calls (default $FASTMLP_FUZZ_EXAMPLES, else 200): arrays of the right shapes
and dtypes, often spoiled (a wrong shape, dtype or number of dimensions, Fortran order,
a strided view, None, a Python list, read-only), lists of the wrong length, odd numbers.
Every call must return, or raise ValueError, TypeError or _kernels.KernelError; any other
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

FLOATS = [np.float32, np.float64]
BAD_DTYPES = [np.float16, np.int32, np.int64, np.complex128, np.bool_, ">f8", ">f4"]
ALLOWED = (ValueError, TypeError, _kernels.KernelError)
SPOIL_EVERY = 10  # on average one argument in this many is spoiled


def entry_points():
    """The public callables of _kernels, except the exception class."""
    return sorted(name for name in dir(_kernels) if not name.startswith("_")
                  and callable(getattr(_kernels, name)) and not isinstance(getattr(_kernels, name), type))


# --- building blocks --------------------------------------------------------------------------

@st.composite
def world(draw, max_layers=4):
    """A network description: dtype, layer sizes (input first) and a number of rows."""
    layers = draw(st.integers(1, max_layers))
    sizes = draw(st.lists(st.sampled_from(list(range(1, 8)) * 3 + [0]),  # a zero now and then
                          min_size=layers + 1, max_size=layers + 1))
    return dict(dtype=draw(st.sampled_from(FLOATS)), sizes=sizes, m=draw(st.integers(0, 9)),
                seed=draw(st.integers(0, 2**32 - 1)))


def _values(rng, shape, dtype, special):
    a = rng.standard_normal(shape)
    if special and a.size:
        a.flat[rng.integers(a.size)] = rng.choice([np.nan, np.inf, -np.inf, 1e308])
    with np.errstate(over="ignore"):
        return a.astype(dtype)


@st.composite
def array(draw, w, shape, dtype=None, spoil=True):
    """An array of `shape` and the world's dtype, spoiled now and then."""
    dtype = w["dtype"] if dtype is None else dtype
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = _values(rng, shape, dtype, special=draw(st.integers(0, 30)) == 0)
    if not spoil or draw(st.integers(0, SPOIL_EVERY - 1)):
        return a
    how = draw(st.sampled_from(["shape", "shape", "dtype", "fortran", "strided", "none", "list",
                                "ndim", "readonly", "scalar"]))
    if how == "shape" and shape:
        shape = list(shape)
        i = draw(st.integers(0, len(shape) - 1))
        shape[i] = max(0, shape[i] + draw(st.sampled_from([-1, 1, 2, -shape[i]])))
        return _values(rng, tuple(shape), dtype, False)
    if how == "dtype":
        with np.errstate(invalid="ignore"):
            return a.astype(draw(st.sampled_from(BAD_DTYPES)))
    if how == "fortran":
        return np.asfortranarray(a.reshape(tuple(reversed(a.shape))).T) if a.ndim == 2 else a
    if how == "strided":
        wide = np.empty(a.shape[:-1] + (2 * a.shape[-1],) if a.ndim else (2,), dtype=a.dtype)
        view = wide[..., ::2]
        view[...] = a
        return view
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
    if spoil and not draw(st.integers(0, SPOIL_EVERY - 1)):
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
    return st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0, -1.0, float("nan"), float("inf"), 1e300])


def count():
    return st.integers(1, 12) | st.sampled_from([0, -1, 2**31, 2**40, 2**62])


# --- one strategy per entry point: (args, kwargs) ---------------------------------------------

@st.composite
def train_workspace_size(draw):
    w = draw(world())
    weights = draw(array_list(w, layer_shapes(w)[0]))
    return (weights, draw(count())), {}


@st.composite
def train_epoch(draw):
    w = draw(world())
    ws, bs = layer_shapes(w)
    m, sizes = w["m"], w["sizes"]
    momentum = draw(st.booleans())
    batch = draw(count())
    order = None
    if draw(st.booleans()):
        order = np.random.default_rng(w["seed"]).permutation(m).astype(np.int64)
        if not draw(st.integers(0, 4)) and m:
            order[draw(st.integers(0, m - 1))] = draw(st.sampled_from([m, -1, 2**40]))
        order = draw(st.sampled_from([order] * 8 + [order.astype(np.int32), order[:-1], None]))
    weights = draw(array_list(w, ws))
    args = (weights, draw(array_list(w, bs)),
            draw(array_list(w, ws)) if momentum else [], draw(array_list(w, bs)) if momentum else [],
            draw(array(w, (m, sizes[0]))), draw(array(w, (m, sizes[-1]))), order, batch,
            draw(code()), draw(code()), draw(number()), draw(number()),
            draw(number()) if momentum else 0.0,
            Workspace(w, batch, draw(st.sampled_from([0, 0, 0, 0, -1, 1, None]))))
    return args, {}


class Workspace:
    """Stands for train_epoch's workspace: as long as train_workspace_size says for
    mini-batches of `batch` rows, plus `extra` elements (None: an empty array); allocated
    just before the call, from a valid description of the world's network."""

    def __init__(self, w, batch, extra):
        self.w, self.batch, self.extra = w, batch, extra

    def make(self):
        dtype, (ws, _) = self.w["dtype"], layer_shapes(self.w)
        if self.extra is None or not ws or 0 in self.w["sizes"]:
            return np.empty(0, dtype=dtype)
        rows = min(self.batch, self.w["m"]) if 1 <= self.batch <= 12 else 1
        need = _kernels.train_workspace_size([np.empty(s, dtype=dtype) for s in ws], max(rows, 1))
        return np.empty(max(need + self.extra, 0), dtype=dtype)


@st.composite
def network_forward(draw):
    w = draw(world())
    ws, bs = layer_shapes(w)
    m, sizes = w["m"], w["sizes"]
    return (draw(array_list(w, ws)), draw(array_list(w, bs)), draw(array(w, (m, sizes[0]))),
            draw(array(w, (m, sizes[-1]))), draw(code())), {}


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


def no_arguments():
    return st.just(((), {})) | st.just(((1,), {}))


STRATEGIES = {
    "train_workspace_size": train_workspace_size(), "train_epoch": train_epoch(),
    "network_forward": network_forward(), "dense_forward": dense_forward(),
    "dense_backward": dense_backward(), "sgd_update": sgd_update(), "cost": cost(),
    "exp": elementwise(), "sigmoid": elementwise(),
    "get_isa": no_arguments(), "supported_isas": no_arguments(), "get_num_threads": no_arguments(),
    "set_isa": st.sampled_from(["baseline", "avx2", "avx512", "neon", "", None, 1]).map(lambda v: ((v,), {})),
    "set_num_threads": st.sampled_from([1, 2, 0, -1, 64, 65, 2**31, None, 1.5]).map(lambda v: ((v,), {})),
}

# Calls that crashed fastmlp 0.1, tried before the generated ones.
def known_calls():
    W = [np.full((512, 300), .01), np.full((10, 512), .01)]
    b = [np.zeros(512), np.zeros(10)]
    X, Y = np.random.default_rng(0).random((64, 300)), np.eye(10)[np.arange(64) % 10]
    work = np.zeros(_kernels.train_workspace_size(W, 32))
    fortran = [np.asfortranarray(W[0]), W[1]]
    return [
        ("train_epoch", (W, b, [np.zeros((1, 1)), np.zeros((10, 512))], b, X, Y, None, 32, 0, 0,
                         .5, 0., .9, work)),                                       # short velocity
        ("train_epoch", (W, [np.zeros(5), b[1]], [], [], X, Y, None, 32, 0, 0, .5, 0., 0., work)),
        ("train_epoch", (W, b[:1], [], [], X, Y, None, 32, 0, 0, .5, 0., 0., work)),  # too few biases
        ("train_epoch", (W, b, W[:1], b[:1], X, Y, None, 32, 0, 0, .5, 0., .9, work)),
        ("train_epoch", ([W[0], np.zeros((10, 7))], b, [], [], X, Y, None, 32, 0, 0, .5, 0., 0., work)),
        ("train_epoch", (fortran, b, [], [], X, Y, None, 32, 0, 0, .5, 0., 0., work)),  # Fortran order
        ("train_epoch", ([W[0].astype(np.float32), W[1]], b, [], [], X, Y, None, 32, 0, 0, .5, 0., 0.,
                         work)),                                                   # one wrong dtype
        ("train_workspace_size", ([], 1)),
        ("train_workspace_size", ([None], 1)),
        ("network_forward", (fortran, b, X, np.empty((64, 10)), 0)),
    ]


# --- running ----------------------------------------------------------------------------------

def describe(value):
    """A short description of an argument: arrays by shape, dtype and layout."""
    if isinstance(value, np.ndarray):
        layout = "C" if value.flags.c_contiguous else "F" if value.flags.f_contiguous else "strided"
        return f"array{value.shape}:{value.dtype.str}:{layout}{'' if value.flags.writeable else ':ro'}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, Workspace):
        return f"workspace(extra={value.extra})"
    return repr(value)


class Runner:
    def __init__(self, trace):
        self.trace = trace
        self.outcomes = collections.defaultdict(collections.Counter)
        self.failures = []

    def call(self, name, args, kwargs):
        isa, threads = _kernels.get_isa(), _kernels.get_num_threads()
        text = f"{name}({', '.join([describe(a) for a in args] + [f'{k}={v!r}' for k, v in kwargs.items()])})"
        if self.trace:
            print(f"CALL {text}", file=sys.stderr, flush=True)
        args = tuple(a.make() if isinstance(a, Workspace) else a for a in args)
        try:
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
        @given(STRATEGIES[name])
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
    missing = [n for n in names if n not in STRATEGIES]
    if missing:
        print(f"FAIL: entry points without a fuzz strategy: {missing}")
        return 2
    runner = Runner(args.trace)
    for name, call_args in known_calls():
        runner.call(name, call_args, {})
    for name in names:
        runner.fuzz(name, args.examples, args.seed)

    total = sum(sum(c.values()) for c in runner.outcomes.values())
    print(f"fuzzed {len(names)} entry points of fastmlp._kernels, {total} calls "
          f"(seed {args.seed}, {args.examples} generated per entry point, ISA {_kernels.get_isa()})")
    for name in names:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(runner.outcomes[name].items()))
        print(f"  {name:22s} {counts}")
    for failure in runner.failures[:20]:
        print(f"FAIL: {failure}")
    print(f"{'FAIL' if runner.failures else 'OK'}: {len(runner.failures)} calls misbehaved, "
          f"0 crashed (a crash ends the process before this line)")
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
