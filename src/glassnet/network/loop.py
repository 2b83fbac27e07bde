"""The training loop: epochs of mini-batches, driven through the Plan and the optimizer's public methods.

One batch, top to bottom (`train_epoch`): take the batch's indices (this process's share under
MPI), `plan.forward`, `plan.loss_and_grad`, `plan.backward`, average the gradients over
processes, `optimizer.step(params)`.

Divergence: the loss of every batch is checked (a Python float, so it costs nothing); NaN or
infinity in a gradient reaches the loss at the next batch, and every parameter is checked once at
the end of the epoch. On NaN or infinity the network goes back to a copy taken at the start of
the epoch (parameters, layer buffers, training state) and DivergenceError is raised.

Per-batch history: each batch's loss (a Python float the loop has anyway) is kept in a list; when
the epoch completes, at most BATCH_POINTS_CAP points of it (means of consecutive batches past that)
go to history["batch_loss"] and their count to history["batch_points"] (glassnet.io.state). Under
MPI each process records the loss of its own share of the batch.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from glassnet.augment import Augmentation
from glassnet.augment import prepare as prepare_augment
from glassnet.errors import DivergenceError
from glassnet.io.state import BATCH_LOSS, BATCH_POINTS, TrainingState
from glassnet.metrics import to_labels
from glassnet.network.data import Labelled, Streamed, TrainingData
from glassnet.network.doctor import Doctor
from glassnet.network.hooks import Callback, CallbackList, EpochFunction
from glassnet.network.interrupt import STOP
from glassnet.network.numerics import broken_parameter, quiet
from glassnet.network.plan import Plan
from glassnet.network.progress import RunProgress, epoch_line
from glassnet.network.targets import check_output_shape
from glassnet.optimizers import clip_by_global_norm
from glassnet.schedules import Horizon
from glassnet.threads import Setting, ThreadLog, ThreadTuner

if TYPE_CHECKING:
    from glassnet.network.distributed import Parallel
    from glassnet.network.network import Network

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds", BATCH_LOSS, BATCH_POINTS)
BATCH_POINTS_CAP = 100  # per-batch losses kept per epoch: a few hundred bytes an epoch in the model file


@dataclass
class Run:
    """How one fit trains, its arguments checked.

    Args:
        last_epoch: the number of the last epoch to train (counting the network's whole history).
        batch_size: samples per step.
        shuffle: visit the samples in a new random order each epoch.
        verbose: 0 silent, 1 a progress bar and a line per epoch, 2 a line per epoch.
        callbacks: gn.callbacks instances and functions callback(net, epoch, logs) (called after each epoch).
        checkpoint: where to save the model after each epoch, or None.
        parallel: which share of each batch this process computes, and how gradients are shared.
        horizon: steps per epoch and in the whole run, for the learning-rate schedule.
        clip_norm: the largest global L2 norm of the gradients of one step, or None (no clipping).
        resumed: fit resumes a checkpoint (the callbacks take back their saved state).
        threads: the BLAS threads: an int, "auto" (timed while training), None (as they are) or a Replay.
        thread_log: where to record the count each batch ran with (the card's "blas_threads"), or None.
        doctor: the observer that names classic failures (network/doctor.py), or None.
    """

    last_epoch: int
    batch_size: int
    shuffle: bool
    verbose: int
    callbacks: list[Callback | EpochFunction]
    checkpoint: str | os.PathLike[str] | None
    parallel: Parallel
    horizon: Horizon
    clip_norm: float | None = None
    resumed: bool = False
    threads: Setting = None
    thread_log: ThreadLog | None = None
    doctor: Doctor | None = None


def train(net: Network, plan: Plan, data: TrainingData, run: Run) -> None:
    """Train from the epoch after the network's last one to run.last_epoch, or until stop_training.

    Args:
        net: the network; its history, optimizer and generator are updated.
        plan: its layers as run.
        data: the checked training and validation data.
        run: the settings of this fit.
    """
    net.stop_training = False
    hooks = CallbackList(run.callbacks, net, run.parallel.is_root)
    if net.augment is not None:
        prepare_augment(net.augment, net.input_shape or ())
    first = len(net.history["loss"]) + 1
    progress = RunProgress(first, run.last_epoch, len(data.train), run.verbose)
    with run.parallel.session(net.layers, net.rng), tuned_threads(run.threads, run.verbose, run.thread_log) as tuner:
        hooks.train_begin(run.resumed)
        try:
            for epoch in range(first, run.last_epoch + 1):
                start = time.perf_counter()
                hooks.epoch_begin(epoch)
                progress.start_epoch(epoch)
                losses: list[float] = []
                logs = train_epoch(net, plan, data.train, run, epoch, hooks, tuner, progress, losses)
                if data.validation is not None:
                    val = data.validation
                    scores = plan.evaluate(val.x, val.targets, val.labels, max(run.batch_size, 256))
                    logs.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
                logs["seconds"] = time.perf_counter() - start
                for key in HISTORY_KEYS:
                    if key in logs:
                        net.history[key].append(logs[key])
                points = batch_points(losses)
                net.history[BATCH_LOSS] += points
                net.history[BATCH_POINTS].append(float(len(points)))
                if run.verbose:
                    progress.write(epoch_line(epoch, run.last_epoch, logs))
                if run.doctor is not None:
                    run.doctor.after_epoch(net, epoch, logs)
                hooks.epoch_end(epoch, logs)
                if run.checkpoint is not None and run.parallel.is_root:
                    net.save(run.checkpoint)
                if net.stop_training:
                    break
        finally:
            progress.close()
        hooks.train_end()


class Snapshot:
    """Copies of everything an epoch changes: parameter values, layer buffers and training state.

    Args:
        net: the network to copy.
    """

    def __init__(self, net: Network) -> None:
        self.values = [param.value.copy() for param in net.parameters()]
        self.buffers = [{key: array.copy() for key, array in layer.buffers().items()} for layer in net.layers]
        self.state = TrainingState.capture(net)

    def restore(self, net: Network) -> None:
        """Write the copies back, in place, so arrays the user holds see the restored values."""
        for param, value in zip(net.parameters(), self.values, strict=True):
            np.copyto(param.value, value)
        for layer, buffers in zip(net.layers, self.buffers, strict=True):
            current = layer.buffers()
            for key, array in buffers.items():
                np.copyto(current[key], array)
        self.state.restore(net)


def train_epoch(
    net: Network,
    plan: Plan,
    data: Labelled | Streamed,
    run: Run,
    epoch: int,
    hooks: CallbackList | None = None,
    tuner: ThreadTuner | None = None,
    progress: RunProgress | None = None,
    losses: list[float] | None = None,
) -> dict[str, float]:
    """One pass over the data in mini-batches; returns the mean loss and accuracy of its batches.

    Args:
        net: the network to train.
        plan: its layers as run.
        data: the checked training data (arrays, or a dataset object read batch by batch).
        run: the settings of this fit.
        epoch: this epoch's number, for messages and the progress bar.
        hooks: the callbacks' per-batch hooks (None: no callbacks).
        tuner: sets the BLAS threads of each batch and times it (None: leave them).
        progress: the run's progress bar (None: a silent one).
        losses: where each batch's loss is appended (None: not kept).
    """
    if STOP.requested:  # pressed while the last epoch finished: stop before drawing anything
        raise KeyboardInterrupt(f"training stopped after epoch {epoch - 1}")
    parallel, count = run.parallel, len(data)
    snapshot = Snapshot(net)
    order = net.rng.permutation(count) if run.shuffle else np.arange(count)
    params = net.parameters()
    progress = progress if progress is not None else RunProgress(epoch, epoch, count, 0)
    batches = math.ceil(count / run.batch_size)
    total_loss, correct, seen, last_loss, has_labels = 0.0, 0, 0, None, data.has_labels
    x = np.zeros(0)  # the last batch read (a dataset object's inputs are never all in memory)
    hooks = hooks if hooks is not None else CallbackList([], net, True)
    with plan.training(), quiet():
        for index, start in enumerate(range(0, count, run.batch_size), start=1):
            hooks.batch_begin(index - 1)
            if tuner is not None:
                tuner.before_batch()
                started = time.perf_counter()
            global_batch = order[start : start + run.batch_size]
            batch = parallel.shard(global_batch)
            if len(batch) == 0:  # fewer images than ranks: this rank adds nothing, but takes the same step
                if net.augment is not None:
                    net.augment.draw(net.rng, len(global_batch))  # every rank draws: the generators stay in step
                parallel.average_gradients(params, 0, len(global_batch))
            else:
                x, batch_targets, batch_labels = data.batch(batch)
                inputs = x
                if net.augment is not None:  # drawn for the whole global batch on every process
                    inputs = augmented(net.augment, net.rng, x, len(global_batch), parallel)
                out = plan.forward(inputs)
                check_output_shape(out.shape[1:], batch_targets.shape)
                value, grad = plan.loss_and_grad(batch_targets, out)
                if not math.isfinite(value):
                    snapshot.restore(net)
                    raise _diverged(net, _inputs(data, x), f"the loss became {value}", epoch, index, batches, last_loss)
                plan.backward(grad)
                parallel.average_gradients(params, len(batch), len(global_batch))
            if run.clip_norm is not None:
                clip_by_global_norm(params, run.clip_norm)
            scheduled_rate(net, run.horizon)
            try:
                net.optimizer.step(params)
            except KeyboardInterrupt:  # a half-applied step is no state to keep
                snapshot.restore(net)
                raise
            if len(batch) == 0:
                continue
            last_loss = value
            if tuner is not None:
                tuner.after_batch(time.perf_counter() - started, len(global_batch))
            hooks.batch_end(index - 1, value)
            if losses is not None:
                losses.append(float(value))
            total_loss += value * len(batch)
            seen += len(batch)
            if batch_labels is not None:
                correct += int(np.count_nonzero(to_labels(out) == batch_labels))
            accuracy = correct / seen if has_labels else None
            progress.update(len(global_batch), total_loss / seen, accuracy)
            if run.doctor is not None:
                run.doctor.after_batch(net, x, batch_targets, value, accuracy)
            if STOP.requested and index < batches:
                raise KeyboardInterrupt(
                    f"training stopped after batch {index}/{batches} of epoch {epoch}: the weights are those "
                    f"after that batch's step, net.history holds the {epoch - 1} complete epochs"
                )
    broken = broken_parameter(net.layers)
    if broken is not None:
        snapshot.restore(net)
        raise _diverged(net, _inputs(data, x), f"{broken} after its last step", epoch, batches, batches, last_loss)
    parallel.end_epoch(net.layers)
    loss_sum, correct_sum, seen_sum = parallel.sum([total_loss, correct, seen])  # over every process
    logs = {"loss": loss_sum / seen_sum}
    if has_labels:
        logs["accuracy"] = correct_sum / seen_sum
    return logs


def batch_points(losses: list[float], cap: int = BATCH_POINTS_CAP) -> list[float]:
    """An epoch's batch losses as they are, or past cap of them the means of runs of ceil(len / cap) batches."""
    size = math.ceil(len(losses) / cap)
    if size <= 1:
        return list(losses)
    return [math.fsum(losses[i : i + size]) / len(losses[i : i + size]) for i in range(0, len(losses), size)]


def augmented(
    augment: Augmentation, rng: np.random.Generator, x: np.ndarray, global_size: int, parallel: Parallel
) -> np.ndarray:
    """This process's rows of the batch, augmented with draws made for the whole global batch.

    Every process draws for all global_size samples from the network's generator, so the
    generators stay in step and each sample gets the draw it would get in one process.
    """
    drawn = augment.draw(rng, global_size)
    rows = parallel.shard(np.arange(global_size))  # this process's slice, as shard(global_batch)
    return augment.apply(x, augment.select(drawn, rows))


@contextlib.contextmanager
def tuned_threads(setting: Setting, verbose: int, log: ThreadLog | None) -> Iterator[ThreadTuner | None]:
    """The BLAS thread count of one fit (glassnet.threads), restored when it ends; None leaves BLAS alone."""
    if setting is None:
        yield None
        return
    tuner = ThreadTuner(setting, verbose, log)
    try:
        yield tuner
    finally:
        tuner.close()


def run_horizon(samples: int, batch_size: int, last_epoch: int) -> Horizon:
    """Steps per epoch and in the whole run (every epoch up to last_epoch, the history counted)."""
    steps_per_epoch = math.ceil(samples / batch_size)
    return Horizon(steps_per_epoch, steps_per_epoch * max(last_epoch, 1))


def scheduled_rate(net: Network, horizon: Horizon) -> None:
    """Set the optimizer's rate to the network's schedule at the coming step (nothing without a schedule)."""
    if net.schedule is not None:
        net.optimizer.learning_rate = net.schedule.rate(net.optimizer.steps, horizon)


def _inputs(data: Labelled | Streamed, last: np.ndarray) -> np.ndarray:
    """The inputs to scan for a hint: all of them for arrays, the last batch read for a dataset object."""
    if isinstance(data, Labelled):
        return data.x
    return last if last.size else np.zeros(1)  # a rank given no batch read nothing


def _diverged(
    net: Network, x: np.ndarray, what: str, epoch: int, batch: int, batches: int, last_loss: float | None
) -> DivergenceError:
    """The error for a run that diverged, with where, the last finite loss, and what to try."""
    last = f"the last finite batch loss was {last_loss:.4g}" if last_loss is not None else "no batch had a finite loss"
    rate = net.optimizer.learning_rate
    hint = f"lower the learning rate (now {rate:g}), e.g. fit(..., learning_rate={rate / 10:g})"
    with quiet():
        largest = float(np.abs(x).max())
    if largest > 1e3:
        hint += f", or scale the inputs (the largest |x| is {largest:.3g}) e.g. to [0, 1]"
    kept = f"its weights after epoch {epoch - 1}" if epoch > 1 else "its initial weights"
    return DivergenceError(
        f"training diverged at epoch {epoch}, batch {batch}/{batches}: {what} ({last}); the network is back "
        f"at {kept}: {hint}",
        epoch,
        batch,
        last_loss,
    )
