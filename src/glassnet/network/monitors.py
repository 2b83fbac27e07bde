"""Callbacks that watch a metric, with Keras's arguments and rules: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint.

Each compares the monitored value of every epoch (a key of the epoch's logs: "val_loss",
"val_accuracy", "loss", ...) with the best so far; mode "auto" maximises names containing
"acc" and minimises the others. Their counters and best values are part of fit's checkpoints.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from glassnet.checks import check_count, check_fraction
from glassnet.errors import InputError
from glassnet.network.hooks import Callback, Logs


class Monitor(Callback):
    """The comparison the monitoring callbacks share.

    Args:
        monitor: the logs key watched.
        mode: "min", "max" or "auto".
        min_delta: the smallest change that counts as an improvement.
    """

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if mode not in ("auto", "min", "max"):
            raise InputError(f'{type(self).__name__}: mode must be "auto", "min" or "max", got {mode!r}')
        self.monitor = monitor
        self.mode = ("max" if "acc" in monitor else "min") if mode == "auto" else mode
        self.min_delta = abs(check_fraction(min_delta, "min_delta", type(self).__name__, high=math.inf))
        self.best = self.worst

    @property
    def worst(self) -> float:
        return -math.inf if self.mode == "max" else math.inf

    def improved(self, current: float, reference: float) -> bool:
        """True when current beats reference by more than min_delta."""
        if self.mode == "max":
            return current - self.min_delta > reference
        return current + self.min_delta < reference

    def current(self, logs: Logs | None) -> float:
        """The monitored value of these logs, or a clear error naming the keys there are."""
        logs = logs or {}
        if self.monitor not in logs:
            raise InputError(
                f"{type(self).__name__}: monitor={self.monitor!r} is not among this epoch's metrics "
                f"({', '.join(sorted(logs))}): pass validation_data or validation_split for val_*, or monitor one "
                "of these"
            )
        return float(logs[self.monitor])


def _number(value: float) -> float | None:
    """A JSON-ready number: None for infinity (the best of a run that has not begun)."""
    return None if math.isinf(value) else float(value)


class EarlyStopping(Monitor):
    """Stop training when the monitored metric has not improved for `patience` epochs (Keras's EarlyStopping).

    Args:
        monitor: the logs key watched ("val_loss" by default).
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a line when it stops.
        mode: "min", "max" or "auto".
        baseline: training stops unless the metric beats it within `patience` epochs.
        restore_best_weights: on stopping, go back to the weights of the best epoch.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience = check_count(patience, "patience", minimum=0, owner="EarlyStopping")
        self.verbose, self.baseline, self.restore_best_weights = verbose, baseline, bool(restore_best_weights)
        self.wait, self.best_epoch, self.stopped_epoch = 0, 0, 0
        self.best_weights: list[np.ndarray] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait, self.best, self.best_epoch, self.stopped_epoch, self.best_weights = 0, self.worst, 0, 0, None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = self.current(logs)
        self.wait += 1
        if self.improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _copy_weights(self.model)
            if self.baseline is None or self.improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                _restore_weights(self.model, self.best_weights)
            if self.verbose and self.is_root:
                print(f"Epoch {epoch}: early stopping (best {self.monitor} {self.best:.4f} at epoch {self.best_epoch})")

    def get_state(self) -> dict[str, Any]:
        return {"wait": self.wait, "best": _number(self.best), "best_epoch": self.best_epoch}

    def set_state(self, state: dict[str, Any]) -> None:
        self.wait, self.best_epoch = int(state["wait"]), int(state["best_epoch"])
        self.best = self.worst if state["best"] is None else float(state["best"])


class ReduceLROnPlateau(Monitor):
    """Multiply the learning rate by `factor` when the metric has not improved for `patience` epochs (Keras's).

    Args:
        monitor: the logs key watched.
        factor: the new rate is rate * factor.
        patience: epochs without improvement before a reduction.
        verbose: 1 prints a line at each reduction.
        mode: "min", "max" or "auto".
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate never goes below this.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.factor = check_fraction(factor, "factor", "ReduceLROnPlateau", closed="()")
        self.patience = check_count(patience, "patience", minimum=0, owner="ReduceLROnPlateau")
        self.cooldown = check_count(cooldown, "cooldown", minimum=0, owner="ReduceLROnPlateau")
        self.min_lr = check_fraction(min_lr, "min_lr", "ReduceLROnPlateau", high=math.inf)
        self.verbose, self.wait, self.cooldown_counter = verbose, 0, 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self.model.schedule is not None:
            raise InputError(
                "ReduceLROnPlateau sets the learning rate, but the network follows the schedule "
                f"{self.model.schedule}: use one of them (net.schedule = None to drop the schedule)"
            )
        self.wait, self.cooldown_counter, self.best = 0, 0, self.worst

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        current = self.current(logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.improved(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                optimizer = self.model.optimizer
                if optimizer.learning_rate > self.min_lr:
                    optimizer.learning_rate = max(optimizer.learning_rate * self.factor, self.min_lr)
                    if self.verbose and self.is_root:
                        print(f"Epoch {epoch}: ReduceLROnPlateau set the learning rate to {optimizer.learning_rate:g}")
                    self.cooldown_counter, self.wait = self.cooldown, 0

    def get_state(self) -> dict[str, Any]:
        return {"wait": self.wait, "best": _number(self.best), "cooldown_counter": self.cooldown_counter}

    def set_state(self, state: dict[str, Any]) -> None:
        self.wait, self.cooldown_counter = int(state["wait"]), int(state["cooldown_counter"])
        self.best = self.worst if state["best"] is None else float(state["best"])


class ModelCheckpoint(Monitor):
    """Save the network after each epoch, or only when the monitored metric improved (Keras's ModelCheckpoint).

    Args:
        filepath: the model file; may hold fields of the epoch and its logs, e.g.
            "model-{epoch:02d}-{val_accuracy:.4f}.npz".
        monitor: the logs key watched (with save_best_only).
        verbose: 1 prints a line at each save.
        save_best_only: save only when the metric improved on the best so far.
        mode: "min", "max" or "auto".
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        mode: str = "auto",
    ) -> None:
        super().__init__(monitor, mode, 0.0)
        self.filepath, self.verbose, self.save_best_only = os.fspath(filepath), verbose, bool(save_best_only)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = self.current(logs)
            if not self.improved(current, self.best):
                return
            self.best = current
        if not self.is_root:
            return
        try:
            path = self.filepath.format(epoch=epoch, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise InputError(
                f"ModelCheckpoint: cannot fill in {self.filepath!r} from {sorted(logs)}: {error}"
            ) from None
        self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch}: saved the model to {path}")

    def get_state(self) -> dict[str, Any]:
        return {"best": _number(self.best)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.best = self.worst if state["best"] is None else float(state["best"])


def _copy_weights(net: Any) -> list[np.ndarray]:
    """Copies of every parameter value and layer buffer, in order."""
    arrays = [param.value for param in net.parameters()]
    arrays += [buffer for layer in net.layers for _, buffer in sorted(layer.buffers().items())]
    return [array.copy() for array in arrays]


def _restore_weights(net: Any, copies: list[np.ndarray]) -> None:
    """Write copies from _copy_weights back in place."""
    arrays = [param.value for param in net.parameters()]
    arrays += [buffer for layer in net.layers for _, buffer in sorted(layer.buffers().items())]
    for array, copy in zip(arrays, copies, strict=True):
        np.copyto(array, copy)
