"""Training that is never lost: one guarded epoch, rollback on divergence, and a Ctrl-C that waits for the batch.

Divergence: the loss of every batch is checked (a Python float, so it costs nothing); NaN or
infinity in a gradient reaches the loss at the next batch, and every parameter is checked once at
the end of the epoch. On NaN or infinity the network goes back to a copy taken at the start of
the epoch (parameters, layer buffers, optimizer state, generator) and DivergenceError is raised.

Ctrl-C: while fit runs in the main thread, the first SIGINT only asks training to stop; the
current batch finishes its step and fit raises KeyboardInterrupt before the next one (a Ctrl-C
during an epoch's last batch lets that epoch finish: validation, history, callbacks,
checkpoint). A second Ctrl-C stops at once. Either way `net.interrupted` is True, the layers are
out of training mode and `net.history` holds the completed epochs only.
"""

from __future__ import annotations

import functools
import math
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from glassnet.errors import DivergenceError
from glassnet.metrics import to_labels
from glassnet.numerics import broken_parameter, quiet
from glassnet.progress import EpochProgress
from glassnet.targets import check_output_shape

if TYPE_CHECKING:
    from glassnet.distributed import Parallel
    from glassnet.losses import Loss
    from glassnet.network import Network

Fit = TypeVar("Fit", bound=Callable[..., Any])


class Snapshot:
    """Copies of everything an epoch changes: parameter values, layer buffers, optimizer state, generator.

    Args:
        net: the network to copy.
    """

    def __init__(self, net: Network) -> None:
        self.values = [param.value.copy() for param in net.parameters()]
        self.buffers = [{key: array.copy() for key, array in layer.buffers().items()} for layer in net.layers]
        self.optimizer_state = [{key: array.copy() for key, array in state.items()} for state in net.optimizer.state]
        self.optimizer_steps = net.optimizer.steps
        self.rng_state = net.rng.bit_generator.state

    def restore(self, net: Network) -> None:
        """Write the copies back, in place, so arrays the user holds see the restored values."""
        for param, value in zip(net.parameters(), self.values, strict=True):
            np.copyto(param.value, value)
        for layer, buffers in zip(net.layers, self.buffers, strict=True):
            current = layer.buffers()
            for key, array in buffers.items():
                np.copyto(current[key], array)
        net.optimizer.state = [{key: array.copy() for key, array in state.items()} for state in self.optimizer_state]
        net.optimizer.steps = self.optimizer_steps
        net.rng.bit_generator.state = self.rng_state


class _StopRequest:
    """The SIGINT handler of a running fit: the first Ctrl-C is a request, the second interrupts at once."""

    requested = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            signal.default_int_handler(signum, frame)
        self.requested = True


STOP = _StopRequest()


def interruptible(fit: Fit) -> Fit:
    """Make Network.fit stop between batches on Ctrl-C, set net.interrupted, and re-raise KeyboardInterrupt."""

    @functools.wraps(fit)
    def guarded(net: Network, *args: Any, **kwargs: Any) -> Any:
        net.interrupted = False
        install = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if install:
            STOP.requested = False
            signal.signal(signal.SIGINT, STOP.handle)
        try:
            result = fit(net, *args, **kwargs)
            if STOP.requested:  # pressed during the last epoch's last batch: that epoch is complete
                raise KeyboardInterrupt(f"training stopped after epoch {len(net.history['loss'])}")
            return result
        except KeyboardInterrupt:
            net.interrupted = True
            net._set_training(False)
            raise
        finally:
            if install:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                STOP.requested = False

    return guarded  # type: ignore[return-value]


def train_epoch(
    net: Network,
    loss: Loss,
    x: np.ndarray,
    targets: np.ndarray,
    labels: np.ndarray | None,
    batch_size: int,
    shuffle: bool,
    epoch: int,
    epochs: int,
    verbose: int,
    parallel: Parallel,
) -> dict[str, float]:
    """One pass over the data in mini-batches; returns the mean loss and accuracy of its batches.

    Args:
        net: the network to train.
        loss: its loss.
        x, targets, labels: the checked training data (labels None for N-D targets).
        batch_size: samples per step.
        shuffle: visit the samples in a new random order.
        epoch, epochs: this epoch's number and the last one's, for messages and the progress bar.
        verbose: 1 shows a progress bar.
        parallel: which share of each batch this process computes, and how gradients are shared.
    """
    if STOP.requested:  # pressed while the last epoch finished: stop before drawing anything
        raise KeyboardInterrupt(f"training stopped after epoch {epoch - 1}")
    snapshot = Snapshot(net)
    order = net.rng.permutation(len(x)) if shuffle else np.arange(len(x))
    params = net.parameters()
    progress = EpochProgress(epoch, epochs, len(x), verbose)
    batches = math.ceil(len(x) / batch_size)
    total_loss, correct, seen, last_loss = 0.0, 0, 0, None
    net._set_training(True)
    try:
        with quiet():
            for index, start in enumerate(range(0, len(x), batch_size), start=1):
                global_batch = order[start : start + batch_size]
                batch = parallel.shard(global_batch)
                out, batch_targets = net._forward(x[batch], logits=net._fused), targets[batch]
                check_output_shape(out.shape[1:], batch_targets.shape)
                value, grad = net._loss_and_grad(loss, batch_targets, out)
                if not math.isfinite(value):
                    snapshot.restore(net)
                    raise _diverged(net, x, f"the loss became {value}", epoch, index, batches, last_loss)
                net._backward(grad, from_logits=net._fused)
                parallel.average_gradients(params, len(batch), len(global_batch))
                try:
                    net.optimizer.step(params)
                except KeyboardInterrupt:  # a half-applied step is no state to keep
                    snapshot.restore(net)
                    raise
                last_loss = value
                total_loss += value * len(batch)
                seen += len(batch)
                if labels is not None:
                    correct += int(np.count_nonzero(to_labels(out) == labels[batch]))
                progress.update(len(global_batch), total_loss / seen, correct / seen if labels is not None else None)
                if STOP.requested and index < batches:
                    raise KeyboardInterrupt(
                        f"training stopped after batch {index}/{batches} of epoch {epoch}: the weights are those "
                        f"after that batch's step, net.history holds the {epoch - 1} complete epochs"
                    )
        broken = broken_parameter(net)
        if broken is not None:
            snapshot.restore(net)
            raise _diverged(net, x, f"{broken} after its last step", epoch, batches, batches, last_loss)
    finally:
        net._set_training(False)
        progress.close()
    parallel.end_epoch(net.layers)
    loss_sum, correct_sum, seen_sum = parallel.sum([total_loss, correct, seen])  # over every process
    logs = {"loss": loss_sum / seen_sum}
    if labels is not None:
        logs["accuracy"] = correct_sum / seen_sum
    return logs


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
