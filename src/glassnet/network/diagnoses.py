"""The training doctor's checks: each looks at one kind of evidence and names a classic failure and its fix.

Every check is a plain function of what it reads (a batch, the batch losses, the layers, the
history) returning Diagnosis objects, so that the doctor watching fit (`network/doctor.py`) and
`glassnet doctor MODEL` share them. Thresholds are deliberately loose: a healthy run says nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from glassnet.layers.activations import ReLU, Sigmoid, Softmax, Tanh
from glassnet.layers.base import Layer
from glassnet.losses import CrossEntropy, Loss

WINDOW = 20  # batches per window of the loss and accuracy trends
TREND_AFTER = 100  # batches seen before a flat loss or chance accuracy is called
SATURATED = 0.99  # |tanh| above this (sigmoid within 0.01 of 0 or 1) is a saturated unit


@dataclass(frozen=True)
class Diagnosis:
    """One finding: a short code (once per run) and what was seen with what to do.

    Args:
        code: e.g. "unscaled_inputs"; each code is reported once.
        message: what was seen, then what to do.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return f"doctor: {self.message}"


def unscaled_inputs(x: np.ndarray) -> list[Diagnosis]:
    """Inputs far outside [-10, 10] (pixels up to 255) make the first layer's steps huge."""
    largest = float(np.abs(x).max(initial=0))
    if largest <= 10:
        return []
    hint = "x / 255 for 8-bit pixels" if 100 < largest <= 255 else "standardise each feature to mean 0, std 1"
    return [Diagnosis("unscaled_inputs", f"inputs are not scaled (values up to {largest:.4g}): {hint}")]


def loss_mismatch(layers: Sequence[Layer], loss: Loss, targets: np.ndarray) -> list[Diagnosis]:
    """A loss that does not fit the last layer or the targets: MSE on softmax, cross-entropy on raw scores,
    class numbers regressed as values."""
    found: list[Diagnosis] = []
    last = layers[-1] if layers else None
    if loss.name == "mse" and isinstance(last, Softmax):
        found.append(
            Diagnosis(
                "mse_on_softmax",
                "mean squared error on softmax outputs learns slowly (its gradient vanishes on confident "
                'mistakes): use("cross_entropy") with the same labels',
            )
        )
    if isinstance(loss, CrossEntropy) and not isinstance(last, (Softmax, Sigmoid)):
        found.append(
            Diagnosis(
                "cross_entropy_without_softmax",
                f"cross-entropy takes probabilities but the last layer is {last!r}: end the network with Softmax()",
            )
        )
    values = targets.reshape(len(targets), -1)  # (N, outputs)
    if values.shape[1] == 1 and np.all(values == np.round(values)) and len(np.unique(values)) > 2:
        found.append(
            Diagnosis(
                "class_numbers_as_values",
                f"the targets look like class numbers ({int(values.min())}..{int(values.max())}) fitted as one value: "
                "for classification end with Dense(..., classes) and Softmax(), and use cross_entropy with the "
                "integer labels (glassnet one-hot encodes them)",
            )
        )
    return found


def loss_trend(losses: Sequence[float], learning_rate: float) -> list[Diagnosis]:
    """A loss that rises or swings (rate too high), or one that barely moves (rate too low).

    Args:
        losses: every batch loss of the run so far.
        learning_rate: the optimizer's rate, for the advice.
    """
    if len(losses) < 2 * WINDOW:
        return []
    windows = np.convolve(np.asarray(losses), np.ones(WINDOW) / WINDOW, mode="valid")  # (batches - WINDOW + 1,)
    first, best, recent = float(windows[0]), float(windows[:-WINDOW].min()), float(windows[-1])
    if recent - best > 0.3 * best and recent - best > 0.1 * first:
        return [
            Diagnosis(
                "rate_too_high",
                f"the loss rises (a {WINDOW}-batch mean of {best:.4g} grew to {recent:.4g}): the learning rate "
                f"({learning_rate:g}) is too high, try {learning_rate / 10:g}",
            )
        ]
    if len(losses) >= TREND_AFTER and first > 1e-3 and abs(first - recent) < 0.01 * first:
        return [
            Diagnosis(
                "rate_too_low",
                f"the loss barely moves after {len(losses)} batches ({first:.4g} -> {recent:.4g}): the learning "
                f"rate ({learning_rate:g}) may be too low, try {learning_rate * 10:g}",
            )
        ]
    return []


def chance_accuracy(accuracies: Sequence[float], classes: int, where: str | None = None) -> list[Diagnosis]:
    """Accuracy still near 1/classes after many batches.

    Args:
        accuracies: every batch's accuracy so far.
        classes: the number of outputs.
        where: how the accuracy was measured, for the message (default: "after N batches").
    """
    if classes < 2 or len(accuracies) < TREND_AFTER:
        return []
    recent = float(np.mean(accuracies[-WINDOW * 2 :]))
    where = where or f"after {len(accuracies)} batches"
    if recent >= 1.5 / classes:
        return []
    return [
        Diagnosis(
            "stuck_at_chance",
            f"accuracy is {recent:.1%} {where}, chance is {1 / classes:.1%}: check that x and "
            "y are shuffled together and match, that the inputs are scaled, the learning rate, and the layers with "
            "net.check_gradients(x[:8], y[:8])",
        )
    ]


def gradient_norms(layers: Sequence[Layer], learning_rate: float) -> list[Diagnosis]:
    """Exploding (one step larger than the weights) or vanishing (a layer's gradient 1e-5 of another's)."""
    norms = []  # (layer position, gradient RMS, weight RMS) of each layer with gradients
    for position, layer in enumerate(layers, start=1):
        grads = [param.grad for param in layer.parameters() if param.grad is not None]
        if grads:
            size = sum(grad.size for grad in grads)
            g = float(np.sqrt(sum(float(np.vdot(grad, grad)) for grad in grads) / size))
            w = float(np.sqrt(sum(float(np.vdot(p.value, p.value)) for p in layer.parameters()) / size))
            norms.append((position, g, w))
    found: list[Diagnosis] = []
    for position, g, w in norms:
        if not np.isfinite(g) or g > 1e3 or learning_rate * g > max(w, 1e-3) * 10:
            found.append(
                Diagnosis(
                    "exploding_gradients",
                    f"exploding gradients in layer {position} ({layers[position - 1]!r}: gradient RMS {g:.3g}, "
                    f"weights RMS {w:.3g}): lower the learning rate, scale the inputs and targets, or clip the "
                    "gradient norm",
                )
            )
            break
    if len(norms) >= 2:
        largest = max(g for _, g, _ in norms)
        position, smallest, _ = min(norms, key=lambda norm: norm[1])
        if largest > 0 and smallest < 1e-5 * largest:
            found.append(
                Diagnosis(
                    "vanishing_gradients",
                    f"vanishing gradients: layer {position} ({layers[position - 1]!r}) gets a gradient "
                    f"{smallest / largest:.1e} times the largest: use ReLU instead of sigmoid/tanh between layers, "
                    "fewer layers, or BatchNorm",
                )
            )
    return found


def activations(layers: Sequence[Layer], x: np.ndarray) -> list[Diagnosis]:
    """ReLU units that never fire on x, and saturated tanh/sigmoid units, per layer (inference mode).

    Only glassnet's own layers are run, up to the first layer of another origin: a custom layer's
    forward is never called behind its author's back.

    Args:
        layers: the network's layers (run one by one; their training flags are left alone).
        x: a probe batch, e.g. the first batch's inputs.
    """
    found: list[Diagnosis] = []
    out = x
    for position, layer in enumerate(layers, start=1):
        if not type(layer).__module__.startswith("glassnet."):
            break
        out = layer.forward(out)
        values = out.reshape(-1, out.shape[-1])  # (N*positions, units): a unit is a feature or a channel
        if type(layer) is ReLU and not any(d.code == "dead_relu" for d in found):
            dead = float(np.mean(~np.any(values > 0, axis=0)))
            if dead >= 0.4:
                found.append(
                    Diagnosis(
                        "dead_relu",
                        f"{dead:.0%} of the ReLU units of layer {position} never fire on {len(x)} samples: lower the "
                        "learning rate, check the biases and the initialisation, or use LeakyReLU",
                    )
                )
        if isinstance(layer, (Tanh, Sigmoid)) and not any(d.code == "saturated" for d in found):
            edge = np.abs(values) if isinstance(layer, Tanh) else np.abs(2 * values - 1)  # both: 1 at the flat ends
            share = float(np.mean(edge > SATURATED))
            if share >= 0.5:
                found.append(
                    Diagnosis(
                        "saturated",
                        f"{share:.0%} of the outputs of layer {position} ({layer!r}) are saturated, where its slope is "
                        "nearly 0: scale the inputs, lower the learning rate, or use smaller initial weights",
                    )
                )
    return found


def history_checks(history: dict[str, list[float]]) -> list[Diagnosis]:
    """From the per-epoch history: overfitting, a rising epoch loss, and an epoch much slower than the fastest."""
    found: list[Diagnosis] = []
    loss, val, seconds = history.get("loss", []), history.get("val_loss", []), history.get("seconds", [])
    if len(val) >= 3 and len(loss) >= 3 and val[-1] > val[-2] > val[-3] and loss[-1] < loss[-2] < loss[-3]:
        found.append(
            Diagnosis(
                "overfitting",
                f"the validation loss rose for 2 epochs ({val[-3]:.4g} -> {val[-1]:.4g}) while the training loss fell: "
                "the network is overfitting; stop earlier (keep the best epoch), add Dropout or weight decay, or "
                "train on more data",
            )
        )
    if len(loss) >= 2 and loss[-1] > 1.1 * loss[-2]:
        found.append(
            Diagnosis(
                "rate_too_high",
                f"the training loss rose from {loss[-2]:.4g} to {loss[-1]:.4g} in the last epoch: the learning "
                "rate is too high, try a tenth of it",
            )
        )
    if len(seconds) >= 2:
        fastest = min(seconds[:-1])
        if seconds[-1] > 3 * fastest and seconds[-1] - fastest > 1.0:
            found.append(
                Diagnosis(
                    "slow",
                    f"epoch {len(seconds)} took {seconds[-1]:.3g} s, {seconds[-1] / fastest:.1f} times the fastest "
                    f"({fastest:.3g} s): another program may be using the cores; close it, or set OMP_NUM_THREADS "
                    "(and OPENBLAS_NUM_THREADS) to the number of free cores",
                )
            )
    return found
