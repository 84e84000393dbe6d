"""The blame explained for one example: each layer's error, which neurons took the most
blame and why, and Nielsen's four backpropagation equations with the numbers filled in.

Layers are numbered as in ``net.sizes``: layer 0 is the input, layer L the output, and
layer l (l >= 1) computes ``z^l = w^l a^(l-1) + b^l``, ``a^l = act(z^l)`` with
``w^l = net.layers[l - 1].weights`` (row j holds the weights into neuron j).  The error
of neuron j of layer l is ``delta^l_j = dC/dz^l_j`` (what ``net.backprop`` returns as
``errors[l - 1]``).  The four equations (Nielsen, *Neural Networks and Deep Learning*,
chapter 2):

* BP1  ``delta^L_j = dC/da^L_j * act'(z^L_j)``  (the output error);
* BP2  ``delta^l_j = (sum_i w^(l+1)_ij delta^(l+1)_i) * act'(z^l_j)``  (the error flows back);
* BP3  ``dC/db^l_j = delta^l_j``;
* BP4  ``dC/dw^l_jk = a^(l-1)_k delta^l_j``.
"""
from collections import namedtuple

import numpy as np

from . import _validate, numpy_backend

Equation = namedtuple("Equation", ["name", "index", "text", "value"])
Equation.__doc__ = """One of BP1-BP4 filled in with one example's numbers.

name : "BP1", "BP2", "BP3" or "BP4"
index : (layer, j) of the neuron the equation is about, (layer, j, k) of the weight for
    BP4 (None when the equation does not apply)
text : the equation with the numbers, one line
value : the equation's result (float), computed from the numbers shown (None when it
    does not apply)
"""

TOP = 3  # upstream neurons listed per layer, and terms shown in a long sum


def _num(value):
    """A number for a product in the text: 4 significant digits, negatives in brackets."""
    return f"({value:.4g})" if value < 0 else f"{value:.4g}"


def one_example(net, x, y):
    """The forward and backward pass of `net` on one example.

    Parameters
    ----------
    net : Network
    x : array_like, shape (n_in,) or (1, n_in)
    y : int class label, or targets of shape (n_out,) (a float for one output)

    Returns
    -------
    activations : list of L + 1 arrays
        ``a^0 = x`` (n_in,), then each layer's activations ``a^l`` (sizes[l],).
    weighted_inputs : list of L + 1 arrays
        ``z^l`` (sizes[l],); entry 0 is None (inputs have no weighted input).
    errors : list of L + 1 arrays
        ``delta^l = dC/dz^l`` (sizes[l],) from ``net.backprop``; entry 0 is None.
    target : array, shape (n_out,)
    """
    X, _ = net._inputs(x, "x")
    if X.shape[0] != 1:
        raise ValueError(f"x must be one example of {net.sizes[0]} features, got "
                         f"{X.shape[0]} rows")
    y = np.asarray(y)
    Y = net._targets(y.reshape(1) if y.ndim == 0 else y[np.newaxis], 1)
    # The activations from the NumPy twin (the same maths, in the network's dtype).
    activations = numpy_backend.feedforward(net._weights(), net._biases(), X, net.output)
    weighted_inputs = [None] + [a[0] @ layer.weights.T + layer.biases
                                for a, layer in zip(activations, net.layers)]
    errors = [None] + [d[0] for d in net.backprop(X, Y).errors]
    return [a[0] for a in activations], weighted_inputs, errors, Y[0]


class Explanation:
    """Backpropagation on one example, as numbers and as text (``str(explanation)``).

    Layers are numbered as in ``sizes`` (0 the input, L the output); see the module's
    docstring.  Build one with `explain` or ``Network.explain``.

    Attributes
    ----------
    sizes : list of int
    cost, output : str
    target : ndarray, shape (n_out,)
    activations : list of L + 1 arrays
        ``activations[l]`` is ``a^l``, shape (sizes[l],); ``activations[0]`` is the input.
    weighted_inputs : list of L + 1 arrays
        ``z^l``; entry 0 is None.
    errors : list of L + 1 arrays
        ``delta^l = dC/dz^l``, shape (sizes[l],); entry 0 is None (inputs take no error).
    upstream_gradients : list of L arrays
        ``upstream_gradients[l] = dC/da^l = (w^(l+1))^T delta^(l+1)``, shape (sizes[l],):
        the blame neuron (or input) k of layer l receives from the layer above,
        the sum over downstream neurons j of ``w^(l+1)_jk delta^(l+1)_j``.
    blame : list of L arrays
        ``blame[l] = a^l * dC/da^l``, the quantity the upstream neurons are ranked by.
        To first order, silencing neuron k (setting ``a^l_k`` to 0) changes the cost by
        ``-blame[l][k]``: a positive blame means the neuron's output is raising the cost.
    top_blamed : list of L arrays of int
        For each layer l < L, the indices of its neurons with the largest ``|blame[l]|``,
        largest first.
    neuron : (int, int)
        The (layer, index) the equations are filled in for.
    equations : dict of Equation
        "BP1" to "BP4" (see `Equation`).
    cost_value : float
        The example's cost.
    """

    def __init__(self, net, x, y, neuron=None, top=TOP):
        self.sizes, self.cost, self.output = net.sizes, net.cost, net.output
        (self.activations, self.weighted_inputs, self.errors,
         self.target) = one_example(net, x, y)
        self._weights = [None] + [layer.weights for layer in net.layers]
        L = len(self.sizes) - 1
        self.upstream_gradients = [self._weights[l + 1].T @ self.errors[l + 1]
                                   for l in range(L)]
        self.blame = [a * g for a, g in zip(self.activations, self.upstream_gradients)]
        self.top_blamed = [np.argsort(-np.abs(b), kind="stable")[:top] for b in self.blame]
        self.cost_value = net._cost(self.activations[-1][np.newaxis],
                                    self.target[np.newaxis].astype(net.dtype))
        self.neuron = self._check_neuron(neuron)
        self.equations = self._equations()

    # --- which neuron ---------------------------------------------------------------------

    def _check_neuron(self, neuron):
        L = len(self.sizes) - 1
        if neuron is None:
            return L, int(np.argmax(np.abs(self.errors[L])))
        if isinstance(neuron, (int, np.integer)) and not isinstance(neuron, bool):
            neuron = (L, neuron)
        try:
            layer, j = neuron
        except (TypeError, ValueError):
            raise ValueError(f"neuron must be (layer, index) or an output index, got {neuron!r}") from None
        layer = _validate.positive_int("neuron's layer (0 is the input, which takes no error)",
                                       layer)
        if layer > L:
            raise ValueError(f"neuron's layer is {layer}, but the network's layers are 1..{L}")
        j = _validate.positive_int("neuron's index", j, minimum=0)
        if j >= self.sizes[layer]:
            raise ValueError(f"neuron index {j} is out of range: layer {layer} has "
                             f"{self.sizes[layer]} neurons")
        return layer, j

    def _most_blamed_by(self, l, j):
        """The upstream neuron k of layer l - 1 with the largest |a_k w^l_jk delta^l_j|."""
        return int(np.argmax(np.abs(self.activations[l - 1] * self._weights[l][j])))

    # --- the four equations ---------------------------------------------------------------

    def _equations(self):
        L = len(self.sizes) - 1
        l, j = self.neuron
        j_out = j if l == L else int(np.argmax(np.abs(self.errors[L])))
        if l < L:
            bp2 = self._bp2(l, j)
        elif L > 1:
            bp2 = self._bp2(L - 1, self._most_blamed_by(L, j), lead=j)
        else:
            bp2 = Equation("BP2", None, "BP2  (no hidden layer: no error flows back to a neuron)",
                           None)
        k = self._most_blamed_by(l, j)
        d = float(self.errors[l][j])
        a_k = float(self.activations[l - 1][k])
        bp3 = Equation("BP3", (l, j), f"BP3  dC/db^{l}_{j} = delta^{l}_{j} = {d:.6g}", d)
        bp4 = Equation("BP4", (l, j, k),
                       f"BP4  dC/dw^{l}_{j},{k} = a^{l - 1}_{k} delta^{l}_{j} = {_num(a_k)} x {_num(d)}"
                       f" = {a_k * d:.6g}", a_k * d)
        return {"BP1": self._bp1(j_out), "BP2": bp2, "BP3": bp3, "BP4": bp4}

    def _bp1(self, j):
        L = len(self.sizes) - 1
        a, y = float(self.activations[L][j]), float(self.target[j])
        head = f"BP1  delta^{L}_{j} = dC/da^{L}_{j} act'(z^{L}_{j})"
        if self.cost == "quadratic" and self.output == "sigmoid":
            value = (a - y) * a * (1 - a)
            body = f"(a - y) a(1 - a) = ({a:.6g} - {y:.6g}) x {a * (1 - a):.4g}"
        elif self.cost == "quadratic":  # identity output: act' = 1
            value = a - y
            body = f"(a - y) x 1 = {a:.6g} - {y:.6g}"
        elif self.cost == "cross_entropy":
            value = a - y
            body = f"(a - y)/(a(1 - a)) x a(1 - a) = a - y = {a:.6g} - {y:.6g}"
        else:  # log-likelihood on softmax: the softmax's Jacobian turns BP1 into a - y
            value = a - y
            body = f"a - y (softmax with log-likelihood) = {a:.6g} - {y:.6g}"
        return Equation("BP1", (L, j), f"{head} = {body} = {value:.6g}", value)

    def _bp2(self, l, j, lead=None):
        """BP2 for neuron j of hidden layer l; `lead` is a downstream neuron to show first."""
        terms = self._weights[l + 1][:, j].astype(np.float64) * self.errors[l + 1]
        order = list(np.argsort(-np.abs(terms), kind="stable"))
        if lead is not None:
            order.remove(lead)
            order.insert(0, lead)
        shown = " + ".join(f"{_num(self._weights[l + 1][i, j])} x {_num(self.errors[l + 1][i])}"
                           for i in order[:TOP])
        if len(order) > TOP:
            shown += f" + ({len(order) - TOP} more terms)"
        total = float(terms.sum())
        a = float(self.activations[l][j])
        value = total * a * (1 - a)
        text = (f"BP2  delta^{l}_{j} = (sum_i w^{l + 1}_i,{j} delta^{l + 1}_i) act'(z^{l}_{j}) = "
                f"({shown}) x a(1 - a) = {_num(total)} x {a * (1 - a):.4g} = {value:.6g}")
        return Equation("BP2", (l, j), text, value)

    # --- text -----------------------------------------------------------------------------

    def __str__(self):
        L = len(self.sizes) - 1
        out = self.activations[L]
        lines = [f"One example through a {self.sizes} network ({self.cost} cost, "
                 f"{self.output} output): cost {self.cost_value:.6g}."]
        if L and self.sizes[-1] > 1 and self.output != "identity":
            lines[0] += (f" Target class {int(np.argmax(self.target))}, predicted "
                         f"{int(np.argmax(out))} (output {out.max():.4g}).")
        lines += ["Layers numbered as in sizes: 0 is the input, "
                  f"{L} the output; w^l = net.layers[l - 1].weights.", "",
                  "Errors delta^l = dC/dz^l, the blame each neuron takes:"]
        for l in range(L, 0, -1):
            d = self.errors[l]
            k = int(np.argmax(np.abs(d)))
            lines.append(f"  layer {l} ({'output' if l == L else 'hidden'}, {d.size}): "
                         f"largest |delta| at neuron {k} ({d[k]:.4g})")
            lines.append("    " + np.array2string(d, precision=4, max_line_width=88,
                                                  threshold=40).replace("\n", "\n    "))
        lines += ["", "Who received the most blame, ranked by |a_k dC/da_k| with "
                  "dC/da_k = sum_j w_jk delta_j", "(to first order, silencing k changes "
                  "the cost by -a_k dC/da_k; the largest term w_jk delta_j is shown):"]
        for l in range(L - 1, -1, -1):
            what = "input" if l == 0 else "neuron"
            lines.append(f"  layer {l + 1} -> layer {l}{' (the inputs)' if l == 0 else ''}:")
            for k in self.top_blamed[l]:
                terms = self._weights[l + 1][:, k] * self.errors[l + 1]
                i = int(np.argmax(np.abs(terms)))
                lines.append(
                    f"    {what} {k}: blame {self.blame[l][k]:.4g} = a {self.activations[l][k]:.4g}"
                    f" x dC/da {self.upstream_gradients[l][k]:.4g}   (largest term "
                    f"w_{i},{k} delta_{i} = {_num(self._weights[l + 1][i, k])} x "
                    f"{_num(self.errors[l + 1][i])})")
        l, j = self.neuron
        lines += ["", f"Nielsen's four equations for neuron {j} of layer {l} "
                  f"(act'(z) = a(1 - a) for a sigmoid):"]
        lines += ["  " + eq.text for eq in self.equations.values()]
        return "\n".join(lines)

    def __repr__(self):
        return f"Explanation(sizes={self.sizes}, neuron={self.neuron}, cost={self.cost_value:.4g})"


def explain(net, x, y, neuron=None, *, top=TOP):
    """Explain backpropagation on one example.

    Parameters
    ----------
    net : Network
    x : array_like, shape (n_in,)
        One example.
    y : int class label, or targets of shape (n_out,)
    neuron : (layer, index) or int, optional
        The neuron the equations BP1-BP4 are filled in for, layers numbered as in
        ``net.sizes`` (1 is the first hidden layer, L the output); an int is an output
        neuron.  Default: the output neuron with the largest |error|.
    top : int
        How many of the most blamed neurons to keep per layer.

    Returns
    -------
    Explanation
        ``print(explanation)`` shows it as text; its attributes hold the arrays.
    """
    top = _validate.positive_int("top", top)
    return Explanation(net, x, y, neuron, top)
