"""The bundled 8x8 digits: train a [64, 30, 10] network, then draw its learning curves, the
network on a test image it gets wrong, and the blame flowing back from that mistake.

    python examples/digits.py [--out FOLDER] [--quick]
"""
import numpy as np

import fastmlp
from _figures import parse_args, save
from fastmlp import datasets
from fastmlp.plot import BlameDisplay, LearningCurveDisplay, NetworkDisplay

args = parse_args(__doc__.split("\n\n")[0], quick="3 epochs, for the tests")
out = args.out

X, y = datasets.load_digits()
(X_train, y_train), (X_test, y_test) = datasets.split(X, y, test_fraction=0.25, seed=0)
net = fastmlp.Network([64, 30, 10], seed=0)
history = net.fit(X_train, y_train, epochs=3 if args.quick else 40, batch_size=10, lr=3.0,
                  validation_data=(X_test, y_test), lr_schedule="halve", lr_patience=4)
print(f"best epoch {history.best_epoch}: validation accuracy {max(history.val_accuracy):.4f}; "
      f"last epoch {history.epoch[-1]}: {history.val_accuracy[-1]:.4f}")

wrong = np.flatnonzero(net.predict(X_test) != y_test)
i = int(wrong[0]) if wrong.size else 0
print(f"test image {i}: label {y_test[i]}, predicted {net.predict(X_test[i])}")
save(LearningCurveDisplay.from_history(history), out / "digits_curves.png")
save(NetworkDisplay.from_network(net, X_test[i], y_test[i], max_edges=120),
     out / "digits_network.png", dpi=72)
save(BlameDisplay.from_network(net, X_test[i], y_test[i]), out / "digits_blame.png")
print(f"pictures written to {out}: digits_curves.png, digits_network.png, digits_blame.png")
