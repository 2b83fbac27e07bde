"""Named architectures (the CLI's --model), each with its own defaults, and the lookup that also takes a JSON spec."""

from __future__ import annotations

from glassnet.apps.architectures import article_cnn, article_mlp, cnn, lenet, mlp, speedrun
from glassnet.apps.model_entry import ModelEntry
from glassnet.apps.model_spec import load_spec
from glassnet.augment import RandomAffine
from glassnet.errors import InputError

REGISTRY: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "cnn",
            "the default before speedrun: Conv 16@5x5, Conv 32@5x5 (BatchNorm, ReLU, max pool), Dense 512-128-10; "
            "99% in 4 epochs",
            cnn,
            epochs=4,
            learning_rate=2e-3,
            batch_size=128,
            schedule="step:gamma=0.5",
        ),
        ModelEntry(
            "speedrun",
            "the default, the fastest route to 99%: the fastest published recipe (Conv 24@5x5, Conv 32@3x3, ReLU, "
            "max pool, Dense 800-256-10; Adam betas (0.7, 0.9), one-cycle to 1e-2 per step, batch 256, one epoch "
            "over all 60,000 images) with label smoothing 0.1",
            speedrun,
            epochs=1,
            learning_rate=1e-2,
            batch_size=256,
            optimizer_options=(("beta1", 0.7), ("beta2", 0.9)),
            schedule="onecycle",
            label_smoothing=0.1,
            validation_split=0.0,
        ),
        ModelEntry(
            "cnn-best",
            "for the best accuracy: the cnn with label smoothing 0.1, random shifts (8%), rotations (8 degrees) "
            "and scaling (5%), one-cycle to 3e-3, 15 epochs on all 60,000 images: 99.61% (seed 0, 463 s on one thread)",
            cnn,
            epochs=15,
            learning_rate=3e-3,
            batch_size=128,
            schedule="onecycle",
            augment=RandomAffine(shift=0.08, rotation=8.0, scale=0.05),
            label_smoothing=0.1,
            validation_split=0.0,
        ),
        ModelEntry("mlp", "Dense 784-128-10, ReLU; Adam", mlp, epochs=5, batch_size=64),
        ModelEntry(
            "lenet",
            "LeNet-5 with ReLU and max pooling: Conv 6@5x5, Conv 16@5x5, Dense 120-84-10",
            lenet,
            epochs=4,
            batch_size=64,
        ),
        ModelEntry(
            "article-mlp",
            "the article's MLP: Dense 784-100-50-10, tanh, MSE, SGD per sample, 1000 images",
            article_mlp,
            loss="mse",
            epochs=35,
            learning_rate=0.1,
            batch_size=1,
            optimizer="sgd",
            limit=1000,
        ),
        ModelEntry(
            "article-cnn",
            "the article's CNN: Conv 1@3x3, tanh, Dense 676-100-10, tanh, MSE, 1000 images",
            article_cnn,
            loss="mse",
            epochs=100,
            learning_rate=0.1,
            batch_size=1,
            optimizer="sgd",
            limit=1000,
        ),
    )
}
DEFAULT_MODEL = "speedrun"


def get_model(name: str) -> ModelEntry:
    """The registry entry called name, or the spec in a .json file of that path.

    Args:
        name: a registry name ("cnn", "mlp", ...) or a path ending in .json.
    """
    if name in REGISTRY:
        return REGISTRY[name]
    if name.lower().endswith(".json"):
        return load_spec(name)
    raise InputError(f"unknown model {name!r}: use one of {', '.join(REGISTRY)}, or a FILE.json spec")


def describe_models() -> str:
    """One line per registered architecture: name, defaults and description."""
    return "\n".join(
        f"{entry.name:<12} {entry.epochs:>3} epochs, {entry.optimizer} lr {entry.learning_rate:g}"
        f"{f' ({entry.schedule})' if entry.schedule else ''}, batch {entry.batch_size}\n"
        f"{'':<12} {entry.description}"
        for entry in REGISTRY.values()
    )
