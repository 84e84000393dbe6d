"""What FastMLPClassifier and FastMLPRegressor share: parameters, training, fitted attributes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import Tags, check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .. import _validate
from ..network import Network

# Seeds drawn from `random_state` for the network's Generator and the validation split.
SEED_BOUND = int(np.iinfo(np.int32).max)

# The parameters both estimators take, documented once and placed in each class docstring
# where ``{shared_parameters}`` stands.
SHARED_PARAMETERS = """\
    hidden_layer_sizes : tuple of int, default=(100,)
        Neurons in each hidden layer (sigmoid); ``()`` is no hidden layer.  The input and
        output layers are sized from the data.
    init : {{"normal", "scaled", "glorot"}} or None, default=None
        Initial parameters (see `fastmlp.Network`); None is "normal" for the quadratic
        cost and "scaled" (weights N(0, 1/n_in)) for the others.
    dtype : {{"float64", "float32"}}, default="float64"
        The precision the network computes and stores its parameters in.
    learning_rate : float, default={learning_rate}
        The step size (eta in Nielsen's book) on the gradient averaged over a mini-batch.
    batch_size : int, default=10
        Samples per mini-batch; 1 is online learning.  A final short batch is averaged
        over its own size.
    max_iter : int, default=30
        Epochs (passes over the training data) of `fit`.
    l2 : float, default=0.0
        L2 regularisation as network2.py's lambda: each step multiplies the weights by
        ``1 - learning_rate * l2 / n``, n the samples given to that `fit` or `partial_fit`.
    momentum : float in [0, 1), default=0.0
        ``v = momentum * v - learning_rate * grad; w += v``.  `fit` starts the velocities at
        zero; `partial_fit` keeps them from one call to the next.
    shuffle : bool, default=True
        Visit the samples of each epoch in an order drawn from the network's Generator.
    early_stopping : bool, default=False
        Hold out `validation_fraction` of the training data{stratified}, stop `fit` when the
        validation score has not improved for `n_iter_no_change` epochs and keep the best
        epoch's parameters.  `partial_fit` ignores it.
    validation_fraction : float in (0, 1), default=0.1
    n_iter_no_change : int, default=10
    n_threads : int or None, default=None
        Threads for the C kernels during `fit` and `partial_fit` (None: the process-wide
        count, `fastmlp.get_num_threads()`, which threadpoolctl also sets).
    random_state : int, RandomState instance or None, default=None
        Drawn from once per `fit` (and on the first `partial_fit`) for the network's seed
        (initial parameters, shuffling) and for the validation split: an int gives the
        same model on every refit.
    verbose : bool, default=False
        Print one line per epoch."""

SHARED_ATTRIBUTES = """\
    network_ : fastmlp.Network
        The trained network (pickles, saves with ``network_.save(path)``).
    history_ : fastmlp.History
        Per-epoch training cost and accuracy, validation cost and accuracy, learning
        rate and seconds, of the latest `fit` (and of the `partial_fit` calls after it).
    coefs_ : list of ndarray, shape (n_in, n_out) each
        The live weights of each layer, in scikit-learn's orientation (a transposed
        view of ``network_.layers[i].weights``).
    intercepts_ : list of ndarray, shape (n_out,) each
        The live biases of each layer.
    loss_curve_ : list of float
        Training cost of each epoch (averaged over its mini-batches, without the L2 term).
    best_loss_ : float or None
        The smallest entry of `loss_curve_`; None with early stopping.
    validation_scores_ : list of float or None
        {score} on the held-out data after each epoch, with early stopping; else None.
    best_validation_score_ : float or None
        The best of `validation_scores_`.
    n_iter_ : int
        Epochs run by `fit`, plus one for each later `partial_fit`.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when X had string column names."""


Class = TypeVar("Class", bound=type)


def document(**values: str) -> Callable[[Class], Class]:
    """Fill a class docstring's ``{shared_parameters}`` and ``{shared_attributes}``."""
    def fill(cls: Class) -> Class:
        cls.__doc__ = (cls.__doc__ or "").format(
            shared_parameters=SHARED_PARAMETERS.format(**values),
            shared_attributes=SHARED_ATTRIBUTES.format(**values))
        return cls
    return fill


# SciPy sparse inputs the network trains and predicts on without a dense copy (others
# are converted to the first).
SPARSE_FORMATS = ("csr", "csc")


class FastMLPBase(BaseEstimator):
    """Training and fitted attributes shared by the two estimators.

    A subclass defines `__init__` (its parameters), ``_outputs`` (each cost it accepts
    and the output activation that goes with it) and the hooks below.
    """

    _outputs: dict[str, str]
    # Keyword arguments for `validate_data` when it checks (X, y).
    _validate_options: ClassVar[dict[str, Any]] = {}

    # Hooks -------------------------------------------------------------------------------

    def _targets(self, y: NDArray[Any], *, reset: bool, partial: bool = False,
                 classes: ArrayLike | None = None) -> NDArray[Any]:
        """y as the network takes it: int labels (n,) or float targets (n, n_outputs).

        `reset` on the first call that fits (`fit`, or a first `partial_fit`).
        """
        raise NotImplementedError

    def _n_outputs(self) -> int:
        """The network's outputs, known once `_targets` has run with `reset`."""
        raise NotImplementedError

    def _class_weights(self, targets: NDArray[Any], partial: bool) -> NDArray[np.float64] | None:
        """The weight of each sample's class, or None (no class weights)."""
        return None

    def _stratify(self, targets: NDArray[Any]) -> NDArray[Any] | None:
        """Labels to stratify the validation split by, or None."""
        return None

    def _validation_score(self, net: Network, record: dict[str, Any],
                          validation: tuple[NDArray[Any], NDArray[Any]]) -> float:
        """The score of `net` on the held-out data after an epoch (its History record)."""
        raise NotImplementedError

    # Checks ------------------------------------------------------------------------------

    def _hidden(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        for i, n in enumerate(sizes):
            _validate.positive_int(f"hidden_layer_sizes[{i}]", n)
        return sizes

    def _check_params(self) -> None:
        """Raise ValueError naming the first parameter out of its range."""
        self._hidden()
        _validate.choice("cost", self.cost, tuple(self._outputs))
        _validate.as_dtype(self.dtype)
        for name in ("batch_size", "max_iter", "n_iter_no_change"):
            _validate.positive_int(name, getattr(self, name))
        _validate.nonnegative_float("learning_rate", self.learning_rate)
        _validate.nonnegative_float("l2", self.l2)
        _validate.nonnegative_float("momentum", self.momentum, upper=1.0)
        fraction = _validate.nonnegative_float("validation_fraction", self.validation_fraction,
                                               upper=1.0)
        if self.early_stopping and fraction == 0:
            raise ValueError("validation_fraction must be > 0 with early_stopping=True")
        if self.n_threads is not None:
            _validate.positive_int("n_threads", self.n_threads)

    def _sample_weights(self, X: NDArray[Any], targets: NDArray[Any],
                        sample_weight: ArrayLike | None, partial: bool
                        ) -> NDArray[np.float64] | None:
        """sample_weight times the class weights, checked; None when there are neither."""
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                           ensure_non_negative=True)
        by_class = self._class_weights(targets, partial)
        if by_class is not None:
            weights = by_class if weights is None else weights * by_class
        if weights is not None and not np.any(weights > 0):
            raise ValueError("the sample weights are all zero: at least one must be positive")
        return weights

    # Training ----------------------------------------------------------------------------

    def _seeds(self) -> tuple[int, int]:
        """The network's seed and the validation split's, drawn from `random_state`
        (the same two draws in `fit` and a first `partial_fit`, so they start alike)."""
        seed, split_seed = check_random_state(self.random_state).randint(SEED_BOUND, size=2)
        return int(seed), int(split_seed)

    def _new_network(self, n_features: int, seed: int) -> Network:
        return Network([n_features, *self._hidden(), self._n_outputs()], cost=self.cost,
                       output=self._outputs[self.cost], init=self.init, dtype=self.dtype,
                       seed=seed)

    def _step_options(self, weights: NDArray[np.float64] | None) -> dict[str, Any]:
        """The keyword arguments `Network.fit` and `Network.partial_fit` share."""
        options: dict[str, Any] = dict(batch_size=self.batch_size, lr=self.learning_rate,
                                       l2=self.l2, momentum=self.momentum,
                                       shuffle=self.shuffle, threads=self.n_threads)
        if weights is not None:
            options["sample_weight"] = weights
        return options

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> Self:
        """Train a new network for `max_iter` epochs (fewer with early stopping).

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,) or (n_samples, n_targets)
            Class labels (a classifier takes one column only), or regression targets.
        sample_weight : array_like, shape (n_samples,), optional
            Non-negative; each sample's gradient counts ``w_i / mean(w)`` times.

        Returns
        -------
        self
        """
        self._check_params()
        X_checked, y_checked = validate_data(self, X, y, reset=True,
                                             dtype=_validate.as_dtype(self.dtype),
                                             accept_sparse=SPARSE_FORMATS, **self._validate_options)
        targets = self._targets(y_checked, reset=True)
        weights = self._sample_weights(X_checked, targets, sample_weight, partial=False)
        seed, split_seed = self._seeds()
        network = self._new_network(X_checked.shape[1], seed)

        validation = None
        scores: list[float] = []
        options = self._step_options(weights)
        if self.early_stopping:
            parts = [X_checked, targets] + ([weights] if weights is not None else [])
            split = train_test_split(*parts, test_size=self.validation_fraction,
                                     random_state=split_seed,
                                     stratify=self._stratify(targets))
            X_checked, Xv, targets, tv = split[:4]
            if weights is not None:
                options["sample_weight"] = split[4]
            validation = (Xv, tv)

            def monitor(net: Network, record: dict[str, Any]) -> float:
                # the estimator's own score picks the best epoch and stops training
                scores.append(self._validation_score(net, record, validation))
                return scores[-1]

            options.update(validation_data=validation, early_stopping=self.n_iter_no_change,
                           monitor=monitor)

        history = network.fit(X_checked, targets, epochs=self.max_iter, progress=False,
                              verbose=bool(self.verbose), **options)
        self.network_ = network
        self.history_ = history
        self.loss_curve_ = list(history.train_cost)
        self.n_iter_ = len(history)
        self.validation_scores_ = scores if self.early_stopping else None
        self.best_validation_score_ = max(scores) if scores else None
        self.best_loss_ = None if self.early_stopping else min(self.loss_curve_)
        return self

    def _partial_fit(self, X_given: ArrayLike, y_given: ArrayLike,
                     sample_weight: ArrayLike | None, classes: ArrayLike | None = None
                     ) -> Self:
        first = not hasattr(self, "network_")
        if first:
            self._check_params()
        dtype = _validate.as_dtype(self.dtype) if first else self.network_.dtype
        X, y = validate_data(self, X_given, y_given, reset=first, dtype=dtype,
                             accept_sparse=SPARSE_FORMATS, **self._validate_options)
        targets = self._targets(y, reset=first, partial=True, classes=classes)
        weights = self._sample_weights(X, targets, sample_weight, partial=True)
        if first:
            seed, _ = self._seeds()
            self.network_ = self._new_network(X.shape[1], seed)
            self.validation_scores_ = self.best_validation_score_ = None
        # The network appends the epoch to its history (the one `fit` started, if any).
        self.history_ = self.network_.partial_fit(X, targets, **self._step_options(weights))
        self.loss_curve_ = list(self.history_.train_cost)
        self.n_iter_ = len(self.history_)
        self.best_loss_ = min(self.loss_curve_)
        return self

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # Inference ---------------------------------------------------------------------------

    def _checked_inputs(self, X: ArrayLike) -> NDArray[Any]:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=self.network_.dtype,
                             accept_sparse=SPARSE_FORMATS)

    # Fitted parameters in scikit-learn's names -------------------------------------------

    @property
    def coefs_(self) -> list[NDArray[Any]]:
        check_is_fitted(self)
        return [layer.weights.T for layer in self.network_.layers]

    @property
    def intercepts_(self) -> list[NDArray[Any]]:
        check_is_fitted(self)
        return [layer.biases for layer in self.network_.layers]
