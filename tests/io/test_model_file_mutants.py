"""Model files (glassnet.io.model_file and model_build): what a file holds, and each refusal's exact message.

Written for the survivors of mutation testing (docs/mutation.md): a file edited in one place is
refused with the one message that names the place, what it must be and what it held.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_entries import read_entries as read
from model_fixtures import MODEL

import glassnet as gn
import glassnet.io.model_build as model_build
from glassnet.io.model_build import MAX_CLASSES, MAX_NAME
from glassnet.io.model_file import FORMAT_VERSION
from glassnet.io.npz import write_npz
from glassnet.io.schema import describe

X = np.random.default_rng(4).random((8, 3), dtype=np.float32)
Y = np.arange(8) % 2


def small() -> gn.Network:
    """Dense, BatchNorm (buffers), ReLU, Dense, Softmax with Adam (an int64 step per parameter)."""
    net = gn.Network(batch_size=4, seed=0, verbose=0, optimizer="adam", learning_rate=0.01)
    net.add(gn.Dense(3, 4)).add(gn.BatchNorm(4)).add(gn.ReLU()).add(gn.Dense(4, 2)).add(gn.Softmax())
    return net.use("cross_entropy")


@pytest.fixture(scope="module")
def trained() -> gn.Network:
    return small().fit(X, Y, epochs=2)


def json_entry(arrays: dict[str, np.ndarray], entry: str) -> Any:
    return json.loads(str(arrays[entry][()]))


@pytest.fixture
def arrays(tmp_path: Path, trained: gn.Network) -> dict[str, np.ndarray]:
    trained.save(tmp_path / "model.npz")
    return read(tmp_path / "model.npz")


def write(tmp_path: Path, arrays: dict[str, np.ndarray], **architecture: object) -> Path:
    """The arrays as a model file, the architecture's top-level keys replaced (a value of ... deletes one)."""
    edited = json_entry(arrays, "architecture") | architecture
    edited = {key: value for key, value in edited.items() if value is not ...}
    path = tmp_path / "edited.npz"
    with open(path, "wb") as f:
        write_npz(f, arrays | {"architecture": np.array(json.dumps(edited))})
    return path


def refusal(path: Path) -> str:
    """The message of the ModelFileError that loading path raises."""
    with pytest.raises(gn.ModelFileError) as error:
        gn.Network.load(path)
    return str(error.value)


# What a file holds ----------------------------------------------------------------------------


def test_a_file_holds_its_version_architecture_card_weights_and_buffers(
    trained: gn.Network, arrays: dict[str, np.ndarray]
) -> None:
    assert arrays["format_version"].dtype == np.int64 and arrays["format_version"].shape == ()
    assert int(arrays["format_version"]) == FORMAT_VERSION == 3
    assert json_entry(arrays, "architecture") == describe(trained)
    assert json_entry(arrays, "card") == trained.card and trained.card["fits"]
    for index, layer in enumerate(trained.layers):
        for name, param in layer.named_parameters().items():
            assert np.array_equal(arrays[f"parameters/{index}/{name}"], param.value)
        for name, buffer in layer.buffers().items():
            assert np.array_equal(arrays[f"buffers/{index}/{name}"], buffer)
    assert {key.split("/")[0] for key in arrays} == {
        "format_version",
        "architecture",
        "training",
        "card",
        "parameters",
        "buffers",
        "optimizer",
        "history",
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("parameters/0/weight", "parameters/0/weight must hold finite floats, found dtype float32"),
        ("buffers/1/running_mean", "buffers/1/running_mean must hold finite floats, found dtype float32"),
        ("optimizer/0/m", "optimizer/0/m must hold finite floats, found dtype float32"),
    ],
)
def test_nan_anywhere_in_the_arrays_is_unsaveable(tmp_path: Path, entry: str, message: str) -> None:
    net = small().fit(X, Y, epochs=1)
    layer, name = int(entry.split("/")[1]), entry.split("/")[2]
    if entry.startswith("parameters/"):
        net.layers[layer].named_parameters()[name].value[0] = np.nan
    elif entry.startswith("buffers/"):
        net.layers[layer].running_mean[0] = np.nan
    else:
        net.optimizer.state[layer][name][0, 0] = np.nan
    with pytest.raises(gn.UnsaveableError) as error:
        net.save(tmp_path / "x.npz")
    assert str(error.value) == (
        f"{message} with NaN or infinite values or not floats: training diverged or a value was set by hand; "
        "the file was not written"
    )
    assert not (tmp_path / "x.npz").exists()


def test_integer_weights_are_unsaveable(tmp_path: Path) -> None:
    net = small()
    net.layers[0].weight.value = np.ones((3, 4), dtype=np.int64)
    with pytest.raises(gn.UnsaveableError, match=r"^parameters/0/weight must hold finite floats, found dtype int64 "):
        net.save(tmp_path / "x.npz")


def test_loading_before_the_network_wing_is_registered_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_build, "_network_class", None)
    with pytest.raises(RuntimeError) as error:
        model_build.network_class()
    assert str(error.value) == "glassnet.network was not imported: import glassnet first"


def test_the_registered_class_is_the_one_loading_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_build, "_network_class", None)
    model_build.register_network_class(gn.Network)
    assert model_build.network_class() is gn.Network


@pytest.mark.parametrize("where", ["card", "callbacks", "optimizer"])
def test_a_non_finite_number_in_a_json_entry_is_never_written(tmp_path: Path, where: str) -> None:
    # The loader refuses NaN and Infinity in JSON, so a save that wrote them would leave an unreadable file.
    net = small().save(tmp_path / "m.npz")
    before = (tmp_path / "m.npz").read_bytes()
    if where == "card":
        net.card["note"] = float("nan")  # the card entry
    elif where == "callbacks":
        net.callback_states = [{"type": "Mine", "state": {"best": float("inf")}}]  # the training entry
    else:
        net.optimizer.learning_rate = float("nan")  # the architecture entry
    entry = {"card": "card", "callbacks": "training", "optimizer": "architecture"}[where]
    with pytest.raises(gn.UnsaveableError, match=f"the model file's {entry} entry would hold NaN or an infinite"):
        net.save(tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == before


def test_a_format_1_file_loads_with_an_empty_card() -> None:
    assert gn.Network.load(MODEL).card == {"fits": []}


# Versions, JSON entries, card -----------------------------------------------------------------


@pytest.mark.parametrize("version", [np.array(2.0), np.array([3]), np.array("3")], ids=["float", "vector", "text"])
def test_a_format_version_that_is_not_an_int_scalar_is_not_a_model_file(
    tmp_path: Path, arrays: dict[str, np.ndarray], version: np.ndarray
) -> None:
    path = write(tmp_path, arrays | {"format_version": version})
    assert refusal(path) == f"{path}: not a glassnet model file (no format_version entry)"


def test_newer_and_unknown_versions_are_refused(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    path = write(tmp_path, arrays | {"format_version": np.array(4)})
    assert refusal(path) == (
        f"{path}: model file format 4 was written by a newer glassnet; this one reads format 3: "
        "upgrade glassnet (pip install -U glassnet)"
    )
    path = write(tmp_path, arrays | {"format_version": np.array(0, dtype=np.uint8)})
    assert refusal(path) == f"{path}: unknown model file format 0; expected one of [1, 2, 3]"


@pytest.mark.parametrize("version", [2, 3])
def test_every_readable_version_loads(tmp_path: Path, arrays: dict[str, np.ndarray], version: int) -> None:
    fewer = arrays if version == 3 else _format_2(arrays)
    net = gn.Network.load(write(tmp_path, fewer | {"format_version": np.array(version)}))
    assert len(net.history["loss"]) == 2 and len(net.history["batch_loss"]) == (4 if version == 3 else 0)


def _format_2(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays without the per-batch history format 3 added."""
    training = json_entry(arrays, "training")
    training["history"] = [key for key in training["history"] if not key.startswith("batch_")]
    kept = {key: value for key, value in arrays.items() if not key.startswith("history/batch_")}
    return kept | {"training": np.array(json.dumps(training))}


@pytest.mark.parametrize("value", [np.array(["{}"]), np.array(5), None], ids=["vector", "number", "missing"])
def test_a_json_entry_must_be_one_text(tmp_path: Path, arrays: dict[str, np.ndarray], value: object) -> None:
    edited = dict(arrays)
    if value is None:
        del edited["training"]
    else:
        edited["training"] = np.asarray(value)
    path = tmp_path / "edited.npz"
    with open(path, "wb") as f:
        write_npz(f, edited)
    assert refusal(path) == f"{path}: entry 'training' is missing or is not a JSON text"


def test_invalid_json_names_the_entry_and_the_error(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    for text, error in [
        ("{", "Expecting property name enclosed in double quotes"),
        ('{"a": NaN}', "NaN is not allowed"),
    ]:
        path = tmp_path / "edited.npz"
        with open(path, "wb") as f:
            write_npz(f, arrays | {"card": np.array(text)})
        message = refusal(path)
        assert message.startswith(f"{path}: entry 'card' is not valid JSON: ") and error in message


@pytest.mark.parametrize("card", [[], {"fits": {}}, {"no": []}])
def test_a_card_must_be_an_object_with_a_list_of_fits(
    tmp_path: Path, arrays: dict[str, np.ndarray], card: object
) -> None:
    path = write(tmp_path, arrays | {"card": np.array(json.dumps(card))})
    assert refusal(path) == f"{path}: entry 'card' must be a JSON object with a list 'fits'"


def test_a_card_is_given_back_as_stored(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    card = {"fits": [], "note": "kept"}
    assert gn.Network.load(write(tmp_path, arrays | {"card": np.array(json.dumps(card))})).card == card


# Entries and arrays ---------------------------------------------------------------------------


def test_missing_and_unknown_entries_are_listed(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    edited = {key: value for key, value in arrays.items() if key != "buffers/1/running_var"}
    path = write(tmp_path, edited | {"extra/x": np.zeros(1)})
    assert refusal(path) == f"{path}: missing entries ['buffers/1/running_var'], unknown entries ['extra/x']"
    card_less = {key: value for key, value in arrays.items() if key != "card"}
    assert gn.Network.load(write(tmp_path, card_less)).card == {"fits": []}


@pytest.mark.parametrize(
    ("value", "stored"),
    [(np.zeros((4, 3), np.float32), "(4, 3) of float32"), (np.zeros((3, 4), np.int32), "(3, 4) of int32")],
)
def test_an_array_the_architecture_does_not_imply_is_refused(
    tmp_path: Path, arrays: dict[str, np.ndarray], value: np.ndarray, stored: str
) -> None:
    path = write(tmp_path, arrays | {"parameters/0/weight": value})
    assert refusal(path) == (
        f"{path}: the architecture implies parameters/0/weight of shape (3, 4), the file stores {stored}: "
        "the file is corrupt or was edited"
    )


@pytest.mark.parametrize(
    ("entry", "bad"),
    [("parameters/3/bias", np.inf), ("buffers/1/running_var", -1.0), ("buffers/1/running_mean", np.nan)],
)
def test_unusable_weights_and_buffers_are_refused(
    tmp_path: Path, arrays: dict[str, np.ndarray], entry: str, bad: float
) -> None:
    value = arrays[entry].copy()
    value[0] = bad
    path = write(tmp_path, arrays | {entry: value})
    assert refusal(path) == f"{path}: {entry} holds NaN, infinite or out-of-range values: the model is unusable"


def test_a_negative_running_mean_or_weight_loads(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    mean = np.full(4, -2.0, np.float32)
    net = gn.Network.load(write(tmp_path, arrays | {"buffers/1/running_mean": mean}))
    assert net.layers[1].running_mean.tolist() == [-2.0] * 4


# The architecture -----------------------------------------------------------------------------


def test_layers_must_be_a_list(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    path = write(tmp_path, arrays, layers={"0": 1})
    assert refusal(path) == f"{path}: architecture.layers must be a list, found dict"


def test_the_network_settings_and_loss_are_refused_naming_the_file(
    tmp_path: Path, arrays: dict[str, np.ndarray]
) -> None:
    network = json_entry(arrays, "architecture")["network"] | {"surprise": 1}
    path = write(tmp_path, arrays, network=network)
    assert refusal(path) == f"{path}: architecture.network: missing keys [], unknown keys ['surprise']"
    path = write(tmp_path, arrays, loss="hinge")
    assert refusal(path).startswith(f"{path}: unknown loss 'hinge'; known: ")


@pytest.mark.parametrize("seed", [-1, True, "1", 1.0])
def test_a_bad_seed_is_refused(tmp_path: Path, arrays: dict[str, np.ndarray], seed: object) -> None:
    network = json_entry(arrays, "architecture")["network"] | {"seed": seed}
    path = write(tmp_path, arrays, network=network)
    assert refusal(path) == f"{path}: the seed must be null or an int >= 0, found {seed!r}"


@pytest.mark.parametrize("seed", [None, 0, 7])
def test_a_null_or_natural_seed_loads(tmp_path: Path, arrays: dict[str, np.ndarray], seed: object) -> None:
    network = json_entry(arrays, "architecture")["network"] | {"seed": seed}
    assert gn.Network.load(write(tmp_path, arrays, network=network)).seed == seed


@pytest.mark.parametrize("shape", [[0], [True], [1.5], "3", [-3]])
def test_a_bad_input_shape_is_refused(tmp_path: Path, arrays: dict[str, np.ndarray], shape: object) -> None:
    path = write(tmp_path, arrays, input_shape=shape)
    assert refusal(path) == f"{path}: input_shape must be null or a list of ints >= 1, found {shape!r}"


def test_an_input_shape_is_given_back_or_null(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    assert gn.Network.load(write(tmp_path, arrays, input_shape=[3])).input_shape == (3,)
    assert gn.Network.load(write(tmp_path, arrays, input_shape=None)).input_shape is None


def test_an_input_shape_the_layers_cannot_take_is_inconsistent(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    message = refusal(write(tmp_path, arrays, input_shape=[5]))
    assert message.startswith(f"{tmp_path / 'edited.npz'}: the stored network is inconsistent: ")
    assert "Dense(3 -> 4)" in message


def test_a_stored_loss_of_null_loads_without_one(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    assert gn.Network.load(write(tmp_path, arrays, loss=None)).loss is None


@pytest.mark.parametrize(
    "names",
    [["a"] * (MAX_CLASSES + 1), [], "ab", ["a", 1], ["a", "n" * (MAX_NAME + 1)]],
    ids=["too many", "none", "text", "not text", "too long"],
)
def test_bad_class_names_are_refused(tmp_path: Path, arrays: dict[str, np.ndarray], names: object) -> None:
    path = write(tmp_path, arrays, class_names=names)
    assert refusal(path) == (f"{path}: class_names must be a list of 1 to 100000 strings of at most 255 characters")


@pytest.mark.parametrize(
    "names", [["only"], ["n" * MAX_NAME, "b"], ["c"] * MAX_CLASSES], ids=["one", "longest", "most"]
)
def test_class_names_at_the_limits_load(tmp_path: Path, arrays: dict[str, np.ndarray], names: list[str]) -> None:
    assert gn.Network.load(write(tmp_path, arrays, class_names=names)).class_names == names


def test_a_network_over_the_limits_is_refused_with_the_limits_message(
    tmp_path: Path, arrays: dict[str, np.ndarray]
) -> None:
    path = write(tmp_path, arrays)
    with pytest.raises(gn.ModelFileError) as error:
        gn.Network.load(path, limits=gn.io.Limits(parameters=30))
    assert str(error.value) == (
        f"{path}: the network has 34 parameters, more than the limit of 30; if you really mean it, raise the "
        "limit: Network.load(path, limits=gn.io.Limits(...)) (docs/security.md)"
    )  # 3 * 4 + 4, 4 + 4 (BatchNorm), 4 * 2 + 2


# Custom layers --------------------------------------------------------------------------------


class Shift(gn.Layer):
    """A custom layer with one trained vector, created at initialisation."""

    def __init__(self, features: int) -> None:
        self.features = features
        self.shift: gn.Parameter | None = None

    def initialize(self, rng: np.random.Generator) -> None:
        if self.shift is None:
            self.shift = gn.Parameter(np.zeros(self.features, np.float32))

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x + self.shift.value

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.shift.grad = grad.sum(axis=0)
        return grad

    def config(self) -> dict[str, int]:
        return {"features": self.features}


def test_a_custom_layers_parameter_names_must_be_identifiers(tmp_path: Path) -> None:
    net = gn.Network(seed=0, verbose=0).add(gn.Dense(3, 2)).add(Shift(2)).use("mse")
    net.layers[1].initialize(net.rng)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(gn.layers.registry.REGISTERED, "Shift", Shift)
        net.save(tmp_path / "m.npz")
        arrays = read(tmp_path / "m.npz")
        loaded = gn.Network.load(tmp_path / "m.npz")
        assert loaded.layers[1].shift.value.tolist() == [0.0, 0.0]
        arrays["parameters/1/sh-ift"] = arrays.pop("parameters/1/shift")
        path = write(tmp_path, arrays)
        assert refusal(path) == f"{path}: layer 1's parameter names must be identifiers: ['sh-ift']"
        layers = json_entry(arrays, "architecture")["layers"]
        layers[1]["config"] = {"width": 2}
        assert refusal(write(tmp_path, arrays, layers=layers)).startswith(f"{path}: layer 1")
        with pytest.raises(gn.ModelFileError, match=r"the network has 10 parameters, more than the limit of 9"):
            gn.Network.load(tmp_path / "m.npz", limits=gn.io.Limits(parameters=9))  # Shift's 2 counted from the file


def test_a_zero_running_variance_loads(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    net = gn.Network.load(write(tmp_path, arrays | {"buffers/1/running_var": np.zeros(4, np.float32)}))
    assert net.layers[1].running_var.tolist() == [0.0] * 4


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"loss": ...}, "architecture: missing keys ['loss'], unknown keys []"),
        ({"layers": [{"type": "Dense"}]}, "layer 0: missing keys ['config'], unknown keys []"),
        ({"layers": [{"type": [], "config": {}}]}, "layer 0"),
        ({"schedule": "nonsense"}, ""),
        ({"augment": "nonsense"}, ""),
        ({"optimizer": {"type": "Adadelta", "config": {}}}, "unknown optimizer 'Adadelta'"),
    ],
)
def test_each_refusal_of_the_architecture_names_the_file(
    tmp_path: Path, arrays: dict[str, np.ndarray], edit: dict[str, object], message: str
) -> None:
    path = write(tmp_path, arrays, **edit)
    assert refusal(path).startswith(f"{path}: {message}")


def test_a_refusal_of_the_training_entry_names_the_file(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    training = json_entry(arrays, "training") | {"epoch": -1}
    path = write(tmp_path, arrays | {"training": np.array(json.dumps(training))})
    assert refusal(path) == f"{path}: training.epoch must be an int >= 0, found -1"
    path = write(tmp_path, arrays | {"history/loss": np.array([0.5])})
    assert refusal(path) == f"{path}: training.epoch is 2 but history/loss has 1"
