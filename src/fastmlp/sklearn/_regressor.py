"""FastMLPRegressor: a fastmlp Network as a scikit-learn regressor."""
from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import Tags

from ..network import Network
from ._base import FastMLPBase, document


@document(learning_rate="0.1", stratified="", score="The coefficient of determination R^2")
class FastMLPRegressor(RegressorMixin, FastMLPBase):
    """A fully connected sigmoid network trained by SGD, as a scikit-learn regressor.

    Hidden layers are sigmoid; the output layer is linear (identity) with the quadratic
    cost, or sigmoid with the cross-entropy cost for targets in [0, 1].  One output per
    target column: y of shape (n_samples,) or (n_samples, n_targets).

    Parameters
    ----------
{shared_parameters}
    cost : {{"quadratic", "cross_entropy"}}, default="quadratic"
        quadratic: identity outputs and the cost ``sum((a - y)^2) / (2 n)`` (least
        squares); cross_entropy: sigmoid outputs and network2.py's cross-entropy, for
        targets in [0, 1].

    Attributes
    ----------
{shared_attributes}
    n_outputs_ : int
        Target columns (network outputs).
    """

    _outputs = {"quadratic": "identity", "cross_entropy": "sigmoid"}
    _validate_options = {"multi_output": True, "y_numeric": True}

    def __init__(self, hidden_layer_sizes: tuple[int, ...] | int = (100,), *,
                 cost: str = "quadratic",
                 init: str | None = None,
                 dtype: str = "float64",
                 learning_rate: float = 0.1,
                 batch_size: int = 10,
                 max_iter: int = 30,
                 l2: float = 0.0,
                 momentum: float = 0.0,
                 shuffle: bool = True,
                 early_stopping: bool = False,
                 validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10,
                 n_threads: int | None = None,
                 random_state: int | np.random.RandomState | None = None,
                 verbose: bool = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cost = cost
        self.init = init
        self.dtype = dtype
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.l2 = l2
        self.momentum = momentum
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # Hooks of FastMLPBase ----------------------------------------------------------------

    def _targets(self, y: NDArray[Any], *, reset: bool, partial: bool = False,
                 classes: ArrayLike | None = None) -> NDArray[np.floating]:
        """y as float targets (n_samples, n_outputs_); `n_outputs_` set or checked."""
        targets = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if reset:
            self.n_outputs_ = targets.shape[1]
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {targets.shape[1]} target columns, the regressor was "
                             f"fitted with {self.n_outputs_}")
        if self.cost == "cross_entropy":
            outside = (targets < 0) | (targets > 1)
            if outside.any():
                where = tuple(int(i) for i in np.argwhere(outside)[0])
                raise ValueError(f"cost='cross_entropy' needs targets in [0, 1]; y{list(where)} "
                                 f"= {targets[where]}")
        return targets

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _validation_score(self, net: Network, record: dict[str, Any],
                          validation: tuple[NDArray[Any], NDArray[Any]]) -> float:
        X_val, y_val = validation
        return float(r2_score(y_val, net.forward(X_val)))

    # Public API --------------------------------------------------------------------------

    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
                    ) -> Self:
        """One epoch over (X, y), continuing from the current parameters and velocities.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The same number of features as the first call.
        y : array_like, shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array_like, shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X: ArrayLike) -> NDArray[np.floating]:
        """Predicted targets, shape (n_samples,) for one target, else (n_samples, n_targets)."""
        X = self._checked_inputs(X)
        out = self.network_.forward(X)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
