"""The small pretrained model shipped inside the package: serve, predict, evaluate and report work before any training.

It is what the default recipe (`glassnet train`, seed 0, one BLAS thread) writes, made by

    glassnet train --seed 0 --threads 1 --out src/glassnet/apps/pretrained/mnist.npz

and `glassnet reproduce` (no MODEL) retrains it from its card and compares it bit for bit. A
command whose MODEL is left out, or given as "pretrained", reads this file.
"""

from __future__ import annotations

from pathlib import Path

from glassnet.errors import InputError

PRETRAINED = Path(__file__).with_name("pretrained") / "mnist.npz"
NAME = "pretrained"
HELP = f'a model file written by `glassnet train` (default, or "{NAME}": the model shipped with glassnet)'


def resolve(model: str | None) -> str:
    """The model file a command reads: MODEL as given, or the shipped model for None or "pretrained"."""
    if model is not None and model != NAME:
        return model
    if not PRETRAINED.is_file():
        raise InputError(
            f"the pretrained model {PRETRAINED} is missing from this installation: reinstall glassnet, or "
            "train one with `glassnet train` and pass its file"
        )
    return str(PRETRAINED)


def split_model_and_images(model: str | None, images: list[str]) -> tuple[str, list[str]]:
    """glassnet predict [MODEL] IMAGE...: a first argument that is not a model file (.npz) is an image."""
    if model is None or model == NAME or model.lower().endswith(".npz"):
        return resolve(model), images
    return resolve(None), [model, *images]
