"""fastmlp: fast backpropagation for fully connected sigmoid networks."""
from importlib.metadata import PackageNotFoundError, version as _version

from .gradcheck import gradcheck
from .history import History
from .layer import Layer
from .network import Gradients, Network
from .serialization import load
from .training import DivergenceError, StopTraining

try:
    __version__ = _version("fastmlp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["DivergenceError", "Gradients", "History", "Layer", "Network", "StopTraining",
           "gradcheck", "load", "__version__"]
