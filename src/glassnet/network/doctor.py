"""The training doctor: an observer that the loop calls after each batch and epoch, naming each classic
failure once, with what to do.

It reads what training computes anyway (each batch's loss and accuracy, the gradients left on the
parameters) and, after each epoch, runs the first batch's inputs (at most PROBE samples) through
glassnet's own layers in inference mode to look at the activations. It changes nothing: no weight, buffer or
generator, so a run is bit-identical with or without it. Gradient norms are read every
GRADIENT_EVERY batches; the checks themselves are in `network/diagnoses.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from glassnet.network import diagnoses
from glassnet.network.data import labelled
from glassnet.network.diagnoses import Diagnosis
from glassnet.network.numerics import quiet
from glassnet.network.plan import Plan

if TYPE_CHECKING:
    from glassnet.network.network import Network

PROBE = 128  # samples of the first batch kept to look at the activations
GRADIENT_EVERY = 10  # batches between two readings of the gradient norms
TREND_EVERY = 20  # batches between two looks at the loss and accuracy trends


class Doctor:
    """Watches one fit; `findings` lists each diagnosis once, in the order they were made.

    Args:
        say: called with each new diagnosis as text at the end of the epoch that found it (print
            while verbose; None: only kept in `findings`).
    """

    def __init__(self, say: Callable[[str], object] | None = print) -> None:
        self.say = say
        self.findings: list[Diagnosis] = []
        self.losses: list[float] = []
        self.accuracies: list[float] = []
        self.probe: np.ndarray | None = None
        self.said = 0  # findings said so far: the rest wait for the epoch's end, after the progress bar

    def after_batch(
        self, net: Network, inputs: np.ndarray, targets: np.ndarray, loss: float, accuracy: float | None
    ) -> None:
        """Called after each optimizer step.

        Args:
            net: the network in training.
            inputs: this batch's inputs (before augmentation).
            targets: the batch's targets.
            loss: the batch's loss.
            accuracy: the epoch's accuracy so far, None without labels.
        """
        self.losses.append(loss)
        if accuracy is not None:
            self.accuracies.append(accuracy)
        batches = len(self.losses)
        if self.probe is None:  # the run's first batch
            self.probe = inputs[:PROBE]
            self.report(diagnoses.unscaled_inputs(inputs))
            if net.loss is not None:
                self.report(diagnoses.loss_mismatch(net.layers, net.loss, targets))
        if batches % GRADIENT_EVERY == 1:
            self.report(diagnoses.gradient_norms(net.layers, net.optimizer.learning_rate))
        if batches % TREND_EVERY == 0:
            self.report(diagnoses.loss_trend(self.losses, net.optimizer.learning_rate))
            if accuracy is not None and targets.ndim == 2:
                self.report(diagnoses.chance_accuracy(self.accuracies, targets.shape[1]))

    def after_epoch(self, net: Network, epoch: int, logs: dict[str, float]) -> None:
        """Called once an epoch's history is recorded (layers back in inference mode); says what was found."""
        self.report(diagnoses.history_checks(net.history))
        if self.probe is not None:
            with np.errstate(all="ignore"):
                self.report(diagnoses.activations(net.layers, self.probe))
        if self.say is not None:
            for diagnosis in self.findings[self.said :]:
                self.say(str(diagnosis))
        self.said = len(self.findings)

    def report(self, found: list[Diagnosis]) -> None:
        """Keep each diagnosis whose code was not found yet in this run (said at the epoch's end)."""
        for diagnosis in found:
            if all(known.code != diagnosis.code for known in self.findings):
                self.findings.append(diagnosis)


def examine(net: Network, x: np.ndarray | None = None, y: np.ndarray | None = None) -> list[Diagnosis]:
    """The diagnoses of a saved network: from its history, and with a few samples (x, y) from its layers.

    Used by `glassnet doctor MODEL`. The history is replayed epoch by epoch as during training;
    with data, one batch is run forward and backward (gradient norms, the loss against the last
    layer and the targets, the activations) and the accuracy compared with chance.

    Args:
        net: a loaded network.
        x, y: a few hundred samples it was meant for (e.g. test images), or None.
    """
    doctor = Doctor(None)
    for epochs in range(1, len(net.history["loss"]) + 1):
        doctor.report(diagnoses.history_checks({key: values[:epochs] for key, values in net.history.items()}))
    if x is None or y is None or net.loss is None:
        return doctor.findings
    data = labelled(net, x, y)
    plan = Plan(net.layers, net.loss, net.fuse_relu_pool)
    doctor.report(diagnoses.unscaled_inputs(data.x))
    doctor.report(diagnoses.loss_mismatch(net.layers, net.loss, data.targets))
    with quiet():
        with plan.training():
            plan.backward(plan.loss_and_grad(data.targets[:PROBE], plan.forward(data.x[:PROBE]))[1])
        doctor.report(diagnoses.gradient_norms(net.layers, net.optimizer.learning_rate))
        doctor.report(diagnoses.activations(net.layers, data.x[:PROBE]))
        if data.labels is not None and data.targets.ndim == 2:
            accuracy = plan.evaluate(data.x, data.targets, data.labels, 256)["accuracy"]
            where = f"on {len(data.x)} samples"
            doctor.report(diagnoses.chance_accuracy([accuracy] * diagnoses.TREND_AFTER, data.targets.shape[1], where))
    return doctor.findings
