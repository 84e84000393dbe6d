"""The same trainer in vectorised NumPy: the speed baseline and a second oracle.

One matrix product per layer per mini-batch, the way a careful NumPy user writes
backpropagation.  Parameters are lists of arrays ``weights[l]`` (n_out, n_in) and
``biases[l]`` (n_out,), updated in place; everything stays in the arrays' dtype.
"""
import numpy as np


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
    for l, (W, b) in enumerate(zip(weights, biases)):
        act = output if l == len(weights) - 1 else "sigmoid"
        activations.append(ACTIVATIONS[act](activations[-1] @ W.T + b))
    return activations


def backprop(weights, biases, X, Y, cost="quadratic", output="sigmoid"):
    """``(dWs, dbs, deltas)`` averaged over the rows of X, as in reference.backprop."""
    activations = feedforward(weights, biases, X, output)
    m = X.shape[0]
    D = activations[-1] - Y  # dC/da for the quadratic cost; dC/dz for the others
    if cost == "quadratic" and output == "sigmoid":
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


def train_batch(weights, biases, X, Y, lr, cost="quadratic", output="sigmoid"):
    """One step of gradient descent on the mini-batch (X, Y), in place."""
    dWs, dbs, _ = backprop(weights, biases, X, Y, cost, output)
    for W, b, dW, db in zip(weights, biases, dWs, dbs):
        W -= lr * dW
        b -= lr * db


def train_epoch(weights, biases, X, Y, batch_size, lr, order=None, cost="quadratic",
                output="sigmoid"):
    """One pass over (X, Y) in mini-batches, in the given order (or in order)."""
    n = X.shape[0]
    for start in range(0, n, batch_size):
        if order is None:
            xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
        else:
            rows = order[start:start + batch_size]
            xb, yb = X[rows], Y[rows]
        train_batch(weights, biases, xb, yb, lr, cost, output)
