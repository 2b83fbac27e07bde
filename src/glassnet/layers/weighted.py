"""Weighted: what Dense and Conv2D share, a weight drawn at initialisation and a bias of zeros."""

from __future__ import annotations

import numpy as np

from glassnet.initializers import check_init, draw_weight, glorot_to_he_factor
from glassnet.layers.base import Layer, created
from glassnet.parameter import Parameter


class Weighted(Layer):
    """A layer with `weight` (drawn by `init`) and `bias` (zeros, one per output), created at
    initialisation: when added to a Network, or at the first forward of a layer used alone.

    A subclass sets `init` and `fans` in its constructor and declares its shapes (declared_shapes).
    """

    init: str
    fans: tuple[int, int]  # (fan_in, fan_out) of the weight
    weight: Parameter | None = None
    bias: Parameter | None = None
    _auto_drawn: np.ndarray | None = None  # the weight the last initialize drew by the "auto" rule

    def set_init(self, init: str) -> None:
        """Check and keep the initialisation name ("auto", "glorot" or "he")."""
        check_init(init, type(self).__name__)
        self.init = init

    @property
    def initialized(self) -> bool:
        return self.weight is not None and self.bias is not None

    def initialize(self, rng: np.random.Generator) -> None:
        self._auto_drawn = None
        shapes = self.parameter_shapes()
        if self.weight is None:
            self.weight = Parameter(draw_weight(rng, self.init, shapes["weight"], *self.fans))
            if self.init == "auto":
                self._auto_drawn = self.weight.value
        if self.bias is None:
            self.bias = Parameter(np.zeros(shapes["bias"], dtype=np.float32))

    def adopt_init(self, preferred: str | None) -> None:
        """An automatic Glorot draw becomes He (scaled in place) when a ReLU-family layer follows."""
        drawn, self._auto_drawn = self._auto_drawn, None
        if preferred == "he" and drawn is not None and self.weight is not None and self.weight.value is drawn:
            drawn *= np.float32(glorot_to_he_factor(*self.fans))

    def named_parameters(self) -> dict[str, Parameter]:
        named = {"weight": self.weight, "bias": self.bias}
        return {name: param for name, param in named.items() if param is not None}

    def created_parameters(self) -> tuple[Parameter, Parameter]:
        """(weight, bias), or a clear error if backward comes before any forward."""
        return created(self.weight, self, "weight"), created(self.bias, self, "bias")
