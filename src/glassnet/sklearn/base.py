"""GlassEstimator: what GlassClassifier and GlassRegressor share (parameters, training, float64 predictions)."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from glassnet.checks import check_count, check_fraction, is_real
from glassnet.layers import Layer
from glassnet.network.network import Network
from glassnet.optimizers import Optimizer, get_optimizer
from glassnet.sklearn.architectures import Builder, build_layers, sample_shape
from glassnet.sklearn.stopping import Score, StallRule

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6

    def validate_data(estimator: Any, /, X: Any = "no_validation", y: Any = "no_validation", **kwargs: Any) -> Any:
        return estimator._validate_data(X, y, **kwargs)


__all__ = ["GlassEstimator", "validate_data"]


class GlassEstimator(BaseEstimator):  # type: ignore[misc]  # scikit-learn is untyped
    """The parameters and training loop of GlassClassifier and GlassRegressor (their docstrings say what each means).

    Subclasses give `_LOSS`, `_last_layers(layers)` and `_scorer(x_val, targets_val)`.
    """

    _LOSS = "mse"

    def __init__(
        self,
        architecture: str | Builder = "mlp",
        hidden_layer_sizes: Sequence[int] = (100,),
        filters: Sequence[int] = (16,),
        input_shape: Sequence[int] | None = None,
        max_iter: int = 50,
        learning_rate_init: float = 0.001,
        batch_size: int = 32,
        optimizer: str | Optimizer = "adam",
        alpha: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        dtype: str = "float32",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.filters = filters
        self.input_shape = input_shape
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.alpha = alpha
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once a fit (or a partial_fit) has finished; a failed fit leaves no network_."""
        return hasattr(self, "network_")

    # Training -----------------------------------------------------------------------------------

    def _fit(self, X: np.ndarray, targets: np.ndarray, n_outputs: int, stratify: np.ndarray | None) -> None:
        """Build a fresh network and train it up to max_iter epochs, stopping as MLPClassifier does."""
        max_iter = check_count(self.max_iter, "max_iter")
        patience = check_count(self.n_iter_no_change, "n_iter_no_change")
        if not (is_real(self.tol) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0 such as 1e-4, got {self.tol!r}")
        rng = check_random_state(self.random_state)
        x = X.reshape(len(X), *sample_shape(self.input_shape, X.shape[1]))  # (n_samples, *input_shape)
        validation: tuple[np.ndarray, np.ndarray] | None = None
        if self.early_stopping:
            fraction = check_fraction(self.validation_fraction, "validation_fraction", low=0.0, closed="()")
            x, x_val, targets, targets_val = train_test_split(
                x, targets, test_size=fraction, random_state=rng.randint(np.iinfo(np.int32).max), stratify=stratify
            )
            validation = (x_val, targets_val)
        network = self._network(x, n_outputs, rng)
        rule = StallRule(patience, float(self.tol), None if validation is None else self._scorer(*validation))
        network.fit(x, targets, epochs=max_iter, validation_data=validation, callbacks=[rule])
        rule.restore_best(network)  # early stopping keeps the weights of the best validation score
        self.network_ = network
        self.history_ = network.history
        self.loss_curve_ = list(network.history["loss"])
        self.n_iter_ = len(self.loss_curve_)
        self.best_loss_ = None if self.early_stopping else rule.best_loss
        self.validation_scores_ = rule.scores if self.early_stopping else None
        self.best_validation_score_ = rule.best_score if self.early_stopping else None

    def _partial_fit(self, X: np.ndarray, targets: np.ndarray, n_outputs: int, first: bool) -> None:
        """One epoch over (X, targets), on a network built at the first call and kept after."""
        x = X.reshape(len(X), *sample_shape(self.input_shape, X.shape[1]))  # (n_samples, *input_shape)
        if first:
            network = self._network(x, n_outputs, check_random_state(self.random_state))
            self.loss_curve_, self.n_iter_ = [], 0
            self.best_loss_, self.validation_scores_, self.best_validation_score_ = math.inf, None, None
        else:
            network = self.network_
        network.fit(x, targets, epochs=1)
        self.network_ = network
        self.history_ = network.history
        self.loss_curve_.append(network.history["loss"][-1])
        self.n_iter_ += 1
        best = math.inf if self.best_loss_ is None else self.best_loss_  # None after a fit with early stopping
        self.best_loss_ = min(best, self.loss_curve_[-1])

    def _network(self, x: np.ndarray, n_outputs: int, rng: np.random.RandomState) -> Network:
        """A fresh network for samples like x's, its optimizer and loss set, in self.dtype."""
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f'dtype must be "float32" or "float64", got {self.dtype!r}')
        if not (is_real(self.alpha) and math.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0 such as 1e-4 (the L2 penalty), got {self.alpha!r}")
        layers = build_layers(self.architecture, tuple(x.shape[1:]), n_outputs, self.hidden_layer_sizes, self.filters)
        batch_size = check_count(self.batch_size, "batch_size")
        network = Network(
            epochs=1,
            learning_rate=check_positive_rate(self.learning_rate_init),
            batch_size=batch_size,
            optimizer=self._optimizer(min(batch_size, len(x))),
            seed=int(rng.randint(np.iinfo(np.int32).max)),
            verbose=self.verbose,
        )
        for layer in layers + self._last_layers(layers):
            network.add(layer)
        for param in network.parameters():  # the network computes in its parameters' dtype
            param.value = param.value.astype(self.dtype)
        network.use(self._LOSS)
        return network

    def _optimizer(self, batch: int) -> str | Optimizer:
        """The optimizer, with weight_decay = alpha / batch when alpha > 0 (see the class docstring)."""
        if isinstance(self.optimizer, Optimizer):
            optimizer: str | Optimizer = copy.deepcopy(self.optimizer)  # never train the parameter itself
        else:
            optimizer = self.optimizer
        if not self.alpha:
            return optimizer
        built = get_optimizer(optimizer, check_positive_rate(self.learning_rate_init))
        if not hasattr(built, "weight_decay"):
            raise ValueError(f"alpha > 0 needs an optimizer with weight_decay, got {type(built).__name__}")
        built.weight_decay = float(self.alpha) / batch
        return built

    # Predicting ---------------------------------------------------------------------------------

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's outputs for X, computed in float64 so that no row depends on the others.

        Shapes:
            X (n_samples, n_features) -> (n_samples, n_outputs) float64.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        x = X.reshape(len(X), *sample_shape(self.input_shape, X.shape[1])).astype(np.float64)  # (n, *input_shape)
        network = self.network_
        if network.dtype != np.float64:  # float32 products vary with a row's neighbours: GlassClassifier's docstring
            network = copy.deepcopy(network)
            for param in network.parameters():
                param.value = param.value.astype(np.float64)  # exact: every float32 is a float64
        return np.asarray(network.predict(x), dtype=np.float64)

    # For subclasses -----------------------------------------------------------------------------

    def _last_layers(self, layers: list[Layer]) -> list[Layer]:
        """Layers to append after the architecture's (the classifier's Softmax)."""
        return []

    def _scorer(self, x: np.ndarray, targets: np.ndarray) -> Score:
        """score(net, logs): what early stopping watches on the validation set (accuracy, R^2)."""
        raise NotImplementedError


def check_positive_rate(rate: object) -> float:
    """learning_rate_init as a positive number, or a clear error."""
    if is_real(rate) and math.isfinite(rate) and rate > 0:
        return float(rate)
    raise ValueError(f"learning_rate_init must be a positive finite number such as 0.001, got {rate!r}")
