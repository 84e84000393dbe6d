"""Buffers for forward and backward passes, allocated once per batch size and reused."""
import numpy as np

from . import _kernels
from .layer import ACTIVATIONS


class Workspace:
    """Activations, errors and gradients for up to ``rows`` samples through ``layers``.

    Every array is allocated here, once; a pass over ``m <= rows`` samples uses the first
    ``m`` rows of each (a C-contiguous view), so a training epoch allocates nothing per
    mini-batch.
    """

    def __init__(self, layers, rows):
        dtype = layers[0].dtype
        self.rows = rows
        self.x = np.empty((rows, layers[0].n_in), dtype=dtype)  # a gathered (shuffled) batch
        self.y = np.empty((rows, layers[-1].n_out), dtype=dtype)
        self.A = [np.empty((rows, l.n_out), dtype=dtype) for l in layers]  # activations
        self.G = [np.empty((rows, l.n_out), dtype=dtype) for l in layers]  # dC/dA
        self.D = [np.empty((rows, l.n_out), dtype=dtype) for l in layers]  # dC/dZ
        self.dW = [np.empty_like(l.weights) for l in layers]
        self.db = [np.empty_like(l.biases) for l in layers]

    def forward(self, layers, X):
        """Fill the activations of every layer for the batch X; return the output's."""
        m = X.shape[0]
        a = X
        for layer, A in zip(layers, self.A):
            a = layer.forward(a, out=A[:m])
        return a

    def backward(self, layers, X, Y, output_delta_given):
        """Fill D, dW and db of every layer, after `forward` on the same X.

        The output layer's G is dC/dA = A - Y.  ``output_delta_given`` says that A - Y is
        already dC/dZ (cross-entropy on sigmoid, log-likelihood on softmax), so the output
        activation's derivative must not be applied again.
        """
        m = X.shape[0]
        np.subtract(self.A[-1][:m], Y, out=self.G[-1][:m])
        for l in reversed(range(len(layers))):
            layer = layers[l]
            act = layer.activation
            if l == len(layers) - 1 and output_delta_given:
                act = "identity"
            inputs = self.A[l - 1][:m] if l > 0 else X
            dX = self.G[l - 1][:m] if l > 0 else None  # the first layer needs no input gradient
            _kernels.dense_backward(inputs, layer.weights, self.A[l][:m], self.G[l][:m],
                                    self.D[l][:m], self.dW[l], self.db[l], dX,
                                    ACTIVATIONS[act])
