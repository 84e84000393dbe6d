"""The seam between `Network` and the code that runs its loops.

A backend is a module providing the four names of `Backend`; `kernel_backend` (the C
kernels) and `numpy_backend` (the vectorised NumPy twin) both do, and so do the
benchmark's peers for the parts they time.  Parameters travel as lists of live arrays,
``weights[l]`` (n_out, n_in) and ``biases[l]`` (n_out,), of one dtype, C-contiguous,
updated in place by a trainer.
"""
from typing import Callable, Optional, Protocol, Sequence, Tuple

import numpy as np

Arrays = Sequence[np.ndarray]
# Called during an epoch with the number of samples trained so far in it.
Progress = Callable[[int], None]
# (cost_sum, correct, failed_batch): the summed cost and the count of right predictions
# over the mini-batches run, each measured on the forward pass just before its update,
# and the first mini-batch whose cost was not finite (training stopped there), or None.
EpochResult = Tuple[float, int, Optional[int]]


class Trainer(Protocol):
    """Mini-batch SGD on parameter lists, in place, one epoch per `epoch` call.

    Built as ``Trainer(weights, biases, velocities=None, *, batch_size, cost, output,
    momentum=0.0)``; ``velocities`` is ``(vweights, vbiases)`` shaped as the parameters
    (momentum's state, kept by the caller between trainers) or None without momentum.
    """

    batch_size: int

    def epoch(self, X: np.ndarray, Y: np.ndarray, order: Optional[np.ndarray], lr: float,
              decay: float, sample_scale: Optional[np.ndarray] = None,
              on_progress: Optional[Progress] = None) -> EpochResult:
        """Train on every row of (X, Y) once, in mini-batches visited in `order` (None: in
        order).  ``decay`` is the per-step weight decay: each step multiplies the weights
        by ``1 - lr * decay`` (network2.py's lambda / n).  ``sample_scale`` (n,) weighs each
        sample's gradient (None: all 1).  ``on_progress`` is called between chunks of work."""
        ...


class Backend(Protocol):
    """What a backend module provides."""

    Trainer: Callable[..., Trainer]
    # Whether X may be `sparse.CompressedRows` in `forward` and `Trainer.epoch` (the
    # compressed rows of a SciPy sparse matrix; the zero inputs are skipped).
    ACCEPTS_COMPRESSED: bool

    def prepare(self, weights: Arrays, biases: Arrays, output: str = "sigmoid") -> object:
        """What `forward` may reuse across calls on these live arrays (built once per
        network, so that a one-sample call pays no set-up), or None."""
        ...

    def forward(self, weights: Arrays, biases: Arrays, X: np.ndarray, output: str = "sigmoid",
                name: Optional[str] = "X", prepared: object = None) -> np.ndarray:
        """The output activations (m, n_out) for the batch X (m, n_in); a NaN or an
        infinity in X raises ValueError naming `name` and the entry, outputs that
        overflowed raise FloatingPointError.  ``prepared`` is `prepare`'s result for the
        same arrays, or None."""
        ...

    def cost(self, A: np.ndarray, Y: np.ndarray, kind: str) -> float:
        """The cost of outputs A against targets Y, both (m, n_out), averaged over rows."""
        ...

    def backprop(self, weights: Arrays, biases: Arrays, X: np.ndarray, Y: np.ndarray,
                 cost: str = "quadratic", output: str = "sigmoid"
                 ) -> Tuple[list, list, list]:
        """``(dWs, dbs, deltas)``: gradients averaged over the rows of X, in the
        parameters' shapes, and each layer's errors dC/dz (m, n_out)."""
        ...
