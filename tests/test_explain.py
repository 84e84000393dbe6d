"""explain: the numbers against the pure-Python reference and net.backprop, the text, bad input."""
import re

import numpy as np
import pytest

import fastmlp
from fastmlp import reference
from fastmlp.explain import explain
from helpers import COMBOS, DTYPES, assert_close, lists, params


def example(sizes, cost="quadratic", output=None, dtype=np.float64, seed=3):
    net = fastmlp.Network(sizes, cost=cost, output=output, dtype=dtype, seed=seed)
    x = np.random.default_rng(seed).uniform(0, 1, sizes[0]).astype(dtype)
    return net, x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost,output", COMBOS)
def test_numbers_match_reference(dtype, cost, output):
    net, x = example([5, 4, 6, 3], cost, output, dtype)
    y = 2
    e = explain(net, x, y)
    weights, biases = params(net)
    Y = [[0.0, 0.0, 1.0]]
    activations = reference.feedforward(weights, biases, lists(x[None]), output)
    _, _, deltas = reference.backprop(weights, biases, lists(x[None]), Y, cost, output)
    assert len(e.activations) == len(e.errors) == 4 and e.errors[0] is None
    for l in range(4):
        assert_close(e.activations[l], activations[l][0], dtype, f"a^{l}")
    for l in range(1, 4):
        assert_close(e.errors[l], deltas[l - 1][0], dtype, f"delta^{l}")
    # The blame layer l receives: dC/da^l from the reference's dense_backward (its dX),
    # computed from delta^(l+1) as the layer's input gradient.
    for l in range(3):
        acts = [[1.0] * len(activations[l + 1][0])]  # identity: D = G, so pass delta as G
        _, _, _, dX = reference.dense_backward(activations[l], weights[l], acts,
                                               [deltas[l][0]], "identity")
        assert_close(e.upstream_gradients[l], dX[0], dtype, f"dC/da^{l}")
        expected_blame = [a * g for a, g in zip(activations[l][0], dX[0])]
        assert_close(e.blame[l], expected_blame, dtype, f"blame^{l}")
        ranked = np.argsort(-np.abs(expected_blame), kind="stable")[:3]
        np.testing.assert_array_equal(e.top_blamed[l], ranked)
    assert e.cost_value == pytest.approx(reference.cost(activations[-1], Y, cost),
                                         rel=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cost,output", COMBOS)
@pytest.mark.parametrize("neuron", [None, 1, (1, 2), (2, 5)])
def test_equations_match_backprop(dtype, cost, output, neuron):
    net, x = example([5, 4, 6, 3], cost, output, dtype)
    e = net.explain(x, 1, neuron=neuron)
    grads = net.backprop(x[None], [1])
    if neuron is None:  # the output neuron with the largest |error|
        assert e.neuron == (3, int(np.argmax(np.abs(grads.errors[-1][0]))))
    elif neuron == 1:
        assert e.neuron == (3, 1)
    else:
        assert e.neuron == neuron
    for name in ("BP1", "BP2"):  # each gives an error delta^layer_j
        eq = e.equations[name]
        layer, j = eq.index
        assert_close(eq.value, grads.errors[layer - 1][0, j], dtype, f"{name} {eq.index}")
        assert f"{eq.value:.6g}" in str(e)
    l, j, k = e.equations["BP4"].index
    for name in ("BP3", "BP4"):
        assert f"{e.equations[name].value:.6g}" in str(e)
    assert_close(e.equations["BP4"].value, grads.weights[l - 1][j, k], dtype, "BP4")
    assert e.equations["BP3"].index == (l, j)
    assert_close(e.equations["BP3"].value, grads.biases[l - 1][j], dtype, "BP3")
    assert (l, j) == e.neuron
    # BP4's weight is the one that carries the chosen neuron's blame to its most blamed input.
    assert k == np.argmax(np.abs(e.activations[l - 1] * net.layers[l - 1].weights[j]))


def test_hand_worked_single_neuron():
    """[1, 1]: w = 0.5, b = 0, x = 2, y = 1.  z = 1, a = sigmoid(1) = 0.7310586,
    delta = (a - 1) a (1 - a) = -0.2689414 x 0.1966119 = -0.0528771,
    dC/dw = x delta = -0.1057542."""
    net = fastmlp.Network([1, 1], seed=0)
    net.layers[0].weights, net.layers[0].biases = [[0.5]], [0.0]
    e = net.explain([2.0], 1.0)
    assert e.weighted_inputs[1][0] == pytest.approx(1.0, abs=1e-15)
    assert e.activations[1][0] == pytest.approx(0.7310585786, abs=1e-10)
    assert e.equations["BP1"].value == pytest.approx(-0.0528771, abs=1e-7)
    assert e.equations["BP4"].value == pytest.approx(-0.1057542, abs=1e-7)
    assert e.equations["BP2"].value is None
    # Blame of the input: a_0 * w delta = 2 * 0.5 * -0.0528771.
    assert e.blame[0][0] == pytest.approx(-0.0528771, abs=1e-7)
    text = str(e)
    assert "BP1  delta^1_0 = dC/da^1_0 act'(z^1_0) = (a - y) a(1 - a) = (0.731059 - 1)" in text
    assert "BP2  (no hidden layer" in text
    assert "input 0: blame -0.05288 = a 2 x dC/da -0.02644" in text


def test_text_lists_layers_and_blame():
    net, x = example([6, 4, 3])
    text = str(net.explain(x, 0))
    for line in ("layer 2 (output, 3)", "layer 1 (hidden, 4)", "layer 2 -> layer 1:",
                 "layer 1 -> layer 0 (the inputs):", "Nielsen's four equations for neuron"):
        assert line in text
    assert text.count(": blame ") == 3 + 3  # the top 3 of each layer


@pytest.mark.parametrize("neuron,message", [
    ((0, 1), "0 is the input"), ((3, 0), "layers are 1..2"), ((1, 4), "layer 1 has 4 neurons"),
    (9, "layer 2 has 3 neurons"), ((1, -1), "index must be an integer >= 0"),
    ("output", "must be (layer, index)")])
def test_bad_neuron(neuron, message):
    net, x = example([6, 4, 3])
    with pytest.raises(ValueError, match=re.escape(message)):
        net.explain(x, 0, neuron=neuron)


def test_bad_example():
    net, x = example([6, 4, 3])
    with pytest.raises(ValueError, match="one example of 6 features, got 2 rows"):
        net.explain(np.stack([x, x]), 0)
    with pytest.raises(ValueError, match="x has 5 features per sample, the network expects 6"):
        net.explain(x[:5], 0)
    with pytest.raises(ValueError, match=r"y\[0\] = 3 is not a class label in 0..2"):
        net.explain(x, 3)
    with pytest.raises(ValueError, match="top must be an integer >= 1"):
        explain(net, x, 0, top=0)
