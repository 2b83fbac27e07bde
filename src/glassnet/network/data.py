"""Data for a Network, checked once at the boundary: inputs, targets and validation data.

`prepare` is the first step of `Network.fit`: x, y and the validation data are checked against
the layers (shapes inferred once per array), cast to the network's dtype, and the labels turned
into the loss's targets, before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from glassnet.checks import as_input_array, cast_input, check_fraction
from glassnet.errors import InputError, InputTypeError, NotReadyError, ShapeError
from glassnet.layers.base import LayerShapeError, Shape
from glassnet.losses import CrossEntropy
from glassnet.network.targets import prepare_targets

if TYPE_CHECKING:
    from glassnet.network.network import Network


@dataclass
class Labelled:
    """Inputs with their targets, checked against a network.

    Args:
        x: inputs in the network's dtype.
        targets: what the loss compares the outputs with.
        labels: integer labels for accuracy; None for N-D targets.
    """

    x: np.ndarray
    targets: np.ndarray
    labels: np.ndarray | None

    def __len__(self) -> int:
        return len(self.x)

    @property
    def has_labels(self) -> bool:
        """True when the targets are classes, so that accuracy is measured."""
        return self.labels is not None

    def batch(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The inputs, targets and labels (or None) of the samples at index."""
        return self.x[index], self.targets[index], None if self.labels is None else self.labels[index]


@runtime_checkable
class Dataset(Protocol):
    """What fit takes instead of arrays: len(dataset) samples, dataset[index_array] -> (x, y) of that batch."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: np.ndarray, /) -> tuple[object, object]: ...


@runtime_checkable
class ArrayLike(Protocol):
    """Anything NumPy converts through __array__ (pandas frames, tensors): arrays, never dataset objects."""

    def __array__(self) -> np.ndarray: ...


@dataclass
class Streamed:
    """Samples of a dataset object, read batch by batch and checked like arrays as they come.

    Args:
        dataset: the user's dataset object.
        indices: which of its samples these are.
        output: the network's per-sample output shape (for the targets).
        dtype: the network's floating-point type.
        distributions: check that target rows are probability distributions (cross-entropy).
        has_labels: the targets are classes (as the first sample's were), so accuracy is measured.
    """

    dataset: Dataset
    indices: np.ndarray
    output: Shape | None
    dtype: np.dtype
    distributions: bool
    has_labels: bool

    def __len__(self) -> int:
        return len(self.indices)

    def batch(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The inputs, targets and labels (or None) of the samples at index, read from the dataset."""
        x, y = _read(self.dataset, self.indices[index])
        array = cast_input(as_input_array(x, "the dataset's x"), self.dtype, "the dataset's x")
        targets, labels = prepare_targets(y, len(array), self.output, self.dtype, self.distributions, "the dataset's y")
        return array, targets, labels


@dataclass
class TrainingData:
    """What fit trains on, and what it validates on after each epoch (None: nothing)."""

    train: Labelled | Streamed
    validation: Labelled | None


def is_dataset(x: object) -> bool:
    """True for a dataset object: with __len__ and __getitem__, but not an array, a list or array-like."""
    return not isinstance(x, (np.ndarray, list, tuple, str, bytes, ArrayLike)) and isinstance(x, Dataset)


def prepare(net: Network, x: object, y: object, validation_data: object, validation_split: object) -> TrainingData:
    """x, y and the validation data checked against the network, the split held out (Keras's rule).

    Args:
        net: the network to train; its input_shape is set to one sample's shape.
        x, y: the training data as the user gave it.
        validation_data: None or the pair (x_val, y_val).
        validation_split: the fraction in [0, 1) of the samples to hold out, from the end.
    """
    pair = check_validation_data(validation_data)
    split = check_fraction(validation_split, "validation_split")
    if pair is not None and is_dataset(pair[0]):
        pair = _read(pair[0], np.arange(len(pair[0])))  # type: ignore[arg-type]
    if is_dataset(x):
        return _prepare_dataset(net, x, y, pair, split)  # type: ignore[arg-type]
    if y is None:
        raise InputError("fit needs the targets y with arrays x: call fit(x, y), or pass a dataset object alone")
    train = labelled(net, x, y)
    if split:
        if pair is not None:
            raise _both_validations(split)
        train, pair = _hold_out(train, split)
    validation = labelled(net, *pair, "validation x", "validation y") if pair is not None else None
    return TrainingData(train, validation)


def labelled(net: Network, x: object, y: object, x_name: str = "x", y_name: str = "y") -> Labelled:
    """Inputs and targets checked against the network; sets its input_shape to one sample's shape.

    Args:
        net: the network they are for.
        x, y: what the user gave.
        x_name, y_name: their names in messages.
    """
    array, output = network_inputs(net, x, x_name)
    net.input_shape = tuple(array.shape[1:])
    distributions = isinstance(net.loss, CrossEntropy)
    dtype = array.dtype if array.dtype.kind == "f" else net.dtype or np.dtype(np.float32)  # token ids: floats
    targets, labels = prepare_targets(y, len(array), output, dtype, distributions, y_name)
    return Labelled(array, targets, labels)


def _both_validations(split: float) -> InputError:
    """The error for fit(validation_data=..., validation_split=...): neither is silently preferred.

    Args:
        split: the validation_split given.
    """
    return InputError(
        f"fit got both validation_data and validation_split={split}: give one, validation_data to score "
        "on your own held-out set or validation_split to hold out the end of x"
    )


def _hold_out(data: Labelled, fraction: float) -> tuple[Labelled, tuple[np.ndarray, np.ndarray]]:
    """The first samples to train on, and the last `fraction` (before shuffling) as the pair (x, targets).

    The held-out targets are the prepared ones, not the labels: for real-valued targets the labels
    are only what accuracy reads (score > 0.5, or each row's argmax).
    """
    n = len(data.x)
    keep = n - int(n * fraction)
    if keep < 1 or keep == n:
        raise InputError(f"validation_split={fraction} of {n} samples leaves no training or validation data")
    labels = None if data.labels is None else data.labels[:keep]
    return Labelled(data.x[:keep], data.targets[:keep], labels), (data.x[keep:], data.targets[keep:])


def _prepare_dataset(
    net: Network, dataset: Dataset, y: object, pair: tuple[object, object] | None, split: float
) -> TrainingData:
    """A dataset object checked on its first sample; the held-out end of it read into arrays for validation."""
    if y is not None:
        raise InputError("a dataset object gives (x, y) itself: call fit(dataset) without y")
    n = len(dataset)
    if n < 1:
        raise InputError("the dataset object is empty (len 0): it must hold at least one sample")
    first, first_y = _read(dataset, np.arange(1))
    array, output = network_inputs(net, first, "the dataset's x")
    net.input_shape = tuple(array.shape[1:])
    distributions = isinstance(net.loss, CrossEntropy)
    _, first_labels = prepare_targets(first_y, 1, output, array.dtype, distributions, "the dataset's y")
    keep = n - int(n * split)
    if split:
        if pair is not None:
            raise _both_validations(split)
        if keep < 1 or keep == n:
            raise InputError(f"validation_split={split} of {n} samples leaves no training or validation data")
        pair = _read(dataset, np.arange(keep, n))
    train = Streamed(dataset, np.arange(keep), output, array.dtype, distributions, first_labels is not None)
    validation = labelled(net, *pair, "validation x", "validation y") if pair is not None else None
    return TrainingData(train, validation)


def _read(dataset: Dataset, index: np.ndarray) -> tuple[object, object]:
    """dataset[index] checked to be a pair (x, y) of as many samples as indices."""
    got = dataset[index]
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise InputTypeError(
            f"a dataset object's __getitem__(index_array) must return a pair (x, y), got {type(got).__name__}"
        )
    x, y = got
    if len(x) != len(index) or len(y) != len(index):  # type: ignore[arg-type]
        raise ShapeError(
            f"the dataset gave {len(x)} inputs and {len(y)} targets for {len(index)} indices: "  # type: ignore[arg-type]
            "__getitem__ must return one sample per index"
        )
    return x, y


def check_validation_data(validation_data: object) -> tuple[object, object] | None:
    """None, or the pair (x_val, y_val).

    Args:
        validation_data: what the user gave.
    """
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        got = (
            f"an array of shape {validation_data.shape}"
            if isinstance(validation_data, np.ndarray)
            else f"a {type(validation_data).__name__} of {len(validation_data)} items"
            if isinstance(validation_data, (tuple, list))
            else type(validation_data).__name__
        )
        raise InputTypeError(
            f"validation_data must be a pair (x_val, y_val), got {got}: pass validation_data=(x_test, y_test)"
        )
    return validation_data[0], validation_data[1]


def network_inputs(net: Network, x: object, name: str = "x") -> tuple[np.ndarray, Shape | None]:
    """x checked against the network's layers and cast to its dtype, and one sample's output shape.

    Args:
        net: the network x is for.
        x: what the user gave.
        name: its name in messages.
    """
    if not net.layers:
        raise NotReadyError("the network has no layers: add some with net.add(gn.Dense(...)) first")
    array = as_input_array(x, name)
    output = _check_sample_shape(net, array.shape, name)
    if net.layers[0].takes_indices and array.dtype.kind in "iu":
        return array, output  # token ids for an Embedding stay integers; it checks their range
    floating = np.issubdtype(array.dtype, np.floating)
    return cast_input(array, net.dtype or (array.dtype if floating else np.dtype(np.float32)), name), output


def _check_sample_shape(net: Network, shape: tuple[int, ...], name: str) -> Shape | None:
    """One sample's output shape; errors for a wrong shape, or a single sample without its batch axis."""
    try:
        output = net.layer_shapes(tuple(shape[1:]))[-1]
    except LayerShapeError as error:
        if _is_one_sample(net, shape):
            raise _one_sample_error(shape, name) from None
        raise error.with_batch(shape[0]) from None
    if net.input_shape is not None and tuple(shape) == net.input_shape:  # the whole array is one sample
        raise _one_sample_error(shape, name)
    return output


def _is_one_sample(net: Network, shape: tuple[int, ...]) -> bool:
    """True when the whole shape is what the layers take as one sample."""
    try:
        net.layer_shapes(tuple(shape))
    except LayerShapeError:
        return False
    return True


def _one_sample_error(shape: tuple[int, ...], name: str) -> ShapeError:
    dims = ", ".join(str(d) for d in shape)
    return ShapeError(
        f"the network expected input (N, {dims}), got {name} of shape {tuple(shape)}, one sample without its "
        f"batch axis: pass {name.split()[-1]}[None] (shape (1, {dims})) for a batch of one"
    )
