"""Resuming: a network built in code takes a checkpoint's weights, training state and card."""

from __future__ import annotations

import os

from glassnet.errors import ModelFileError
from glassnet.io.contract import SavedNetwork
from glassnet.io.model_file import PathLike, load_network
from glassnet.io.schema import describe


def resume_training(net: SavedNetwork, path: PathLike) -> None:
    """Give net the weights, optimizer, generator and history of a checkpoint of the same network.

    Args:
        net: a network built like the one that wrote the checkpoint.
        path: the checkpoint (any model file).
    """
    loaded = load_network(path)
    mine, theirs = describe(net), describe(loaded)
    for key in ("layers", "loss"):
        if mine[key] != theirs[key]:
            raise ModelFileError(
                f"{os.fspath(path)}: cannot resume, the checkpoint's {key} differ from this network's:\n"
                f"  checkpoint: {theirs[key]}\n  this network: {mine[key]}\n"
                "build the network exactly as the run that wrote the checkpoint"
            )
    if mine["optimizer"]["type"] != theirs["optimizer"]["type"]:
        raise ModelFileError(
            f"{os.fspath(path)}: cannot resume, the checkpoint was trained with {theirs['optimizer']['type']}, "
            f"this network uses {mine['optimizer']['type']}: use the same optimizer"
        )
    for layer, stored in zip(net.layers, loaded.layers, strict=True):
        targets = layer.named_parameters()  # same architecture: the same Parameters exist in layer
        for name, param in stored.named_parameters().items():
            targets[name].value, targets[name].grad = param.value, None
        layer.set_buffers(stored.buffers())
    net.optimizer, net.rng, net.history = loaded.optimizer, loaded.rng, loaded.history
    net.card = loaded.card  # the checkpoint's fits, to which this one is appended
    net.schedule = loaded.schedule  # the run continues its schedule at the checkpoint's step
    net.augment = loaded.augment
    net.callback_states = loaded.callback_states  # fit(resume=...) gives them back to its callbacks
    net.input_shape = loaded.input_shape or net.input_shape
    net.class_names = net.class_names or loaded.class_names
    for layer in net.layers:
        layer.initialize(net.rng)  # Dropout takes the restored generator; parameters exist, none is drawn
