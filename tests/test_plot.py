"""Pictures: the artists each display draws, checked against the numbers they show."""
import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import History, plot
from fastmlp.explain import one_example

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

BLUE, ORANGE = to_rgba(plot.POSITIVE_WEIGHT), to_rgba(plot.NEGATIVE_WEIGHT)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def history(val=True, accuracy=True):
    """Six epochs; validation accuracy peaks at epoch 3; the rate halves after epoch 4."""
    h = History()
    val_acc = [0.5, 0.7, 0.9, 0.8, 0.85, 0.88]
    for e in range(6):
        h.append(epoch=e + 1, train_cost=1.0 / (e + 1), val_cost=1.2 / (e + 1) if val else None,
                 train_accuracy=0.1 * e if accuracy else None,
                 val_accuracy=val_acc[e] if val and accuracy else None,
                 lr=1.0 if e < 4 else 0.5, seconds=0.1)
    h.best_epoch = 3 if val else None
    return h


def test_learning_curves_draw_every_series_and_the_best_epoch():
    h = history()
    d = plot.LearningCurveDisplay.from_history(h)
    assert len(d.axes_) == 2 and d.ax_ is d.axes_[0] and d.figure_ is d.ax_.figure
    assert set(d.lines_) == {"train_cost", "val_cost", "train_accuracy", "val_accuracy"}
    for name, line in d.lines_.items():
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4, 5, 6])
        np.testing.assert_allclose(line.get_ydata(), h[name])
    assert d.lines_["val_accuracy"].axes is d.axes_[1]
    assert [line.get_xdata()[0] for line in d.best_lines_] == [3, 3]
    assert {line.axes for line in d.best_lines_} == set(d.axes_)
    np.testing.assert_array_equal(d.best_marker_.get_xydata(), [[3, 0.9]])
    assert "best: epoch 3 (0.9)" in [t.get_text() for t in d.axes_[1].get_legend().get_texts()]
    # The rate changed between epochs 4 and 5: one line per panel, and the new rate written.
    assert [line.get_xdata()[0] for line in d.lr_lines_] == [4.5, 4.5]
    assert [t.get_text() for t in d.lr_texts_] == [" lr 0.5"]


def test_learning_curves_of_a_regression_without_validation():
    d = plot.LearningCurveDisplay.from_history(history(val=False, accuracy=False))
    assert len(d.axes_) == 1 and set(d.lines_) == {"train_cost"}
    assert d.best_marker_ is None and d.best_lines_ == []


def test_learning_curves_of_a_regression_mark_the_best_cost():
    h = history(accuracy=False)
    d = plot.LearningCurveDisplay.from_history(h)
    assert len(d.axes_) == 1
    np.testing.assert_allclose(d.best_marker_.get_xydata(), [[3, 0.4]])


def test_learning_curves_on_given_axes_and_bad_input():
    fig, axes = plt.subplots(1, 2)
    d = plot.LearningCurveDisplay.from_history(history(), ax=axes)
    assert d.axes_ == list(axes) and d.figure_ is fig
    with pytest.raises(ValueError, match="ax must be 2 matplotlib Axes for this picture, got 1"):
        plot.LearningCurveDisplay.from_history(history(), ax=axes[0])
    with pytest.raises(ValueError, match="history has no epochs to draw"):
        plot.LearningCurveDisplay.from_history(History())
    with pytest.raises(ValueError, match="val_cost has 2 entries, epochs has 3"):
        plot.LearningCurveDisplay([1, 2, 3], [1.0, 0.5, 0.2], val_cost=[1.0, 0.5])


def small_net(sizes=(5, 4, 3), seed=5):
    net = fastmlp.Network(list(sizes), seed=seed)
    x = np.random.default_rng(seed).uniform(0, 1, sizes[0])
    return net, x


def segment_colours(collection):
    return [tuple(c) for c in collection.get_colors()]


def test_network_draws_every_neuron_and_edge_coloured_by_sign():
    net, x = small_net()
    d = plot.NetworkDisplay.from_network(net, x, 1)
    assert d.image_ is None
    assert [len(c) for c in d.circles_] == [5, 4, 3]
    assert [len(e.get_segments()) for e in d.edges_] == [20, 12] and d.hidden_edges_ == [0, 0]
    assert d.hidden_texts_ == []
    for l, (edges, weights) in enumerate(zip(d.edges_, d.edge_weights_)):
        np.testing.assert_array_equal(np.sort(weights), np.sort(net.layers[l].weights.ravel()))
        expected = [ORANGE[:3] if w < 0 else BLUE[:3] for w in weights]
        assert [c[:3] for c in segment_colours(edges)] == expected
        widths = edges.get_linewidths()
        assert widths[np.argmax(np.abs(weights))] == max(widths)  # width grows with |w|
    # Neurons are filled by their error: white at 0, green for the most positive error of
    # the layer, purple for the most negative (each layer on its own scale).
    _, _, errors, _ = one_example(net, x, 1)
    cmap = plt.get_cmap(plot.ERROR_CMAP)
    for l in (1, 2):
        delta = errors[l]
        scale = np.max(np.abs(delta))
        fills = [c.get_facecolor() for c in d.circles_[l]]
        np.testing.assert_allclose(fills, cmap(0.5 + 0.5 * delta / scale))
        k = int(np.argmax(np.abs(delta)))
        assert fills[k] == (cmap(1.0) if delta[k] > 0 else cmap(0.0))
        assert d.error_scales_[l - 1] == pytest.approx(scale)
    assert d.colorbar_.ax.get_ylabel().startswith("error δ = ∂C/∂z")


@pytest.mark.parametrize("strongest", ["signal", "weight"])
def test_network_draws_only_the_strongest_edges_and_says_how_many_are_hidden(strongest):
    net, x = small_net()
    d = plot.NetworkDisplay.from_network(net, x, 1, max_edges=5, strongest=strongest)
    assert [len(e.get_segments()) for e in d.edges_] == [5, 5]
    assert d.hidden_edges_ == [15, 7]
    assert [t.get_text() for t in d.hidden_texts_] == [
        f"5 of 20 edges drawn\n(largest {plot.RANKED[strongest]}), 15 hidden",
        f"5 of 12 edges drawn\n(largest {plot.RANKED[strongest]}), 7 hidden"]
    activations = one_example(net, x, 1)[0]
    for l, (weights, ends) in enumerate(zip(d.edge_weights_, d.edge_ends_)):
        W = net.layers[l].weights
        np.testing.assert_array_equal(weights, W[ends[:, 0], ends[:, 1]])
        strength = np.abs(W * activations[l] if strongest == "signal" else W)
        drawn = strength[ends[:, 0], ends[:, 1]]
        np.testing.assert_array_equal(np.sort(drawn), np.sort(strength.ravel())[-5:])


def test_mnist_sized_network_draws_the_image_and_hides_most_edges():
    net = fastmlp.Network([784, 30, 10], seed=0)
    x = np.random.default_rng(0).uniform(0, 1, 784)
    d = plot.NetworkDisplay.from_network(net, x, 7)
    assert d.image_.get_array().shape == (28, 28)
    np.testing.assert_array_equal(d.image_.get_array(), x.reshape(28, 28))
    assert [len(c) for c in d.circles_] == [30, 10]
    assert [len(e.get_segments()) for e in d.edges_] == [150, 150]
    assert d.hidden_edges_ == [23370, 150]
    assert "23,370 hidden" in d.hidden_texts_[0].get_text()
    texts = [t.get_text() for t in d.ax_.texts]
    assert "7: a={:.2f}  ← target".format(net.forward(x)[7]) in texts
    assert "input\n28x28 image" in texts


def test_network_picture_bad_input():
    net, x = small_net((16, 3, 2))
    assert plot.NetworkDisplay.from_network(net, x, 0).image_.get_array().shape == (4, 4)
    assert plot.NetworkDisplay.from_network(net, x, 0, image_shape=False).image_ is None
    with pytest.raises(ValueError, match=r"image_shape \(3, 4\) has 12 pixels, the network has 16"):
        plot.NetworkDisplay.from_network(net, x, 0, image_shape=(3, 4))
    with pytest.raises(ValueError, match="strongest='size' is not one of 'signal', 'weight'"):
        plot.NetworkDisplay.from_network(net, x, 0, strongest="size")
    with pytest.raises(ValueError, match="max_edges must be an integer >= 1, got 0"):
        plot.NetworkDisplay.from_network(net, x, 0, max_edges=0)


def test_blame_bars_per_layer_output_first():
    net, x = small_net((5, 4, 6, 3))
    d = plot.BlameDisplay.from_network(net, x, 2)
    errors = net.backprop(x[None], [2]).errors
    assert [len(b) for b in d.bars_] == [3, 6, 4] and len(d.axes_) == 3 and d.ax_ is d.axes_[0]
    cmap = plt.get_cmap(plot.ERROR_CMAP)
    for bars, delta in zip(d.bars_, errors[::-1]):
        np.testing.assert_allclose([b.get_height() for b in bars], delta[0], rtol=1e-12)
        assert [b.get_facecolor() for b in bars] == [cmap(0.15) if v < 0 else cmap(0.85)
                                                   for v in delta[0]]
    assert d.axes_[0].get_title(loc="left").startswith("layer 3, output (3 neurons)")
    assert d.axes_[0].get_title(loc="left").endswith("the target is neuron 2")
    assert d.axes_[2].get_title(loc="left").startswith("layer 1, hidden (4 neurons)")
    with pytest.raises(ValueError, match="ax must be 3 matplotlib Axes"):
        plot.BlameDisplay.from_network(net, x, 2, ax=plt.subplots(2)[1])


@pytest.mark.parametrize("draw", [
    lambda net, x: plot.LearningCurveDisplay.from_history(history()),
    lambda net, x: plot.NetworkDisplay.from_network(net, x, 0),
    lambda net, x: plot.BlameDisplay.from_network(net, x, 0)])
def test_without_matplotlib_the_message_names_the_extra(monkeypatch, draw):
    net, x = small_net()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"^fastmlp's pictures need matplotlib: "
                                          r"pip install 'fastmlp\[plot\]'$"):
        draw(net, x)
