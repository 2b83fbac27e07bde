"""What the page says about the served model: its name, classes and the accuracies that are known.

A model file stores the class names (when trained on a folder) and the per-epoch history
(training accuracy, validation accuracy when there was validation data), not a test accuracy.
`glassnet train` writes the test accuracy of runs/NAME-N/model.npz in the run.json beside it;
it is shown only for that file, and only when run.json's epoch count matches the model's.
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
    if not isinstance(test_accuracy, (int, float)) or isinstance(test_accuracy, bool):
        test_accuracy = None
    name = record.get("model") if isinstance(record.get("model"), str) else None
    if name is None and path is not None:
        name = Path(path).name.removesuffix(".npz")
    if test_accuracy is None:
        note = "the model file stores no test accuracy (glassnet train writes it in run.json beside a run's model.npz)"
    else:
        note = f"the {tested.replace('_', ' ')} is from {RUN_RECORD}"
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
