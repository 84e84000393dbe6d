"""The other trainers the benchmarks compare against, computing the same thing.

Both follow the trainer interface of `fastmlp.backend` for what the benchmarks use
(the quadratic cost on sigmoid layers, plain SGD):

* `NielsenTrainer`: Nielsen's network.py as the book writes it: a per-sample NumPy loop
  (column vectors, one backprop per sample, gradients summed over the mini-batch).
* `TorchTrainer`: idiomatic PyTorch on the CPU (nn.Linear + Sigmoid, autograd,
  torch.optim.SGD), when PyTorch is installed.
The vectorised NumPy trainer is `fastmlp.numpy_backend.Trainer`.
"""
import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_prime(z):
    return _sigmoid(z) * (1 - _sigmoid(z))


def _nielsen_backprop(weights, biases, x, y):
    """network.py's backprop for one sample (column vectors), line for line."""
    nabla_b = [np.zeros(b.shape, dtype=b.dtype) for b in biases]
    nabla_w = [np.zeros(w.shape, dtype=w.dtype) for w in weights]
    activation, activations, zs = x, [x], []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = _sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * _sigmoid_prime(zs[-1])
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for l in range(2, len(weights) + 1):
        delta = np.dot(weights[-l + 1].transpose(), delta) * _sigmoid_prime(zs[-l])
        nabla_b[-l] = delta
        nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
    return nabla_b, nabla_w


def _only_what_peers_do(cost, output, momentum, decay=0.0, sample_scale=None):
    if (cost, output) != ("quadratic", "sigmoid") or momentum or decay or sample_scale is not None:
        raise ValueError("the peers train the quadratic cost on sigmoid layers with plain SGD only")


class NielsenTrainer:
    """network.py's SGD (update_mini_batch and backprop as the book writes them: a
    backprop per sample, gradients summed into new lists, sigmoid' recomputed from z), in
    place on weights (n_out, n_in) and biases (n_out,)."""

    def __init__(self, weights, biases, velocities=None, *, batch_size, cost="quadratic",
                 output="sigmoid", momentum=0.0):
        _only_what_peers_do(cost, output, momentum)
        self.weights, self.biases, self.batch_size = weights, biases, batch_size

    def epoch(self, X, Y, order, lr, decay=0.0, sample_scale=None, on_progress=None):
        _only_what_peers_do("quadratic", "sigmoid", 0.0, decay, sample_scale)
        _nielsen_epoch(self.weights, self.biases, X, Y, self.batch_size, lr, order)
        return 0.0, 0, None  # network.py monitors nothing during an epoch


def _nielsen_epoch(weights, biases, X, Y, batch_size, lr, order=None):
    n = len(X)
    order = np.arange(n) if order is None else order
    columns_b = [b.reshape(-1, 1) for b in biases]  # views: updates land in `biases`
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        nabla_b = [np.zeros(b.shape, dtype=b.dtype) for b in columns_b]
        nabla_w = [np.zeros(w.shape, dtype=w.dtype) for w in weights]
        for i in rows:
            delta_nabla_b, delta_nabla_w = _nielsen_backprop(
                weights, columns_b, X[i].reshape(-1, 1), Y[i].reshape(-1, 1))
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        for w, b, nw, nb in zip(weights, columns_b, nabla_w, nabla_b):
            w -= (lr / len(rows)) * nw  # in place, where network.py rebinds new lists
            b -= (lr / len(rows)) * nb


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class TorchTrainer:
    """The same network and SGD in idiomatic PyTorch (CPU, quadratic cost, sigmoid layers)."""

    def __init__(self, weights, biases, velocities=None, *, batch_size=1, cost="quadratic",
                 output="sigmoid", momentum=0.0):
        import torch

        _only_what_peers_do(cost, output, momentum)
        self.batch_size = batch_size
        self.torch = torch
        dtype = torch.float32 if weights[0].dtype == np.float32 else torch.float64
        layers = []
        for w, b in zip(weights, biases):
            linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.Sigmoid()]
        self.model = torch.nn.Sequential(*layers)
        self.dtype = dtype

    def epoch(self, X, Y, order, lr, decay=0.0, sample_scale=None, on_progress=None):
        _only_what_peers_do("quadratic", "sigmoid", 0.0, decay, sample_scale)
        torch, batch_size = self.torch, self.batch_size
        optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        X, Y = torch.from_numpy(X), torch.from_numpy(Y)
        if order is not None:
            order = torch.from_numpy(order)
        for start in range(0, len(X), batch_size):
            if order is None:
                xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
            else:
                rows = order[start:start + batch_size]
                xb, yb = X[rows], Y[rows]
            optimizer.zero_grad()
            loss = 0.5 * ((self.model(xb) - yb) ** 2).sum() / len(xb)  # network.py's cost
            loss.backward()
            optimizer.step()
        return 0.0, 0, None  # nothing monitored during the epoch

    def forward(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X)).numpy()

    def parameters(self):
        linears = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return ([m.weight.detach().numpy().copy() for m in linears],
                [m.bias.detach().numpy().copy() for m in linears])
