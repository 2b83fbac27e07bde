"""One call to Network.fit, top to bottom: check, set up, record, train, and undo on failure.

Network.fit (network.py) holds the public signature and its documentation; fit_network is what the
call does: check every argument (checks.py), copy what the call may change (rollback.py), prepare
the data (data.py), resume a checkpoint, record the fit in the card (card.py), build the Run and
train (loop.py). A failed call is undone entirely; a divergence after complete epochs keeps them.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glassnet.augment import Augmentation, check_augment
from glassnet.checks import check_count, check_flag, check_positive
from glassnet.errors import DivergenceError
from glassnet.io.files import check_output
from glassnet.io.resume import resume_training
from glassnet.io.schema import describe
from glassnet.losses import Loss
from glassnet.network.card import card_complete, card_settings, record_fit
from glassnet.network.data import prepare
from glassnet.network.distributed import strategy
from glassnet.network.doctor import Doctor
from glassnet.network.hooks import Callback, EpochFunction, check_callbacks
from glassnet.network.loop import Run, run_horizon, train
from glassnet.network.plan import Plan
from glassnet.network.rollback import CallState
from glassnet.schedule_specs import check_schedule
from glassnet.schedules import Schedule
from glassnet.threads import get_threads

if TYPE_CHECKING:
    from glassnet.network.network import Network


@dataclass(frozen=True)
class FitArguments:
    """Network.fit's keyword arguments as the caller gave them, unchecked (None: the network's setting)."""

    epochs: int | None
    learning_rate: float | None
    batch_size: int | None
    validation_data: tuple[object, object] | None
    validation_split: float
    shuffle: bool
    callbacks: Sequence[Callback | EpochFunction]
    verbose: int | None
    checkpoint: str | os.PathLike[str] | None
    resume: str | os.PathLike[str] | None
    distributed: bool
    schedule: Schedule | None
    clip_norm: float | None
    augment: Augmentation | None
    doctor: bool


def fit_network(net: Network, x: object, y: object, given: FitArguments, loss: Loss) -> None:
    """Train net on (x, y) as Network.fit documents it.

    Args:
        net: the network, changed in place.
        x, y: the training data as given (arrays, or a dataset object and None).
        given: fit's other arguments.
        loss: the network's loss (fit has checked that there is one).
    """
    epochs = check_count(net.epochs if given.epochs is None else given.epochs, "epochs")
    batch_size = check_count(net.batch_size if given.batch_size is None else given.batch_size, "batch_size")
    verbose = check_count(net.verbose if given.verbose is None else given.verbose, "verbose", minimum=0)
    rate = None if given.learning_rate is None else check_positive(given.learning_rate, "learning_rate", "0.01")
    shuffle, callbacks = check_flag(given.shuffle, "shuffle"), check_callbacks(given.callbacks)
    schedule = check_schedule(given.schedule)
    clip = None if given.clip_norm is None else check_positive(given.clip_norm, "clip_norm", "1.0")
    augment = check_augment(given.augment)
    parallel = strategy(check_flag(given.distributed, "distributed"))
    before, card_before = CallState(net), copy.deepcopy(card_complete(net))
    schedule_before, augment_before = net.schedule, net.augment
    try:
        data = prepare(net, x, y, given.validation_data, given.validation_split)
        if given.resume is not None:
            resume_training(net, given.resume)
        if given.checkpoint is not None:
            check_output(given.checkpoint, "checkpoint")  # a place it cannot be written fails now, not after an epoch
            describe(net)  # a network a checkpoint cannot hold fails now, not after an epoch
        if rate is not None:
            net.optimizer.learning_rate = rate
        if schedule is not None:
            net.schedule = schedule
        if augment is not None:
            net.augment = augment
        last_epoch = epochs if given.resume is not None else len(net.history["loss"]) + epochs
        verbose = verbose if parallel.is_root else 0
        record_fit(net, x, y, given.validation_data, last_epoch - len(net.history["loss"]), batch_size, shuffle)
        distributed = parallel.size > 1
        settings = card_settings(given.validation_split, clip, callbacks, given.resume, distributed)
        net.card["fits"][-1]["settings"] |= settings
        watcher = Doctor(print if verbose else None) if check_flag(given.doctor, "doctor") else None
        net.diagnoses = watcher.findings if watcher is not None else []
        horizon = run_horizon(len(data.train), batch_size, last_epoch)
        run = Run(
            last_epoch,
            batch_size,
            shuffle,
            verbose,
            callbacks,
            given.checkpoint,
            parallel,
            horizon,
            clip_norm=clip,
            resumed=given.resume is not None,
            threads=get_threads() if parallel.is_local else None,  # under MPI the session sets them
            thread_log=net.card["fits"][-1]["blas_threads"],
            doctor=watcher,
        )
        train(net, Plan(net.layers, loss, net.fuse_relu_pool), data, run)
        card_complete(net)
    except Exception as error:
        card_complete(net)
        # A failed call changes nothing; a divergence after complete epochs keeps them (documented).
        if not isinstance(error, DivergenceError) or len(net.history["loss"]) == before.epochs:
            before.restore(net)
            net.card, net.schedule, net.augment = card_before, schedule_before, augment_before
        raise
