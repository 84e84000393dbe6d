# The compiled Cython module (_machine.pyx): the caches as the kernels read them.
from os import PathLike
from typing import Any

SOURCES: tuple[str, ...]
LEVELS: tuple[str, ...]

def caches() -> dict[str, dict[str, Any]]: ...
def read_caches(sysfs: str | PathLike[str] | None = None,
                cpuid: bool = True) -> dict[str, dict[str, Any]]: ...
def blocks_for(caches: dict[str, dict[str, Any]], itemsize: int, mr: int,
               nr: int) -> tuple[int, int, int]: ...
