"""Network: a stack of dense sigmoid layers trained by backpropagation and SGD."""
from collections import namedtuple

import numpy as np

from . import _kernels, _validate
from ._workspace import Workspace
from .layer import Layer

COSTS = {"quadratic": _kernels.QUADRATIC, "cross_entropy": _kernels.CROSS_ENTROPY,
         "log_likelihood": _kernels.LOG_LIKELIHOOD}
# The output activations each cost is defined for; the first is the default.
OUTPUTS = {"quadratic": ("sigmoid", "identity"), "cross_entropy": ("sigmoid",),
           "log_likelihood": ("softmax",)}
INITS = ("normal", "scaled", "glorot")

Gradients = namedtuple("Gradients", ["weights", "biases", "errors"])
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
    init : {"normal", "scaled", "glorot"}
        Initial parameters (see `initial_parameters`).
    dtype : {"float32", "float64"}
    seed : int or None
        Seeds the network's random Generator, which draws the initial parameters and
        the shuffling order: the same seed gives the same network and the same training.

    Attributes
    ----------
    layers : list of Layer
        ``layers[i].weights`` (n_out, n_in) and ``.biases`` (n_out,) are the live parameters.
    rng : numpy.random.Generator
        The network's source of randomness (initial parameters, shuffling order).
    """

    def __init__(self, sizes, *, cost="quadratic", output=None, init="normal",
                 dtype="float64", seed=None):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least 2 entries (inputs and outputs), got {sizes}")
        for i, n in enumerate(sizes):
            _validate.positive_int(f"sizes[{i}]", n)
        self.cost = _validate.choice("cost", cost, tuple(COSTS))
        self.output = OUTPUTS[cost][0] if output is None else output
        _validate.choice(f"output (with cost={cost!r})", self.output, OUTPUTS[cost])
        _validate.choice("init", init, INITS)
        dtype = _validate.as_dtype(dtype)
        self.rng = np.random.default_rng(seed)
        self.layers = [Layer(n_in, n_out, dtype=dtype,
                             activation=self.output if l == len(sizes) - 2 else "sigmoid")
                       for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]
        weights, biases = initial_parameters(self.rng, sizes, init)
        for layer, w, b in zip(self.layers, weights, biases):
            layer.weights, layer.biases = w, b
        self._workspace = None

    # --- shape facts -------------------------------------------------------------------

    @property
    def sizes(self):
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def dtype(self):
        return self.layers[0].dtype

    def __repr__(self):
        return (f"Network(sizes={self.sizes}, cost={self.cost!r}, output={self.output!r}, "
                f"dtype={self.dtype.name!r})")

    def _inputs(self, X, name="X"):
        return _validate.inputs(X, self.sizes[0], self.dtype, name)

    def _targets(self, y, m, name="y"):
        return _validate.targets(y, m, self.sizes[-1], self.dtype, name)

    def _workspace_for(self, rows):
        """A workspace with at least `rows` rows, kept between calls."""
        if self._workspace is None or self._workspace.rows < rows:
            self._workspace = Workspace(self.layers, rows)
        return self._workspace

    # --- inference -----------------------------------------------------------------------

    def forward(self, X):
        """Output activations for X (m, n_in), shape (m, n_out); a 1-D X gives (n_out,)."""
        X, single = self._inputs(X)
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        return out[0] if single else out

    def predict(self, X):
        """Predicted class (index of the largest output) per sample, as int64."""
        return np.argmax(self.forward(X), axis=-1)

    def evaluate(self, X, y):
        """``(cost, accuracy)`` on X and labels or targets y (as in `fit`).

        The cost is averaged over the samples; accuracy is the fraction of samples whose
        largest output is at the label (or at the largest target).
        """
        X, _ = self._inputs(X)
        Y = self._targets(y, X.shape[0])
        A = self.forward(X)
        cost = _kernels.cost(A, Y, COSTS[self.cost])
        accuracy = float(np.mean(np.argmax(A, axis=1) == np.argmax(Y, axis=1)))
        return cost, accuracy

    # --- training ------------------------------------------------------------------------

    def _output_delta_given(self):
        # With cross-entropy on sigmoid outputs, or log-likelihood on softmax outputs,
        # dC/dz at the output is exactly a - y: the activation's derivative cancels.
        return self.cost != "quadratic"

    def backprop(self, X, y):
        """Gradients of the cost averaged over the rows of X, without changing the network.

        Returns a `Gradients` (weights, biases, errors), one array per layer, in the
        layers' shapes; errors[l] has shape (m, n_out) and holds each neuron's share of
        the blame, dC/dz, for each sample.
        """
        X, _ = self._inputs(X)
        Y = self._targets(y, X.shape[0])
        if X.shape[0] == 0:
            raise ValueError("X has no samples")
        ws = Workspace(self.layers, X.shape[0])
        ws.forward(self.layers, X)
        ws.backward(self.layers, X, Y, self._output_delta_given())
        return Gradients([dw.copy() for dw in ws.dW], [db.copy() for db in ws.db],
                         [d.copy() for d in ws.D])

    def _train_batch(self, ws, X, Y, lr):
        """One step of gradient descent on the batch (X, Y)."""
        ws.forward(self.layers, X)
        ws.backward(self.layers, X, Y, self._output_delta_given())
        for layer, dW, db in zip(self.layers, ws.dW, ws.db):
            _kernels.sgd_update(dW.reshape(-1), layer.weights.reshape(-1), lr=lr)
            _kernels.sgd_update(db, layer.biases, lr=lr)

    def fit(self, X, y, *, epochs, batch_size, lr, shuffle=True):
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
        lr : float
            The learning rate (eta in Nielsen's book).
        shuffle : bool

        Returns
        -------
        self
        """
        X, _ = self._inputs(X)
        n = X.shape[0]
        Y = self._targets(y, n)
        epochs = _validate.positive_int("epochs", epochs, minimum=0)
        batch_size = _validate.positive_int("batch_size", batch_size)
        lr = _validate.nonnegative_float("lr", lr)
        if n == 0:
            raise ValueError("X has no samples")
        ws = self._workspace_for(min(batch_size, n))
        for _ in range(epochs):
            order = self.rng.permutation(n) if shuffle else None
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                if order is None:
                    xb, yb = X[start:stop], Y[start:stop]
                else:
                    rows = order[start:stop]
                    xb = np.take(X, rows, axis=0, out=ws.x[:stop - start])
                    yb = np.take(Y, rows, axis=0, out=ws.y[:stop - start])
                self._train_batch(ws, xb, yb, lr)
        return self
