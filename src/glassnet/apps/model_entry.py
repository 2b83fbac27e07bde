"""A model entry: an architecture as a list of layers, with the hyper-parameters it trains well with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from glassnet.augment import Augmentation
from glassnet.checks import check_count, check_fraction, check_positive
from glassnet.errors import InputError
from glassnet.io.schema import build_layer
from glassnet.layers import Conv2D, Dense, Layer
from glassnet.losses import CrossEntropy
from glassnet.network.network import Network
from glassnet.optimizers import NAMED as OPTIMIZERS
from glassnet.optimizers import Optimizer
from glassnet.schedule_specs import parse_schedule
from glassnet.schedules import Schedule

INPUT_SHAPE: tuple[int, ...] = (28, 28, 1)  # one MNIST image, HWC
VALIDATION_SPLIT = 0.1  # the share of the training images glassnet train holds out, unless a model says otherwise
SPEC_LOSSES = ("cross_entropy", "mse")


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
    validation_split: float = VALIDATION_SPLIT

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
        if self.loss not in SPEC_LOSSES:
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
