"""Undoing a failed fit: everything a call to fit may change, copied before it and written back on failure.

The loop's per-epoch Snapshot (glassnet.network.loop) rolls a diverged epoch back; this copy covers
the whole call, including what fit changes before the first batch: the learning rate it was given,
a resumed checkpoint's optimizer, generator and history, the input shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from glassnet.io.state import TrainingState

if TYPE_CHECKING:
    from glassnet.network.network import Network


class CallState:
    """Copies of a network's weights, buffers, optimizer, learning rate, generator, history and input shape.

    Args:
        net: the network, before fit changes anything.
    """

    def __init__(self, net: Network) -> None:
        self.values = [(param, param.value, param.value.copy(), param.grad) for param in net.parameters()]
        self.buffers = [(layer, {key: array.copy() for key, array in layer.buffers().items()}) for layer in net.layers]
        self.layer_rngs = [(layer, layer.rng) for layer in net.layers]
        self.optimizer, self.learning_rate = net.optimizer, net.optimizer.learning_rate
        self.rng, self.input_shape = net.rng, net.input_shape
        self.state = TrainingState.capture(net)
        self.epochs = len(net.history["loss"])

    def restore(self, net: Network) -> None:
        """Put everything back as it was when the copy was taken."""
        for param, array, value, grad in self.values:
            if array.flags.writeable:
                np.copyto(array, value)  # in place: arrays the user holds see the restored values
            param.value = array if array.flags.writeable else value
            param.grad = grad
        for layer, buffers in self.buffers:
            layer.set_buffers({key: array.copy() for key, array in buffers.items()})
        for layer, rng in self.layer_rngs:
            layer.rng = rng
        net.optimizer, net.rng, net.input_shape = self.optimizer, self.rng, self.input_shape
        net.optimizer.learning_rate = self.learning_rate
        for key in net.history:
            net.history[key] = []
        self.state.restore(net)
