"""The callback hooks: what fit calls around training, each epoch and each batch (Keras's names).

A callback subclasses `Callback` and overrides any of on_train_begin(logs), on_epoch_begin(epoch,
logs), on_train_batch_begin(batch, logs), on_train_batch_end(batch, logs), on_epoch_end(epoch, logs)
and on_train_end(logs); `self.model` is the network. Epochs count from 1, as glassnet's history and
progress lines do (Keras counts from 0); batches count from 0 within an epoch. A plain function
f(net, epoch, logs) still works: it is called at each epoch's end, as before.

A callback with state (a best value, a patience counter) returns it from `get_state()` as
JSON-ready numbers and takes it back in `set_state(state)`: fit's checkpoints store it, and
`fit(resume=...)` gives it back to the callbacks of the same types in the same places.
The monitors (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint) are in glassnet.network.monitors.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from glassnet.errors import InputTypeError

if TYPE_CHECKING:
    from glassnet.network.network import Network

Logs = dict[str, float]
EpochFunction = Callable[["Network", int, Logs], Any]


class Callback:
    """Base of the callbacks: every hook does nothing until overridden; `self.model` is the network."""

    model: Network
    is_root = True  # False on the MPI processes other than rank 0: they write no files

    def set_model(self, model: Network) -> None:
        """Called by fit before training begins."""
        self.model = model

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Before the first epoch of a fit."""

    def on_train_end(self, logs: Logs | None = None) -> None:
        """After the last epoch of a fit (also when stopped early)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Before epoch `epoch` (from 1)."""

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """After epoch `epoch`'s validation; logs holds its metrics (loss, accuracy, val_loss, ...)."""

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        """Before batch `batch` (from 0 in each epoch)."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """After batch `batch`'s optimizer step; logs holds its loss."""

    def get_state(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback: JSON-ready numbers (nothing by default)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Take back what get_state gave (after a resume)."""


class FunctionCallback(Callback):
    """A plain function f(net, epoch, logs), called at each epoch's end.

    Args:
        function: the function.
    """

    def __init__(self, function: EpochFunction) -> None:
        self.function = function

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.function(self.model, epoch, logs if logs is not None else {})


class LambdaCallback(Callback):
    """A callback made of functions, as Keras's LambdaCallback.

    Args:
        on_epoch_begin, on_epoch_end: f(epoch, logs).
        on_train_batch_begin, on_train_batch_end: f(batch, logs).
        on_train_begin, on_train_end: f(logs).
    """

    def __init__(
        self,
        on_epoch_begin: Callable[[int, Logs], Any] | None = None,
        on_epoch_end: Callable[[int, Logs], Any] | None = None,
        on_train_batch_begin: Callable[[int, Logs], Any] | None = None,
        on_train_batch_end: Callable[[int, Logs], Any] | None = None,
        on_train_begin: Callable[[Logs], Any] | None = None,
        on_train_end: Callable[[Logs], Any] | None = None,
    ) -> None:
        hooks = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
        }
        for name, hook in hooks.items():
            if hook is not None and not callable(hook):
                raise InputTypeError(f"LambdaCallback: {name} must be a function, got {type(hook).__name__}")
        self.hooks = hooks

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_begin", epoch, logs or {})

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self._call("on_epoch_end", epoch, logs or {})

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self._call("on_train_batch_begin", batch, logs or {})

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self._call("on_train_batch_end", batch, logs or {})

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._call("on_train_begin", logs or {})

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._call("on_train_end", logs or {})

    def _call(self, name: str, *args: Any) -> None:
        hook = self.hooks[name]
        if hook is not None:
            hook(*args)


class CSVLogger(Callback):
    """Append each epoch's metrics to a CSV file: a header (epoch, then the metrics), then a row per epoch.

    Args:
        filename: the file.
        separator: the column separator.
        append: add to an existing file (e.g. when resuming) instead of starting it again.
    """

    def __init__(self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False) -> None:
        self.filename, self.separator, self.append = os.fspath(filename), separator, bool(append)
        self.keys: list[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.keys = None
        if self.is_root and not self.append:
            with open(self.filename, "w", newline="", encoding="utf-8"):
                pass  # a fresh file for this run

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if not self.is_root:
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0)
        else:
            header = False
        with open(self.filename, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if header:
                writer.writerow(["epoch", *self.keys])
            writer.writerow([epoch, *(logs.get(key, "") for key in self.keys)])


class CallbackList:
    """The callbacks of one fit, called together by the training loop.

    Args:
        callbacks: Callback instances and plain functions f(net, epoch, logs).
        net: the network.
        is_root: False on the MPI processes other than rank 0.
    """

    def __init__(self, callbacks: Sequence[Callback | EpochFunction], net: Network, is_root: bool) -> None:
        self.callbacks = [c if isinstance(c, Callback) else FunctionCallback(c) for c in callbacks]
        self.net = net
        for callback in self.callbacks:
            callback.is_root = is_root
            callback.set_model(net)

    def train_begin(self, resumed: bool) -> None:
        """on_train_begin, then (resuming) the states the checkpoint kept, matched by place and type."""
        for callback in self.callbacks:
            callback.on_train_begin({})
        if resumed:
            for callback, saved in zip(self.callbacks, self.net.callback_states, strict=False):
                if saved.get("type") == type(callback).__name__:
                    callback.set_state(dict(saved["state"]))

    def epoch_begin(self, epoch: int) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, {})

    def batch_begin(self, batch: int) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_begin(batch, {})

    def batch_end(self, batch: int, loss: float) -> None:
        for callback in self.callbacks:
            callback.on_train_batch_end(batch, {"loss": loss})

    def epoch_end(self, epoch: int, logs: Logs) -> None:
        """on_epoch_end of each, then their states kept on the network for the checkpoint."""
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)
        self.net.callback_states = [
            {"type": type(callback).__name__, "state": callback.get_state()} for callback in self.callbacks
        ]

    def train_end(self) -> None:
        for callback in self.callbacks:
            callback.on_train_end({})


def check_callbacks(callbacks: object) -> list[Callback | EpochFunction]:
    """A list of Callbacks and functions callback(net, epoch, logs), checked now rather than after an epoch.

    Args:
        callbacks: what the user gave.
    """
    if callable(callbacks) or not isinstance(callbacks, Sequence) or isinstance(callbacks, str):
        raise InputTypeError(
            f"callbacks must be a list of functions callback(net, epoch, logs) or gn.callbacks, got "
            f"{type(callbacks).__name__}: pass callbacks=[my_callback]"
        )
    for index, callback in enumerate(callbacks):
        if isinstance(callback, type):
            raise InputTypeError(f"callbacks[{index}] is the class {callback.__name__}: write {callback.__name__}()")
        if not isinstance(callback, Callback) and not callable(callback):
            raise InputTypeError(
                f"callbacks[{index}] must be a function callback(net, epoch, logs) or a gn.callbacks.Callback, "
                f"got {type(callback).__name__}"
            )
    return list(callbacks)
