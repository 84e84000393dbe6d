"""Layer: the parameters of one fully connected layer."""
from typing import Any

import numpy as np
import numpy.typing as npt

from ._validate import as_dtype


class Layer:
    """The parameters of a dense layer, ``a = act(W x + b)`` for each sample ``x``.

    A `Network` owns its layers and runs them (its ``output`` names the last layer's
    activation; the others are sigmoid); a Layer holds the live arrays.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and of neurons.
    dtype : {"float32", "float64"}

    Attributes
    ----------
    weights : ndarray, shape (n_out, n_in)
        Row ``j`` holds the weights into neuron ``j``.  This is the live parameter array:
        writing into it changes the layer.  Assigning a new array copies it in.
    biases : ndarray, shape (n_out,)
    """

    def __init__(self, n_in: int, n_out: int, *, dtype: Any = "float64") -> None:
        dtype = as_dtype(dtype)
        self._weights = np.zeros((n_out, n_in), dtype=dtype)
        self._biases = np.zeros(n_out, dtype=dtype)

    @property
    def n_in(self) -> int:
        return self._weights.shape[1]

    @property
    def n_out(self) -> int:
        return self._weights.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self._weights.dtype

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @weights.setter
    def weights(self, value: npt.ArrayLike) -> None:
        self._assign("weights", self._weights, value)

    @property
    def biases(self) -> np.ndarray:
        return self._biases

    @biases.setter
    def biases(self, value: npt.ArrayLike) -> None:
        self._assign("biases", self._biases, value)

    @staticmethod
    def _assign(name, target, value):
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"{name} must have shape {target.shape}, got {value.shape}")
        target[...] = value

    def parameters(self) -> list[np.ndarray]:
        """The live parameter arrays ``[weights, biases]``."""
        return [self._weights, self._biases]

    def __repr__(self):
        return f"Layer(n_in={self.n_in}, n_out={self.n_out}, dtype={self.dtype.name!r})"
