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


class ModelFileError(GlassnetError, ValueError):
    """A model or checkpoint file that cannot be loaded: corrupt, foreign, or not this network's."""


class UnsaveableError(GlassnetError, ValueError):
    """A network that a model file cannot hold: a custom layer, loss or optimizer, or NaN weights."""
