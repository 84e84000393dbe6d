"""The data a command works on: a folder of MNIST IDX files, an IDX image file and its
label file, a CSV file with a header row, or a .npz file holding arrays X and y."""
import argparse
import csv
import os
import warnings
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from .. import datasets
from .arguments import CommandError, blame, existing_file, reporting_os_errors

DATA_KINDS = "a folder of MNIST IDX files, a .csv file or a .npz file"
NPZ_ARRAYS = ("X", "y")  # the arrays read from a .npz: samples (n, features), labels or targets


class Data(NamedTuple):
    """Inputs X (n, features), labels or targets y (None when not given), the test part of
    a MNIST folder (None otherwise), the option the data came from (for messages), and
    whether it is a MNIST folder (which brings its own validation split)."""
    X: np.ndarray
    y: Optional[np.ndarray]
    test: Optional[tuple]
    option: str
    mnist: bool


@reporting_os_errors
def data_path(text):
    """Converter for --data: an existing folder, .csv or .npz."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text} does not exist")
    if not path.is_dir() and path.suffix not in (".csv", ".npz"):
        raise argparse.ArgumentTypeError(
            f"{text} is not {DATA_KINDS} (for other IDX files give --images and --labels)")
    return path


def add_arguments(parser, part):
    """The data options; `part` is the part of a MNIST folder used ("train" or "test")."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data", type=data_path, metavar="PATH",
        help=f"{DATA_KINDS} (default: $FASTMLP_DATA, a MNIST folder, whose {part} files are "
             f"used); a .npz holds arrays {' and '.join(NPZ_ARRAYS)}")
    source.add_argument("--images", type=existing_file(), metavar="IDX",
                        help="an IDX file of images (gzipped or not), instead of --data")
    parser.add_argument("--labels", type=existing_file(), metavar="IDX",
                        help="the IDX file of labels that goes with --images")
    parser.add_argument("--label-column", metavar="NAME",
                        help="the column of a CSV file holding the labels; the other columns "
                             "are the features, and the first row names the columns")


def load(args, part, labels_required=True):
    """The `Data` the options in `args` name; a MNIST folder gives its `part` ("train",
    with the test part beside it, or "test")."""
    if args.label_column is not None and (args.data is None or args.data.suffix != ".csv"):
        raise CommandError("--label-column applies to CSV data (--data FILE.csv) only")
    if args.images is not None:
        return _idx_files(args, labels_required)
    if args.labels is not None:
        raise CommandError("--labels goes with --images")
    path, option = args.data, "--data"
    if path is None:
        folder = os.environ.get(datasets.DATA_ENV)
        if not folder:
            raise CommandError(f"--data: no data given and ${datasets.DATA_ENV} is not set "
                               f"(give --data with {DATA_KINDS}, or --images and --labels)")
        option = f"--data (${datasets.DATA_ENV})"
        try:
            path = data_path(folder)
        except argparse.ArgumentTypeError as error:
            raise CommandError(f"{option}: {error}") from None
    with blame(option, path):
        if path.is_dir():
            parts = datasets.load_mnist(path)
            test = parts["test"] if part == "train" else None
            return Data(*parts[part], test, f"{option} {path}", True)
        if path.suffix == ".csv":
            X, y = read_csv(path, args.label_column, labels_required)
        else:
            X, y = read_npz(path, labels_required)
    return Data(X, y, None, f"{option} {path}", False)


def _idx_files(args, labels_required):
    if args.labels is None and labels_required:
        raise CommandError("--labels: --images needs the IDX file of its labels")
    with blame("--images", args.images):
        X = datasets.read_idx(args.images)
        if X.ndim != 3:
            raise ValueError(f"{args.images} holds labels, not images")
    y = None
    if args.labels is not None:
        with blame("--labels", args.labels):
            y = datasets.read_idx(args.labels)
            if y.ndim != 1:
                raise ValueError(f"{args.labels} holds images, not labels")
            if len(y) != len(X):
                raise ValueError(f"{len(y)} labels for the {len(X)} images of {args.images}")
            y = y.astype(np.int64)
    return Data(datasets.scale_images(X), y, None, f"--images {args.images}", False)


def read_csv(path, label_column, labels_required):
    """(X, y) from a CSV file whose first row names the columns; y is None without a
    label column."""
    with open(path, newline="") as f:
        columns = [name.strip() for name in next(csv.reader(f), [])]
    if not columns:
        raise ValueError("is empty; a CSV needs a first row naming its columns")
    shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
    if label_column is None and labels_required:
        raise CommandError(f"--label-column: name the column of {path} holding the labels "
                           f"(columns: {shown})")
    if label_column is not None and label_column not in columns:
        raise CommandError(f"--label-column: {path} has no column {label_column!r} "
                           f"(columns: {shown})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2, comments=None)
    except ValueError:
        raise ValueError(_first_bad_row(path, columns)) from None
    if table.size == 0:
        raise ValueError("has a row of column names but no data")
    if table.shape[1] != len(columns):
        raise ValueError(f"rows have {table.shape[1]} values, the first row names "
                         f"{len(columns)} columns")
    if label_column is None:
        return table, None
    j = columns.index(label_column)
    return np.delete(table, j, axis=1), table[:, j]


def _first_bad_row(path, columns):
    """Where a CSV file stops being a table of numbers, in words."""
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for line, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) != len(columns):
                return (f"line {line} has {len(row)} values, the first row names "
                        f"{len(columns)} columns")
            for name, text in zip(columns, row):
                try:
                    float(text)
                except ValueError:
                    return f"line {line}, column {name!r}: {text!r} is not a number"
    return "is not a table of numbers"


def read_npz(path, labels_required):
    """(X, y) from a .npz file's arrays X and y (y may be absent when not required).
    X must have a row per sample; images (n, rows, cols) are flattened to (n, rows * cols)."""
    with np.load(path, allow_pickle=False) as data:
        names = list(data.files)
        if "X" not in names or (labels_required and "y" not in names):
            raise ValueError(f"holds the arrays {', '.join(names) or 'none'}; fastmlp reads "
                             f"X (samples, features) and y (labels, or targets per sample)")
        X = data["X"]
        y = data["y"] if "y" in names else None
    if X.ndim < 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    if X.ndim > 2:
        X = X.reshape(len(X), -1)
    return X, y
