"""Pictures of training and of the blame flowing back (matplotlib: ``pip install 'fastmlp[plot]'``).

In the style of scikit-learn's Display objects: ``Display.from_...(...)`` computes what
to draw and draws it; ``display.plot(ax=None)`` draws on the axes given (or on a new
figure) and keeps the figure, the axes and the artists on the display (``figure_``,
``ax_``, ``lines_``, ``circles_``, ``edges_``, ``bars_``...), so they can be restyled
without drawing again.

Colours: a weight is blue when positive and orange when negative (TensorFlow
Playground's convention); a neuron's error delta = dC/dz is purple when negative and
green when positive, white at 0, each layer on its own scale (errors shrink as they flow
back, so one scale would leave the hidden layers white).
"""
import math

import numpy as np

from . import _validate
from .explain import one_example

NEGATIVE_WEIGHT, POSITIVE_WEIGHT = "#f59322", "#0877bd"  # TensorFlow Playground
ERROR_CMAP = "PRGn"  # diverging, centred on white; unlike the weights' orange and blue
ERROR_LABEL = "error δ = ∂C/∂z"
RANKED = {"signal": "|w a|", "weight": "|w|"}  # how NetworkDisplay picks the edges it draws


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("fastmlp's pictures need matplotlib: pip install 'fastmlp[plot]'") from None
    return plt


def _axes(ax, count, figsize, side_by_side=False):
    """`count` axes: new ones on a new figure (stacked, or side by side) when `ax` is
    None, else those given."""
    plt = _pyplot()
    if ax is None:
        shape = (1, count) if side_by_side else (count, 1)
        figure, axes = plt.subplots(*shape, figsize=figsize, layout="constrained", squeeze=False)
        return figure, list(axes.ravel())
    axes = list(np.ravel([ax]))
    if len(axes) != count:
        raise ValueError(f"ax must be {count} matplotlib Axes for this picture, got {len(axes)}")
    return axes[0].figure, axes


# --- learning curves ---------------------------------------------------------------------

class LearningCurveDisplay:
    """Cost and accuracy per epoch, training and validation, the best epoch marked and
    the learning-rate changes marked.

    Parameters
    ----------
    epochs : sequence of int
    train_cost, val_cost, train_accuracy, val_accuracy : sequences of float or None
        One entry per epoch (None entries, or None for the whole sequence, are not drawn).
    lr : sequence of float, optional
        The learning rate of each epoch; a vertical line marks each change.
    best_epoch : int, optional
        The epoch with the best validation score.

    Attributes (after `plot`)
    -------------------------
    figure_ : matplotlib Figure
    axes_ : list of Axes
        The cost panel, then the accuracy panel (when there are accuracies).
    ax_ : Axes
        The cost panel.
    lines_ : dict of Line2D
        By name: "train_cost", "val_cost", "train_accuracy", "val_accuracy" (those drawn).
    best_lines_ : list of Line2D
        The vertical line at the best epoch, one per panel (empty without a best epoch).
    best_marker_ : Line2D or None
        The point at the best epoch on the validation accuracy (or cost) curve.
    lr_lines_ : list of Line2D
        A vertical line per panel per learning-rate change, halfway between the epochs.
    lr_texts_ : list of Text
        The new rate written beside each change (on the cost panel).
    """

    def __init__(self, epochs, train_cost, val_cost=None, train_accuracy=None,
                 val_accuracy=None, lr=None, best_epoch=None):
        self.epochs = np.asarray(epochs, dtype=np.int64)
        self.curves = {"train_cost": train_cost, "val_cost": val_cost,
                       "train_accuracy": train_accuracy, "val_accuracy": val_accuracy}
        for name, values in self.curves.items():
            if values is not None and len(values) != len(self.epochs):
                raise ValueError(f"{name} has {len(values)} entries, epochs has {len(self.epochs)}")
        self.lr = lr
        self.best_epoch = best_epoch

    @classmethod
    def from_history(cls, history, *, ax=None):
        """Draw the curves of a `History` (what `Network.fit` returns).

        ax : None or a sequence of Axes, one per panel (cost, then accuracy when the
        network is a classifier).
        """
        if len(history) == 0:
            raise ValueError("history has no epochs to draw")
        return cls(history.epoch, history.train_cost, history.val_cost,
                   history.train_accuracy, history.val_accuracy, history.lr,
                   history.best_epoch).plot(ax=ax)

    def _values(self, name):
        values = self.curves[name]
        if values is None or all(v is None for v in values):
            return None
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    def plot(self, ax=None):
        from matplotlib.ticker import MaxNLocator

        panels = ["cost"] + (["accuracy"] if self._values("train_accuracy") is not None
                             or self._values("val_accuracy") is not None else [])
        self.figure_, self.axes_ = _axes(ax, len(panels), (5.2 * len(panels), 3.6),
                                          side_by_side=True)
        self.ax_ = self.axes_[0]
        self.lines_, self.best_lines_, self.lr_lines_, self.lr_texts_ = {}, [], [], []
        self.best_marker_ = None
        for panel, axes in zip(panels, self.axes_):
            for split, style in (("train", dict(color="C0", linestyle="--")),
                                 ("val", dict(color="C1", linestyle="-"))):
                values = self._values(f"{split}_{panel}")
                if values is not None:
                    label = "training" if split == "train" else "validation"
                    (self.lines_[f"{split}_{panel}"],) = axes.plot(
                        self.epochs, values, marker="." if len(values) <= 60 else None,
                        label=label, **style)
            axes.set_xlabel("epoch")
            axes.set_ylabel(panel)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.grid(alpha=0.3)
        self._mark_lr_changes()
        self._mark_best(panels)
        for axes in self.axes_:
            axes.legend(loc="best", fontsize="small")
        self.ax_.set_title("cost per epoch")
        if len(self.axes_) > 1:
            self.axes_[1].set_title("accuracy per epoch")
        return self

    def _mark_best(self, panels):
        if self.best_epoch is None or self.best_epoch not in self.epochs:
            return
        i = int(np.flatnonzero(self.epochs == self.best_epoch)[0])
        for axes in self.axes_:
            self.best_lines_.append(axes.axvline(self.best_epoch, color="0.3", linestyle=":",
                                                 linewidth=1.2))
        name = "val_accuracy" if "accuracy" in panels else "val_cost"
        values = self._values(name)
        if values is not None:
            axes = self.axes_[panels.index(name.split("_")[1])]
            (self.best_marker_,) = axes.plot(
                [self.best_epoch], [values[i]], marker="*", markersize=14, color="C3",
                linestyle="none", label=f"best: epoch {self.best_epoch} ({values[i]:.4g})")

    def _mark_lr_changes(self):
        if self.lr is None:
            return
        lr = np.asarray(self.lr, dtype=np.float64)
        for i in np.flatnonzero(lr[1:] != lr[:-1]) + 1:
            x = self.epochs[i] - 0.5  # the rate changed between these two epochs
            for axes in self.axes_:
                self.lr_lines_.append(axes.axvline(x, color="0.55", linewidth=0.8,
                                                   linestyle="-."))
            self.lr_texts_.append(self.ax_.text(
                x, 0.98, f" lr {lr[i]:g}", transform=self.ax_.get_xaxis_transform(),
                rotation=90, va="top", ha="right", fontsize="x-small", color="0.35"))


# --- the network, one example ------------------------------------------------------------

def _square_side(n):
    side = math.isqrt(n)
    return side if side * side == n and side >= 4 else None


class NetworkDisplay:
    """The network on one example: neurons as circles filled by their error, edges
    coloured by the weight's sign and as wide as its magnitude.

    Parameters
    ----------
    weights : list of arrays
        ``weights[l - 1]`` is the (n_l, n_(l-1)) weight matrix into layer l.
    activations : list of arrays
        ``a^0`` (the input) to ``a^L``, as `fastmlp.explain.one_example` returns them.
    errors : list of arrays
        ``delta^1`` to ``delta^L`` (each layer's dC/dz on this example).
    target : array, shape (n_out,)
    max_edges : int
        The most edges drawn between two layers; the picture says how many are hidden.
    strongest : {"signal", "weight"}
        Which edges are drawn when some must be hidden: those carrying the most signal
        on this example, ``|w_jk a_k|`` (default), or those with the largest ``|w_jk|``.
    image_shape : (int, int), None or False
        Draw the input as an image of this shape.  None: when the input size is a
        square of at least 16 (64 -> 8x8, 784 -> 28x28).  False: always as circles.

    Attributes (after `plot`)
    -------------------------
    figure_, ax_ : the matplotlib Figure and Axes
    circles_ : list of lists of Circle
        The neurons, one list per layer drawn as circles (the input layer too, unless it
        is drawn as an image); ``circles_[l]`` for layer l when the input is circles,
        else layers 1..L in ``circles_[0..L-1]``.
    image_ : AxesImage or None
        The input drawn as an image.
    edges_ : list of LineCollection
        The edges into each layer 1..L (``edges_[l - 1]``), one segment per edge drawn.
    edge_weights_ : list of arrays
        The weight of each segment drawn, in the order of ``edges_[l - 1]``'s segments.
    edge_ends_ : list of int arrays, shape (edges drawn, 2)
        The (j, k) of each segment drawn: from neuron (or input) k of layer l - 1 to
        neuron j of layer l.
    hidden_edges_ : list of int
        Edges not drawn into each layer.
    hidden_texts_ : list of Text
        The note saying how many edges are hidden (one per layer with hidden edges).
    colorbar_ : Colorbar
        The scale of the neurons' errors.
    """

    def __init__(self, weights, activations, errors, target, *, max_edges=150,
                 strongest="signal", image_shape=None):
        self.weights = [np.asarray(w, dtype=np.float64) for w in weights]
        self.activations = [np.asarray(a, dtype=np.float64) for a in activations]
        self.errors = [np.asarray(d, dtype=np.float64) for d in errors]
        self.target = np.asarray(target, dtype=np.float64)
        self.max_edges = _validate.positive_int("max_edges", max_edges)
        self.strongest = _validate.choice("strongest", strongest, tuple(RANKED))
        n_in = self.weights[0].shape[1]
        if image_shape is None:
            side = _square_side(n_in)
            image_shape = (side, side) if side else False
        if image_shape and int(np.prod(image_shape)) != n_in:
            raise ValueError(f"image_shape {tuple(image_shape)} has {int(np.prod(image_shape))} "
                             f"pixels, the network has {n_in} inputs")
        self.image_shape = tuple(image_shape) if image_shape else None
        self.sizes = [n_in] + [w.shape[0] for w in self.weights]

    @classmethod
    def from_network(cls, net, x, y, *, max_edges=150, strongest="signal", image_shape=None,
                     ax=None):
        """Run `net` forward and back on one example (x, y) and draw it.

        x : (n_in,); y : a class label or targets (n_out,).  See the class for the rest.
        """
        activations, _, errors, target = one_example(net, x, y)
        return cls([layer.weights for layer in net.layers], activations, errors[1:], target,
                   max_edges=max_edges, strongest=strongest,
                   image_shape=image_shape).plot(ax=ax)

    # --- layout --------------------------------------------------------------------------

    HEIGHT = 10.0  # the tallest column, in data units
    GAP = 5.0      # horizontal distance between columns

    def _layout(self):
        """Centres (x, y) of every neuron of each layer, the circles' radius per layer,
        and for an image input the pixel centres and the image's extent."""
        self._extent = None
        positions, radii = [], []
        x0 = 0.0
        if self.image_shape:
            rows, cols = self.image_shape
            pixel = self.HEIGHT / max(rows, cols)
            left, top = -cols * pixel, rows * pixel / 2
            self._extent = (left, 0.0, -top, top)
            r, c = np.divmod(np.arange(rows * cols), cols)
            positions.append(np.column_stack([left + (c + 0.5) * pixel, top - (r + 0.5) * pixel]))
            radii.append(0.0)
            x0 = self.GAP * 0.8
        for l, n in enumerate(self.sizes):
            if l == 0 and self.image_shape:
                continue
            spacing = min(1.2, self.HEIGHT / n)
            ys = (np.arange(n)[::-1] - (n - 1) / 2) * spacing
            x = x0 + (l - (1 if self.image_shape else 0)) * self.GAP
            positions.append(np.column_stack([np.full(n, x), ys]))
            radii.append(0.4 * spacing)
        return positions, radii

    # --- drawing -------------------------------------------------------------------------

    INCH = 0.42  # inches per data unit when the display makes its own figure

    def plot(self, ax=None):
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        from matplotlib.lines import Line2D

        positions, radii = self._layout()
        ys = np.concatenate([p[:, 1] for p in positions])
        top, bottom = ys.max() + 1.6, ys.min() - 1.5
        xs = np.concatenate([p[:, 0] for p in positions])
        left = (self._extent[0] if self._extent else xs.min() - 2.0) - 0.3
        right = xs.max() + (3.0 if self.sizes[-1] <= 20 else 0.8)
        size = (min(14.0, self.INCH * (right - left) + 2.0),
                min(9.0, self.INCH * (top - bottom) + 0.8))
        self.figure_, (self.ax_,) = _axes(ax, 1, size)
        ax = self.ax_
        cmap = _pyplot().get_cmap(ERROR_CMAP)
        self._draw_edges(positions, radii, bottom)
        self._draw_neurons(positions, radii, cmap)
        self._label_columns(positions, radii, top)

        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_xlim(left, right)
        ax.set_ylim(bottom - 0.2, top)
        self.colorbar_ = self.figure_.colorbar(ScalarMappable(Normalize(-1, 1), cmap), ax=ax,
                                               shrink=0.7, pad=0.01, aspect=25)
        self.colorbar_.set_label(ERROR_LABEL + " / the layer's largest |δ|", fontsize="small")
        handles = [Line2D([], [], color=POSITIVE_WEIGHT, lw=2, label="positive weight"),
                   Line2D([], [], color=NEGATIVE_WEIGHT, lw=2, label="negative weight")]
        self.legend_ = ax.legend(handles=handles, loc="lower left", fontsize="small",
                                 frameon=False, borderaxespad=0.0)
        return self

    def _draw_edges(self, positions, radii, bottom):
        from matplotlib.collections import LineCollection

        largest = max(float(np.max(np.abs(w))) for w in self.weights) or 1.0
        self.edges_, self.edge_weights_, self.edge_ends_ = [], [], []
        self.hidden_edges_, self.hidden_texts_ = [], []
        for l, W in enumerate(self.weights, start=1):
            flat = W.ravel()
            # The strength of an edge: what it carries on this example, |w_jk a_k|, or the
            # weight alone.  (A pixel that is blank in every image keeps its random initial
            # weights, which would otherwise be the "strongest" edges of a digit network.)
            strength = np.abs(W * self.activations[l - 1] if self.strongest == "signal" else W)
            strength = strength.ravel()
            keep = min(self.max_edges, flat.size)
            picks = np.argpartition(-strength, keep - 1)[:keep]
            picks = picks[np.argsort(strength[picks], kind="stable")]  # strongest on top
            j, k = np.divmod(picks, W.shape[1])
            start = positions[l - 1][k] + [radii[l - 1], 0.0]
            end = positions[l][j] - [radii[l], 0.0]
            w = flat[picks]
            collection = LineCollection(
                np.stack([start, end], axis=1),
                colors=np.where(w[:, None] < 0, _rgba(NEGATIVE_WEIGHT), _rgba(POSITIVE_WEIGHT)),
                linewidths=0.3 + 2.7 * np.abs(w) / largest, alpha=0.7, zorder=2.5)
            self.ax_.add_collection(collection)
            self.edges_.append(collection)
            self.edge_weights_.append(w)
            self.edge_ends_.append(np.column_stack([j, k]))
            hidden = flat.size - keep
            self.hidden_edges_.append(hidden)
            if hidden:
                x = (positions[l - 1][:, 0].max() + positions[l][:, 0].min()) / 2
                self.hidden_texts_.append(self.ax_.text(
                    x, bottom + 0.1, f"{keep:,} of {flat.size:,} edges drawn\n(largest "
                    f"{RANKED[self.strongest]}), {hidden:,} hidden", ha="center", va="bottom",
                    fontsize="x-small",
                    color="0.3"))

    def _draw_neurons(self, positions, radii, cmap):
        self.circles_, self.image_ = [], None
        if self.image_shape:
            self.image_ = self.ax_.imshow(self.activations[0].reshape(self.image_shape),
                                          cmap="gray_r", extent=self._extent, zorder=2,
                                          interpolation="nearest")
        else:  # inputs as circles, grey by value (they take no error)
            top = max(1.0, float(np.max(np.abs(self.activations[0]))))
            grey = _pyplot().get_cmap("gray_r")
            self.circles_.append(self._circles(
                positions[0], radii[0], grey(0.7 * np.abs(self.activations[0]) / top)))
        self.error_scales_ = []
        for l in range(1, len(self.sizes)):
            d = self.errors[l - 1]
            scale = float(np.max(np.abs(d))) or 1.0  # each layer on its own scale
            self.error_scales_.append(scale)
            self.circles_.append(self._circles(positions[l], radii[l], cmap(0.5 + 0.5 * d / scale)))

    def _circles(self, centres, radius, colours):
        from matplotlib.patches import Circle

        drawn = []
        for (x, y), colour in zip(centres, colours):
            circle = Circle((x, y), radius, facecolor=colour, edgecolor="0.25",
                            linewidth=0.6, zorder=3)
            self.ax_.add_patch(circle)
            drawn.append(circle)
        return drawn

    def _label_columns(self, positions, radii, top):
        L = len(self.sizes) - 1
        names = ["input"] + ["hidden"] * (L - 1) + ["output"]
        for l, (p, name) in enumerate(zip(positions, names)):
            what = (f"{name}\n{self.image_shape[0]}x{self.image_shape[1]} image"
                    if l == 0 and self.image_shape else f"{name}\n{self.sizes[l]}")
            self.ax_.text(p[:, 0].mean(), top - 0.3, what, ha="center", va="top",
                          fontsize="small")
            if l:
                self.ax_.text(p[:, 0].mean(), p[:, 1].min() - radii[l] - 0.2,
                              f"largest |δ|\n{self.error_scales_[l - 1]:.2g}", ha="center",
                              va="top", fontsize="x-small", color="0.3")
        out, a = positions[L], self.activations[L]
        if self.sizes[L] > 20:
            return
        target = int(np.argmax(self.target)) if self.sizes[L] > 1 else None
        for j, (x, y) in enumerate(out):
            text = (f"{j}: a={a[j]:.2f}" if self.sizes[L] > 1
                    else f"a={a[j]:.3g}, y={self.target[0]:.3g}")
            bold = j == target
            self.ax_.text(x + radii[L] + 0.25, y, text + ("  ← target" if bold else ""),
                          va="center", fontsize="x-small" if self.sizes[L] > 10 else "small",
                          fontweight="bold" if bold else "normal")
        if not self.image_shape and self.sizes[0] <= 20:
            for (x, y), v in zip(positions[0], self.activations[0]):
                self.ax_.text(x - radii[0] - 0.25, y, f"x={v:.3g}", va="center", ha="right",
                              fontsize="small")


def _rgba(colour):
    from matplotlib.colors import to_rgba

    return np.array(to_rgba(colour))


# --- the blame, layer by layer -------------------------------------------------------------

class BlameDisplay:
    """Each layer's errors on one example as bar charts, the output layer first, down to
    the first hidden layer: the blame flowing back.

    Parameters
    ----------
    errors : list of arrays
        ``delta^1`` to ``delta^L``, each layer's dC/dz on the example.
    target : array, shape (n_out,), optional
        Marks the target class on the output panel.

    Attributes (after `plot`)
    -------------------------
    figure_ : Figure
    axes_ : list of Axes
        One per layer, output first.
    ax_ : Axes
        The output layer's panel.
    bars_ : list of BarContainer
        One per layer, in the order of ``axes_``; bar j's height is neuron j's error.
    """

    def __init__(self, errors, target=None):
        self.errors = [np.asarray(d, dtype=np.float64) for d in errors]
        self.target = None if target is None else np.asarray(target, dtype=np.float64)

    @classmethod
    def from_network(cls, net, x, y, *, ax=None):
        """Run `net` forward and back on one example (x, y) and draw each layer's errors.

        ax : None or a sequence of Axes, one per layer, output first.
        """
        _, _, errors, target = one_example(net, x, y)
        return cls(errors[1:], target).plot(ax=ax)

    def plot(self, ax=None):
        from matplotlib.ticker import MaxNLocator

        L = len(self.errors)
        self.figure_, self.axes_ = _axes(ax, L, (7.5, 1.2 + 2.0 * L))
        self.ax_ = self.axes_[0]
        cmap = _pyplot().get_cmap(ERROR_CMAP)
        self.bars_ = []
        for axes, l in zip(self.axes_, range(L, 0, -1)):
            d = self.errors[l - 1]
            bars = axes.bar(np.arange(d.size), d, width=0.8,
                            color=np.where(d[:, None] < 0, cmap(0.15), cmap(0.85)),
                            edgecolor="0.3", linewidth=0.4)
            self.bars_.append(bars)
            axes.axhline(0, color="0.3", linewidth=0.6)
            k = int(np.argmax(np.abs(d)))
            kind = "output" if l == L else "hidden"
            title = (f"layer {l}, {kind} ({d.size} neuron{'s' if d.size > 1 else ''}): "
                     f"largest |δ| at neuron {k} "
                     f"({d[k]:.3g})")
            if l == L and self.target is not None and d.size > 1:
                title += f"; the target is neuron {int(np.argmax(self.target))}"
            axes.set_title(title, fontsize="medium", loc="left")
            axes.set_ylabel("δ = ∂C/∂z")
            if d.size <= 32:
                axes.set_xticks(np.arange(d.size))
                axes.tick_params(axis="x", labelsize="small" if d.size > 16 else "medium")
            else:
                axes.xaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_xlim(-0.7, d.size - 0.3)
            axes.use_sticky_edges = False  # leave room beyond the longest bar, both ways
            axes.margins(y=0.15)
            axes.grid(axis="y", alpha=0.3)
        self.axes_[-1].set_xlabel("neuron")
        self.figure_.suptitle("The blame flowing back: each neuron's error on one example, "
                              "output first", fontsize="medium")
        return self
