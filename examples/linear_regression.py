"""Gradient descent on y = m x + b: one neuron with an identity output is the line
a(x) = w x + b, and the quadratic cost is the mean squared error.  Watch w and b walk to
the true slope and intercept, epoch by epoch.

    python examples/linear_regression.py [--quick]
"""
import argparse

import numpy as np

import fastmlp

TRUE_M, TRUE_B = 2.5, -0.7

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--quick", action="store_true", help="fewer epochs, for the tests")
args = parser.parse_args()

x = np.linspace(-1, 1, 40)[:, None]
y = TRUE_M * x[:, 0] + TRUE_B
net = fastmlp.Network([1, 1], output="identity", seed=0)
neuron = net.layers[0]
print(f"true line: m = {TRUE_M}, b = {TRUE_B}")
print(f"epoch   0: m = {neuron.weights[0, 0]:+.6f}, b = {neuron.biases[0]:+.6f}")


def show(net, record):
    e = record["epoch"]
    if e <= 5 or e % 25 == 0:
        print(f"epoch {e:3d}: m = {neuron.weights[0, 0]:+.6f}, b = {neuron.biases[0]:+.6f}"
              f"   (cost {record['train_cost']:.2e})")


history = net.fit(x, y, epochs=100 if args.quick else 300, batch_size=4, lr=0.1,
                  callbacks=[show])
m, b = float(neuron.weights[0, 0]), float(neuron.biases[0])
print(f"learned line: m = {m:.6f}, b = {b:.6f}")
