"""``fastmlp predict``: a saved network's predictions, printed or written to a CSV file."""
import sys

import numpy as np

from . import data
from .arguments import CommandError, blame, new_file
from .evaluate import add_model_argument, load_model

NAME = "predict"
HELP = ("print a saved network's prediction for each sample (the class, or a regression "
        "network's outputs), or write them to a CSV file")


def add_arguments(parser):
    add_model_argument(parser)
    data.add_arguments(parser, "test")
    parser.add_argument("--output", type=new_file(".csv"), metavar="PATH",
                        help="write the predictions to PATH (.csv) instead of printing them")


def run(args):
    net = load_model(args.model)
    source = data.load(args, "test", labels_required=False)
    csv_with_labels = args.data is not None and args.data.suffix == ".csv" and \
        args.label_column is None and source.X.shape[1] == net.sizes[0] + 1
    if csv_with_labels:
        raise CommandError(f"{source.option} has {net.sizes[0] + 1} columns for the "
                           f"network's {net.sizes[0]} inputs: name the column of labels "
                           f"with --label-column")
    with blame(source.option):
        predictions = net.predict(source.X)
    if predictions.ndim == 1:
        columns = ["prediction"]
        predictions = predictions[:, np.newaxis]
    else:
        columns = [f"output{j}" for j in range(predictions.shape[1])]
    fmt = "%d" if predictions.dtype.kind == "i" else "%.9g"
    target = sys.stdout if args.output is None else args.output
    np.savetxt(target, predictions, fmt=fmt, delimiter=",", header=",".join(columns),
               comments="")
    if args.output is not None:
        print(f"{len(predictions)} predictions written to {args.output}")
    return 0
