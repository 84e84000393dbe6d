# The compiled Cython module (_kernels.pyx): its names are typed as Any here; the
# typed API is the Python layer above it.
from typing import Any

def __getattr__(name: str) -> Any: ...
