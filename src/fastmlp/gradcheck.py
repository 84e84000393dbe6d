"""Checking backpropagation against central differences, and timing the two methods."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate

if TYPE_CHECKING:
    from .network import Gradients, Network


def _float64_probe(net: Network, X: ArrayLike, y: ArrayLike
                   ) -> tuple[Network, NDArray[np.float64], NDArray[np.float64]]:
    """A float64 copy of `net` (same parameters and backend) and (X, Y) checked for it.

    Nudges run in float64: float32 rounding would swamp a change of 1e-6 in the cost.
    """
    from .network import Network

    probe = Network(net.sizes, cost=net.cost, output=net.output, dtype="float64",
                    backend=net.backend)
    for mine, theirs in zip(probe.layers, net.layers):
        mine.weights, mine.biases = theirs.weights, theirs.biases
    inputs, _ = probe._inputs(X)
    return probe, inputs, probe._targets(y, inputs.shape[0])


def _nudged_derivative(probe: Network, flat: NDArray[np.float64], i: int | np.integer,
                       X: NDArray[np.float64], Y: NDArray[np.float64], h: float) -> float:
    """``(C(p + h) - C(p - h)) / (2 h)`` for entry i of the live parameter view `flat`:
    two forward passes over X, and the parameter is put back."""
    saved = flat[i]
    flat[i] = saved + h
    c_plus = probe.evaluate(X, Y)[0]
    flat[i] = saved - h
    c_minus = probe.evaluate(X, Y)[0]
    flat[i] = saved
    return (c_plus - c_minus) / (2 * h)


def _parameter_pairs(probe: Network, grads: Gradients
                     ) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """(live flat parameter view, flat gradient) for each weight and bias array."""
    for layer, dW, db in zip(probe.layers, grads.weights, grads.biases):
        yield layer.weights.reshape(-1), dW.reshape(-1)
        yield layer.biases.reshape(-1), db.reshape(-1)


def gradcheck(net: Network, X: ArrayLike, y: ArrayLike, *, h: float = 1e-6,
              max_checks: int = 200, seed: int = 0) -> float:
    """The largest relative difference between `net.backprop` and central differences.

    For each checked parameter p, the numerical derivative is
    ``(C(p + h) - C(p - h)) / (2 h)`` with C the cost averaged over (X, y), and the
    relative difference is ``|analytic - numeric| / max(|analytic| + |numeric|, 1e-7)``.
    A correct backprop gives about 1e-7 or less.  The check runs in float64 on a copy
    of the network (float32 rounding would swamp the differences), and looks at every
    entry of a parameter array with up to `max_checks` entries, else at `max_checks`
    entries drawn with `seed`.  The network itself is not changed.
    """
    probe, X, Y = _float64_probe(net, X, y)
    grads = probe.backprop(X, Y)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for flat, flat_grad in _parameter_pairs(probe, grads):
        picks = np.arange(flat.size)
        if flat.size > max_checks:
            picks = rng.choice(flat.size, max_checks, replace=False)
        for i in picks:
            numeric = _nudged_derivative(probe, flat, i, X, Y, h)
            diff = abs(flat_grad[i] - numeric) / max(abs(flat_grad[i]) + abs(numeric), 1e-7)
            worst = max(worst, diff)
    return worst


@dataclass
class MethodComparison:
    """What the gradient cost by nudging each parameter and by backpropagation.

    Attributes
    ----------
    sizes : list of int
    samples : int
        Rows of X: every forward pass and the backprop run over all of them.
    parameters : int
        Weights and biases in the network.
    nudged : int
        Parameters actually nudged (all of them, or the sample asked for).
    forward_passes : int
        Forward passes the nudging took: 2 per nudged parameter (a central difference).
    nudge_seconds : float
        Wall time of those forward passes.
    nudge_seconds_all : float
        The time for nudging every parameter: `nudge_seconds` itself when all were
        nudged, else extrapolated as ``nudge_seconds * parameters / nudged``.
    backprop_seconds : float
        Wall time of one `net.backprop` over the same rows (the best of three calls),
        which gives every derivative.
    max_difference : float
        The largest ``|backprop - nudged|`` over the nudged parameters.
    max_gradient : float
        The largest ``|backprop|`` over them, the scale `max_difference` compares to.
    """

    sizes: list
    samples: int
    parameters: int
    nudged: int
    nudge_seconds: float
    backprop_seconds: float
    max_difference: float
    max_gradient: float

    @property
    def forward_passes(self) -> int:
        return 2 * self.nudged

    @property
    def nudge_seconds_all(self) -> float:
        if not self.extrapolated:
            return self.nudge_seconds
        return self.nudge_seconds * self.parameters / self.nudged

    @property
    def extrapolated(self) -> bool:
        return self.nudged < self.parameters

    def __str__(self) -> str:
        ratio = self.nudge_seconds_all / max(self.backprop_seconds, 1e-9)
        how = (f"measured on {self.nudged:,} of them, {self.forward_passes:,} forward passes "
               f"in {self.nudge_seconds:.3g} s, and extrapolated" if self.extrapolated
               else f"{self.forward_passes:,} forward passes")
        return (
            f"Network {self.sizes}, {self.samples:,} samples, {self.parameters:,} parameters: "
            f"nudging each parameter took {self.nudge_seconds_all:.3g} s ({how}); backprop "
            f"took {self.backprop_seconds:.3g} s for all of them ({ratio:,.0f}x faster); "
            f"largest difference {self.max_difference:.2g} (gradients up to "
            f"{self.max_gradient:.2g}).\n"
            f"Why not nudge each weight? Each nudge needs forward passes through the whole "
            f"network, so nudging costs parameters x forward passes: it grows as the square "
            f"of the parameter count.\nBackprop gets all {self.parameters:,} derivatives "
            f"from one forward and one backward pass, the work of about three forward passes.")


def compare_methods(net: Network, X: ArrayLike, y: ArrayLike, eps: float = 1e-6, *,
                    sample: int | None = None, seed: int = 0) -> MethodComparison:
    """Time the gradient of the cost by nudging each parameter against backpropagation.

    Nudging computes each derivative as ``(C(p + eps) - C(p - eps)) / (2 eps)``, two
    forward passes over (X, y) per parameter, on a float64 copy of the network (float32
    rounding would swamp a nudge of 1e-6); backprop is `net.backprop` on the network
    itself.  The network is not changed.

    Parameters
    ----------
    net : Network
    X : array_like, shape (m, n_in)
    y : array_like, shape (m,) of labels or (m, n_out) of targets
    eps : float
        The nudge.
    sample : int, optional
        Nudge only this many parameters, drawn with `seed`, and extrapolate the time to
        all of them (for large networks).  Default: nudge every parameter.
    seed : int

    Returns
    -------
    MethodComparison
        ``print(result)`` answers "why not nudge each weight?" with the numbers.
    """
    eps = _validate.nonnegative_float("eps", eps)
    if eps == 0:
        raise ValueError("eps must be > 0")
    probe, X64, Y64 = _float64_probe(net, X, y)
    backprop_seconds = np.inf
    for _ in range(3):  # the best of three, so a first call's set-up is not counted
        started = time.perf_counter()
        grads = net.backprop(X, y)
        backprop_seconds = min(backprop_seconds, time.perf_counter() - started)

    pairs = list(_parameter_pairs(probe, grads))
    sizes = [flat.size for flat, _ in pairs]
    parameters = sum(sizes)
    if sample is None:
        picks = np.arange(parameters)
    else:
        sample = _validate.positive_int("sample", sample)
        picks = np.sort(np.random.default_rng(seed).choice(
            parameters, min(sample, parameters), replace=False))
    starts = np.cumsum([0] + sizes)
    where = np.searchsorted(starts, picks, side="right") - 1  # the array each pick is in

    difference = largest = 0.0
    started = time.perf_counter()
    for p, a in zip(picks, where):
        flat, flat_grad = pairs[a]
        i = p - starts[a]
        numeric = _nudged_derivative(probe, flat, i, X64, Y64, eps)
        difference = max(difference, abs(float(flat_grad[i]) - numeric))
        largest = max(largest, abs(float(flat_grad[i])))
    nudge_seconds = time.perf_counter() - started
    return MethodComparison(
        sizes=net.sizes, samples=X64.shape[0], parameters=parameters, nudged=len(picks),
        nudge_seconds=nudge_seconds, backprop_seconds=backprop_seconds,
        max_difference=difference, max_gradient=largest)
