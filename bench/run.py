"""The full benchmark suite: every workload (W1-W4) and the bare products, a table and a
JSON record.

    python bench/run.py                     # full suite (several minutes)
    python bench/run.py --quick             # the quick comparison (under a minute)
    python bench/run.py --only W3 --threads 1 2
    python bench/run.py --only W1 W3 products --compete   # and beside a CPU-bound process

Set FASTMLP_DATA to the MNIST folder to time on MNIST (W1 and W2 run on MNIST and on dense
random data of its shape side by side; without MNIST, everything runs on the random data).
Install threadpoolctl so that NumPy's BLAS is pinned to the same thread count as fastmlp
(pip install "fastmlp[bench]").
"""
import argparse
import os
import sys

from fastmlp import benchmark

HERE = os.path.dirname(os.path.abspath(__file__))

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
benchmark.add_arguments(parser)
parser.add_argument("--quick", action="store_true", help="the quick workloads")
args = parser.parse_args()
args.full = not args.quick
if args.json is None:
    args.json = os.path.join(HERE, "results", "full.json" if args.full else "quick.json")
sys.exit(benchmark.main(args))
