"""The same trainer in vectorised NumPy: the speed baseline and a second oracle.

One matrix product per layer per mini-batch, the way a careful NumPy user writes
backpropagation.  It follows the interface of `fastmlp.backend`, like `kernel_backend`,
and everything stays in the arrays' dtype.
"""
import numpy as np

from ._metrics import count_correct, layer_activations, output_delta_given
from ._validate import finite, overflow_error

# See `fastmlp.backend.Backend.ACCEPTS_COMPRESSED`.
ACCEPTS_COMPRESSED = False


def sigmoid(z):
    """1 / (1 + e^-z), in place on z (which it returns).

    For very negative z, e^-z overflows to inf and the result is exactly 0, as it should
    be; callers silence that overflow warning with np.errstate.
    """
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {"sigmoid": sigmoid, "identity": lambda z: z, "softmax": softmax}


def feedforward(weights, biases, X, output="sigmoid"):
    """Activations of every layer, ``[X, A_1, ..., A_L]``."""
    activations = [X]
    with np.errstate(over="ignore"):
        for W, b, act in zip(weights, biases, layer_activations(len(weights), output)):
            z = activations[-1] @ W.T
            z += b
            activations.append(ACTIVATIONS[act](z))
    return activations


def prepare(weights, biases, output="sigmoid"):
    """Nothing to keep between forward calls."""
    return None


def forward(weights, biases, X, output="sigmoid", name=None, prepared=None):
    """The output activations for the batch X, shape (m, n_out).

    When `name` is given, X is first checked for NaN and infinity (as the C backend
    always does), and an error names it; outputs that overflowed raise FloatingPointError.
    """
    if name is not None:
        finite(name, X)
    out = feedforward(weights, biases, X, output)[-1]
    if name is not None:
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            raise overflow_error(int(np.argmax(bad)))
    return out


def cost(A, Y, kind):
    """The cost of outputs A against targets Y, averaged over the rows (as fm_cost)."""
    A, Y = A.astype(np.float64), Y.astype(np.float64)
    if kind == "quadratic":
        return 0.5 * float(np.sum((A - Y) ** 2)) / len(A)
    tiny = np.finfo(np.float64).tiny

    def ylog(y, a):  # y ln a, 0 where y is 0, and ln(0) kept finite
        return np.where(y != 0, y * np.log(np.maximum(a, tiny)), 0.0)

    total = ylog(Y, A)
    if kind == "cross_entropy":
        total = total + ylog(1 - Y, 1 - A)
    return -float(np.sum(total)) / len(A)


def backprop(weights, biases, X, Y, cost="quadratic", output="sigmoid"):
    """``(dWs, dbs, deltas)`` averaged over the rows of X, as in reference.backprop."""
    dWs, dbs, deltas = gradient_sums(weights, feedforward(weights, biases, X, output), Y, cost,
                                     output)
    m = X.shape[0]
    return [dW / m for dW in dWs], [db / m for db in dbs], deltas


def gradient_sums(weights, activations, Y, cost, output, sample_scale=None):
    """Backpropagation from the activations ``[X, A_1, ..., A_L]`` of a forward pass:
    the gradients summed (not yet averaged) over the batch, and each layer's errors.
    ``sample_scale`` (m,) weighs each sample's gradient (None: all 1)."""
    D = activations[-1] - Y  # dC/da for the quadratic cost; dC/dz for the others
    if not output_delta_given(cost) and output == "sigmoid":
        A = activations[-1]
        D *= A
        D *= 1 - A
    if sample_scale is not None:
        D *= sample_scale[:, np.newaxis]
    L = len(weights)
    dWs, dbs, deltas = [None] * L, [None] * L, [None] * L
    for l in reversed(range(L)):
        deltas[l] = D
        dWs[l] = D.T @ activations[l]
        dbs[l] = D.sum(axis=0)
        if l > 0:
            A = activations[l]
            D = D @ weights[l]
            D *= A
            D *= 1 - A
    return dWs, dbs, deltas


class Trainer:
    """Mini-batch SGD on the parameter lists, in place; see kernel_backend.Trainer.

    ``monitor=False`` skips the per-batch cost and accuracy (the epoch then reports
    zeros and cannot notice divergence): the plain loop a NumPy user would write, which
    the benchmarks time.
    """

    def __init__(self, weights, biases, velocities=None, *, batch_size, cost, output,
                 momentum=0.0, monitor=True):
        self.weights, self.biases = list(weights), list(biases)
        self.batch_size, self.cost, self.output, self.momentum = batch_size, cost, output, momentum
        self.monitor = monitor
        self.velocities = None
        if momentum:
            if velocities is None:
                velocities = [np.zeros_like(w) for w in weights], [np.zeros_like(b) for b in biases]
            self.velocities = list(velocities[0]) + list(velocities[1])

    def epoch(self, X, Y, order, lr, decay, sample_scale=None, on_progress=None):
        """One pass over (X, Y); see `fastmlp.backend.Trainer.epoch`."""
        n, step = X.shape[0], self.batch_size
        cost_sum, correct = 0.0, 0
        for batch, start in enumerate(range(0, n, step)):
            rows = slice(start, start + step) if order is None else order[start:start + step]
            xb, yb = X[rows], Y[rows]
            activations = feedforward(self.weights, self.biases, xb, self.output)
            if self.monitor:
                batch_cost = cost(activations[-1], yb, self.cost)
                if not np.isfinite(batch_cost):
                    return cost_sum, correct, batch
                cost_sum += batch_cost * len(xb)
                correct += count_correct(activations[-1], yb)
            scale = sample_scale[rows] if sample_scale is not None else None
            dWs, dbs, _ = gradient_sums(self.weights, activations, yb, self.cost, self.output,
                                        scale)
            self._update(dWs + dbs, lr / len(xb), lr, decay)
            if on_progress is not None:
                on_progress(min(start + step, n))
        return cost_sum, correct, None

    def _update(self, grad_sums, rate, lr, decay):
        """p -= rate * g_sum (+ lr * decay * p for weights), or the momentum form."""
        n_weights = len(self.weights)
        for i, (p, g) in enumerate(zip(self.weights + self.biases, grad_sums)):
            g *= rate
            if decay and i < n_weights:
                g += (lr * decay) * p
            if self.velocities is None:
                p -= g
            else:
                v = self.velocities[i]
                v *= self.momentum
                v -= g
                p += v
