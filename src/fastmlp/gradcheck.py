"""Checking backpropagation against central differences."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from .network import Network


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
    from .network import Network

    probe = Network(net.sizes, cost=net.cost, output=net.output, dtype="float64",
                    backend=net.backend)
    for mine, theirs in zip(probe.layers, net.layers):
        mine.weights, mine.biases = theirs.weights, theirs.biases
    inputs, _ = probe._inputs(X)
    Y = probe._targets(y, inputs.shape[0])
    grads = probe.backprop(inputs, Y)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for layer, dW, db in zip(probe.layers, grads.weights, grads.biases):
        for param, grad in ((layer.weights, dW), (layer.biases, db)):
            flat, flat_grad = param.reshape(-1), grad.reshape(-1)
            picks = np.arange(flat.size)
            if flat.size > max_checks:
                picks = rng.choice(flat.size, max_checks, replace=False)
            for i in picks:
                saved = flat[i]
                flat[i] = saved + h
                c_plus = probe.evaluate(inputs, Y)[0]
                flat[i] = saved - h
                c_minus = probe.evaluate(inputs, Y)[0]
                flat[i] = saved
                numeric = (c_plus - c_minus) / (2 * h)
                diff = abs(flat_grad[i] - numeric) / max(abs(flat_grad[i]) + abs(numeric), 1e-7)
                worst = max(worst, diff)
    return worst
