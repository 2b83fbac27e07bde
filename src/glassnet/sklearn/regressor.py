"""GlassRegressor: a glassnet network as a scikit-learn regressor, with MLPRegressor's parameter names."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from glassnet.sklearn.base import GlassEstimator, validate_data
from glassnet.sklearn.stopping import Score


class GlassRegressor(RegressorMixin, GlassEstimator):  # type: ignore[misc]  # scikit-learn is untyped
    """A glassnet Network trained as a scikit-learn regressor: linear outputs, mean squared error.

    The parameters are GlassClassifier's (see its docstring), with these differences: the network
    ends with the architecture's last Dense layer (no activation), a callable architecture gets
    build(input_shape, n_targets), early_stopping watches the validation R^2 (scikit-learn's score)
    and holds out a random (not stratified) share. score(X, y) is R^2 (RegressorMixin). Targets are
    not scaled: scale y as well as X, as for MLPRegressor.

    Attributes:
        network_, n_features_in_, n_iter_, loss_curve_, best_loss_, validation_scores_,
        best_validation_score_: as GlassClassifier's; loss_curve_ holds the mean squared error.

    Shapes:
        X (n_samples, n_features), y (n_samples,) or (n_samples, n_targets) -> predict the same
        shape as y, float64.
    """

    _LOSS = "mse"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn >= 1.6's tags: y may have several columns."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self) -> dict[str, bool]:
        """scikit-learn < 1.6's tags: y may have several columns."""
        return {"multioutput": True}

    def fit(self, X: Any, y: Any) -> GlassRegressor:  # scikit-learn's names
        """Build a fresh network for X's shape and y's targets and train it; returns self."""
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], multi_output=True, y_numeric=True)
        targets = self._targets(y, first=True)
        self._fit(X, targets, targets.shape[1], stratify=None)
        return self

    def partial_fit(self, X: Any, y: Any) -> GlassRegressor:
        """Train one epoch on (X, y), keeping the weights (the first call builds the network)."""
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], multi_output=True, y_numeric=True, reset=first)
        targets = self._targets(y, first)
        self._partial_fit(X, targets, targets.shape[1], first)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted targets of each sample.

        Shapes:
            X (n_samples, n_features) -> (n_samples,) when fitted on 1-D y, else (n_samples, n_targets).
        """
        out = self._outputs(X)
        return out.reshape(-1) if self.n_outputs_ == 1 and self._flat_y else out  # (n_samples,)

    def _targets(self, y: np.ndarray, first: bool) -> np.ndarray:
        """y as (n_samples, n_targets) float in the training dtype; records its shape on the first call."""
        targets = y.reshape(len(y), -1).astype(self.dtype if self.dtype == "float64" else np.float32)  # (n, n_targets)
        if first:
            self.n_outputs_, self._flat_y = targets.shape[1], y.ndim == 1
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} targets per sample, but this regressor was first fitted on "
                f"{self.n_outputs_}: call fit to start over with a new number of targets"
            )
        return targets

    def _scorer(self, x: np.ndarray, targets: np.ndarray) -> Score:
        """R^2 on the validation set (averaged over the targets, as score)."""
        return lambda net, logs: float(r2_score(targets, net.predict(x)))
