"""What counts as a correct prediction, shared by every backend."""
import numpy as np


def count_correct(A, Y):
    """Samples whose output picks the target's class.

    With several outputs: the largest output sits at the largest target.  With one
    output (a yes/no classifier): the output and the target fall on the same side of 0.5.
    """
    if A.shape[1] == 1:
        return int(np.count_nonzero((A[:, 0] >= 0.5) == (Y[:, 0] >= 0.5)))
    return int(np.count_nonzero(np.argmax(A, axis=1) == np.argmax(Y, axis=1)))


def layer_activations(n_layers, output):
    """The activation of each layer: sigmoid, except `output` at the last."""
    return ["sigmoid"] * (n_layers - 1) + [output]


def output_delta_given(cost):
    """Whether A - Y at the output is already dC/dz (so act' must not be applied again).

    True for cross-entropy on sigmoid outputs and log-likelihood on softmax outputs,
    where the activation's derivative cancels; false for the quadratic cost, where
    dC/da = a - y and the output activation's derivative still applies.
    """
    return cost != "quadratic"
