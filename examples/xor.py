"""XOR, the function no single neuron can compute, learned by a [2, 3, 1] network, and the
blame picture of one of its four examples before and after training.

[2, 2, 1] is the smallest network that can compute XOR, but gradient descent from a random
start gets stuck for some seeds (4 of the first 20 here), so this uses three hidden neurons,
which learned XOR from each of those 20 seeds.

    python examples/xor.py [--out FOLDER] [--quick]
"""
import numpy as np

import fastmlp
from _figures import parse_args, save
from fastmlp.plot import BlameDisplay, NetworkDisplay

args = parse_args(__doc__.split("\n\n")[0], quick="for the tests (XOR is quick anyway)")
out = args.out

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([0, 1, 1, 0])
net = fastmlp.Network([2, 3, 1], seed=0)
print("before training:", np.round(net.forward(X)[:, 0], 3))
save(BlameDisplay.from_network(net, X[1], y[1]), out / "xor_blame_before.png")

history = net.fit(X, y, epochs=3000, batch_size=4, lr=4.0)
outputs = net.forward(X)[:, 0]
print("after training: ", np.round(outputs, 3), "targets", y)
print(f"cost {history.train_cost[-1]:.5f}, all four right: {bool((net.predict(X) == y).all())}")
save(BlameDisplay.from_network(net, X[1], y[1]), out / "xor_blame.png")
save(NetworkDisplay.from_network(net, X[1], y[1]), out / "xor_network.png")
print(net.explain(X[1], y[1]))
