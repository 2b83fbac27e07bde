"""What the page says about the served model: its name, classes and the accuracies that are known.

A model file stores the class names (when trained on a folder), the per-epoch history (training
accuracy, validation accuracy when there was validation data) and, when `glassnet train` wrote
it, the test accuracy in its card (`card["evaluation"]`, dropped by any later fit). Older run
folders hold it only in the run.json beside runs/NAME-N/model.npz: it is shown for that file
when run.json's epoch count matches the model's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from glassnet.io.files import read_regular_bytes
from glassnet.network.network import Network

RUN_RECORD = "run.json"
RUN_MODEL = "model.npz"  # the file of a run folder that run.json's test accuracy belongs to
MAX_RECORD_BYTES = 1 << 20
TESTED_KEYS = ("test_accuracy", "held-out_accuracy")  # run.json's key: MNIST's test set, or a folder's held-out part


def about_model(net: Network, path: str | os.PathLike[str] | None, classes: list[str]) -> dict[str, Any]:
    """The model's name, classes, epochs and known accuracies, each with where it comes from.

    Args:
        net: the served network.
        path: the model file or run folder it was loaded from; None when served from memory.
        classes: the names of its outputs, as the predictor uses them.
    """
    history = net.history
    record = _run_record(Path(path)) if path is not None else {}
    epochs = len(history.get("loss", []))
    tested = next((key for key in TESTED_KEYS if key in record), "")
    test_accuracy = record.get(tested) if tested and record.get("epochs_done") == epochs else None
    source = RUN_RECORD
    evaluation = net.card.get("evaluation")
    if isinstance(evaluation, dict) and _is_fraction(evaluation.get("accuracy")):
        test_accuracy, source = evaluation["accuracy"], "the model file"
        tested = "held-out_accuracy" if "held-out" in str(evaluation.get("data")) else "test_accuracy"
    if not _is_fraction(test_accuracy):
        test_accuracy = None
    name = record.get("model") if isinstance(record.get("model"), str) else None
    if name is None and path is not None:
        name = Path(path).name.removesuffix(".npz")
    if test_accuracy is None:
        note = "the model file stores no test accuracy (glassnet train writes it in run.json beside a run's model.npz)"
    else:
        note = f"the {tested.replace('_', ' ')} is from {source}"
    return {
        "name": name,
        "classes": classes,
        "class_names_stored": net.class_names is not None,
        "epochs_trained": epochs,
        "test_accuracy": test_accuracy,
        "tested_on": tested.removesuffix("_accuracy") if test_accuracy is not None else None,
        "validation_accuracy": _last(history.get("val_accuracy")),
        "training_accuracy": _last(history.get("accuracy")),
        "note": note,
    }


def _is_fraction(value: object) -> bool:
    """A number in [0, 1] (an accuracy), not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _last(values: list[float] | None) -> float | None:
    """The last epoch's value of a history entry, None without one."""
    return float(values[-1]) if values else None


def _run_record(path: Path) -> dict[str, Any]:
    """run.json of the run folder holding the model file `path`, {} for another file or an unreadable record."""
    if path.name != RUN_MODEL:
        return {}
    try:
        record = json.loads(read_regular_bytes(path.with_name(RUN_RECORD), MAX_RECORD_BYTES))
    except (OSError, ValueError, RecursionError):  # no record, not a file, too large, not JSON: nothing known
        return {}
    return record if isinstance(record, dict) else {}
