"""FastMLPClassifier: a fastmlp Network as a scikit-learn classifier."""
from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import ClassifierMixin
from sklearn.utils import Tags
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets

from ..network import Network
from ._base import FastMLPBase, document


@document(learning_rate="0.5", stratified=" (stratified by class)", score="Accuracy")
class FastMLPClassifier(ClassifierMixin, FastMLPBase):
    """A fully connected sigmoid network trained by SGD, as a scikit-learn classifier.

    The network has one output per class; labels may be any values `numpy.unique`
    sorts (strings too) and predictions are mapped back to them.

    Parameters
    ----------
{shared_parameters}
    cost : {{"log_likelihood", "cross_entropy", "quadratic"}}, default="log_likelihood"
        log_likelihood: softmax outputs and the log-likelihood cost (MLPClassifier's
        log loss); cross_entropy: sigmoid outputs and network2.py's cross-entropy;
        quadratic: sigmoid outputs and network.py's quadratic cost.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into the sample weights: ``{{label: weight}}``
        (labels left out weigh 1), or "balanced", ``n_samples / (n_classes * count)``
        (in `fit` only: one `partial_fit` call does not see the class frequencies).

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        The class labels, sorted; output i of the network is ``classes_[i]``.
{shared_attributes}
    """

    _outputs = {"log_likelihood": "softmax", "cross_entropy": "sigmoid", "quadratic": "sigmoid"}

    def __init__(self, hidden_layer_sizes: tuple[int, ...] | int = (100,), *,
                 cost: str = "log_likelihood",
                 init: str | None = None,
                 dtype: str = "float64",
                 learning_rate: float = 0.5,
                 batch_size: int = 10,
                 max_iter: int = 30,
                 l2: float = 0.0,
                 momentum: float = 0.0,
                 shuffle: bool = True,
                 early_stopping: bool = False,
                 validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10,
                 class_weight: dict[Any, float] | str | None = None,
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
        self.class_weight = class_weight
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # Hooks of FastMLPBase ----------------------------------------------------------------

    def _targets(self, y: NDArray[Any], *, reset: bool, partial: bool = False,
                 classes: ArrayLike | None = None) -> NDArray[np.int64]:
        """Class indices into `classes_` (set here by `fit` and the first `partial_fit`)."""
        check_classification_targets(y)
        if not partial:
            self.classes_, indices = np.unique(y, return_inverse=True)
        else:
            _check_partial_fit_first_call(self, classes)
            unknown = np.setdiff1d(y, self.classes_)
            if unknown.size:
                raise ValueError(f"y holds labels {unknown.tolist()} that are not in classes "
                                 f"{self.classes_.tolist()}")
            indices = np.searchsorted(self.classes_, y)
        if len(self.classes_) < 2:
            raise ValueError(f"y holds one class only ({self.classes_[0]}); a classifier needs "
                             f"samples of at least 2 classes")
        return indices.astype(np.int64)

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _class_weights(self, targets: NDArray[Any], partial: bool) -> NDArray[np.float64] | None:
        if self.class_weight is None:
            return None
        if partial and self.class_weight == "balanced":
            raise ValueError("class_weight='balanced' needs the class frequencies of the "
                             "whole training set; use fit, or pass a dict to partial_fit")
        per_class = compute_class_weight(self.class_weight, classes=self.classes_,
                                         y=self.classes_[targets])
        return per_class[targets]

    def _stratify(self, targets: NDArray[Any]) -> NDArray[Any] | None:
        return targets

    def _validation_score(self, net: Network, record: dict[str, Any],
                          validation: tuple[NDArray[Any], NDArray[Any]]) -> float:
        return float(record["val_accuracy"])

    # Public API --------------------------------------------------------------------------

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: ArrayLike | None = None,
                    sample_weight: ArrayLike | None = None) -> Self:
        """One epoch over (X, y), continuing from the current parameters and velocities.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The same number of features as the first call.
        y : array_like, shape (n_samples,)
            Labels, each one of `classes`.
        classes : array_like, shape (n_classes,)
            Every label the classifier will see; required on the first call (unless
            `fit` ran before), and if given later, the same.
        sample_weight : array_like, shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._partial_fit(X, y, sample_weight, classes=classes)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating]:
        """Class probabilities, shape (n_samples, n_classes), columns in `classes_` order.

        Softmax outputs as they are; sigmoid outputs divided by their sum.
        """
        X = self._checked_inputs(X)
        return self.network_.predict_proba(X)

    def predict_log_proba(self, X: ArrayLike) -> NDArray[np.floating]:
        """The logarithm of `predict_proba`, shape (n_samples, n_classes)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The class of the largest output for each sample, shape (n_samples,)."""
        X = self._checked_inputs(X)
        return self.classes_[self.network_.predict(X)]

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        return tags
