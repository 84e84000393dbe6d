"""The C-kernel backend: forward pass, backprop and a mini-batch trainer on the kernels.

Same interface as `numpy_backend` (and, for forward and backprop, `reference`):
parameters are lists ``weights[l]`` (n_out, n_in) and ``biases[l]`` (n_out,) of one
dtype, C-contiguous, updated in place.
"""
import numpy as np

from . import _kernels
from ._metrics import layer_activations, output_delta_given
from ._validate import nonfinite_error

ACTIVATION_CODES = {"sigmoid": _kernels.SIGMOID, "identity": _kernels.IDENTITY,
                    "softmax": _kernels.SOFTMAX}
COST_CODES = {"quadratic": _kernels.QUADRATIC, "cross_entropy": _kernels.CROSS_ENTROPY,
              "log_likelihood": _kernels.LOG_LIKELIHOOD}


class Workspace:
    """Activations, errors and gradients for up to ``rows`` samples, allocated once.

    A pass over ``m <= rows`` samples uses the first ``m`` rows of each array (a
    C-contiguous view), so a training epoch allocates nothing per mini-batch.
    """

    def __init__(self, weights, rows, output):
        dtype = weights[0].dtype
        widths = [w.shape[0] for w in weights]
        self.rows = rows
        self.activations = layer_activations(len(weights), output)
        self.A = [np.empty((rows, n), dtype=dtype) for n in widths]  # activations
        self.G = [np.empty((rows, n), dtype=dtype) for n in widths]  # dC/dA
        self.D = [np.empty((rows, n), dtype=dtype) for n in widths]  # dC/dZ, the errors
        self.dW = [np.empty_like(w) for w in weights]
        self.db = [np.empty(n, dtype=dtype) for n in widths]

    def forward(self, weights, biases, X):
        """Fill every layer's activations for the batch X; return the output layer's."""
        m = X.shape[0]
        a = X
        for W, b, A, act in zip(weights, biases, self.A, self.activations):
            _kernels.dense_forward(a, W, b, A[:m], ACTIVATION_CODES[act])
            a = A[:m]
        return a

    def backward(self, weights, X, Y, cost):
        """Fill D, dW and db of every layer, after `forward` on the same X.

        The output layer's G is dC/dA = A - Y for the quadratic cost; for the other costs
        A - Y is already dC/dZ and is passed through unchanged (as identity).
        """
        m = X.shape[0]
        np.subtract(self.A[-1][:m], Y, out=self.G[-1][:m])
        for l in reversed(range(len(weights))):
            act = self.activations[l]
            if l == len(weights) - 1 and output_delta_given(cost):
                act = "identity"
            inputs = self.A[l - 1][:m] if l > 0 else X
            dX = self.G[l - 1][:m] if l > 0 else None  # the first layer needs no input gradient
            _kernels.dense_backward(inputs, weights[l], self.A[l][:m], self.G[l][:m],
                                    self.D[l][:m], self.dW[l], self.db[l], dX,
                                    ACTIVATION_CODES[act])


def forward(weights, biases, X, output="sigmoid", name="X"):
    """The output activations for the batch X, shape (m, n_out), in one C call.

    A NaN or an infinity in X raises ValueError naming `name` and the entry's index.
    """
    out = np.empty((X.shape[0], weights[-1].shape[0]), dtype=X.dtype)
    where = _kernels.network_forward(weights, biases, X, out, ACTIVATION_CODES[output])
    if where is not None:
        raise nonfinite_error(name, X, where)
    return out


def cost(A, Y, kind):
    """The cost of outputs A against targets Y, averaged over the rows."""
    return _kernels.cost(A, Y, COST_CODES[kind])


def backprop(weights, biases, X, Y, cost="quadratic", output="sigmoid"):
    """``(dWs, dbs, deltas)`` averaged over the rows of X, as in reference.backprop."""
    ws = Workspace(weights, X.shape[0], output)
    ws.forward(weights, biases, X)
    ws.backward(weights, X, Y, cost)
    return ws.dW, ws.db, ws.D


class Trainer:
    """Mini-batch SGD on the parameter lists, in place, one epoch per call.

    Each epoch is a single call into C (fm_train_epoch): forward, backward and update
    for every mini-batch, with a workspace allocated here once.  ``momentum`` > 0 keeps
    a velocity per parameter, zero at the start, for the life of this trainer.
    """

    def __init__(self, weights, biases, *, batch_size, cost, output, momentum=0.0):
        self.weights, self.biases = weights, biases
        self.batch_size, self.cost, self.output, self.momentum = batch_size, cost, output, momentum
        dtype = weights[0].dtype
        self.work = np.empty(_kernels.train_workspace_size(weights, batch_size), dtype=dtype)
        self.velocities = ([np.zeros_like(w) for w in weights], [np.zeros_like(b) for b in biases]) \
            if momentum else ([], [])

    def epoch(self, X, Y, order, lr, l2):
        """Train on every row of (X, Y) once, in mini-batches in `order` (None: in order).

        ``l2`` is the weight-decay coefficient per step (weights only).  Returns
        ``(cost_sum, correct, failed_batch)``: the summed cost and the number of correct
        predictions over the epoch's mini-batches, each measured on the forward pass just
        before its update; ``failed_batch`` is the index of the first mini-batch whose cost
        was not finite (training stops there), or None.
        """
        return _kernels.train_epoch(
            self.weights, self.biases, *self.velocities, X, Y, order, self.batch_size,
            ACTIVATION_CODES[self.output], COST_CODES[self.cost], lr, l2, self.momentum, self.work)
