import os

import pytest
from hypothesis import settings

from fastmlp import _kernels

# CI runs a fixed, repeatable set of examples; locally hypothesis explores anew each run.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(params=_kernels.supported_isas())
def every_isa(request):
    """Run the test once per instruction-set path this CPU supports, then restore."""
    before = _kernels.get_isa()
    _kernels.set_isa(request.param)
    yield request.param
    _kernels.set_isa(before)
