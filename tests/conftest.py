import os

from hypothesis import settings

# CI runs a fixed, repeatable set of examples; locally hypothesis explores anew each run.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
