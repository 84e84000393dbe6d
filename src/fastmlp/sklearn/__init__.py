"""scikit-learn estimators wrapping `fastmlp.Network`: `FastMLPClassifier`, `FastMLPRegressor`.

Needs scikit-learn 1.6 or later: ``pip install 'fastmlp[sklearn]'``.
"""
try:
    import sklearn as _sklearn  # noqa: F401
except ImportError:
    raise ImportError("fastmlp.sklearn needs scikit-learn: pip install 'fastmlp[sklearn]'") from None

from ._classifier import FastMLPClassifier
from ._regressor import FastMLPRegressor

__all__ = ["FastMLPClassifier", "FastMLPRegressor"]
