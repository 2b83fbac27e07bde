"""GlassClassifier: a glassnet network as a scikit-learn classifier (pip install glassnet[sklearn]).

scikit-learn is imported here only, so the rest of glassnet runs without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from glassnet.checks import is_int
from glassnet.layers import Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU, Softmax
from glassnet.network.network import Network

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6

    def validate_data(estimator: Any, /, X: Any = "no_validation", y: Any = "no_validation", **kwargs: Any) -> Any:
        return estimator._validate_data(X, y, **kwargs)


Shape = tuple[int, ...]
Builder = Callable[[Shape, int], Sequence[Layer]]
ARCHITECTURES = ("mlp", "cnn")


class GlassClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn is untyped
    """A glassnet Network trained as a scikit-learn classifier, for any class labels.

    `__init__` only stores the hyper-parameters (scikit-learn's rule); `fit` checks them, maps the
    labels to 0..K-1, builds a fresh network ending in Softmax and trains it with cross-entropy.

    Args:
        architecture: "mlp" (Dense + ReLU per entry of hidden_units), "cnn" (per entry of filters:
            Conv2D 3x3 "same" + ReLU + MaxPool2D(2), then the MLP head; needs input_shape), or a
            callable build(input_shape, n_classes) -> list of gn layers giving n_classes scores
            per sample (a final Softmax is added unless the list ends with one).
        hidden_units: sizes of the hidden Dense layers of "mlp", and of the head of "cnn".
        filters: output channels of each convolution block of "cnn".
        input_shape: the shape of one sample, e.g. (8, 8, 1): each row of X (n_features values)
            is reshaped to it before the network; None keeps the rows flat (n_features,).
        epochs, learning_rate, batch_size, optimizer: as gn.Network's (optimizer "sgd", "momentum", "adam",
            "adamw", "rmsprop" or "adagrad").
        dtype: "float32" (glassnet's default, fast) or "float64" (slower; predictions that do
            not depend, even in the last bits, on which other rows share the batch).
        random_state: int, np.random.RandomState or None: seeds the weights and the shuffling.
        verbose: 0 silent, 1 a progress bar and a line per epoch, 2 a line per epoch.

    Attributes:
        network_: the fitted gn.Network.  classes_: the labels, sorted, (K,).
        n_features_in_: columns of X.  history_: network_.history (loss, accuracy per epoch).

    Shapes:
        X (n_samples, n_features) -> predict (n_samples,) labels; predict_proba (n_samples, K).

    scikit-learn's estimator checks all pass (tests/core/test_sklearn.py), but one with the default
    dtype="float32": check_methods_subset_invariance wants predict_proba on a few rows to match
    predict_proba on the whole batch within 1e-7, and float32 matrix products of different batch
    sizes differ by ~3e-7; with dtype="float64" it passes. Checks of sample_weight do not apply
    (fit takes none).
    """

    def __init__(
        self,
        architecture: str | Builder = "mlp",
        hidden_units: Sequence[int] = (100,),
        filters: Sequence[int] = (16,),
        input_shape: Sequence[int] | None = None,
        epochs: int = 50,
        learning_rate: float = 0.001,
        batch_size: int = 32,
        optimizer: str = "adam",
        dtype: str = "float32",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.architecture = architecture
        self.hidden_units = hidden_units
        self.filters = filters
        self.input_shape = input_shape
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> GlassClassifier:  # scikit-learn's names
        """Build a fresh network for X's shape and y's classes and train it; returns self."""
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"GlassClassifier needs at least two classes to learn, got one class ({classes[0]!r}) "
                "in y: give examples of every class"
            )
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f'dtype must be "float32" or "float64", got {self.dtype!r}')
        sample_shape = self._sample_shape(X.shape[1])
        layers = self._layers(sample_shape, len(classes))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        network = Network(
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            optimizer=self.optimizer,
            seed=seed,
            verbose=self.verbose,
        )
        for layer in layers:
            network.add(layer)
        for param in network.parameters():  # the network computes in its parameters' dtype
            param.value = param.value.astype(self.dtype)
        network.use("cross_entropy")
        network.fit(self._reshape(X, sample_shape), codes.astype(np.int64))
        self.classes_ = classes
        self.network_ = network
        self.history_ = network.history
        self.loss_curve_ = list(network.history["loss"])  # MLPClassifier's name: the loss after each epoch
        return self

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once a fit has finished (a failed fit leaves n_features_in_ but no network_)."""
        return hasattr(self, "network_")

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class, columns in the order of classes_.

        Shapes:
            X (n_samples, n_features) -> (n_samples, K) float64, rows summing to 1.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        probs = self.network_.predict(self._reshape(X, self._sample_shape(X.shape[1]))).astype(np.float64)
        return np.asarray(probs / probs.sum(axis=1, keepdims=True))  # exact sums in float64

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The log of predict_proba (-inf where a probability is exactly 0).

        Shapes:
            X (n_samples, n_features) -> (n_samples, K) float64.
        """
        with np.errstate(divide="ignore"):
            logs: np.ndarray = np.log(self.predict_proba(X))
        return logs

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class label of each sample.

        Shapes:
            X (n_samples, n_features) -> (n_samples,) with classes_'s dtype.
        """
        winners = self.predict_proba(X).argmax(axis=1)  # checks that it is fitted first
        return np.asarray(self.classes_[winners])

    # Building -----------------------------------------------------------------------------------

    def _sample_shape(self, n_features: int) -> Shape:
        """One sample's shape for the network: input_shape, checked against n_features."""
        if self.input_shape is None:
            return (n_features,)
        shape = tuple(self.input_shape)
        if not shape or not all(is_int(d) and d > 0 for d in shape):
            raise ValueError(
                f"input_shape must be a tuple of positive ints such as (8, 8, 1), got {self.input_shape!r}"
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"input_shape={shape} holds {math.prod(shape)} values, but X has {n_features} features: "
                "give a shape whose product is the number of columns of X"
            )
        return tuple(int(d) for d in shape)

    @staticmethod
    def _reshape(X: np.ndarray, shape: Shape) -> np.ndarray:
        return X.reshape(len(X), *shape)  # (n_samples, *input_shape)

    def _layers(self, shape: Shape, n_classes: int) -> list[Layer]:
        """The layers for this architecture, ending in Softmax."""
        if callable(self.architecture):
            layers = list(self.architecture(shape, n_classes))
            if not layers or not all(isinstance(layer, Layer) for layer in layers):
                raise TypeError(
                    f"architecture(input_shape, n_classes) must return a non-empty list of gn layers, got {layers!r}"
                )
        elif self.architecture == "mlp":
            layers = _mlp(shape, n_classes, _sizes(self.hidden_units, "hidden_units"))
        elif self.architecture == "cnn":
            layers = _cnn(shape, n_classes, _sizes(self.filters, "filters"), _sizes(self.hidden_units, "hidden_units"))
        else:
            raise ValueError(
                f"architecture must be one of {ARCHITECTURES} or a callable build(input_shape, n_classes), "
                f"got {self.architecture!r}"
            )
        if not isinstance(layers[-1], Softmax):
            layers.append(Softmax())
        return layers


def _sizes(values: object, name: str) -> list[int]:
    """A sequence of positive ints (layer widths, filter counts), or a clear error."""
    if is_int(values):
        values = (values,)
    if not isinstance(values, (tuple, list)) or not all(is_int(v) and v > 0 for v in values):
        raise ValueError(f"{name} must be a tuple of positive ints such as (100,), got {values!r}")
    return [int(v) for v in values]


def _mlp(shape: Shape, n_classes: int, hidden: list[int], layers: list[Layer] | None = None) -> list[Layer]:
    """[Flatten] (Dense, ReLU) per hidden size, then Dense to the class scores."""
    layers = [] if layers is None else layers
    if len(shape) != 1:
        layers.append(Flatten())
    width = math.prod(shape)
    for units in hidden:
        layers += [Dense(width, units), ReLU()]
        width = units
    layers.append(Dense(width, n_classes))
    return layers


def _cnn(shape: Shape, n_classes: int, filters: list[int], hidden: list[int]) -> list[Layer]:
    """(Conv2D 3x3 same, ReLU, MaxPool2D 2) per filter count, then the MLP head."""
    if len(shape) != 3:
        raise ValueError(
            f'architecture="cnn" needs images: set input_shape=(height, width, channels), got sample shape {shape}'
        )
    height, width, channels = shape
    layers: list[Layer] = []
    for count in filters:
        layers += [Conv2D(channels, count, 3, padding="same"), ReLU()]
        if height >= 2 and width >= 2:
            layers.append(MaxPool2D(2))
            height, width = height // 2, width // 2
        channels = count
    return _mlp((height, width, channels), n_classes, hidden, layers)
