"""``fastmlp evaluate``: a saved network's accuracy and cost on labelled data."""
from . import data
from .arguments import blame, existing_file

NAME = "evaluate"
HELP = "print a saved network's accuracy and cost on labelled data"


def add_model_argument(parser):
    parser.add_argument("model", type=existing_file(".npz"), metavar="MODEL.npz",
                        help="a network saved by `fastmlp train --save` or Network.save")


def load_model(path):
    from .. import load

    with blame("MODEL.npz", path):
        return load(path)


def add_arguments(parser):
    add_model_argument(parser)
    data.add_arguments(parser, "test")


def run(args):
    from .train import describe

    net = load_model(args.model)
    source = data.load(args, "test")
    with blame(source.option):
        print(f"{source.option}: {describe(net, source.X, source.y)}")
    return 0
