"""net.check_gradients: every layer's backward and the loss's gradient checked where they run, in float64.

Each layer is checked by `gn.check_layer` on the very input it gets inside the network for this
batch (so a wrong layer is named, not only noticed through the layers before it), and the loss's
`gradient` against central differences of the loss at the network's output. The first layer
whose gradient disagrees, in input-to-output order, is the culprit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from glassnet.checks import check_count
from glassnet.errors import NotReadyError
from glassnet.layers.gradcheck import LayerState, check_layer, numerical_gradient, run_layer, sample
from glassnet.layers.verdict import GradientCheck, GradientRow, compare
from glassnet.network.data import labelled

if TYPE_CHECKING:
    from glassnet.network.network import Network


@dataclass
class NetworkGradientCheck:
    """The result of `net.check_gradients`: one GradientCheck per layer and the loss's row.

    Args:
        layers: (position, check) for each layer, input to output; position counts from 1.
        loss: the loss gradient's row.
    """

    layers: list[tuple[int, GradientCheck]] = field(default_factory=list)
    loss: GradientRow | None = None

    @property
    def ok(self) -> bool:
        """True when every layer's gradients and the loss's agree with central differences."""
        return all(check.ok for _, check in self.layers) and (self.loss is None or self.loss.ok)

    @property
    def culprit(self) -> str | None:
        """The first layer whose gradient disagrees, e.g. "layer 2: Sine()", else "the loss", else None."""
        for position, check in self.layers:
            if not check.ok:
                return f"layer {position}: {check.layer}"
        if self.loss is not None and not self.loss.ok:
            return "the loss"
        return None

    def __str__(self) -> str:
        lines = [f"  {'layer':<34} {'max rel. error':>14}  verdict"]
        for position, check in self.layers:
            worst = max(check.rows, key=lambda row: row.error, default=None)
            error = "-" if worst is None else "missing" if np.isinf(worst.error) else f"{worst.error:.1e}"
            verdict = "ok" if check.ok else "; ".join(f"{row.name}: {row.verdict}" for row in check.failures)
            lines.append(f"  {f'{position} {check.layer}':<34} {error:>14}  {verdict}")
        if self.loss is not None:
            lines.append(f"  {'loss':<34} {self.loss.error:>14.1e}  {self.loss.verdict}")
        culprit = self.culprit
        lines.append("every gradient agrees" if culprit is None else f"the first gradient that disagrees: {culprit}")
        return "gradient check of the network\n" + "\n".join(lines)

    def __repr__(self) -> str:
        return f"NetworkGradientCheck(ok={self.ok}, culprit={self.culprit!r})"


def check_network(
    net: Network, x: object, y: object, *, training: bool = False, max_elements: int = 500, seed: int = 0
) -> NetworkGradientCheck:
    """Check each layer's backward on its own input inside the network, then the loss's gradient.

    Args:
        net: a network with layers and a loss.
        x, y: a small batch, as fit takes it (a few samples are enough).
        training: check the layers in training mode (Dropout, BatchNorm with batch statistics).
        max_elements: difference at most this many elements of each array.
        seed: seed of the check's random draws.
    """
    if not net.layers or net.loss is None:
        raise NotReadyError("check_gradients needs layers and a loss: add(...) and use(...) first")
    max_elements = check_count(max_elements, "max_elements")
    data = labelled(net, x, y)
    result = NetworkGradientCheck()
    out = data.x.astype(np.float64)
    for position, layer in enumerate(net.layers, start=1):
        result.layers.append(
            (position, check_layer(layer, out, training=training, max_elements=max_elements, seed=seed))
        )
        saved = LayerState(layer)  # the forward below must not move running statistics or generators
        try:
            layer.training = training
            out = run_layer(layer, out, seed)  # the next layer's input
        finally:
            saved.restore(layer)
    targets, loss = data.targets.astype(np.float64), net.loss
    checked = sample(out.size, max_elements, np.random.default_rng(seed))
    numeric = numerical_gradient(lambda: float(loss(targets, out)), out, checked)
    result.loss = compare("loss", loss.gradient(targets, out), numeric, checked)
    return result
