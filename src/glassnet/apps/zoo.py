"""Named architectures (the CLI's --model) and JSON model specs, each with its own defaults."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from glassnet.augment import Augmentation, RandomAffine, build_augmentation
from glassnet.checks import check_count, check_fraction, check_positive
from glassnet.errors import InputError
from glassnet.io.files import read_regular_bytes
from glassnet.io.limits import DEFAULT_LIMITS, Limits, NetworkTooLargeError, check_network_size
from glassnet.io.schema import build_layer
from glassnet.layers import (
    BatchNorm,
    Conv2D,
    Dense,
    Flatten,
    Layer,
    MaxPool2D,
    ReLU,
    Softmax,
    Tanh,
)
from glassnet.losses import CrossEntropy
from glassnet.network.network import Network
from glassnet.optimizers import NAMED as OPTIMIZERS
from glassnet.optimizers import Optimizer
from glassnet.schedules import Schedule, parse_schedule

INPUT_SHAPE: tuple[int, ...] = (28, 28, 1)  # one MNIST image, HWC
MAX_SPEC_BYTES = 1 << 20  # a JSON model spec is a few hundred bytes; a larger file is not one


@dataclass(frozen=True)
class ModelEntry:
    """An architecture, written as the list of layers it builds, with the hyper-parameters it trains well with.

    Args:
        name: the name given to --model (or the spec file's stem).
        description: one line for listings.
        layers: makes the layers, input to output (a fresh list each call).
        loss: "cross_entropy" or "mse".
        epochs: passes over the training data.
        learning_rate: step size of the optimizer.
        batch_size: samples per gradient step.
        optimizer: a name gn.Network takes ("sgd", "momentum", "adam", "adamw", ...).
        optimizer_options: (name, value) pairs for the optimizer besides its rate, e.g. (("beta1", 0.7),).
        limit: train on the first `limit` images only (None: all), as the article does.
        schedule: the learning-rate schedule as the CLI's --schedule writes it, its base rate
            learning_rate (e.g. "step:gamma=0.5", "onecycle"); None: a constant rate.
        augment: the augmentation of the training batches (a JSON spec writes {"type": ..., "config": ...}).
        label_smoothing: the cross-entropy's label smoothing (0: none).
        validation_split: the share of the training images `glassnet train` holds out for validation
            by default (0: train on all of them, the test set measures the run).
    """

    name: str
    description: str
    layers: Callable[[], list[Layer]] = field(repr=False)
    loss: str = "cross_entropy"
    epochs: int = 3
    learning_rate: float = 1e-3
    batch_size: int = 64
    optimizer: str = "adam"
    optimizer_options: tuple[tuple[str, float], ...] = ()
    limit: int | None = None
    schedule: str | None = None
    augment: Augmentation | None = None
    label_smoothing: float = 0.0
    validation_split: float = 0.1

    def __post_init__(self) -> None:
        owner = f"model {self.name!r}"
        check_count(self.epochs, "epochs", owner=owner)
        check_count(self.batch_size, "batch_size", owner=owner)
        check_positive(self.learning_rate, "learning_rate", "0.001", owner)
        if self.limit is not None:
            check_count(self.limit, "limit", owner=owner)
        check_fraction(self.validation_split, "validation_split", owner, closed="[)")
        check_fraction(self.label_smoothing, "label_smoothing", owner, closed="[)")
        if self.label_smoothing and self.loss != "cross_entropy":
            raise InputError(f'{owner}: label_smoothing needs loss "cross_entropy", got {self.loss!r}')
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"{owner}: optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.loss not in ("cross_entropy", "mse"):
            raise InputError(f'{owner}: loss must be "cross_entropy" or "mse", got {self.loss!r}')
        self.learning_schedule()  # a bad schedule fails when the entry is made

    def learning_schedule(self) -> Schedule | None:
        """The entry's schedule built with its learning rate, or None."""
        if self.schedule is None:
            return None
        if not isinstance(self.schedule, str):
            raise InputError(f'model {self.name!r}: schedule must be text such as "onecycle", got {self.schedule!r}')
        return parse_schedule(self.schedule, self.learning_rate)

    def build_optimizer(self) -> Optimizer:
        """The entry's optimizer with its learning rate and options."""
        if self.optimizer not in OPTIMIZERS:
            raise InputError(
                f"model {self.name!r}: unknown optimizer {self.optimizer!r}: use one of {', '.join(OPTIMIZERS)}"
            )
        cls, defaults = OPTIMIZERS[self.optimizer]
        try:
            return cls(self.learning_rate, **{**defaults, **dict(self.optimizer_options)})
        except TypeError as error:
            raise InputError(f"model {self.name!r}: optimizer_options: {error}") from None

    def with_options(self, **options: Any) -> ModelEntry:
        """A copy with the options that are not None replacing the defaults."""
        return replace(self, **{key: value for key, value in options.items() if value is not None})

    def build(self, seed: int | None = None, verbose: int = 1, channels: int = 1, classes: int = 10) -> Network:
        """The untrained Network, checked against 28x28 images of `channels` channels.

        Args:
            seed: seed of the network's generator (weights, shuffling); None: random.
            verbose: passed to Network (0 silent, 1 progress bar, 2 a line per epoch).
            channels: 1 for gray images, 3 for colour: the first Conv2D or Dense takes them.
            classes: outputs of the last Dense layer (one per class).
        """
        input_shape = (*INPUT_SHAPE[:2], check_count(channels, "channels"))
        net = Network(
            epochs=self.epochs,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            optimizer=self.build_optimizer(),
            seed=seed,
            verbose=verbose,
            schedule=self.learning_schedule(),
        )
        for layer in adapt(self.layers(), channels, check_count(classes, "classes")):
            net.add(layer)
        try:
            net.layer_shapes(input_shape)
        except ValueError as error:
            raise InputError(f"model {self.name!r} does not take 28x28x{channels} images: {error}") from None
        net.input_shape = input_shape
        net.augment = self.augment
        return net.use(CrossEntropy(self.label_smoothing) if self.label_smoothing else self.loss)


def adapt(layers: list[Layer], channels: int, classes: int) -> list[Layer]:
    """The layers with the first Conv2D or Dense taking `channels` channels and the last Dense giving `classes`.

    Args:
        layers: an architecture for 28x28x1 images and 10 classes, no parameters drawn yet.
        channels: channels of the input images.
        classes: outputs wanted.
    """
    layers = list(layers)
    weighted = [index for index, layer in enumerate(layers) if type(layer) in (Conv2D, Dense)]
    if not weighted:
        return layers
    first, last = weighted[0], weighted[-1]
    if channels != 1:
        config = layers[first].config()
        if isinstance(layers[first], Conv2D):
            config["in_channels"] = config["in_channels"] * channels
        else:
            config["in_features"] = config["in_features"] * channels  # a Flatten before it: H*W*C features
        layers[first] = build_layer(type(layers[first]).__name__, config, f"layer {first + 1}")
    if classes != 10 and isinstance(layers[last], Dense):
        config = layers[last].config() | {"out_features": classes}
        layers[last] = build_layer("Dense", config, f"layer {last + 1}")
    return layers


# The architectures, one layer block per line. fmt: off keeps them in the shape of the network.
# fmt: off
def cnn() -> list[Layer]:
    return [
        Conv2D(1, 16, 5), BatchNorm(16), ReLU(), MaxPool2D(),   # -> (N, 12, 12, 16)
        Conv2D(16, 32, 5), BatchNorm(32), ReLU(), MaxPool2D(),  # -> (N, 4, 4, 32)
        Flatten(), Dense(512, 128), ReLU(),
        Dense(128, 10), Softmax(),
    ]


def speedrun() -> list[Layer]:
    return [
        Conv2D(1, 24, 5), ReLU(), MaxPool2D(),   # -> (N, 12, 12, 24); ReLU then pool: one fused step
        Conv2D(24, 32, 3), ReLU(), MaxPool2D(),  # -> (N, 5, 5, 32)
        Flatten(), Dense(800, 256), ReLU(),
        Dense(256, 10), Softmax(),
    ]


def mlp() -> list[Layer]:
    return [Flatten(), Dense(784, 128), ReLU(), Dense(128, 10), Softmax()]


def lenet() -> list[Layer]:
    return [
        Conv2D(1, 6, 5, padding=2), ReLU(), MaxPool2D(),  # -> (N, 14, 14, 6)
        Conv2D(6, 16, 5), ReLU(), MaxPool2D(),            # -> (N, 5, 5, 16)
        Flatten(), Dense(400, 120), ReLU(),
        Dense(120, 84), ReLU(),
        Dense(84, 10), Softmax(),
    ]


def article_mlp() -> list[Layer]:
    return [Flatten(), Dense(784, 100), Tanh(), Dense(100, 50), Tanh(), Dense(50, 10), Tanh()]


def article_cnn() -> list[Layer]:
    return [Conv2D(1, 1, 3), Tanh(), Flatten(), Dense(26 * 26, 100), Tanh(), Dense(100, 10), Tanh()]
# fmt: on


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
            "for the best accuracy: the cnn with random shifts, rotations and scaling, one-cycle to 3e-3, "
            "15 epochs (aimed at 99.6%; not yet measured)",
            cnn,
            epochs=15,
            learning_rate=3e-3,
            batch_size=128,
            schedule="onecycle",
            augment=RandomAffine(shift=0.1, rotation=10.0, scale=0.1),
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


def spec_layer(spec: object, index: int) -> Layer:
    """One layer from a JSON spec's entry {"type": "Conv2D", "in_channels": 1, ...}.

    Args:
        spec: the entry.
        index: the layer's position (from 1), for messages.
    """
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise InputError(f'layer {index}: expected an object with a "type", e.g. {{"type": "ReLU"}}, got {spec!r}')
    return build_layer(spec["type"], {key: value for key, value in spec.items() if key != "type"}, f"layer {index}")


def load_spec(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> ModelEntry:
    """A ModelEntry from a JSON file {"layers": [...], "loss": ..., optional hyper-parameters}.

    Args:
        path: the JSON file (a regular file of at most 1 MiB).
        limits: the largest network accepted for a 28x28x1 image (glassnet.io.limits).
    """
    path = Path(path)
    try:
        data = json.loads(read_regular_bytes(path, MAX_SPEC_BYTES).decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a JSON model spec (not text)") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON: {error}") from None
    except RecursionError:
        raise InputError(f"{path}: not a JSON model spec: nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list) or not data["layers"]:
        raise InputError(
            f'{path}: expected an object with a non-empty "layers" list, '
            'e.g. {"layers": [{"type": "Flatten"}, ...], "loss": "cross_entropy"}'
        )
    if "augment" in data:
        data["augment"] = build_augmentation(data["augment"])
    if "lr_decay" in data and "schedule" not in data:  # specs written before schedules existed
        data["schedule"] = f"step:gamma={data.pop('lr_decay')}"
    allowed = {f.name for f in fields(ModelEntry)} - {"name"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InputError(f"{path}: unknown key {unknown[0]!r}: use {', '.join(sorted(allowed))}")
    if data.get("loss", "cross_entropy") not in ("cross_entropy", "mse"):
        raise InputError(f'{path}: "loss" must be "cross_entropy" or "mse", got {data["loss"]!r}')
    specs = list(data["layers"])
    built = [spec_layer(spec, index) for index, spec in enumerate(specs, start=1)]  # checked now, nothing allocated
    try:
        check_network_size(built, INPUT_SHAPE, limits, os.fspath(path))
    except NetworkTooLargeError:
        raise
    except ValueError as error:  # shapes that do not chain: the layer's ShapeError says which, with its fix
        raise InputError(f"{path} does not take 28x28x1 images: {error}") from None

    def layers() -> list[Layer]:
        return [spec_layer(spec, index) for index, spec in enumerate(specs, start=1)]

    return ModelEntry(**{"name": path.stem, "description": f"model spec {path}", **data, "layers": layers})


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
