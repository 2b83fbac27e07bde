"""Losses: the article's mean squared error, and cross-entropy (fused with softmax when it can).

A Loss is called as loss(y_true, y_pred) -> float and has gradient(y_true, y_pred) -> dLoss/dy_pred,
the argument order of the article's mse(y_true, y_pred).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet.checks import check_fraction
from glassnet.errors import InputError, InputTypeError

LossFn = Callable[[np.ndarray, np.ndarray], float | np.ndarray]


class Loss:
    """Base of the losses: a name, a value and a gradient."""

    name = "loss"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """dLoss/dy_pred, the same shape as y_pred."""
        raise NotImplementedError

    def config(self) -> dict[str, float]:
        """The constructor arguments that rebuild this loss (none for most)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{type(self).__name__}({args})"


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The article's cost: the mean of (y_true - y_pred)^2 over every element."""
    return float(np.mean(np.square(y_true - y_pred)))


def mse_prime(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Its derivative with respect to y_pred: 2 (y_pred - y_true) / size."""
    grad: np.ndarray = (y_pred - y_true) * y_pred.dtype.type(2 / y_true.size)
    return grad


class MSE(Loss):
    """Mean squared error over every element of the batch (the article's cost).

    Shapes:
        y_true, y_pred (N, ...) of the same shape -> a float.
    """

    name = "mse"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return mse(y_true, y_pred)

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return mse_prime(y_true, y_pred)


class CrossEntropy(Loss):
    """Mean over the batch of -sum(y_true * log(y_pred)), y_pred being probabilities.

    For sequences (N, T, classes) the mean is over every step's distribution (N * T of them), as
    Keras and PyTorch average a per-token loss; for (N, classes) that is the batch.

    After a Softmax layer the Network calls `from_logits` instead, which is exact and stable.
    With label_smoothing e the targets become y_true * (1 - e) + e / classes (PyTorch's and
    Keras's label smoothing).

    Args:
        label_smoothing: the share of each target spread evenly over the classes, in [0, 1).

    Shapes:
        y_true (N, classes) one-hot or probabilities, y_pred (N, classes) -> a float;
        or (N, T, classes) each.
    """

    name = "cross_entropy"

    def __init__(self, label_smoothing: float = 0.0) -> None:
        self.label_smoothing = check_fraction(label_smoothing, "label_smoothing", "CrossEntropy")

    def config(self) -> dict[str, float]:
        return {"label_smoothing": self.label_smoothing} if self.label_smoothing else {}

    def smooth(self, y_true: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """The targets after label smoothing (y_true itself without it)."""
        if not self.label_smoothing:
            return y_true
        e = self.label_smoothing
        smoothed: np.ndarray = (y_true * (1 - e) + e / y_true.shape[-1]).astype(dtype, copy=False)
        return smoothed

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        log_p = np.log(np.clip(y_pred, np.finfo(y_pred.dtype).tiny, 1))
        return float(-(self.smooth(y_true, y_pred.dtype) * log_p).sum() / distributions(y_pred))

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        p = np.clip(y_pred, np.finfo(y_pred.dtype).tiny, 1)
        grad: np.ndarray = -self.smooth(y_true, y_pred.dtype) / p / y_pred.dtype.type(distributions(y_pred))
        return grad

    def loss_from_logits(self, y_true: np.ndarray, logits: np.ndarray) -> float:
        """The loss of softmax(logits), from a log-softmax that never takes log(0)."""
        return float(-(self.smooth(y_true, logits.dtype) * log_softmax(logits)).sum() / distributions(logits))

    def from_logits(self, y_true: np.ndarray, logits: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss of softmax(logits) and its gradient with respect to the logits: (p - y) / N."""
        y_true = self.smooth(y_true, logits.dtype)
        log_p = log_softmax(logits)
        grad = (np.exp(log_p) - y_true) / logits.dtype.type(distributions(logits))
        return float(-(y_true * log_p).sum() / distributions(logits)), grad


class FunctionLoss(Loss):
    """A loss made of two functions, as the article's use(mse, mse_prime).

    Args:
        fn: fn(y_true, y_pred) -> the loss.
        fn_prime: fn_prime(y_true, y_pred) -> dLoss/dy_pred.
    """

    def __init__(self, fn: LossFn, fn_prime: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
        self.fn, self.fn_prime = fn, fn_prime
        self.name = getattr(fn, "__name__", "custom")

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(self.fn(y_true, y_pred))

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn_prime(y_true, y_pred), dtype=y_pred.dtype)

    def __repr__(self) -> str:
        return f"FunctionLoss({self.name})"


LOSSES: dict[str, type[Loss]] = {"mse": MSE, "cross_entropy": CrossEntropy}


def get_loss(loss: str | Loss | LossFn, loss_prime: Callable[..., np.ndarray] | None = None) -> Loss:
    """Turn what Network.use takes (a name, a Loss, or fn and fn_prime) into a Loss."""
    if isinstance(loss, Loss) and loss_prime is None:
        return loss
    if isinstance(loss, str) and loss_prime is None:
        if loss not in LOSSES:
            raise InputError(f"unknown loss {loss!r}: use one of {sorted(LOSSES)}, a gn.Loss, or use(fn, fn_prime)")
        return LOSSES[loss]()
    if loss is mse and loss_prime is mse_prime:
        return MSE()
    if callable(loss) and callable(loss_prime):
        return FunctionLoss(loss, loss_prime)
    raise InputTypeError(
        f"use() takes a loss name ({', '.join(sorted(LOSSES))}), a gn.Loss, or two functions "
        f"(loss, loss_prime); got {type(loss).__name__} and {type(loss_prime).__name__}"
    )


def distributions(y_pred: np.ndarray) -> int:
    """How many distributions the last axis holds: N for (N, classes), N * T for (N, T, classes)."""
    return y_pred.size // y_pred.shape[-1] if y_pred.ndim else 1


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) over the last axis, shifted by the row maximum: never log(0), never overflow."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p: np.ndarray = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return log_p
