"""GlassClassifier: a glassnet network as a scikit-learn classifier, with MLPClassifier's parameter names."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from glassnet.layers import Layer, Softmax
from glassnet.sklearn.base import GlassEstimator, validate_data
from glassnet.sklearn.stopping import Score


class GlassClassifier(ClassifierMixin, GlassEstimator):  # type: ignore[misc]  # scikit-learn is untyped
    """A glassnet Network trained as a scikit-learn classifier, for any class labels.

    `__init__` only stores the hyper-parameters (scikit-learn's rule); `fit` checks them, maps the
    labels to 0..K-1, builds a fresh network ending in Softmax and trains it with cross-entropy.
    The names shared with MLPClassifier mean what they mean there; the defaults are glassnet's.

    Args:
        architecture: "mlp" (Dense + ReLU per entry of hidden_layer_sizes), "cnn" (per entry of
            filters: Conv2D 3x3 "same" + ReLU + MaxPool2D(2), then the MLP head; needs input_shape),
            or a callable build(input_shape, n_classes) -> list of gn layers giving n_classes scores
            per sample (a final Softmax is added unless the list ends with one).
        hidden_layer_sizes: sizes of the hidden Dense layers of "mlp", and of the head of "cnn".
        filters: output channels of each convolution block of "cnn".
        input_shape: the shape of one sample, e.g. (8, 8, 1): each row of X (n_features values)
            is reshaped to it before the network; None keeps the rows flat (n_features,).
        max_iter: the most epochs fit trains (fewer when the stopping rule below ends it).
        learning_rate_init: the optimizer's learning rate (constant: there is no schedule).
        batch_size: samples per gradient step (an int; MLPClassifier's "auto" is not taken).
        optimizer: "sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad" or a gn.optimizers
            instance (copied for each fit, never trained itself).
        alpha: the L2 penalty. MLPClassifier adds alpha * ||W||^2 / (2 * n_batch) to each batch's
            loss, whose gradient is (alpha / n_batch) * W; here the optimizer adds weight_decay * w
            to every gradient with weight_decay = alpha / min(batch_size, n_samples), the same
            gradient for the weights. Unlike MLPClassifier, biases are decayed too, a short last
            batch uses the same rate, "adamw" decays decoupled, and loss_curve_ leaves the penalty
            out. alpha=0 leaves the optimizer's own weight decay (AdamW's 0.01).
        early_stopping: hold out validation_fraction of the data (stratified) and stop when the
            validation accuracy has not beaten its best by tol for more than n_iter_no_change
            epochs; the weights of the best epoch are kept. Without it, the same rule watches the
            training loss. partial_fit never stops early.
        validation_fraction: the share held out by early_stopping, in (0, 1).
        n_iter_no_change, tol: the stopping rule above (MLPClassifier's).
        dtype: "float32" (glassnet's default, fast) or "float64" (slower): the precision of training.
            Predictions are always computed in float64 (see below).
        random_state: int, np.random.RandomState or None: seeds the weights, the shuffling and the
            validation split.
        verbose: 0 silent, 1 a progress bar and a line per epoch, 2 a line per epoch.

    Attributes:
        network_: the fitted gn.Network.  classes_: the labels, sorted, (K,).
        n_features_in_: columns of X.  n_iter_: epochs trained.  loss_curve_: the loss after each.
        history_: network_.history (loss, accuracy per epoch, over every fit of this network).
        best_loss_: the lowest loss (None with early_stopping).  validation_scores_ and
        best_validation_score_: the validation accuracies and the best (None without early_stopping).

    Shapes:
        X (n_samples, n_features) -> predict (n_samples,) labels; predict_proba (n_samples, K).

    Why float64 predictions: a float32 matrix product gives a row a result that depends on the rows
    computed with it (OpenBLAS gave one row 3 different results at the 16 positions of a 16-row
    product, by ~5e-6), so float32 probabilities of a row change with the batch it is in by ~3e-7,
    above scikit-learn's 1e-7 (check_methods_subset_invariance); no fixed batching removes that.
    The trained weights are exact in float64, where those differences are ~1e-15.
    """

    _LOSS = "cross_entropy"

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
        codes = codes.reshape(-1).astype(np.int64)  # (n_samples,), whatever NumPy's shape for inverse
        self._fit(X, codes, len(classes), stratify=codes)
        self.classes_ = classes
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> GlassClassifier:
        """Train one epoch on (X, y), keeping the weights; the first call needs every label in classes."""
        first = not hasattr(self, "network_")
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: "
                "e.g. partial_fit(X, y, classes=np.unique(y_all))"
            )
        X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], reset=first)
        check_classification_targets(y)
        if classes is not None:
            classes = unique_labels(classes)
            if first and len(classes) < 2:
                raise ValueError(f"classes must hold at least two labels, got {classes.tolist()!r}")
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()!r} differs from the first call's {self.classes_.tolist()!r}: "
                    "pass the same classes, or call fit to start over"
                )
        known = classes if first else self.classes_
        unknown = np.setdiff1d(y, known)
        if len(unknown):
            raise ValueError(f"y holds labels {unknown.tolist()!r} that are not in classes {known.tolist()!r}")
        self._partial_fit(X, np.searchsorted(known, y).astype(np.int64), len(known), first)
        self.classes_ = known
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class, columns in the order of classes_.

        Shapes:
            X (n_samples, n_features) -> (n_samples, K) float64, rows summing to 1.
        """
        probs = self._outputs(X)
        return np.asarray(probs / probs.sum(axis=1, keepdims=True))

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

    def _last_layers(self, layers: list[Layer]) -> list[Layer]:
        """A Softmax, unless the architecture ends with one."""
        return [] if isinstance(layers[-1], Softmax) else [Softmax()]

    def _scorer(self, x: np.ndarray, targets: np.ndarray) -> Score:
        """The validation accuracy, which fit has already computed into logs."""
        return lambda net, logs: logs["val_accuracy"]
