"""glassnet networks as scikit-learn estimators (pip install glassnet[sklearn]).

GlassClassifier (MLPClassifier's parameter names, cross-entropy) and GlassRegressor (MLPRegressor's,
mean squared error) pass scikit-learn's check_estimator. scikit-learn is imported in this package
only, so the rest of glassnet runs without it.
"""

from glassnet.sklearn.classifier import GlassClassifier
from glassnet.sklearn.regressor import GlassRegressor

__all__ = ["GlassClassifier", "GlassRegressor"]
