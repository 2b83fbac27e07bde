"""What the io wing needs of a network, as a Protocol: io never imports the network wing.

glassnet.network.network.Network satisfies it and registers itself with
glassnet.io.model_build.register_network_class, so that loading builds Networks.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from glassnet.augment import Augmentation
from glassnet.layers.base import Layer, Shape
from glassnet.losses import Loss
from glassnet.optimizers import Optimizer
from glassnet.parameter import Parameter
from glassnet.schedules import Schedule


class SavedNetwork(Protocol):
    """The attributes a model file stores or restores, and the methods loading calls."""

    epochs: int
    learning_rate: float
    batch_size: int
    seed: int | None
    verbose: int
    layers: list[Layer]
    loss: Loss | None
    optimizer: Optimizer
    schedule: Schedule | None
    augment: Augmentation | None
    rng: np.random.Generator
    history: dict[str, list[float]]
    callback_states: list[dict[str, Any]]
    input_shape: tuple[int, ...] | None
    card: dict[str, Any]
    class_names: list[str] | None

    def parameters(self) -> list[Parameter]: ...

    def use(self, loss: Any) -> Any: ...

    def layer_shapes(self, input_shape: Shape | None) -> list[Shape | None]: ...
