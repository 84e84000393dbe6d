"""The same trainer in vectorised NumPy: the speed baseline and a second oracle.

One matrix product per layer per mini-batch, the way a careful NumPy user writes
backpropagation.  Same interface as `kernel_backend`: parameters are lists
``weights[l]`` (n_out, n_in) and ``biases[l]`` (n_out,), updated in place, and
everything stays in the arrays' dtype.
"""
import numpy as np

from ._metrics import count_correct, layer_activations, output_delta_given


def sigmoid(z):
    """1 / (1 + e^-z) without overflow: e^-|z| is never more than 1."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {"sigmoid": sigmoid, "identity": lambda z: z, "softmax": softmax}


def feedforward(weights, biases, X, output="sigmoid"):
    """Activations of every layer, ``[X, A_1, ..., A_L]``."""
    activations = [X]
    for W, b, act in zip(weights, biases, layer_activations(len(weights), output)):
        activations.append(ACTIVATIONS[act](activations[-1] @ W.T + b))
    return activations


def forward(weights, biases, X, output="sigmoid"):
    """The output activations for the batch X, shape (m, n_out)."""
    return feedforward(weights, biases, X, output)[-1]


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
    return gradients(weights, feedforward(weights, biases, X, output), Y, cost, output)


def gradients(weights, activations, Y, cost, output):
    """Backpropagation from the activations ``[X, A_1, ..., A_L]`` of a forward pass."""
    m = activations[0].shape[0]
    D = activations[-1] - Y  # dC/da for the quadratic cost; dC/dz for the others
    if not output_delta_given(cost) and output == "sigmoid":
        D = D * activations[-1] * (1 - activations[-1])
    L = len(weights)
    dWs, dbs, deltas = [None] * L, [None] * L, [None] * L
    for l in reversed(range(L)):
        deltas[l] = D
        dWs[l] = D.T @ activations[l] / m
        dbs[l] = D.sum(axis=0) / m
        if l > 0:
            A = activations[l]
            D = (D @ weights[l]) * A * (1 - A)
    return dWs, dbs, deltas


class Trainer:
    """Mini-batch SGD on the parameter lists, in place; see kernel_backend.Trainer."""

    def __init__(self, weights, biases, *, batch_size, cost, output, momentum=0.0):
        self.weights, self.biases = weights, biases
        self.batch_size, self.cost, self.output, self.momentum = batch_size, cost, output, momentum
        self.velocities = [np.zeros_like(p) for p in weights + biases] if momentum else None

    def epoch(self, X, Y, order, lr, l2):
        """One pass over (X, Y); returns ``(cost_sum, correct, failed_batch)``."""
        n, step = X.shape[0], self.batch_size
        cost_sum, correct = 0.0, 0
        for batch, start in enumerate(range(0, n, step)):
            rows = slice(start, start + step) if order is None else order[start:start + step]
            xb, yb = X[rows], Y[rows]
            activations = feedforward(self.weights, self.biases, xb, self.output)
            batch_cost = cost(activations[-1], yb, self.cost)
            if not np.isfinite(batch_cost):
                return cost_sum, correct, batch
            cost_sum += batch_cost * len(xb)
            correct += count_correct(activations[-1], yb)
            dWs, dbs, _ = gradients(self.weights, activations, yb, self.cost, self.output)
            self._update(dWs + dbs, lr, l2)
        return cost_sum, correct, None

    def _update(self, grads, lr, l2):
        n_weights = len(self.weights)
        for i, (p, g) in enumerate(zip(self.weights + self.biases, grads)):
            step = lr * (g + l2 * p) if i < n_weights else lr * g
            if self.velocities is None:
                p -= step
            else:
                v = self.velocities[i]
                v *= self.momentum
                v -= step
                p += v
