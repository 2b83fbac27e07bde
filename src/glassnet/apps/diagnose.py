"""The debugging commands: `glassnet doctor MODEL` and `glassnet reproduce MODEL`. Wiring only."""

from __future__ import annotations

import argparse
from typing import Any

from glassnet.apps.epochs import load_run
from glassnet.apps.pretrained import HELP
from glassnet.apps.reproduce import LOADERS, reproduce
from glassnet.errors import ShapeError
from glassnet.network.doctor import examine

DOCTOR_SAMPLES = 512  # test images run through the model by `glassnet doctor`


def add_commands(commands: Any, dataset: dict[str, Any]) -> None:
    """Add `doctor` and `reproduce` to the glassnet command's subparsers.

    Args:
        commands: the subparsers object of the main parser.
        dataset: the --dataset option's arguments, shared with the other commands.
        parse_command: the main parser's parse_args, to read a recorded `glassnet train` command.
    """
    doctor = commands.add_parser("doctor", help="look for classic training failures in a saved model, and their fixes")
    doctor.add_argument(
        "model", metavar="MODEL", nargs="?", help=f"{HELP}, a checkpoint, or a run folder of kept epochs"
    )
    doctor.add_argument("--dataset", **dataset)
    doctor.set_defaults(run=doctor_command)
    again = commands.add_parser("reproduce", help="retrain a model from its reproducibility card, compare bit for bit")
    again.add_argument("model", metavar="MODEL", nargs="?", help=f"{HELP}, with its card")
    again.set_defaults(run=reproduce_command)


def doctor_command(args: argparse.Namespace) -> int:
    """glassnet doctor: the history's diagnoses, and those of a few test images run through the model."""
    net, _ = load_run(args.model)  # a model file, or a run folder of kept epochs (its last)
    name = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}[args.dataset]
    _, (x_test, y_test) = LOADERS[name]()
    epochs = len(net.history["loss"])
    try:
        findings = examine(net, x_test[:DOCTOR_SAMPLES], y_test[:DOCTOR_SAMPLES])
        looked = f"its history ({epochs} epochs) and {DOCTOR_SAMPLES} {name} test images"
    except ShapeError:
        findings = examine(net)
        looked = f"its history ({epochs} epochs) only: the model does not take {name} images"
    print(f"Looked at {looked}.")
    for diagnosis in findings:
        print(diagnosis)
    if not findings:
        print("No problem found.")
    return 0


def reproduce_command(args: argparse.Namespace) -> int:
    """glassnet reproduce: retrain from the card; exit status 0 when bit-identical, 3 when not."""
    print(f"Retraining {args.model} from its reproducibility card...", flush=True)
    result = reproduce(args.model)
    print(result)
    return 0 if result.identical else 3
