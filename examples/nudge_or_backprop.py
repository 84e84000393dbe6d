"""Why not nudge each weight and watch the cost?  The gradient both ways, timed: a small
network on the bundled digits, and Nielsen's [784, 30, 10] on ten 784-pixel inputs (MNIST
when FASTMLP_DATA or --data names its folder, else random pixels of the same shape).

For [784, 30, 10] only a random sample of the 23,860 parameters is nudged, and the time for
all of them is extrapolated from it (the printout says so).

    python examples/nudge_or_backprop.py [--data FOLDER] [--quick]
"""
import argparse
import os

import numpy as np

import fastmlp
from fastmlp import datasets

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--data", default=os.environ.get(datasets.DATA_ENV),
                    help="folder holding the MNIST IDX files (default: $FASTMLP_DATA)")
parser.add_argument("--quick", action="store_true", help="fewer nudges, for the tests")
args = parser.parse_args()

X, y = datasets.load_digits()
small = fastmlp.Network([64, 10, 10], seed=0)
print(fastmlp.compare_methods(small, X[:10], y[:10], sample=100 if args.quick else None))
print()

if args.data:
    X, y = datasets.load_mnist(args.data)["test"]
else:
    X, y = np.random.default_rng(0).uniform(0, 1, (10, 784)), np.arange(10)
big = fastmlp.Network([784, 30, 10], seed=0)
print(fastmlp.compare_methods(big, X[:10], y[:10], sample=100 if args.quick else 2000))
