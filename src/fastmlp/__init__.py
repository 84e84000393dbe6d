"""fastmlp: fast backpropagation for fully connected sigmoid networks."""
from importlib.metadata import PackageNotFoundError, version as _version

from . import datasets
from .gradcheck import compare_methods, gradcheck
from .history import History
from .layer import Layer
from .network import Gradients, Network
from .runtime import get_isa, get_num_threads, set_isa, set_num_threads, supported_isas, threads
from .serialization import LoadError, load
from .training import DivergenceError, StopTraining

try:
    __version__ = _version("fastmlp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["DivergenceError", "Gradients", "History", "Layer", "LoadError", "Network",
           "StopTraining", "compare_methods", "datasets", "get_isa", "get_num_threads", "gradcheck", "load",
           "set_isa", "set_num_threads", "supported_isas", "threads", "__version__"]

from . import runtime as _runtime  # noqa: E402

_runtime._check_forced_isa()
_runtime._register_with_threadpoolctl()
