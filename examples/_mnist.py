"""MNIST split as in Nielsen's book: 50,000 training, 10,000 validation, 10,000 test."""
import argparse
import os
import sys

from fastmlp import datasets


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", default=os.environ.get(datasets.DATA_ENV),
                        help="folder holding the MNIST IDX files (default: $FASTMLP_DATA)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--backend", default="c", choices=["c", "numpy"])
    parser.add_argument("--quick", action="store_true",
                        help="1 epoch on the first 1,000 training images, for the tests")
    args = parser.parse_args()
    if not args.data:
        sys.exit("give --data FOLDER or set FASTMLP_DATA to the folder holding MNIST")
    return args


def load(folder, quick=False):
    """(training, validation, test) pairs; `quick` keeps 1,000 training images."""
    data = datasets.load_mnist(folder)
    X, y = data["train"]
    train = 1000 if quick else 50000
    return (X[:train], y[:train]), (X[50000:], y[50000:]), data["test"]


def epochs(args):
    return 1 if args.quick else 30
