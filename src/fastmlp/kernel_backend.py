"""The C-kernel backend (see `fastmlp.backend` for the interface it follows)."""
import numpy as np

from . import _kernels, sparse
from ._metrics import layer_activations, output_delta_given
from ._validate import nonfinite_error

# See `fastmlp.backend.Backend.ACCEPTS_COMPRESSED`.
ACCEPTS_COMPRESSED = True

# Work per C call of a training epoch, in flops (about 6 per weight per sample): a few
# milliseconds to a few tens of milliseconds on any x86-64 core, so that Python regains
# control (a progress bar moves, Ctrl-C lands) well within half a second, while the
# cost of the calls stays far below the noise.  Chunks are fixed by the network's shape,
# never by timing, so training is reproducible.
FLOPS_PER_CALL = 2e8


def _network(weights, biases, output, velocities=None, writable=False):
    vweights, vbiases = velocities if velocities is not None else (None, None)
    return _kernels.NetworkArrays(list(weights), list(biases), vweights, vbiases,
                                  output=output, writable=writable)


class Workspace:
    """Activations, errors and gradients for up to ``rows`` samples, allocated once, for
    backpropagation layer by layer on the dense kernels (`backprop`)."""

    def __init__(self, weights, rows, output):
        dtype = weights[0].dtype
        widths = [w.shape[0] for w in weights]
        self.activations = layer_activations(len(weights), output)
        self.A = [np.empty((rows, n), dtype=dtype) for n in widths]  # activations
        self.G = [np.empty((rows, n), dtype=dtype) for n in widths]  # dC/dA
        self.D = [np.empty((rows, n), dtype=dtype) for n in widths]  # dC/dZ, the errors
        self.dW = [np.empty_like(w) for w in weights]
        self.db = [np.empty(n, dtype=dtype) for n in widths]

    def forward(self, weights, biases, X):
        """Fill every layer's activations for the batch X; return the output layer's."""
        a = X
        for W, b, A, act in zip(weights, biases, self.A, self.activations):
            _kernels.dense_forward(a, W, b, A, _kernels.ACTIVATIONS[act])
            a = A
        return a

    def backward(self, weights, X, Y, cost):
        """Fill D, dW and db of every layer, after `forward` on the same X.

        The output layer's G is dC/dA = A - Y for the quadratic cost; for the other costs
        A - Y is already dC/dZ and is passed through unchanged (as identity).
        """
        np.subtract(self.A[-1], Y, out=self.G[-1])
        for l in reversed(range(len(weights))):
            act = self.activations[l]
            if l == len(weights) - 1 and output_delta_given(cost):
                act = "identity"
            inputs = self.A[l - 1] if l > 0 else X
            dX = self.G[l - 1] if l > 0 else None  # the first layer needs no input gradient
            _kernels.dense_backward(inputs, weights[l], self.A[l], self.G[l], self.D[l],
                                    self.dW[l], self.db[l], dX, _kernels.ACTIVATIONS[act])


def prepare(weights, biases, output="sigmoid"):
    """The checked C description of the network, reused by every `forward` call."""
    return _network(weights, biases, output)


def forward(weights, biases, X, output="sigmoid", name="X", prepared=None):
    """The output activations for the batch X, shape (m, n_out), in one C call."""
    out = np.empty((X.shape[0], weights[-1].shape[0]), dtype=X.dtype)
    arrays = prepared if prepared is not None else _network(weights, biases, output)
    where = _kernels.network_forward(arrays, X, out)
    if where is not None:
        raise nonfinite_error(name or "X", X, where)
    return out


def cost(A, Y, kind):
    """The cost of outputs A against targets Y, averaged over the rows."""
    return _kernels.cost(A, Y, _kernels.COSTS[kind])


def backprop(weights, biases, X, Y, cost="quadratic", output="sigmoid"):
    """``(dWs, dbs, deltas)`` averaged over the rows of X, as in reference.backprop."""
    ws = Workspace(weights, X.shape[0], output)
    ws.forward(weights, biases, X)
    ws.backward(weights, X, Y, cost)
    return ws.dW, ws.db, ws.D


class Trainer:
    """Mini-batch SGD in C (fm_train_epoch), a chunk of mini-batches per call, with a
    workspace allocated here once.

    Inputs with few nonzeros (`sparse.CompressedRows`, or a dense X that
    `sparse.for_training` compresses, once per trainer) train with the first layer
    skipping the zero inputs."""

    def __init__(self, weights, biases, velocities=None, *, batch_size, cost, output,
                 momentum=0.0):
        self.batch_size, self.cost, self.momentum = batch_size, cost, momentum
        self.arrays = _network(weights, biases, output, velocities if momentum else None,
                               writable=True)
        self.dtype = weights[0].dtype
        self.shapes = [w.shape for w in weights]
        self.work = np.empty(0, dtype=self.dtype)
        self._source = self._plan = None  # the last X given to epoch, and _prepare's result

    def _prepared(self, X):
        """(X as the kernels train on it, the workspace, mini-batches per C call), worked
        out when X is not the X of the last epoch."""
        if X is self._source:
            return self._plan
        inputs = sparse.for_training(X, self.batch_size)
        compressed = isinstance(inputs, _kernels.CompressedRows)
        size = _kernels.train_workspace_size(self.arrays, self.batch_size, compressed)
        if self.work.size < size:
            self.work = np.empty(size, dtype=self.dtype)
        # the work per sample: every weight, or in the first layer only those of the
        # nonzero inputs (and then at least a copy of the layer each way per call)
        (n_out, n_in), rest = self.shapes[0], sum(o * i for o, i in self.shapes[1:])
        first = n_out * n_in * (sparse.density(inputs) if compressed else 1.0)
        per_call = max(FLOPS_PER_CALL, 50 * n_out * n_in) if compressed else FLOPS_PER_CALL
        batches = max(1, int(per_call // (6 * max(first + rest, 1.0) * self.batch_size)))
        self._source, self._plan = X, (inputs, self.work, batches)
        return self._plan

    def epoch(self, X, Y, order, lr, decay, sample_scale=None, on_progress=None):
        n = X.shape[0]
        X, work, batches_per_call = self._prepared(X)
        batches = -(-n // self.batch_size)
        cost_sum, correct = 0.0, 0
        for first in range(0, batches, batches_per_call):
            part_cost, part_correct, failed = _kernels.train_epoch(
                self.arrays, X, Y, order, sample_scale, self.batch_size, self.cost, lr, decay,
                self.momentum, work, first, batches_per_call)
            cost_sum += part_cost
            correct += part_correct
            if failed is not None:
                return cost_sum, correct, failed
            if on_progress is not None:
                on_progress(min((first + batches_per_call) * self.batch_size, n))
        return cost_sum, correct, None
