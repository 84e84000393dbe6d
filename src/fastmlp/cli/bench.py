"""``fastmlp bench``: the quick speed comparison (fastmlp.benchmark)."""
NAME = "bench"
HELP = "compare the speed with NumPy (and PyTorch when installed)"


def add_arguments(parser):
    from ..benchmark import add_arguments

    add_arguments(parser)


def run(args):
    from .. import benchmark

    return benchmark.main(args)
