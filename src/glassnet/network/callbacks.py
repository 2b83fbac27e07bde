"""gn.callbacks: hooks that fit calls around training, each epoch and each batch, with Keras's names.

The base class and the simple callbacks are in glassnet.network.hooks, those that watch a metric
in glassnet.network.monitors; this module gathers them as the public `gn.callbacks`.
"""

from glassnet.network.hooks import Callback, CSVLogger, LambdaCallback
from glassnet.network.monitors import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "LambdaCallback", "ModelCheckpoint", "ReduceLROnPlateau"]
