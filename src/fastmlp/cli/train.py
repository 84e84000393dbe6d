"""``fastmlp train``: train a network on MNIST, a CSV or a .npz file; report, save, plot."""
import time

from .. import _validate, datasets
from ..network import COSTS, INITS, OUTPUTS
from ..training import DivergenceError
from . import data, options
from .arguments import CommandError, blame, new_file, real, thread_count

NAME = "train"
HELP = "train a network on MNIST, a CSV or a .npz file and report its accuracy"
MNIST_VALIDATION = 10_000  # Nielsen's split: the last 10,000 training images validate


def add_arguments(parser):
    data.add_arguments(parser, "train")
    options.add_arguments(parser)
    parser.add_argument("--cost", choices=COSTS, default="quadratic", help="the cost function")
    parser.add_argument("--output", choices=sorted({o for os in OUTPUTS.values() for o in os}),
                        help="the output layer's activation (default: softmax with "
                             "log_likelihood, else sigmoid; identity is regression)")
    parser.add_argument("--init", choices=INITS,
                        help="initial parameters (default: normal with the quadratic cost, "
                             "else scaled)")
    parser.add_argument("--l2", type=real(), default=0.0,
                        help="L2 regularisation, network2.py's lmbda")
    parser.add_argument("--momentum", type=real(0.0, below=1.0), default=0.0,
                        help="momentum coefficient mu, in [0, 1)")
    parser.add_argument("--threads", type=thread_count,
                        help="threads for the kernels (default: fastmlp.get_num_threads())")
    parser.add_argument("--validation-fraction", type=real(0.0, below=1.0), metavar="F",
                        help=f"fraction of the data held out (shuffled with --seed) to validate "
                             f"each epoch (default: MNIST's last {MNIST_VALIDATION:,} training "
                             f"images for a MNIST folder, else 0)")
    parser.add_argument("--save", type=new_file(".npz"), metavar="PATH",
                        help="write the trained network to PATH (.npz); checked before training")
    parser.add_argument("--plot", type=new_file(".png", ".pdf", ".svg"), metavar="PATH",
                        help="draw the learning curves to PATH (needs fastmlp[plot])")


def run(args):
    from .. import Network

    output = args.output or OUTPUTS[args.cost][0]
    if output not in OUTPUTS[args.cost]:
        raise CommandError(f"--output {output} does not go with --cost {args.cost} "
                           f"(it takes {', '.join(OUTPUTS[args.cost])})")
    if args.plot is not None:
        from ..plot import _pyplot
        _pyplot()  # without matplotlib, stop here rather than after training

    source = data.load(args, "train")
    with blame(source.option):
        X, y = source.X, source.y
        n_out = output_size(y, output)
        (X, y), validation = split(source, X, y, args)
    net = Network([X.shape[1], *args.hidden, n_out], cost=args.cost, output=output,
                  init=args.init, dtype=args.dtype, seed=args.seed)
    print(net.summary())
    print(f"training on {len(X):,} samples" + (f", validating on {len(validation[0]):,}"
                                              if validation else ""))
    start = time.perf_counter()
    try:
        with blame(source.option):
            history = net.fit(X, y, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                              l2=args.l2, momentum=args.momentum, validation_data=validation,
                              threads=args.threads, verbose=True)
    except DivergenceError as error:
        raise CommandError(f"--lr {args.lr:g}: {error}") from None
    except KeyboardInterrupt:  # fit rolled the interrupted epoch back: keep what is done
        if args.save is not None:
            net.save(args.save)
            print(f"saved the network of epoch {net.epochs_trained} to {args.save}")
        raise
    epochs = f"{len(history)} epoch" + ("s" if len(history) != 1 else "")
    print(f"trained {epochs} in {time.perf_counter() - start:.1f} s")
    if source.test is not None:
        print(f"test {describe(net, *source.test)}")
    if args.save is not None:
        net.save(args.save)
        print(f"saved to {args.save}")
    if args.plot is not None:
        from ..plot import LearningCurveDisplay

        display = LearningCurveDisplay.from_history(history)  # draws the figure
        display.figure_.savefig(args.plot)
        _pyplot().close(display.figure_)
        print(f"learning curves drawn to {args.plot}")
    return 0


def output_size(y, output):
    """Neurons in the output layer for labels or targets y: one per column of 2-D
    targets, one for a regression on 1-D targets, else one per class 0..max(y)."""
    if y.ndim == 2:
        return y.shape[1]
    if output == "identity":
        return 1
    if y.ndim != 1 or y.dtype.kind not in "biuf" or len(y) == 0:
        raise ValueError(f"labels must be a 1-D array of numbers, got shape {y.shape}, "
                         f"dtype {y.dtype}")
    try:  # finite, whole and >= 0; no upper bound: the largest label sets the class count
        labels = _validate.labels_of("y", y)
    except ValueError as error:
        raise ValueError(f"{error}; for a regression give --output identity") from None
    return int(labels.max()) + 1


def split(source, X, y, args):
    """(training (X, y), validation (X, y) or None) as --validation-fraction says."""
    fraction = args.validation_fraction
    if fraction is None and source.mnist:
        if len(X) <= MNIST_VALIDATION:
            raise ValueError(f"has {len(X):,} training images, too few to hold out the "
                             f"last {MNIST_VALIDATION:,}: give --validation-fraction")
        return (X[:-MNIST_VALIDATION], y[:-MNIST_VALIDATION]), (X[-MNIST_VALIDATION:],
                                                               y[-MNIST_VALIDATION:])
    if not fraction:
        return (X, y), None
    train, validation = datasets.split(X, y, fraction, seed=args.seed)
    if len(validation[0]) == 0 or len(train[0]) == 0:
        raise ValueError(f"--validation-fraction {fraction:g} of {len(X)} samples leaves "
                         f"{len(train[0])} to train on and {len(validation[0])} to validate")
    return train, validation


def describe(net, X, y):
    """'accuracy 0.9512 (9512 / 10000), cost 0.0123' (the cost alone for regression)."""
    cost, accuracy = net.evaluate(X, y)
    if accuracy is None:
        return f"cost {cost:.6g} on {len(X):,} samples"
    return f"accuracy {accuracy:.4f} ({round(accuracy * len(X))} / {len(X)}), cost {cost:.4f}"
