"""Layer: one fully connected layer and its parameters."""
import numpy as np

from . import _kernels
from ._validate import as_dtype, choice

ACTIVATIONS = {"sigmoid": _kernels.SIGMOID, "identity": _kernels.IDENTITY,
               "softmax": _kernels.SOFTMAX}


class Layer:
    """A dense layer: ``a = act(W x + b)`` for each sample ``x``.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and of neurons.
    activation : {"sigmoid", "identity", "softmax"}
    dtype : {"float32", "float64"}

    Attributes
    ----------
    weights : ndarray, shape (n_out, n_in)
        Row ``j`` holds the weights into neuron ``j``.  This is the live parameter array:
        writing into it changes the layer.  Assigning a new array copies it in.
    biases : ndarray, shape (n_out,)
    """

    def __init__(self, n_in, n_out, *, activation="sigmoid", dtype="float64"):
        self.activation = choice("activation", activation, tuple(ACTIVATIONS))
        dtype = as_dtype(dtype)
        self._weights = np.zeros((n_out, n_in), dtype=dtype)
        self._biases = np.zeros(n_out, dtype=dtype)

    @property
    def n_in(self):
        return self._weights.shape[1]

    @property
    def n_out(self):
        return self._weights.shape[0]

    @property
    def dtype(self):
        return self._weights.dtype

    @property
    def weights(self):
        return self._weights

    @weights.setter
    def weights(self, value):
        self._assign("weights", self._weights, value)

    @property
    def biases(self):
        return self._biases

    @biases.setter
    def biases(self, value):
        self._assign("biases", self._biases, value)

    @staticmethod
    def _assign(name, target, value):
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{name} must have shape {target.shape}, got {value.shape}")
        target[...] = value

    def parameters(self):
        """The live parameter arrays ``[weights, biases]``."""
        return [self._weights, self._biases]

    def forward(self, X, out=None):
        """Activations ``act(X W^T + b)`` of a batch X (m, n_in), shape (m, n_out).

        X must be C-contiguous with the layer's dtype; ``out`` (m, n_out) is reused if given.
        """
        if out is None:
            out = np.empty((X.shape[0], self.n_out), dtype=self.dtype)
        _kernels.dense_forward(X, self._weights, self._biases, out, ACTIVATIONS[self.activation])
        return out

    def __repr__(self):
        return (f"Layer(n_in={self.n_in}, n_out={self.n_out}, "
                f"activation={self.activation!r}, dtype={self.dtype.name!r})")
