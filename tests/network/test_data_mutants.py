"""fit's input preparation (network/data.py): the messages, shapes and dtypes it promises, for arrays and datasets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import glassnet as gn
from glassnet.network.data import (
    Labelled,
    Streamed,
    check_validation_data,
    is_dataset,
    labelled,
    network_inputs,
    prepare,
)

X = np.arange(16, dtype=np.float32).reshape(8, 2) / 16  # (8, 2)
Y = np.array([0, 1, 2, 0, 1, 2, 0, 1])


class Pairs:
    """A dataset object over arrays that records the indices each read asked for."""

    def __init__(self, x: object, y: object) -> None:
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.calls: list[list[int]] = []

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append([int(i) for i in index])
        return self.x[index], self.y[index]


class Returning:
    """A dataset object of 3 samples whose __getitem__ returns whatever it was given."""

    def __init__(self, got: object) -> None:
        self.got = got

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: np.ndarray) -> object:
        return self.got


class Tokens(gn.Layer):
    """A layer without parameters that takes integer token ids, as Embedding does, and gives their one-hot rows."""

    takes_indices = True

    def output_shape(self, input_shape: tuple[int | None, ...] | None) -> tuple[int | None, ...] | None:
        return None if input_shape is None else (*input_shape, 3)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.eye(3, dtype=np.float32)[x]  # (N, T) -> (N, T, 3)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


def classifier() -> gn.Network:
    """(N, 2) -> 3 classes, cross-entropy."""
    return gn.Network([gn.Dense(2, 3), gn.Softmax()], seed=0, verbose=0, batch_size=4).use("cross_entropy")


def regressor(outputs: int = 1) -> gn.Network:
    """(N, 2) -> (N, outputs), mean squared error."""
    return gn.Network([gn.Dense(2, outputs)], seed=0, verbose=0, batch_size=4).use("mse")


def passthrough() -> gn.Network:
    """A network without parameters: ReLU only, mean squared error."""
    return gn.Network([gn.ReLU()], seed=0, verbose=0).use("mse")


def raised(call: Callable[[], object], error: type[Exception] = gn.GlassnetError) -> str:
    """The message of the error the call raises."""
    with pytest.raises(error) as caught:
        call()
    return str(caught.value)


# check_validation_data -------------------------------------------------------------------------


def test_validation_data_is_none_or_a_pair() -> None:
    assert check_validation_data(None) is None
    assert check_validation_data((1, 2)) == (1, 2)
    assert check_validation_data([X, Y]) == (X, Y)


@pytest.mark.parametrize(
    ("given", "got"),
    [
        (np.zeros((3, 2)), "an array of shape (3, 2)"),
        ([X, Y, Y], "a list of 3 items"),
        ((X,), "a tuple of 1 items"),
        (5, "int"),
        ({"x": X, "y": Y}, "dict"),
    ],
)
def test_validation_data_that_is_not_a_pair_is_named(given: object, got: str) -> None:
    message = raised(lambda: check_validation_data(given), gn.InputTypeError)
    assert message == f"validation_data must be a pair (x_val, y_val), got {got}: pass validation_data=(x_test, y_test)"


# is_dataset --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [X, [[0.0, 1.0]], ((0.0, 1.0),), "ab", b"ab"])
def test_arrays_lists_tuples_and_strings_are_not_dataset_objects(data: object) -> None:
    assert not is_dataset(data)


def test_an_object_with_len_and_getitem_is_a_dataset_object() -> None:
    assert is_dataset(Pairs(X, Y)) and not is_dataset(object())


# prepare with arrays -----------------------------------------------------------------------------


def test_arrays_without_targets_are_refused() -> None:
    assert raised(lambda: prepare(classifier(), X, None, None, 0.0), gn.InputError) == (
        "fit needs the targets y with arrays x: call fit(x, y), or pass a dataset object alone"
    )


@pytest.mark.parametrize("x", ["arrays", "dataset"])
def test_validation_data_and_split_together_are_refused_word_for_word(x: str) -> None:
    data, y = (X, Y) if x == "arrays" else (Pairs(X, Y), None)
    assert raised(lambda: prepare(classifier(), data, y, (X, Y), 0.25), gn.InputError) == (
        "fit got both validation_data and validation_split=0.25: give one, validation_data to score "
        "on your own held-out set or validation_split to hold out the end of x"
    )


def test_a_bad_split_is_named() -> None:
    assert raised(lambda: prepare(classifier(), X, Y, None, 1.0), gn.InputError) == (
        "validation_split must be a number in [0, 1), got 1.0"
    )


@pytest.mark.parametrize("x", ["arrays", "dataset"])
def test_a_split_that_leaves_nothing_to_hold_out_is_refused(x: str) -> None:
    # 0.1 of 8 samples is int(0.8) = 0 samples
    data, y = (X, Y) if x == "arrays" else (Pairs(X, Y), None)
    assert raised(lambda: prepare(classifier(), data, y, None, 0.1), gn.InputError) == (
        "validation_split=0.1 of 8 samples leaves no training or validation data"
    )


@pytest.mark.parametrize("x", ["arrays", "dataset"])
def test_a_split_may_leave_a_single_training_sample(x: str) -> None:
    # 0.875 of 8 samples holds out 7 and trains on the first one
    data, y = (X, Y) if x == "arrays" else (Pairs(X, Y), None)
    prepared = prepare(classifier(), data, y, None, 0.875)
    assert len(prepared.train) == 1 and prepared.validation is not None
    np.testing.assert_array_equal(prepared.validation.x, X[1:])
    np.testing.assert_array_equal(prepared.validation.labels, Y[1:])


def test_a_split_holds_out_the_last_samples_with_their_labels() -> None:
    prepared = prepare(classifier(), X, Y, None, 0.25)
    assert isinstance(prepared.train, Labelled) and prepared.validation is not None
    np.testing.assert_array_equal(prepared.train.x, X[:6])
    np.testing.assert_array_equal(prepared.train.labels, Y[:6])
    np.testing.assert_array_equal(prepared.train.targets, np.eye(3)[Y[:6]])
    np.testing.assert_array_equal(prepared.validation.x, X[6:])
    np.testing.assert_array_equal(prepared.validation.labels, Y[6:])
    np.testing.assert_array_equal(prepared.validation.targets, np.eye(3)[Y[6:]])


@pytest.mark.parametrize("outputs", [1, 2])
def test_a_split_holds_out_real_valued_targets_as_they_are(outputs: int) -> None:
    # the bug this found: the held-out targets were the training labels (score > 0.5, or argmax),
    # so val_loss compared the outputs with 0/1 or one-hot rows instead of the targets
    y = np.linspace(1, 9, 8 * outputs, dtype=np.float32).reshape(8, outputs)  # (8, outputs)
    prepared = prepare(regressor(outputs), X, y, None, 0.25)
    assert prepared.validation is not None
    np.testing.assert_array_equal(prepared.validation.targets, y[6:])
    net = regressor(outputs).fit(X, y, epochs=1, validation_split=0.25)
    assert net.history["val_loss"] == [pytest.approx(net.evaluate(X[6:], y[6:])["loss"], rel=1e-6)]


def test_a_split_holds_out_targets_without_labels() -> None:
    # outputs (N, 2, 3) with targets of that shape: no labels, so no accuracy
    x = np.linspace(-1, 1, 48, dtype=np.float32).reshape(8, 2, 3)  # (8, 2, 3)
    prepared = prepare(passthrough(), x, x * 2, None, 0.25)
    assert isinstance(prepared.train, Labelled) and prepared.validation is not None
    assert prepared.train.labels is None and prepared.validation.labels is None
    np.testing.assert_array_equal(prepared.train.targets, x[:6] * 2)
    np.testing.assert_array_equal(prepared.validation.targets, x[6:] * 2)


def test_a_batch_without_labels_gives_none() -> None:
    data = Labelled(X, X * 2, None)
    x, targets, labels = data.batch(np.array([1, 3]))
    np.testing.assert_array_equal(x, X[[1, 3]])
    np.testing.assert_array_equal(targets, X[[1, 3]] * 2)
    assert labels is None and not data.has_labels and len(data) == 8


def test_fit_trains_on_targets_without_labels() -> None:
    # image outputs (N, 2, 2, 2) with targets of that shape
    net = gn.Network([gn.Conv2D(1, 2, 3)], seed=0, verbose=0, batch_size=4).use("mse")
    x = np.linspace(-1, 1, 128, dtype=np.float32).reshape(8, 4, 4, 1)  # (8, 4, 4, 1)
    net.fit(x, np.ones((8, 2, 2, 2), dtype=np.float32), epochs=1)
    assert np.isfinite(net.history["loss"][0]) and net.history["accuracy"] == []  # no accuracy without labels


def test_validation_data_may_be_a_dataset_object() -> None:
    source = Pairs(X[:5], Y[:5])
    prepared = prepare(classifier(), X, Y, (source, None), 0.0)
    assert source.calls == [[0, 1, 2, 3, 4]] and prepared.validation is not None
    np.testing.assert_array_equal(prepared.validation.x, X[:5])
    np.testing.assert_array_equal(prepared.validation.labels, Y[:5])


@pytest.mark.parametrize("x", ["arrays", "dataset"])
def test_validation_arrays_are_named_in_messages(x: str) -> None:
    data, y = (X, Y) if x == "arrays" else (Pairs(X, Y), None)
    bad_x = X[:3].copy()
    bad_x[1, 0] = np.nan
    assert raised(lambda: prepare(classifier(), data, y, (bad_x, Y[:3]), 0.0), gn.InputError) == (
        "validation x has 1 NaN or infinite values, the first at index (1, 0): "
        "drop those samples, or replace the values (np.nan_to_num(x))"
    )
    strings = np.array([["a", "b"]] * 3)
    assert raised(lambda: prepare(classifier(), data, y, (strings, Y[:3]), 0.0), gn.InputTypeError).startswith(
        "validation x holds strings (<U1)"
    )
    assert raised(lambda: prepare(classifier(), data, y, (X[:3], Y[:3] + 4), 0.0), gn.InputError) == (
        "labels must be in [0, 3) for a network with 3 outputs, got validation y values from 4 to 6: "
        "give the last layer 7 outputs, or remap them"
    )


# labelled and network_inputs ---------------------------------------------------------------------


def test_labelled_names_x_and_y_and_sets_the_input_shape() -> None:
    net = classifier()
    assert raised(lambda: labelled(net, X, Y[:5]), gn.ShapeError) == (
        "x and y must have one entry per sample, got 8 samples in x and 5 in y"
    )
    bad = X.copy()
    bad[2, 1] = np.inf
    assert raised(lambda: labelled(net, bad, Y), gn.InputError).startswith(
        "x has 1 NaN or infinite values, the first at index (2, 1)"
    )
    net = regressor()
    labelled(net, X, Y.astype(np.float32))
    assert net.input_shape == (2,)


def test_targets_take_the_inputs_float_type_or_the_networks() -> None:
    # a network without parameters keeps float64 inputs, and its targets are float64 too
    x = np.linspace(0, 1, 6).reshape(3, 2)  # (3, 2), float64
    data = labelled(passthrough(), x, x)
    assert data.x.dtype == np.float64 and data.targets.dtype == np.float64
    # integer token ids stay integers; the targets are floats of the network's type
    net = gn.Network([gn.Embedding(5, 3)], seed=0, verbose=0).use("mse")
    tokens = np.array([[0, 4], [1, 2]])
    data = labelled(net, tokens, np.zeros((2, 2, 3), dtype=np.int64))
    assert data.x.dtype == tokens.dtype and data.targets.dtype == np.float32
    for param in net.parameters():
        param.value = param.value.astype(np.float64)
    assert labelled(net, tokens, np.zeros((2, 2, 3), dtype=np.int64)).targets.dtype == np.float64
    # a token layer without parameters: float32 targets
    tokens_only = gn.Network([Tokens()], seed=0, verbose=0).use("mse")
    data = labelled(tokens_only, tokens, np.zeros((2, 2, 3), dtype=np.int64))
    assert data.x.dtype == tokens.dtype and data.targets.dtype == np.float32


def test_network_inputs_need_layers() -> None:
    assert raised(lambda: network_inputs(gn.Network(), X), gn.NotReadyError) == (
        "the network has no layers: add some with net.add(gn.Dense(...)) first"
    )


def test_network_inputs_cast_to_the_networks_type() -> None:
    ints = np.arange(6, dtype=np.int64).reshape(3, 2)  # (3, 2)
    array, output = network_inputs(regressor(), ints)
    assert array.dtype == np.float32 and output == (1,)
    np.testing.assert_array_equal(array, ints)
    # without parameters: integers become float32, floats keep their type
    assert network_inputs(passthrough(), ints)[0].dtype == np.float32
    assert network_inputs(passthrough(), ints.astype(np.float16))[0].dtype == np.float16
    assert network_inputs(passthrough(), ints.astype(np.float64))[0].dtype == np.float64
    # token ids stay integers of their own type for a layer that takes indices; floats are cast
    net = gn.Network([gn.Embedding(10, 3)], seed=0, verbose=0)
    for dtype in (np.int16, np.uint8):
        assert network_inputs(net, ints.astype(dtype))[0].dtype == dtype
    assert network_inputs(net, ints.astype(np.float64))[0].dtype == np.float32


def test_one_sample_without_its_batch_axis_is_named() -> None:
    # the layers refuse the sample's shape as a batch
    assert raised(lambda: network_inputs(regressor(), np.zeros(2), "validation x"), gn.ShapeError) == (
        "the network expected input (N, 2), got validation x of shape (2,), one sample without its batch axis: "
        "pass x[None] (shape (1, 2)) for a batch of one"
    )
    # layers that take any shape: the network's input_shape, learned by fit, tells the sample from a batch
    net = passthrough()
    net.input_shape = (2, 3)
    assert raised(lambda: network_inputs(net, np.zeros((2, 3)), "the dataset's x"), gn.ShapeError) == (
        "the network expected input (N, 2, 3), got the dataset's x of shape (2, 3), one sample without its "
        "batch axis: pass x[None] (shape (1, 2, 3)) for a batch of one"
    )
    array, output = network_inputs(net, np.zeros((4, 2, 3)))
    assert array.shape == (4, 2, 3) and output == (2, 3)
    fresh = passthrough()
    assert network_inputs(fresh, np.zeros((2, 3)))[1] == (3,)  # no input_shape yet: a batch of 2


# dataset objects ---------------------------------------------------------------------------------


def test_a_dataset_object_with_y_is_refused() -> None:
    assert raised(lambda: prepare(classifier(), Pairs(X, Y), Y, None, 0.0), gn.InputError) == (
        "a dataset object gives (x, y) itself: call fit(dataset) without y"
    )


def test_an_empty_dataset_object_is_refused() -> None:
    assert raised(lambda: prepare(classifier(), Pairs(X[:0], Y[:0]), None, None, 0.0), gn.InputError) == (
        "the dataset object is empty (len 0): it must hold at least one sample"
    )


def test_a_dataset_object_of_one_sample_trains() -> None:
    data = Pairs(X[:1], Y[:1])
    net = classifier().fit(data, epochs=1)
    assert len(net.history["loss"]) == 1 and data.calls == [[0], [0]]  # the first-sample check, then the batch


def test_a_dataset_object_is_checked_on_its_first_sample() -> None:
    net = classifier()
    data = Pairs(X, Y)
    prepared = prepare(net, data, None, None, 0.25)
    train = prepared.train
    assert isinstance(train, Streamed) and data.calls == [[0], [6, 7]]  # the first sample, then the held-out end
    np.testing.assert_array_equal(train.indices, np.arange(6))
    assert train.output == (3,) and train.dtype == np.float32 and train.distributions and train.has_labels
    assert net.input_shape == (2,)
    assert prepared.validation is not None
    np.testing.assert_array_equal(prepared.validation.labels, Y[6:])
    net = regressor()
    regression = prepare(net, Pairs(X, X[:, :1]), None, None, 0.0).train  # no validation set: the first sample
    assert isinstance(regression, Streamed) and not regression.distributions and regression.has_labels
    assert net.input_shape == (2,)
    sequences = prepare(passthrough(), Pairs(X.reshape(8, 2, 1), X.reshape(8, 2, 1)), None, None, 0.0).train
    assert isinstance(sequences, Streamed) and not sequences.has_labels


def test_a_dataset_objects_first_sample_errors_name_it() -> None:
    x = X.copy()
    x[0, 1] = np.nan
    assert raised(lambda: prepare(classifier(), Pairs(x, Y), None, None, 0.0), gn.InputError) == (
        "the dataset's x has 1 NaN or infinite values, the first at index (0, 1): "
        "drop those samples, or replace the values (np.nan_to_num(x))"
    )
    assert raised(lambda: prepare(classifier(), Pairs(X, Y + 5), None, None, 0.0), gn.InputError) == (
        "labels must be in [0, 3) for a network with 3 outputs, got the dataset's y values from 5 to 5: "
        "give the last layer 6 outputs, or remap them"
    )
    soft = np.full((8, 3), 0.5, dtype=np.float32)  # rows summing to 1.5
    assert raised(lambda: prepare(classifier(), Pairs(X, soft), None, None, 0.0), gn.InputError).startswith(
        "cross_entropy expects each row of the dataset's y to be one-hot or probabilities summing to 1"
    )


def test_a_dataset_objects_later_batches_are_checked_as_they_come() -> None:
    x = X.copy()
    x[5, 0] = np.inf
    data = Pairs(x, Y)
    net = classifier()
    prepared = prepare(net, data, None, None, 0.0)
    assert isinstance(prepared.train, Streamed)
    batch_x, targets, labels = prepared.train.batch(np.array([1, 2]))
    assert batch_x.dtype == np.float32 and labels is not None
    np.testing.assert_array_equal(batch_x, X[1:3])
    np.testing.assert_array_equal(targets, np.eye(3, dtype=np.float32)[Y[1:3]])
    np.testing.assert_array_equal(labels, Y[1:3])
    assert raised(lambda: prepared.train.batch(np.array([4, 5])), gn.InputError) == (
        "the dataset's x has 1 NaN or infinite values, the first at index (1, 0): "
        "drop those samples, or replace the values (np.nan_to_num(x))"
    )
    strings = Pairs(np.array([["0.5", "1"]] * 8), Y)
    strings.x[0] = X[0]  # a first sample that passes
    streamed = Streamed(strings, np.arange(8), (3,), np.dtype(np.float32), True, True)
    assert raised(lambda: streamed.batch(np.array([1])), gn.InputTypeError).startswith(
        "the dataset's x holds strings (<U3)"
    )
    wrong = Streamed(Pairs(X, Y + 3), np.arange(8), (3,), np.dtype(np.float32), True, True)
    assert raised(lambda: wrong.batch(np.array([1])), gn.InputError) == (
        "labels must be in [0, 3) for a network with 3 outputs, got the dataset's y values from 4 to 4: "
        "give the last layer 5 outputs, or remap them"
    )
    soft = Streamed(Pairs(X, np.full((8, 3), 0.5)), np.arange(8), (3,), np.dtype(np.float32), True, True)
    assert raised(lambda: soft.batch(np.array([1])), gn.InputError).startswith(
        "cross_entropy expects each row of the dataset's y to be one-hot or probabilities summing to 1"
    )


def test_a_dataset_object_must_give_pairs() -> None:
    message = "a dataset object's __getitem__(index_array) must return a pair (x, y), got {}"
    got = raised(lambda: prepare(classifier(), Returning(X[:1]), None, None, 0.0), gn.InputTypeError)
    assert got == message.format("ndarray")
    triple = (X[:1], Y[:1], Y[:1])
    assert raised(lambda: prepare(classifier(), Returning(triple), None, None, 0.0), gn.InputTypeError) == (
        message.format("tuple")
    )


@pytest.mark.parametrize(("inputs", "targets"), [(2, 1), (1, 2)])
def test_a_dataset_object_must_give_one_sample_per_index(inputs: int, targets: int) -> None:
    given = Returning([X[:inputs], Y[:targets]])
    assert raised(lambda: prepare(classifier(), given, None, None, 0.0), gn.ShapeError) == (
        f"the dataset gave {inputs} inputs and {targets} targets for 1 indices: "
        "__getitem__ must return one sample per index"
    )
