"""Every kernel the extension exports, and every kernel the C header declares, is tested."""
import re
from pathlib import Path

import pytest

from fastmlp import _kernels

HERE = Path(__file__).parent
HEADER = HERE.parent / "csrc" / "fastmlp.h"
# Exported names that are not kernels: tested in test_threads.py.
NOT_KERNELS = {"KernelError", "get_isa", "set_isa", "supported_isas", "get_num_threads",
               "set_num_threads", "set_local_num_threads", "get_local_num_threads"}


def exported_kernels():
    return sorted(name for name in dir(_kernels)
                  if not name.startswith("_") and callable(getattr(_kernels, name))
                  and name not in NOT_KERNELS)


# Where the kernels are tested against the reference (or the dense path).
KERNEL_TESTS = ("test_kernels.py", "test_sparse.py", "test_one_sample.py")


def test_every_exported_kernel_has_a_test():
    source = "".join((HERE / name).read_text() for name in KERNEL_TESTS)
    untested = [name for name in exported_kernels() if f"_kernels.{name}(" not in source]
    assert exported_kernels(), "the extension exports no kernels"
    assert not untested, f"kernels without a test in {KERNEL_TESTS}: {untested}"


@pytest.mark.skipif(not HEADER.exists(), reason="needs the source tree's csrc/fastmlp.h")
def test_every_c_kernel_is_wrapped_for_both_dtypes():
    text = HEADER.read_text()
    declared = re.findall(r"\b(?:int|size_t) (fm_\w+)_(f32|f64)\(", text)
    # the workspace sizes take the dtype from the network and are wrapped once
    for name in re.findall(r"\bsize_t (fm_\w+_workspace)\(", text):
        declared += [(name, "f32"), (name, "f64")]
    names = {name for name, _ in declared}
    assert names, "no kernels found in fastmlp.h"
    # the forward pass's workspace is allocated inside its wrapper
    wrapper_names = {"train_workspace": "train_workspace_size", "forward_workspace": "network_forward",
                     "network_forward_csr": "network_forward"}
    for name in names:
        assert {(name, "f32"), (name, "f64")} <= set(declared), f"{name} lacks a dtype"
        short = name[len("fm_"):]
        assert wrapper_names.get(short, short) in exported_kernels(), f"{name} has no wrapper"
