"""Network: a stack of dense sigmoid layers trained by backpropagation and SGD."""
import contextlib
import threading
from collections import namedtuple
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import numpy.typing as npt

import numpy as np

from . import _kernels, _validate, kernel_backend, numpy_backend, runtime, sparse, training
from ._metrics import count_correct, layer_activations
from .history import History
from .layer import Layer

COSTS = ("quadratic", "cross_entropy", "log_likelihood")
# The output activations each cost is defined for; the first is the default.
OUTPUTS = {"quadratic": ("sigmoid", "identity"), "cross_entropy": ("sigmoid",),
           "log_likelihood": ("softmax",)}
INITS = ("normal", "scaled", "glorot")
BACKENDS = {"c": kernel_backend, "numpy": numpy_backend}
MAX_LAYERS = _kernels.MAX_LAYERS

# Guards the test-and-set of a network's "training" flag across threads.
_TRAINING_FLAG_LOCK = threading.Lock()

Gradients = namedtuple("Gradients", ["weights", "biases", "errors"])
# The checked data and settings of one fit or partial_fit call; decay is per step (l2 / n).
_TrainingJob = namedtuple("_TrainingJob", ["X", "Y", "batch_size", "lr", "decay", "momentum",
                                           "threads", "sample_scale"])
Gradients.__doc__ = """Result of Network.backprop, one entry per layer.

weights[l] : (n_out, n_in), dC/dW averaged over the batch
biases[l] : (n_out,), dC/db averaged over the batch
errors[l] : (m, n_out), each neuron's error dC/dz on each sample (delta in Nielsen's book)
"""


def initial_parameters(rng, sizes, init):
    """Weights and biases drawn from ``rng`` (in float64, so both dtypes start alike).

    normal: every weight and bias N(0, 1), as in Nielsen's network.py.
    scaled: weights N(0, 1/n_in), biases N(0, 1), as in network2.py.
    glorot: weights uniform in +-sqrt(6 / (n_in + n_out)), biases 0.
    Biases are drawn before weights, layer by layer, in network.py's order.
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    if init == "glorot":
        biases = [np.zeros(n_out) for _, n_out in pairs]
        weights = [rng.uniform(-1, 1, (n_out, n_in)) * np.sqrt(6.0 / (n_in + n_out))
                   for n_in, n_out in pairs]
        return weights, biases
    biases = [rng.standard_normal(n_out) for _, n_out in pairs]
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in pairs]
    if init == "scaled":
        weights = [w / np.sqrt(w.shape[1]) for w in weights]
    return weights, biases


class Network:
    """A fully connected network of sigmoid layers.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first: ``[784, 30, 10]`` is 784 inputs, a hidden layer
        of 30 and 10 outputs (as in Nielsen's network.py).
    cost : {"quadratic", "cross_entropy", "log_likelihood"}
    output : {"sigmoid", "identity", "softmax"}, optional
        The output layer's activation; defaults to softmax for log_likelihood and to
        sigmoid otherwise.  Identity (regression) goes with the quadratic cost.
    init : {"normal", "scaled", "glorot"}, optional
        Initial parameters (see `initial_parameters`); defaults to "normal" (network.py)
        with the quadratic cost and to "scaled" (network2.py) with the others.
    dtype : {"float32", "float64"}
    seed : int or None
        Seeds the network's random Generator, which draws the initial parameters and
        the shuffling order: the same seed gives the same network and the same training.
    backend : {"c", "numpy"}
        Where the loops run: the C kernels, or the vectorised NumPy twin
        (`fastmlp.numpy_backend`), which trains the same network to within rounding.

    Attributes
    ----------
    layers : list of Layer
        ``layers[i].weights`` (n_out, n_in) and ``.biases`` (n_out,) are the live parameters.
    rng : numpy.random.Generator
        The network's source of randomness (initial parameters, shuffling order).
    history : History or None
        The record of the latest `fit`.
    epochs_trained : int
        Epochs completed over the network's life.
    """

    def __init__(self, sizes: Sequence[int], *, cost: str = "quadratic",
                 output: Optional[str] = None, init: Optional[str] = None,
                 dtype: Any = "float64", seed: Optional[int] = None,
                 backend: str = "c") -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least 2 entries (inputs and outputs), got {sizes}")
        if len(sizes) - 1 > MAX_LAYERS:
            raise ValueError(f"a network has at most {MAX_LAYERS} layers ({MAX_LAYERS + 1} sizes), "
                             f"got {len(sizes) - 1}")
        for i, n in enumerate(sizes):
            _validate.positive_int(f"sizes[{i}]", n)
        self.cost = _validate.choice("cost", cost, COSTS)
        self.output = OUTPUTS[cost][0] if output is None else output
        _validate.choice(f"output (with cost={cost!r})", self.output, OUTPUTS[cost])
        init = ("normal" if cost == "quadratic" else "scaled") if init is None else init
        _validate.choice("init", init, INITS)
        self.backend = _validate.choice("backend", backend, tuple(BACKENDS))
        dtype = _validate.as_dtype(dtype)
        self.rng = np.random.default_rng(seed)
        # a tuple: the layers' arrays are live (written in place), the layers themselves
        # are fixed, so set-ups built from them (the forward pass's) never go stale
        self.layers = tuple(Layer(n_in, n_out, dtype=dtype) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
        weights, biases = initial_parameters(self.rng, sizes, init)
        for layer, w, b in zip(self.layers, weights, biases):
            layer.weights, layer.biases = w, b
        self.history: Optional[History] = None
        self.epochs_trained = 0
        self._velocities = None  # momentum's state, kept between partial_fit calls
        self._training = False
        self._prepared = None  # the backend's set-up for forward passes, built on first use

    # --- shape facts -------------------------------------------------------------------

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    def __repr__(self):
        return (f"Network(sizes={self.sizes}, cost={self.cost!r}, output={self.output!r}, "
                f"dtype={self.dtype.name!r})")

    def summary(self) -> str:
        """A text table of the layers (inputs, neurons, activation, parameters), the total
        number of parameters, the dtype, the cost and the epochs trained."""
        head = ("layer", "inputs", "neurons", "activation", "weights", "biases", "parameters")
        activations = layer_activations(len(self.layers), self.output)
        rows = [(str(l + 1), f"{layer.n_in:,}", f"{layer.n_out:,}",
                 activations[l], f"{layer.weights.size:,}",
                 f"{layer.biases.size:,}", f"{layer.weights.size + layer.biases.size:,}")
                for l, layer in enumerate(self.layers)]
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        # text columns (the activation) align left, numbers right
        lines = ["  ".join(cell.ljust(w) if i == 3 else cell.rjust(w)
                           for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
                 for row in [head, *rows]]
        total = sum(layer.weights.size + layer.biases.size for layer in self.layers)
        return "\n".join([f"Network {self.sizes}", *lines,
                          f"total parameters: {total:,}; dtype {self.dtype.name}; "
                          f"cost {self.cost}; epochs trained: {self.epochs_trained}"])

    def _weights(self):
        return [layer.weights for layer in self.layers]

    def _biases(self):
        return [layer.biases for layer in self.layers]

    def parameters(self) -> list[np.ndarray]:
        """The live parameter arrays: every layer's weights, then every layer's biases."""
        return self._weights() + self._biases()

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_training"] = False  # a copy taken during training is not itself training
        state["_prepared"] = None  # points into this network's arrays, not the copy's
        return state

    def __setstate__(self, state):
        state.setdefault("_velocities", None)
        state.setdefault("_training", False)
        state.setdefault("_prepared", None)
        state["layers"] = tuple(state["layers"])
        self.__dict__.update(state)

    def _backend(self):
        return BACKENDS[self.backend]

    def _inputs(self, X: npt.ArrayLike, name: str = "X", check_finite: bool = True,
                sparse_ok: bool = False) -> tuple[Union[np.ndarray, sparse.CompressedRows], bool]:
        """X checked: a C-contiguous (m, n_in) array of the network's dtype, and whether
        it was one sample.  With sparse_ok, a SciPy sparse matrix becomes
        `sparse.CompressedRows` (values checked finite), never a dense array."""
        if sparse.is_scipy_sparse(X):
            if not sparse_ok:
                raise TypeError(f"{name} is a SciPy sparse matrix; this method needs a dense "
                                f"array ({name}.toarray())")
            if not self._backend().ACCEPTS_COMPRESSED:
                raise ValueError(f"backend={self.backend!r} trains and predicts on dense "
                                 f"arrays only; pass {name}.toarray() or use backend='c'")
            return sparse.from_scipy(X, self.layers[0].n_in, self.dtype, name), False
        return _validate.inputs(X, self.layers[0].n_in, self.dtype, name, check_finite)

    def _targets(self, y: npt.ArrayLike, m: int, name: str = "y") -> np.ndarray:
        return _validate.targets(y, m, self.layers[-1].n_out, self.dtype, name)

    # --- inference -----------------------------------------------------------------------

    def _prepared_forward(self):
        """The backend's set-up for forward passes (built on first use, then reused)."""
        if self._prepared is None:
            self._prepared = self._backend().prepare(self._weights(), self._biases(), self.output)
        return self._prepared

    def _forward(self, X, name="X"):
        """Output activations for X as `_inputs` returns it; the backend refuses (naming
        `name`) a NaN or infinity in X, which `_inputs` may leave to it."""
        return self._backend().forward(self._weights(), self._biases(), X, self.output, name,
                                       self._prepared_forward())

    def _cost(self, A, Y):
        return self._backend().cost(A, Y, self.cost)

    def _forward_sample(self, x):
        """The outputs (n_out,) for one sample x, a 1-D array, on the lean path to C, or
        None when x needs the general path (another dtype, a strided view, ...)."""
        if self.backend != "c":
            return None
        out = np.empty(self.layers[-1].n_out, dtype=self.dtype)
        try:
            where = _kernels.forward_sample(self._prepared_forward(), x, out)
        except (ValueError, BufferError):
            return None
        if where is not None:
            raise _validate.nonfinite_error("X", x, (where[1],))
        return out

    def forward(self, X: npt.ArrayLike) -> np.ndarray:
        """Output activations for X (m, n_in), shape (m, n_out); a 1-D X gives (n_out,)."""
        if type(X) is np.ndarray and X.ndim == 1:
            out = self._forward_sample(X)
            if out is not None:
                return out
        X, single = self._inputs(X, check_finite=False, sparse_ok=True)
        out = self._forward(X)
        return out[0] if single else out

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """Predicted class per sample, as int64: the largest output, or for a network
        with one output, 1 where it is at least 0.5.

        A regression network (identity output) predicts its outputs, as `forward` returns
        them: shape (m, n_out), or (n_out,) for a 1-D X.
        """
        out = self.forward(X)
        if self.output == "identity":
            return out
        if self.sizes[-1] == 1:
            return (out[..., 0] >= 0.5).astype(np.int64)
        return np.argmax(out, axis=-1)

    def predict_proba(self, X: npt.ArrayLike) -> np.ndarray:
        """Class probabilities per sample, shape (m, n_classes).

        Softmax outputs are returned as they are; sigmoid outputs are divided by their sum
        (one output o gives the two columns 1 - o and o).  Not defined for an identity
        (regression) output.
        """
        if self.output == "identity":
            raise ValueError("predict_proba needs a classifier; this network has an identity output")
        out = self.forward(X)
        if self.sizes[-1] == 1:
            return np.concatenate([1 - out, out], axis=-1)
        if self.output == "softmax":
            return out
        return out / out.sum(axis=-1, keepdims=True)

    def evaluate(self, X: npt.ArrayLike, y: npt.ArrayLike) -> tuple[float, Optional[float]]:
        """``(cost, accuracy)`` on X and labels or targets y (as in `fit`).

        The cost is averaged over the samples (without any L2 term); accuracy is the
        fraction of samples whose prediction matches the label (None for an identity output).
        """
        X, _ = self._inputs(X, check_finite=False, sparse_ok=True)
        Y = self._targets(y, X.shape[0])
        if X.shape[0] == 0:
            raise ValueError("X has no samples")
        return self._score(X, Y)

    # --- training ------------------------------------------------------------------------

    def backprop(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Gradients:
        """Gradients of the cost averaged over the rows of X, without changing the network.

        Returns a `Gradients` (weights, biases, errors), one array per layer, in the
        layers' shapes; errors[l] has shape (m, n_out) and holds each neuron's share of
        the blame, dC/dz, for each sample.
        """
        X, _ = self._inputs(X)
        Y = self._targets(y, X.shape[0])
        if X.shape[0] == 0:
            raise ValueError("X has no samples")
        dWs, dbs, deltas = self._backend().backprop(self._weights(), self._biases(), X, Y,
                                                    self.cost, self.output)
        return Gradients(list(dWs), list(dbs), list(deltas))

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, *, epochs: int, batch_size: int,
            lr: float, l2: float = 0.0, momentum: float = 0.0, shuffle: bool = True,
            validation_data: Optional[tuple[npt.ArrayLike, npt.ArrayLike]] = None,
            early_stopping: Optional[int] = None,
            lr_schedule: Union[str, Callable[[int, float], float]] = "constant",
            lr_patience: int = 10,
            callbacks: Iterable[Callable[["Network", dict], None]] = (),
            progress: Optional[bool] = None, verbose: bool = False,
            threads: Optional[int] = None,
            sample_weight: Optional[npt.ArrayLike] = None,
            monitor: Optional[Callable[["Network", dict], float]] = None) -> History:
        """Train by mini-batch stochastic gradient descent, continuing from the current weights.

        Each epoch visits every sample once, in an order drawn from the network's Generator
        (or in order when ``shuffle=False``), in mini-batches of ``batch_size`` rows; each
        update uses the gradient averaged over its mini-batch, and a final short batch is
        averaged over its own size.

        Parameters
        ----------
        X : array_like, shape (n, n_in)
        y : array_like, shape (n,) of int class labels, or (n, n_out) of float targets
        epochs : int
        batch_size : int
            1 is online (per-sample) gradient descent.
        lr : float
            The learning rate (eta in Nielsen's book).
        l2 : float
            L2 regularisation in network2.py's convention (lmbda): each update multiplies
            the weights by ``1 - lr * l2 / n``, n the number of training samples.  Biases
            are not decayed.
        momentum : float in [0, 1)
            Momentum coefficient mu: ``v = mu v - lr grad; w += v``.  Velocities start at
            zero on each `fit` call (`partial_fit` keeps them).
        shuffle : bool
        validation_data : (X_val, y_val), optional
            Evaluated at the end of every epoch; needed by early stopping and "halve".
        early_stopping : int, optional
            Stop when validation accuracy (for an identity output, validation cost) has not
            improved for this many epochs, and restore the best epoch's parameters.
        lr_schedule : "constant", "halve" or callable
            "halve": halve lr whenever validation accuracy has not improved for
            ``lr_patience`` epochs, and stop once lr falls below 1/128 of its initial
            value (Nielsen's chapter 3).  A callable ``f(epoch, lr)`` returns the rate
            for the next epoch.
        lr_patience : int
        callbacks : sequence of callables
            Each is called as ``callback(network, record)`` after every epoch, with that
            epoch's History record (a dict); raising `fastmlp.StopTraining` ends training.
        progress : bool or None
            A progress bar over epochs (needs tqdm); None shows one only on a terminal.
        verbose : bool
            Print a line per epoch, such as ``Epoch 3: 9412 / 10000 (...)``.
        threads : int, optional
            Threads for the C kernels during this call only (default:
            `fastmlp.get_num_threads()`); no other thread's count changes.
        sample_weight : array_like, shape (n,), optional
            Non-negative weights: each sample's gradient counts ``w_i / mean(w)`` times, so
            equal weights train exactly as no weights, and a weight of 2 counts a sample
            twice.  The recorded training cost and accuracy stay unweighted.
        monitor : callable, optional
            ``monitor(network, record) -> float``, called after every epoch when
            validation_data is given: the validation score (higher is better) by which
            the best epoch is chosen and that early stopping and "halve" watch, in place
            of validation accuracy (for an identity output, minus validation cost).

        Returns
        -------
        History
            Also kept as ``self.history``.

        Raises
        ------
        DivergenceError
            If the cost becomes NaN or infinite; the parameters are left as they were at
            the end of the last good epoch.
        KeyboardInterrupt
            Ctrl-C lands within a fraction of a second; the interrupted epoch is rolled
            back, so the parameters, `epochs_trained` and ``self.history`` (stopped =
            "interrupted") agree on the epochs completed.
        RuntimeError
            If a fit or partial_fit call on this network is still running (in another
            thread, or a callback's).
        """
        epochs = _validate.positive_int("epochs", epochs, minimum=0)
        lr_patience = _validate.positive_int("lr_patience", lr_patience)
        if early_stopping is not None:
            early_stopping = _validate.positive_int("early_stopping", early_stopping)
        if not callable(lr_schedule):
            _validate.choice("lr_schedule", lr_schedule, training.SCHEDULES)
        callbacks = list(callbacks)
        for callback in callbacks:
            if not callable(callback):
                raise TypeError(f"callbacks must be callables, got {callback!r}")
        job = self._training_job(X, y, batch_size=batch_size, lr=lr, l2=l2, momentum=momentum,
                                 threads=threads, sample_weight=sample_weight)
        validation = None
        if validation_data is not None:
            Xv, yv = validation_data
            Xv, _ = self._inputs(Xv, "validation X", sparse_ok=True)
            validation = (Xv, self._targets(yv, Xv.shape[0], "validation y"))
            if Xv.shape[0] == 0:
                raise ValueError("validation X has no samples")
        needs_validation = early_stopping is not None or lr_schedule == "halve" or monitor is not None
        if needs_validation and validation is None:
            raise ValueError("early_stopping, lr_schedule='halve' and monitor need validation_data")
        if monitor is not None and not callable(monitor):
            raise TypeError(f"monitor must be a callable, got {monitor!r}")
        with self._exclusive_training():
            self._velocities = self._zero_velocities() if job.momentum else None
            self.history = History()
            return self._run(job, validation, epochs=epochs, shuffle=shuffle,
                             early_stopping=early_stopping, lr_schedule=lr_schedule,
                             lr_patience=lr_patience, callbacks=callbacks, progress=progress,
                             verbose=verbose, monitor=monitor)

    def partial_fit(self, X: npt.ArrayLike, y: npt.ArrayLike, *, batch_size: int, lr: float,
                    l2: float = 0.0, momentum: float = 0.0, shuffle: bool = True,
                    sample_weight: Optional[npt.ArrayLike] = None,
                    threads: Optional[int] = None, progress: Optional[bool] = False) -> History:
        """One epoch over (X, y), continuing exactly where the last call left off.

        Unlike `fit`, momentum's velocities are kept between `partial_fit` calls, so a
        sequence of calls on the chunks of a data set continues one training run (with
        the order drawn per chunk).  The epoch is appended to ``self.history`` (a new
        History when the network has none).  Arguments as in `fit`; ``l2``'s n is the
        number of samples in this call.

        Returns
        -------
        History
            ``self.history``.
        """
        job = self._training_job(X, y, batch_size=batch_size, lr=lr, l2=l2, momentum=momentum,
                                 threads=threads, sample_weight=sample_weight)
        with self._exclusive_training():
            if job.momentum and self._velocities is None:
                self._velocities = self._zero_velocities()
            if self.history is None:
                self.history = History()
            return self._run(job, None, epochs=1, shuffle=shuffle, early_stopping=None,
                             lr_schedule="constant", lr_patience=1, callbacks=(),
                             progress=progress, verbose=False)

    def _training_job(self, X, y, *, batch_size, lr, l2, momentum, threads, sample_weight):
        """The checked data and settings of a fit or partial_fit call."""
        X, _ = self._inputs(X, sparse_ok=True)
        n = X.shape[0]
        Y = self._targets(y, n)
        if n == 0:
            raise ValueError("X has no samples")
        return _TrainingJob(
            X=X, Y=Y, batch_size=min(_validate.positive_int("batch_size", batch_size), n),
            lr=_validate.nonnegative_float("lr", lr),
            decay=_validate.nonnegative_float("l2", l2) / n,
            momentum=_validate.nonnegative_float("momentum", momentum, upper=1.0),
            threads=None if threads is None else _validate.positive_int("threads", threads),
            sample_scale=None if sample_weight is None
            else _validate.sample_scale(sample_weight, n, self.dtype))

    def _zero_velocities(self):
        return [np.zeros_like(w) for w in self._weights()], [np.zeros_like(b) for b in self._biases()]

    @contextlib.contextmanager
    def _exclusive_training(self):
        """A context in which this network trains, refusing a second, concurrent fit."""
        with _TRAINING_FLAG_LOCK:
            if self._training:
                raise RuntimeError("this network is already training (a fit or partial_fit "
                                   "call on it is still running, in this thread or another); "
                                   "train a copy instead")
            self._training = True
        try:
            yield
        finally:
            self._training = False

    def _run(self, job, validation, **settings):
        velocities = self._velocities if job.momentum else None
        trainer = self._backend().Trainer(self._weights(), self._biases(), velocities,
                                          batch_size=job.batch_size, cost=self.cost,
                                          output=self.output, momentum=job.momentum)
        with runtime.threads(job.threads):
            return training.run(
                self, trainer, job.X, job.Y, validation, history=self.history,
                velocities=[] if velocities is None else velocities[0] + velocities[1],
                score=lambda X, Y: self._score(X, Y, "validation X"),
                sample_scale=job.sample_scale, lr=job.lr,
                decay=job.decay, **settings)

    def _score(self, X, Y, name="X"):
        """(cost, accuracy or None) of checked arrays; a NaN in X is named as `name`."""
        A = self._forward(X, name)
        accuracy = count_correct(A, Y) / X.shape[0] if self.output != "identity" else None
        return self._cost(A, Y), accuracy

    # --- persistence ---------------------------------------------------------------------

    def save(self, path: Any) -> None:
        """Write the network to a ``.npz`` file (see `fastmlp.load`)."""
        from .serialization import save
        save(self, path)

    # --- explanation ---------------------------------------------------------------------

    def explain(self, x: npt.ArrayLike, y: Any, neuron: Any = None) -> Any:
        """Backpropagation on one example explained: see `fastmlp.explain.explain`."""
        from .explain import explain
        return explain(self, x, y, neuron)

    # --- export ----------------------------------------------------------------------------

    def export_c(self, path: Any, **options: Any) -> Any:
        """Write the network as a C99 header (see `fastmlp.export.export_c` for options);
        returns the header's path."""
        from .export import export_c
        return export_c(self, path, **options)

    def export_onnx(self, path: Any) -> Any:
        """Write the network as an ONNX model (see `fastmlp.export.export_onnx`); returns
        the model's path."""
        from .export import export_onnx
        return export_onnx(self, path)
