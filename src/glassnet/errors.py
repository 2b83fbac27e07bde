"""glassnet's error classes: every user-facing error is one of these."""


class GlassnetError(Exception):
    """Base class of every error glassnet raises on purpose."""


class ShapeError(GlassnetError, ValueError):
    """An array's shape does not fit what a layer or the network expects."""


class InputError(GlassnetError, ValueError):
    """A value given by the user is not valid (labels, hyper-parameters, data)."""


class InputTypeError(GlassnetError, TypeError):
    """A value given by the user has the wrong type."""


class NotReadyError(GlassnetError, ValueError):
    """The network is used before it is ready (no layers, no loss)."""


class NumericalError(GlassnetError, ArithmeticError):
    """A computation overflowed to NaN or infinity (inputs or weights far too large)."""


class DivergenceError(NumericalError):
    """Training diverged to NaN or infinity; the network is back at its last good epoch.

    Args:
        message: what happened and what to try.
        epoch: the epoch (1-based, counting the whole history) that diverged.
        batch: the batch (1-based) at which it was detected.
        last_loss: the last finite batch loss, or None if there was none.
    """

    def __init__(self, message: str, epoch: int, batch: int, last_loss: float | None) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.last_loss = epoch, batch, last_loss


class ModelFileError(GlassnetError, ValueError):
    """A model or checkpoint file that cannot be loaded: corrupt, foreign, or not this network's."""


class UnsaveableError(GlassnetError, ValueError):
    """A network that a model file cannot hold: a custom layer, loss or optimizer, or NaN weights."""
