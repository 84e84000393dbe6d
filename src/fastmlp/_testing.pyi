# The compiled test entry (_testing.pyx): its names are typed as Any here; it is for the
# test suite, not part of the API.
from typing import Any

def __getattr__(name: str) -> Any: ...
