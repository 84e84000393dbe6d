"""``fastmlp info``: versions, the CPU and its caches, the instruction-set path and the
thread count."""
import platform

NAME = "info"
HELP = "print versions and build facts, for bug reports"


def add_arguments(parser):
    pass


def run(args):
    import numpy as np

    from .. import __version__, runtime

    print(f"fastmlp {__version__}")
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"numpy {np.__version__}")
    for line in runtime.describe_machine(runtime.machine()):
        print(line)
    print(f"instruction set: {runtime.get_isa()} (supported: {', '.join(runtime.supported_isas())};"
          f" FASTMLP_ISA to force one)")
    print(f"threads: {runtime.get_num_threads()} (FASTMLP_NUM_THREADS or "
          f"fastmlp.set_num_threads to change)")
    return 0
