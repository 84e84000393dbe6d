"""fastmlp: fast backpropagation for fully connected sigmoid networks."""
from importlib.metadata import PackageNotFoundError, version as _version

from .layer import Layer
from .network import Network

try:
    __version__ = _version("fastmlp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["Layer", "Network", "__version__"]
