"""Plan: a network's layers as they run, built once per fit, predict or evaluate; it owns both fusions.

Two pairs of layers run as one step, with the same values and gradients as run apart:

- Softmax as the last layer with the cross-entropy loss: the forward pass stops at the logits
  and the loss and its gradient (softmax - y) are computed from them, stable for any logits.
  The Softmax layer's own forward and backward are then not called in training or evaluate.
- ReLU directly followed by MaxPool2D, while `net.fuse_relu_pool` is True (the default):
  max-pooling after a ReLU equals a ReLU after max-pooling, ties included (the gradient still
  goes to the first maximum of the window, and nowhere when it is not positive). The fused step
  does the ReLU's work on the pooled tensor, PH*PW times smaller; the ReLU layer's attributes
  (such as `.y`) are then not updated. Only ReLU and MaxPool2D themselves are fused, never
  subclasses, so a customised layer always runs its own code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import cast

import numpy as np

from glassnet.layers.activations import ReLU, Softmax
from glassnet.layers.base import Layer
from glassnet.layers.pooling import MaxPool2D
from glassnet.losses import CrossEntropy, Loss
from glassnet.metrics import to_labels
from glassnet.network.numerics import overflow_error, quiet
from glassnet.network.targets import check_output_shape


class ReLUMaxPool:
    """A ReLU and the MaxPool2D right after it, run as one step by MaxPool2D.forward_relu.

    Shapes:
        input (N, H, W, C) -> output (N, OH, OW, C), as the MaxPool2D.
    """

    def __init__(self, relu: ReLU, pool: MaxPool2D) -> None:
        self.relu = relu
        self.pool = pool

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.pool.forward_relu(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return self.pool.backward(grad)

    def __repr__(self) -> str:
        return f"ReLUMaxPool({self.relu!r}, {self.pool!r})"


Step = Layer | ReLUMaxPool


def fuse(layers: Sequence[Layer]) -> list[Step]:
    """The steps that run `layers`: each ReLU directly followed by a MaxPool2D becomes one."""
    steps: list[Step] = []
    for layer in layers:
        previous = steps[-1] if steps else None
        if type(layer) is MaxPool2D and type(previous) is ReLU:
            steps[-1] = ReLUMaxPool(previous, layer)
        else:
            steps.append(layer)
    return steps


def leading_layers(layers: Sequence[Layer]) -> list[Layer]:
    """The layers whose input gradient training never needs: glassnet's parameter-free layers at the
    start (Flatten, activations, pooling) and the first layer after them (a Dense: 1/3 of an MLP's
    backward products is the input gradient nothing reads). A layer used again later is left out.
    """
    leading: list[Layer] = []
    for layer in layers:
        leading.append(layer)
        if layer.parameters() or not type(layer).__module__.startswith("glassnet.layers."):
            break  # parameters, or a custom layer (it may update weights of its own in backward)
    return [layer for layer in leading if all(layer is not other for other in layers[len(leading) :])]


class Plan:
    """The steps that run a network's layers, for training (to the loss) and for predictions.

    Args:
        layers: the network's layers, input to output.
        loss: its loss, or None (predict only).
        fuse_relu_pool: run each ReLU + MaxPool2D pair as one step.
    """

    def __init__(self, layers: Sequence[Layer], loss: Loss | None, fuse_relu_pool: bool = True) -> None:
        self.layers = list(layers)
        self.loss = loss
        self.from_logits = isinstance(loss, CrossEntropy) and bool(layers) and isinstance(layers[-1], Softmax)
        arrange = fuse if fuse_relu_pool else list
        self.output_steps = arrange(self.layers)  # every layer: what predict returns
        self.loss_steps = arrange(self.layers[:-1]) if self.from_logits else self.output_steps

    # Modes --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def training(self) -> Iterator[None]:
        """Layers in training mode (Dropout drops, BatchNorm uses batch statistics) until the end."""
        self._set_training(True)
        try:
            yield
        finally:
            self._set_training(False)

    def _set_training(self, training: bool) -> None:
        for layer in self.layers:
            layer.training = training
        for layer in leading_layers(self.layers):  # nobody needs dLoss/dData in fit
            layer.needs_input_grad = not training

    # One batch ----------------------------------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The output the loss takes: the logits when the Softmax is fused into the loss."""
        for step in self.loss_steps:
            x = step.forward(x)
        return x

    def loss_and_grad(self, targets: np.ndarray, out: np.ndarray) -> tuple[float, np.ndarray]:
        """The batch's loss and its gradient with respect to `out` (from forward)."""
        loss = self._loss()
        if self.from_logits:
            return cast(CrossEntropy, loss).from_logits(targets, out)
        return loss(targets, out), loss.gradient(targets, out)

    def loss_value(self, targets: np.ndarray, out: np.ndarray) -> float:
        """The batch's loss alone (evaluate)."""
        loss = self._loss()
        return cast(CrossEntropy, loss).loss_from_logits(targets, out) if self.from_logits else loss(targets, out)

    def backward(self, grad: np.ndarray) -> None:
        """Back through the steps: each layer's parameter gradients are set."""
        for step in reversed(self.loss_steps):
            grad = step.backward(grad)  # type: ignore[assignment]
            if grad is None:  # from the last of leading_layers: the steps before it hold no parameters
                return

    def _loss(self) -> Loss:
        if self.loss is None:
            raise ValueError("this Plan was built without a loss")  # built by Network, which checks first
        return self.loss

    # Whole arrays -------------------------------------------------------------------------------

    def predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        """The last layer's outputs for every sample, batch by batch, in inference mode."""
        self._set_training(False)
        with quiet():
            out = np.concatenate([self._outputs(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
        return out

    def _outputs(self, x: np.ndarray) -> np.ndarray:
        for step in self.output_steps:
            x = step.forward(x)
        return x

    def evaluate(
        self, x: np.ndarray, targets: np.ndarray, labels: np.ndarray | None, batch_size: int
    ) -> dict[str, float]:
        """{"loss": mean loss, "accuracy": ...} over checked inputs and targets, in inference mode."""
        self._set_training(False)
        total, correct = 0.0, 0
        with quiet():
            for i in range(0, len(x), batch_size):
                out = self.forward(x[i : i + batch_size])
                batch_targets = targets[i : i + batch_size]
                check_output_shape(out.shape[1:], batch_targets.shape)
                total += self.loss_value(batch_targets, out) * len(out)
                if labels is not None:
                    correct += int(np.count_nonzero(to_labels(out) == labels[i : i + batch_size]))
        if not np.isfinite(total):
            raise overflow_error(self.layers, x, f"evaluate got a mean loss of {total / len(x)}")
        return {"loss": total / len(x), "accuracy": correct / len(x)}
