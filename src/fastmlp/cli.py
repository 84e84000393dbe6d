"""Command line: ``python -m fastmlp demo | train | bench | info``."""
import argparse
import platform
import sys
import time

import numpy as np


def demo(args):
    """Train on the bundled optical digits and report held-out accuracy."""
    from . import Network, datasets

    X, y = datasets.load_digits()
    (X_train, y_train), (X_test, y_test) = datasets.split(X, y, test_fraction=0.25, seed=args.seed)
    net = Network([64, args.hidden, 10], dtype=args.dtype, seed=args.seed)
    print(f"{net}\ntraining on {len(X_train)} optical digits, testing on {len(X_test)} held out")
    start = time.perf_counter()
    net.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    seconds = time.perf_counter() - start
    cost, accuracy = net.evaluate(X_test, y_test)
    print(f"test accuracy {accuracy:.4f} ({round(accuracy * len(X_test))} / {len(X_test)}), "
          f"cost {cost:.4f}, trained {args.epochs} epochs in {seconds:.2f} s")
    print("data: UCI optical digits, E. Alpaydin and C. Kaynak (CC BY 4.0)")
    return 0


def train(args):
    """Train a network on MNIST from a folder, report test accuracy, optionally save it."""
    from . import Network, datasets

    data = datasets.load_mnist(args.data)
    X, y = data["train"]
    X_test, y_test = data["test"]
    sizes = [784] + [int(s) for s in args.hidden.split(",") if s] + [10]
    net = Network(sizes, cost=args.cost, dtype=args.dtype, seed=args.seed)
    print(net)
    start = time.perf_counter()
    net.fit(X[:50000], y[:50000], epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            l2=args.l2, momentum=args.momentum, validation_data=(X[50000:], y[50000:]),
            verbose=True)
    seconds = time.perf_counter() - start
    cost, accuracy = net.evaluate(X_test, y_test)
    print(f"test accuracy {accuracy:.4f}, cost {cost:.4f}, {seconds:.1f} s")
    if args.save:
        net.save(args.save)
        print(f"saved to {args.save}")
    return 0


def bench(args):
    """The speed comparison against NumPy (and PyTorch when installed)."""
    from . import benchmark

    return benchmark.main(args)


def info(args):
    """Versions, the instruction-set path and the thread count, for bug reports."""
    from . import __version__, runtime

    print(f"fastmlp {__version__}")
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"numpy {np.__version__}")
    print(f"instruction set: {runtime.get_isa()} (supported: {', '.join(runtime.supported_isas())};"
          f" FASTMLP_ISA to force one)")
    print(f"threads: {runtime.get_num_threads()} (FASTMLP_NUM_THREADS or "
          f"fastmlp.set_num_threads to change)")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="fastmlp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="train on the bundled digits and print test accuracy")
    p.add_argument("--hidden", type=int, default=30, help="hidden neurons (default 30)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--lr", type=float, default=3.0, help="learning rate (default 3.0)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=demo)

    p = commands.add_parser("train", help="train on MNIST read from a folder of IDX files")
    p.add_argument("--data", default=None,
                   help="folder holding the MNIST IDX files (default: $FASTMLP_DATA)")
    p.add_argument("--hidden", default="30", help="hidden layer sizes, comma-separated (default 30)")
    p.add_argument("--cost", default="quadratic",
                   choices=["quadratic", "cross_entropy", "log_likelihood"])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=10)
    p.add_argument("--lr", type=float, default=3.0)
    p.add_argument("--l2", type=float, default=0.0, help="L2 regularisation, network2.py's lmbda")
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", metavar="PATH", help="write the trained network to PATH (.npz)")
    p.set_defaults(run=train)

    p = commands.add_parser("bench", help="compare the speed with NumPy (and PyTorch)")
    from .benchmark import add_arguments
    add_arguments(p)
    p.set_defaults(run=bench)

    p = commands.add_parser("info", help="print versions and build facts")
    p.set_defaults(run=info)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"fastmlp {args.command}: {error}", file=sys.stderr)
        return 2
