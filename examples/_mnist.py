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
    args = parser.parse_args()
    if not args.data:
        sys.exit("give --data FOLDER or set FASTMLP_DATA to the folder holding MNIST")
    return args


def load(folder):
    data = datasets.load_mnist(folder)
    X, y = data["train"]
    return (X[:50000], y[:50000]), (X[50000:], y[50000:]), data["test"]
