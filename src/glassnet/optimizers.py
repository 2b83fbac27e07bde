"""Optimizers: they update a list of Parameters from their gradients and know nothing of layers."""

from __future__ import annotations

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
        self.momentum = check_fraction(momentum, "momentum", "SGD")
        if nesterov and self.momentum == 0:
            raise InputError("SGD: nesterov=True needs a momentum > 0, e.g. SGD(0.01, momentum=0.9, nesterov=True)")
        self.nesterov = bool(nesterov)
        self.weight_decay = check_fraction(weight_decay, "weight_decay", "SGD", high=float("inf"))

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
        self.beta1 = check_fraction(beta1, "beta1", "Adam")
        self.beta2 = check_fraction(beta2, "beta2", "Adam")
        self.eps = check_fraction(eps, "eps", "Adam", high=float("inf"))
        self.weight_decay = check_fraction(weight_decay, "weight_decay", "Adam", high=float("inf"))

    def update(self, param: Parameter, grad: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param.value
        if not state:
            state["m"], state["v"] = np.zeros_like(param.value), np.zeros_like(param.value)
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        m_hat_scale = self.learning_rate / (1 - self.beta1**self.steps)
        v_hat_scale = 1 / (1 - self.beta2**self.steps)
        param.value -= m_hat_scale * m / (np.sqrt(v * v_hat_scale) + self.eps)

    def config(self) -> dict[str, float | bool]:
        return {
            "learning_rate": self.learning_rate,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


def get_optimizer(optimizer: str | Optimizer, learning_rate: float) -> Optimizer:
    """Build an optimizer from a name ("sgd", "momentum", "adam") with the network's rate."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer == "sgd":
        return SGD(learning_rate)
    if optimizer == "momentum":
        return SGD(learning_rate, momentum=0.9)
    if optimizer == "adam":
        return Adam(learning_rate)
    raise InputError(f'unknown optimizer {optimizer!r}: use "sgd", "momentum", "adam" or a gn.optimizers instance')
