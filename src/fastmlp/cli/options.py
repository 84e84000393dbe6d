"""The options `demo` and `train` share: the hidden layers, the SGD run and the seed."""
from .._validate import DTYPES
from .arguments import hidden_sizes, integer, real


def add_arguments(parser):
    """--hidden, --epochs, --batch-size, --lr, --dtype, --seed, with network.py's defaults."""
    parser.add_argument("--hidden", type=hidden_sizes, default="30", metavar="SIZES",
                        help="hidden layer sizes, comma-separated, such as 100,30")
    parser.add_argument("--epochs", type=integer(1), default=30, help="passes over the data")
    parser.add_argument("--batch-size", type=integer(1), default=10,
                        help="samples per gradient step (1: online learning)")
    parser.add_argument("--lr", type=real(), default=3.0, help="the learning rate (eta)")
    parser.add_argument("--dtype", choices=DTYPES, default="float64",
                        help="floating-point type of the parameters and the arithmetic")
    parser.add_argument("--seed", type=integer(0), default=0,
                        help="seeds the initial parameters and the shuffling")
