"""The algorithm stated plainly: pure Python, lists and ``math``, no NumPy.

This module is the textbook description of what fastmlp computes, and the oracle the
C kernels are tested against.  It favours clarity over speed everywhere.

Conventions (the same as the kernels'):

* A vector is a list of floats; a matrix is a list of rows.
* A batch ``X`` has one sample per row: ``X[i]`` is sample ``i``.
* A layer with ``n_in`` inputs and ``n_out`` neurons has weights ``W`` with ``n_out`` rows
  of ``n_in`` numbers (``W[j][k]`` connects input ``k`` to neuron ``j``) and biases ``b``
  with ``n_out`` numbers.

The equations, for a network whose layer ``l`` computes ``a^l = act(z^l)`` with
``z^l = W^l a^(l-1) + b^l`` (Nielsen, "Neural Networks and Deep Learning", chapter 2):

* output error: ``delta^L = dC/da^L * act'(z^L)``; for the quadratic cost
  ``dC/da^L = a^L - y``;
* backpropagation: ``delta^l = (W^(l+1)^T delta^(l+1)) * act'(z^l)``;
* gradients: ``dC/db^l_j = delta^l_j`` and ``dC/dW^l_jk = delta^l_j a^(l-1)_k``,
  averaged over the samples of a mini-batch;
* gradient descent: ``W -= lr * dC/dW`` and ``b -= lr * dC/db``.
"""
import math

ACTIVATIONS = ("sigmoid", "identity", "softmax")
COSTS = ("quadratic", "cross_entropy", "log_likelihood")


# --- activations -------------------------------------------------------------------

def sigmoid(z):
    """sigma(z) = 1 / (1 + e^-z), written so that e^x is only taken of x <= 0."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def softmax(zs):
    """e^z_j / sum_k e^z_k over a list, shifted by the maximum so no exponent is positive."""
    top = max(zs)
    exps = [math.exp(z - top) for z in zs]
    total = sum(exps)
    return [e / total for e in exps]


def activate(zs, activation):
    """Apply an activation to the list of pre-activations of one sample."""
    if activation == "sigmoid":
        return [sigmoid(z) for z in zs]
    if activation == "softmax":
        return softmax(zs)
    return list(zs)  # identity


# --- one dense layer ---------------------------------------------------------------

def dense_forward(X, W, b, activation="sigmoid"):
    """Forward pass: for each sample x, z_j = sum_k W[j][k] x[k] + b[j]; a = act(z)."""
    A = []
    for x in X:
        zs = [sum(w_jk * x_k for w_jk, x_k in zip(w_j, x)) + b_j for w_j, b_j in zip(W, b)]
        A.append(activate(zs, activation))
    return A


def dense_backward(X, W, A, G, activation="sigmoid", input_grad=True):
    """Backward pass of one layer over a batch of m samples.

    ``G[i][j]`` is dC/da_j for sample i (from the next layer, or the cost).
    Returns ``(D, dW, db, dX)``:

    * ``D[i][j] = G[i][j] * a_j (1 - a_j)`` for a sigmoid layer (``G`` itself for identity):
      the error of neuron j on sample i, dC/dz_j;
    * ``dW[j][k]`` = average over samples of ``D[i][j] * X[i][k]``;
    * ``db[j]`` = average over samples of ``D[i][j]``;
    * ``dX[i][k] = sum_j D[i][j] W[j][k]``, dC/dx for the previous layer
      (``None`` when ``input_grad`` is false).
    """
    m, n_in, n_out = len(X), len(W[0]), len(W)
    if activation == "sigmoid":
        D = [[g * a * (1.0 - a) for g, a in zip(g_i, a_i)] for g_i, a_i in zip(G, A)]
    else:
        D = [list(g_i) for g_i in G]
    dW = [[sum(D[i][j] * X[i][k] for i in range(m)) / m for k in range(n_in)]
          for j in range(n_out)]
    db = [sum(D[i][j] for i in range(m)) / m for j in range(n_out)]
    dX = None
    if input_grad:
        dX = [[sum(D[i][j] * W[j][k] for j in range(n_out)) for k in range(n_in)]
              for i in range(m)]
    return D, dW, db, dX


def sgd_update(P, G, lr, decay=0.0, momentum=0.0, V=None):
    """One step of gradient descent on a flat list of parameters, in place.

    Plain: ``p -= lr * (g + decay * p)``.  With momentum (and its velocity list ``V``):
    ``v = momentum * v - lr * (g + decay * p)`` then ``p += v``.
    """
    for i, (p, g) in enumerate(zip(P, G)):
        step = lr * (g + decay * p)
        if momentum:
            V[i] = momentum * V[i] - step
            P[i] = p + V[i]
        else:
            P[i] = p - step


# --- costs ---------------------------------------------------------------------------

def _log(a):
    """ln(a) with a kept away from 0, so that an output of exactly 0 costs a finite amount."""
    return math.log(max(a, 2.2250738585072014e-308))


def cost(A, Y, kind="quadratic"):
    """The cost of outputs A against targets Y, averaged over the samples."""
    total = 0.0
    for a_i, y_i in zip(A, Y):
        for a, y in zip(a_i, y_i):
            if kind == "quadratic":
                total += 0.5 * (a - y) ** 2
            elif kind == "cross_entropy":
                total -= (y * _log(a) if y else 0.0) + ((1 - y) * _log(1 - a) if y != 1 else 0.0)
            else:  # log_likelihood
                total -= y * _log(a) if y else 0.0
    return total / len(A)


# --- a whole network -----------------------------------------------------------------

def output_activation(output, n_layers, l):
    return output if l == n_layers - 1 else "sigmoid"


def feedforward(weights, biases, X, output="sigmoid"):
    """Activations of every layer: ``[X, A_1, ..., A_L]``."""
    activations = [X]
    for l, (W, b) in enumerate(zip(weights, biases)):
        act = output_activation(output, len(weights), l)
        activations.append(dense_forward(activations[-1], W, b, act))
    return activations


def backprop(weights, biases, X, Y, cost="quadratic", output="sigmoid"):
    """Gradients of the cost, averaged over the samples of X.

    Returns ``(dWs, dbs, deltas)``, one entry per layer: the weight and bias gradients,
    and the errors ``D_l`` (dC/dz for each sample and neuron).
    """
    activations = feedforward(weights, biases, X, output)
    L = len(weights)
    # The output error.  With the quadratic cost dC/da = a - y, and the layer's own
    # activation derivative applies.  With cross-entropy on sigmoid outputs (or
    # log-likelihood on softmax outputs) the derivative cancels and dC/dz = a - y.
    G = [[a - y for a, y in zip(a_i, y_i)] for a_i, y_i in zip(activations[-1], Y)]
    last_act = output if cost == "quadratic" else "identity"
    dWs, dbs, deltas = [None] * L, [None] * L, [None] * L
    for l in reversed(range(L)):
        act = last_act if l == L - 1 else "sigmoid"
        D, dW, db, dX = dense_backward(activations[l], weights[l], activations[l + 1], G,
                                       act, input_grad=l > 0)
        dWs[l], dbs[l], deltas[l] = dW, db, D
        G = dX  # the error flows back: dC/da of the previous layer
    return dWs, dbs, deltas


def train_step(weights, biases, X, Y, lr, cost="quadratic", output="sigmoid", decay=0.0,
               momentum=0.0, velocities=None):
    """One mini-batch of gradient descent, in place on ``weights`` and ``biases``.

    ``decay`` is the weight decay per step (network2.py's lmbda / n); biases are not decayed.
    With momentum, ``velocities`` holds one list per weight row and per bias vector, in
    the order the parameters are visited here (layer by layer: rows of W, then b).
    """
    dWs, dbs, _ = backprop(weights, biases, X, Y, cost, output)
    rows = []
    for W, b, dW, db in zip(weights, biases, dWs, dbs):
        rows += [(w_row, dw_row, decay) for w_row, dw_row in zip(W, dW)] + [(b, db, 0.0)]
    for i, (params, grads, row_decay) in enumerate(rows):
        sgd_update(params, grads, lr, row_decay, momentum, velocities[i] if momentum else None)
