"""Dropout and BatchNorm: layers that behave differently in training and in inference."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from glassnet.checks import check_fraction, check_positive, check_size
from glassnet.layers.base import DeclaredShapes, Layer, Shape, shape_error
from glassnet.parameter import Parameter


class Dropout(Layer):
    """In training, zero each element with probability `rate` and scale the rest by 1/(1-rate).

    In inference it passes its input through unchanged (inverted dropout). The random mask comes
    from the network's generator, so a seeded run is repeatable.

    Args:
        rate: the probability of dropping an element, in [0, 1).

    Shapes:
        input (N, ...) -> output (N, ...).
    """

    def __init__(self, rate: float) -> None:
        self.rate = check_fraction(rate, "rate", "Dropout")
        self.rng: np.random.Generator | None = None

    @property
    def initialized(self) -> bool:
        return self.rng is not None

    def initialize(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        if not self.training or self.rate == 0:
            self.mask = None
            return x
        rng = cast(np.random.Generator, self.rng)  # prepare_input created it
        keep = rng.random(x.shape, dtype=np.float32) >= self.rate
        self.mask = keep * x.dtype.type(1 / (1 - self.rate))
        y: np.ndarray = x * self.mask
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad if self.mask is None else grad * self.mask

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"


class BatchNorm(Layer):
    """Normalise each feature (or channel) over the batch, then scale by gamma and shift by beta.

    Training uses the batch's mean and (biased) variance and updates the running statistics
    (running = (1 - momentum) * running + momentum * batch, the variance unbiased, as PyTorch);
    inference uses the running statistics.

    Args:
        num_features: features of (N, F) input, or channels C of (N, H, W, C) images.
        eps: added to the variance before the square root.
        momentum: weight of the new batch in the running statistics.

    Shapes:
        input (N, F) or (N, H, W, C) -> the same shape; gamma, beta (F,) or (C,).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        self.num_features = check_size(num_features, "num_features", "BatchNorm")
        self.eps = check_positive(eps, "eps", "1e-5", "BatchNorm")
        self.momentum = check_fraction(momentum, "momentum", "BatchNorm", closed="[]")
        self.gamma = Parameter(np.ones(self.num_features, dtype=np.float32))
        self.beta = Parameter(np.zeros(self.num_features, dtype=np.float32))
        self.running_mean = np.zeros(self.num_features, dtype=np.float32)
        self.running_var = np.ones(self.num_features, dtype=np.float32)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        expected = f"(N, {self.num_features}) or (N, H, W, {self.num_features})"
        if input_shape is None:
            return None
        if len(input_shape) not in (1, 3):
            raise shape_error(self, expected, input_shape, "BatchNorm takes features (N, F) or images (N, H, W, C)")
        if input_shape[-1] not in (None, self.num_features):
            fix = f"the input has {input_shape[-1]} features/channels: use BatchNorm({input_shape[-1]})"
            raise shape_error(self, expected, input_shape, fix)
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        axes = tuple(range(x.ndim - 1))  # every axis but the features/channels
        if self.training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            count = x.size // self.num_features
            self._update_running(mean, var * (count / max(count - 1, 1)))
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
        self.inv_std = 1 / np.sqrt(var + x.dtype.type(self.eps))
        self.x_hat = (x - mean) * self.inv_std
        self.was_training = self.training
        y: np.ndarray = self.x_hat * self.gamma.value.astype(x.dtype) + self.beta.value.astype(x.dtype)
        return y

    def _update_running(self, mean: np.ndarray, unbiased_var: np.ndarray) -> None:
        m = self.momentum
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(self.running_mean.dtype)
        self.running_var = ((1 - m) * self.running_var + m * unbiased_var).astype(self.running_var.dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        axes = tuple(range(grad.ndim - 1))
        self.gamma.grad = (grad * self.x_hat).sum(axis=axes).astype(self.gamma.value.dtype)
        self.beta.grad = grad.sum(axis=axes).astype(self.beta.value.dtype)
        grad_x_hat: np.ndarray = grad * self.gamma.value.astype(grad.dtype)
        if not self.was_training:  # the statistics are constants in inference
            dx: np.ndarray = grad_x_hat * self.inv_std
            return dx
        mean_grad = grad_x_hat.mean(axis=axes)
        mean_grad_x_hat = (grad_x_hat * self.x_hat).mean(axis=axes)
        dx = (grad_x_hat - mean_grad - self.x_hat * mean_grad_x_hat) * self.inv_std
        return dx

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        features = (config.get("num_features"),)
        return {"gamma": features, "beta": features}, {"running_mean": features, "running_var": features}

    def buffers(self) -> dict[str, np.ndarray]:
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum}

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features})"
