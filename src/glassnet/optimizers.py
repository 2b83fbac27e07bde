"""Optimizers: they update a list of Parameters from their gradients and know nothing of layers."""

from __future__ import annotations

import math

import numpy as np

from glassnet.checks import check_fraction, check_positive
from glassnet.errors import InputError
from glassnet.parameter import Parameter


class Optimizer:
    """Base of the optimizers: `step(params)` updates each parameter's value from its grad.

    State (velocities, moments) is kept per parameter, in the order of the list given to step.
    """

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = check_positive(learning_rate, f"{type(self).__name__} learning_rate", "0.01")
        self.state: list[dict[str, np.ndarray]] = []
        self.steps = 0

    def step(self, params: list[Parameter]) -> None:
        """Apply one update to every parameter that has a gradient."""
        if len(self.state) != len(params):
            self.state = [{} for _ in params]
        self.steps += 1
        for param, state in zip(params, self.state, strict=True):
            if param.grad is not None:
                self.update(param, param.grad, state)

    def update(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Update one parameter in place."""
        raise NotImplementedError

    def config(self) -> dict[str, float | bool]:
        """The hyper-parameters that rebuild this optimizer."""
        return {"learning_rate": self.learning_rate}


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum and L2 weight decay, as PyTorch's SGD.

    Args:
        learning_rate: the step size.
        momentum: v = momentum * v + g; the step is learning_rate * v (0: plain descent).
        nesterov: step along g + momentum * v instead of v.
        weight_decay: adds weight_decay * w to each gradient.
    """

    def __init__(
        self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0
    ) -> None:
        super().__init__(learning_rate)
        self.momentum = check_fraction(momentum, "momentum", type(self).__name__)
        if nesterov and self.momentum == 0:
            raise InputError("SGD: nesterov=True needs a momentum > 0, e.g. SGD(0.01, momentum=0.9, nesterov=True)")
        self.nesterov = bool(nesterov)
        self.weight_decay = check_fraction(weight_decay, "weight_decay", type(self).__name__, high=float("inf"))

    def update(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param.value
        if self.momentum:
            velocity = state.get("velocity")
            if velocity is None:
                velocity = state["velocity"] = grad.copy()
            else:
                velocity *= self.momentum
                velocity += grad
            grad = grad + self.momentum * velocity if self.nesterov else velocity
        param.value -= self.learning_rate * grad

    def config(self) -> dict[str, float | bool]:
        return {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's mean and square (PyTorch's Adam).

    Args:
        learning_rate: the step size.
        beta1, beta2: decay rates of the first and second moment estimates.
        eps: added to the square root of the second moment.
        weight_decay: adds weight_decay * w to each gradient (L2, not AdamW).
    """

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate)
        self.beta1 = check_fraction(beta1, "beta1", type(self).__name__)
        self.beta2 = check_fraction(beta2, "beta2", type(self).__name__)
        self.eps = check_fraction(eps, "eps", type(self).__name__, high=float("inf"))
        self.weight_decay = check_fraction(weight_decay, "weight_decay", type(self).__name__, high=float("inf"))

    def update(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param.value
        self.adam_step(param, grad, state)

    def adam_step(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """The Adam update of one parameter, its step t counted per parameter as PyTorch does."""
        if not state:
            state["m"], state["v"] = np.zeros_like(param.value), np.zeros_like(param.value)
            state["step"] = np.array(0, dtype=np.int64)
        # A model file of format 1 holds no per-parameter step: t was the optimizer's step count.
        t = int(state["step"]) + 1 if "step" in state else self.steps
        state["step"] = np.array(t, dtype=np.int64)
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        m_hat_scale = self.learning_rate / (1 - self.beta1**t)
        v_hat_scale = 1 / (1 - self.beta2**t)
        param.value -= m_hat_scale * m / (np.sqrt(v * v_hat_scale) + self.eps)

    def config(self) -> dict[str, float | bool]:
        return {
            "learning_rate": self.learning_rate,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's AdamW): w <- w * (1 - lr * weight_decay), then Adam.

    Args:
        learning_rate: the step size.
        beta1, beta2: decay rates of the first and second moment estimates.
        eps: added to the square root of the second moment.
        weight_decay: the decay rate, applied to the weights and not through the moments.
    """

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(learning_rate, beta1, beta2, eps, weight_decay)

    def update(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            param.value *= param.value.dtype.type(1 - self.learning_rate * self.weight_decay)
        self.adam_step(param, grad, state)


class RMSprop(Optimizer):
    """RMSprop: steps divided by a running root mean square of the gradient (PyTorch's RMSprop).

    Args:
        learning_rate: the step size.
        alpha: decay rate of the mean square.
        eps: added to its square root.
        momentum: b = momentum * b + g / rms; the step is learning_rate * b (0: none).
        centered: divide by the gradient's running standard deviation instead of its rms.
        weight_decay: adds weight_decay * w to each gradient.
    """

    def __init__(
        self,
        learning_rate: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate)
        self.alpha = check_fraction(alpha, "alpha", type(self).__name__)
        self.eps = check_fraction(eps, "eps", type(self).__name__, high=float("inf"))
        self.momentum = check_fraction(momentum, "momentum", type(self).__name__)
        self.centered = bool(centered)
        self.weight_decay = check_fraction(weight_decay, "weight_decay", type(self).__name__, high=float("inf"))

    def update(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param.value
        if not state:
            state["square_avg"] = np.zeros_like(param.value)
            if self.centered:
                state["grad_avg"] = np.zeros_like(param.value)
            if self.momentum:
                state["momentum_buffer"] = np.zeros_like(param.value)
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * grad * grad
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg *= self.alpha
            grad_avg += (1 - self.alpha) * grad
            rms = np.sqrt(square_avg - grad_avg * grad_avg) + self.eps
        else:
            rms = np.sqrt(square_avg) + self.eps
        if self.momentum:
            buffer = state["momentum_buffer"]
            buffer *= self.momentum
            buffer += grad / rms
            param.value -= self.learning_rate * buffer
        else:
            param.value -= self.learning_rate * grad / rms

    def config(self) -> dict[str, float | bool]:
        return {
            "learning_rate": self.learning_rate,
            "alpha": self.alpha,
            "eps": self.eps,
            "momentum": self.momentum,
            "centered": self.centered,
            "weight_decay": self.weight_decay,
        }


class Adagrad(Optimizer):
    """Adagrad: steps divided by the root of the sum of every squared gradient so far (PyTorch's Adagrad).

    Args:
        learning_rate: the step size.
        initial_accumulator_value: the sum's starting value.
        eps: added to its square root.
        weight_decay: adds weight_decay * w to each gradient.
    """

    def __init__(
        self,
        learning_rate: float = 1e-2,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate)
        self.initial_accumulator_value = check_fraction(
            initial_accumulator_value, "initial_accumulator_value", type(self).__name__, high=float("inf")
        )
        self.eps = check_fraction(eps, "eps", type(self).__name__, high=float("inf"))
        self.weight_decay = check_fraction(weight_decay, "weight_decay", type(self).__name__, high=float("inf"))

    def update(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param.value
        if not state:
            state["sum"] = np.full_like(param.value, self.initial_accumulator_value)
        total = state["sum"]
        total += grad * grad
        param.value -= self.learning_rate * grad / (np.sqrt(total) + self.eps)

    def config(self) -> dict[str, float | bool]:
        return {
            "learning_rate": self.learning_rate,
            "initial_accumulator_value": self.initial_accumulator_value,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


NAMED: dict[str, tuple[type[Optimizer], dict[str, float]]] = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "rmsprop": (RMSprop, {}),
    "adagrad": (Adagrad, {}),
}


def get_optimizer(optimizer: str | Optimizer, learning_rate: float) -> Optimizer:
    """Build an optimizer from a name ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad") with the rate."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer in NAMED:
        cls, options = NAMED[optimizer]
        return cls(learning_rate, **options)
    raise InputError(
        f"unknown optimizer {optimizer!r}: use one of {', '.join(map(repr, NAMED))} or a gn.optimizers instance"
    )


def clip_by_global_norm(params: list[Parameter], max_norm: float) -> float:
    """Scale every gradient by max_norm / norm when their global L2 norm exceeds max_norm; returns the norm.

    As torch.nn.utils.clip_grad_norm_: the norm is that of all gradients as one vector, and the
    scale is max_norm / (norm + 1e-6).

    Args:
        params: the parameters whose grad is clipped (those without one are skipped).
        max_norm: the largest global norm allowed.
    """
    grads = [param.grad for param in params if param.grad is not None]
    norm = math.sqrt(sum(float(np.dot(grad.ravel(), grad.ravel())) for grad in grads))
    scale = max_norm / (norm + 1e-6)
    if scale < 1:
        for param in params:
            if param.grad is not None:
                param.grad = param.grad * param.grad.dtype.type(scale)
    return norm
