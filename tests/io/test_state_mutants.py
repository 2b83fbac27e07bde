"""The training state in model files (glassnet.io.state): what a file holds, each refusal's exact message, copies.

Written for the survivors of mutation testing (docs/mutation.md): every edited file below is
refused with the one message that names the entry, what it must be and what it held.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_entries import read_entries as read

import glassnet as gn
from glassnet.io.npz import write_npz
from glassnet.io.state import BIT_GENERATORS, TrainingState, rng_to_json

X = np.random.default_rng(2).random((8, 3), dtype=np.float32)
Y = np.arange(8) % 2
ACCEPTED_ADAM = "[] or ['m', 'v'] or ['m', 'step', 'v']"


def small(optimizer: str = "adam") -> gn.Network:
    """Two Dense layers (4 parameters), 2 batches an epoch."""
    net = gn.Network(batch_size=4, seed=3, verbose=0, optimizer=optimizer, learning_rate=0.01)
    return net.add(gn.Dense(3, 4)).add(gn.ReLU()).add(gn.Dense(4, 2)).add(gn.Softmax()).use("cross_entropy")


@pytest.fixture(scope="module")
def trained() -> gn.Network:
    return small().fit(X, Y, epochs=2)


def training_of(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return json.loads(str(arrays["training"][()]))


@pytest.fixture
def arrays(tmp_path: Path, trained: gn.Network) -> dict[str, np.ndarray]:
    trained.save(tmp_path / "model.npz")
    return read(tmp_path / "model.npz")


def write(tmp_path: Path, arrays: dict[str, np.ndarray], **training: object) -> Path:
    """The arrays as a model file, the training JSON's top-level keys replaced (a value of ... deletes one)."""
    edited = training_of(arrays) | training
    edited = {key: value for key, value in edited.items() if value is not ...}
    path = tmp_path / "edited.npz"
    with open(path, "wb") as f:
        write_npz(f, arrays | {"training": np.array(json.dumps(edited))})
    return path


def refusal(path: Path) -> str:
    """The message of the ModelFileError that loading path raises."""
    with pytest.raises(gn.ModelFileError) as error:
        gn.Network.load(path)
    return str(error.value)


# What a file holds ----------------------------------------------------------------------------


def test_the_training_entry_and_arrays_hold_the_state(trained: gn.Network, arrays: dict[str, np.ndarray]) -> None:
    assert training_of(arrays) == {
        "epoch": 2,
        "rng": rng_to_json(trained.rng.bit_generator.state),
        "optimizer": {"steps": 4, "state": [["m", "step", "v"]] * 4},
        "history": list(trained.history),
    }
    for key, values in trained.history.items():
        assert arrays[f"history/{key}"].dtype == np.float64 and arrays[f"history/{key}"].tolist() == values
    for index, state in enumerate(trained.optimizer.state):
        for key, value in state.items():
            assert np.array_equal(arrays[f"optimizer/{index}/{key}"], value)


def test_an_untrained_network_saves_epoch_zero_and_loads(tmp_path: Path) -> None:
    small().save(tmp_path / "new.npz")
    training = training_of(read(tmp_path / "new.npz"))
    assert (training["epoch"], training["optimizer"]) == (0, {"steps": 0, "state": []})
    loaded = gn.Network.load(tmp_path / "new.npz")
    assert loaded.history["loss"] == [] and loaded.optimizer.steps == 0 and loaded.callback_states == []


def test_callbacks_are_stored_only_when_one_has_state(tmp_path: Path, trained: gn.Network) -> None:
    trained.callback_states = [{"type": "Stateless", "state": {}}]
    trained.save(tmp_path / "a.npz")
    assert "callbacks" not in training_of(read(tmp_path / "a.npz"))
    states = [{"type": "Stateless", "state": {}}, {"type": "EarlyStopping", "state": {"wait": 2, "best": 0.5}}]
    trained.callback_states = states
    trained.save(tmp_path / "b.npz")
    assert training_of(read(tmp_path / "b.npz"))["callbacks"] == states
    assert gn.Network.load(tmp_path / "b.npz").callback_states == states
    trained.callback_states = []


def test_optimizer_state_for_other_parameters_is_not_saved(tmp_path: Path) -> None:
    net = small().fit(X, Y, epochs=1)
    net.optimizer.state = net.optimizer.state[:2]  # as after layers were added: the next step resets it
    net.save(tmp_path / "m.npz")
    arrays = read(tmp_path / "m.npz")
    assert training_of(arrays)["optimizer"]["state"] == [] and not any(k.startswith("optimizer/") for k in arrays)


def test_optimizer_state_of_the_wrong_shape_is_unsaveable(tmp_path: Path) -> None:
    net = small().fit(X, Y, epochs=1)
    net.optimizer.state[1]["m"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(gn.UnsaveableError) as error:
        net.save(tmp_path / "m.npz")
    assert str(error.value) == (
        "optimizer state 'm' of parameter 1 has shape (3,), the parameter (4,): the layers changed since the "
        "last step; call net.optimizer.state.clear()"
    )


def test_an_unknown_bit_generator_is_unsaveable() -> None:
    for state, shown in [({"bit_generator": "Evil"}, "'Evil'"), ({}, "None")]:
        with pytest.raises(gn.UnsaveableError) as error:
            TrainingState([], 0, state, {"loss": []}).entries([])
        assert str(error.value) == (
            f"net.rng uses the bit generator {shown}; model files store PCG64, PCG64DXSM, MT19937, Philox, SFC64: "
            "use np.random.default_rng"
        )


@pytest.mark.parametrize("name", BIT_GENERATORS)
def test_every_bit_generator_round_trips_exactly(tmp_path: Path, name: str) -> None:
    net = small()
    net.rng = np.random.Generator(getattr(np.random, name)(11))
    net.rng.random(3)  # buffered values and counters away from the seed's
    net.save(tmp_path / "g.npz")
    json.dumps(training_of(read(tmp_path / "g.npz"))["rng"])  # plain JSON: no arrays, no NumPy ints
    loaded = gn.Network.load(tmp_path / "g.npz")
    assert type(loaded.rng.bit_generator).__name__ == name
    assert loaded.rng.random(5).tolist() == net.rng.random(5).tolist()


def test_rng_states_become_plain_json() -> None:
    state = {"bit_generator": "SFC64", "state": {"state": np.arange(4, dtype=np.uint64)}, "has_uint32": np.int64(1)}
    plain = rng_to_json(state)
    assert plain == {"bit_generator": "SFC64", "state": {"state": [0, 1, 2, 3]}, "has_uint32": 1}
    assert type(plain["has_uint32"]) is int and all(type(v) is int for v in plain["state"]["state"])


def test_a_history_of_whole_numbers_is_stored_as_float64(tmp_path: Path) -> None:
    net = small().fit(X, Y, epochs=1)
    net.history["accuracy"] = [1]  # a metric a callback set to an int
    net.save(tmp_path / "h.npz")
    assert read(tmp_path / "h.npz")["history/accuracy"].dtype == np.float64
    assert gn.Network.load(tmp_path / "h.npz").history["accuracy"] == [1.0]


# Capture and restore --------------------------------------------------------------------------


def test_a_capture_is_a_copy_and_restores_again_and_again() -> None:
    net = small().fit(X, Y, epochs=1)
    net.callback_states = [{"type": "T", "state": {"a": 1}}]
    saved = TrainingState.capture(net)
    m, history = net.optimizer.state[0]["m"].copy(), list(net.history["loss"])
    for _ in range(2):
        net.optimizer.state[0]["m"] += 1  # in place, as the optimizer steps
        net.optimizer.steps += 1
        net.history["loss"].append(9.0)
        net.callback_states[0]["state"]["a"] = 2
        net.rng.random(4)
        saved.restore(net)
        assert np.array_equal(net.optimizer.state[0]["m"], m) and net.optimizer.steps == 2
        assert net.history["loss"] == history and net.callback_states == [{"type": "T", "state": {"a": 1}}]
        assert net.rng.bit_generator.state == saved.rng_state


def test_restoring_keeps_the_generator_object_or_builds_the_stored_kind() -> None:
    net = small()
    same, generator = TrainingState.capture(net), net.rng
    net.rng.random(2)
    same.restore(net)
    assert net.rng is generator  # in place: layers holding it (Dropout) follow
    other = small()
    other.rng = np.random.Generator(np.random.MT19937(4))
    state = TrainingState.capture(other)
    state.restore(net)
    assert type(net.rng.bit_generator) is np.random.MT19937
    assert net.rng.random(3).tolist() == np.random.Generator(np.random.MT19937(4)).random(3).tolist()


# The training JSON, refused -------------------------------------------------------------------

BAD_TRAINING: list[tuple[dict[str, Any], str]] = [
    ({"epoch": -1}, "training.epoch must be an int >= 0, found -1"),
    ({"epoch": True}, "training.epoch must be an int >= 0, found True"),
    ({"epoch": 1.5}, "training.epoch must be an int >= 0, found 1.5"),
    ({"epoch": ...}, "training: missing keys ['epoch'], unknown keys []"),
    ({"extra": 1}, "training: missing keys [], unknown keys ['extra']"),
    ({"history": "loss"}, 'training.history must list distinct history keys, "loss" among them'),
    ({"history": {"loss": 0}}, 'training.history must list distinct history keys, "loss" among them'),
    ({"history": ["accuracy"]}, 'training.history must list distinct history keys, "loss" among them'),
    ({"history": ["loss", "loss"]}, 'training.history must list distinct history keys, "loss" among them'),
    ({"history": ["loss", 3, "3"]}, 'training.history must list distinct history keys, "loss" among them'),
    ({"history": ["loss", 3]}, "training.history has an invalid key 3"),
    ({"history": ["loss", "Acc"]}, "training.history has an invalid key 'Acc'"),
    ({"history": ["loss", "1a"]}, "training.history has an invalid key '1a'"),
    ({"history": ["loss", "a" * 65]}, f"training.history has an invalid key {'a' * 65!r}"),
    ({"optimizer": []}, "training.optimizer: expected a JSON object, found list"),
    ({"optimizer": {"steps": 4}}, "training.optimizer: missing keys ['state'], unknown keys []"),
    ({"optimizer": {"steps": -1, "state": []}}, "training.optimizer needs steps (an int >= 0) and state (a list)"),
    ({"optimizer": {"steps": False, "state": []}}, "training.optimizer needs steps (an int >= 0) and state (a list)"),
    ({"optimizer": {"steps": 4, "state": {}}}, "training.optimizer needs steps (an int >= 0) and state (a list)"),
    ({"optimizer": {"steps": 4, "state": ["m"]}}, f"training.optimizer.state entries must be {ACCEPTED_ADAM}, not 'm'"),
    ({"optimizer": {"steps": 4, "state": [[1]]}}, f"training.optimizer.state entries must be {ACCEPTED_ADAM}, not [1]"),
    (
        {"optimizer": {"steps": 4, "state": [["m"]]}},
        f"training.optimizer.state entries must be {ACCEPTED_ADAM}, not ['m']",
    ),
    (
        {"optimizer": {"steps": 4, "state": [{"m": 0, "v": 0}] * 4}},
        f"training.optimizer.state entries must be {ACCEPTED_ADAM}, not {{'m': 0, 'v': 0}}",
    ),
    ({"rng": 5}, "training.rng must be the state of one of PCG64, PCG64DXSM, MT19937, Philox, SFC64"),
    (
        {"rng": {"bit_generator": 5}},
        "training.rng must be the state of one of PCG64, PCG64DXSM, MT19937, Philox, SFC64",
    ),
    ({"rng": {"bit_generator": "PCG64"}}, "training.rng is not a valid PCG64 state: 'state'"),
    (
        {"rng": {"bit_generator": "MT19937", "state": {"key": [1], "pos": 0}}},
        "training.rng is not a valid MT19937 state:",
    ),
]
BAD_CALLBACKS: list[object] = [
    {},
    [1],
    [{"type": "A"}],
    [{"type": "A", "state": {}, "x": 1}],
    [{"type": 1, "state": {}}],
    [{"type": "A", "state": []}],
    [{"type": "A", "state": {"a": True}}],
    [{"type": "A", "state": {"a": "1"}}],
]


@pytest.mark.parametrize(("edit", "message"), BAD_TRAINING)
def test_a_bad_training_entry_is_refused_with_its_message(
    tmp_path: Path, arrays: dict[str, np.ndarray], edit: dict[str, Any], message: str
) -> None:
    path = write(tmp_path, arrays, **edit)
    found = refusal(path)
    assert found == f"{path}: {message}" or (message.endswith(":") and found.startswith(f"{path}: {message} "))


@pytest.mark.parametrize("callbacks", BAD_CALLBACKS)
def test_bad_callback_states_are_refused(tmp_path: Path, arrays: dict[str, np.ndarray], callbacks: object) -> None:
    path = write(tmp_path, arrays, callbacks=callbacks)
    assert refusal(path) == f'{path}: training.callbacks must list {{"type": name, "state": {{name: number}}}}'


def test_callback_states_of_numbers_and_nulls_load(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    states = [{"type": "A", "state": {"a": None, "b": 1, "c": 2.5}}]
    assert gn.Network.load(write(tmp_path, arrays, callbacks=states)).callback_states == states


def test_a_64_character_history_key_is_allowed(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    key = "a" * 64
    history = training_of(arrays)["history"] + [key]
    path = write(tmp_path, arrays | {f"history/{key}": np.array([0.5, 0.25])}, history=history)
    assert gn.Network.load(path).history[key] == [0.5, 0.25]


# The arrays, refused --------------------------------------------------------------------------


def edited(arrays: dict[str, np.ndarray], entry: str, value: object) -> dict[str, np.ndarray]:
    return arrays | {entry: np.asarray(value)}


@pytest.mark.parametrize(
    ("entry", "value", "message"),
    [
        ("history/accuracy", [[0.5, 0.5]], "history/accuracy must be a float vector of at most 2 entries"),
        ("history/accuracy", np.array([1, 1]), "history/accuracy must be a float vector of at most 2 entries"),
        ("history/accuracy", [0.5, 0.5, 0.5], "history/accuracy must be a float vector of at most 2 entries"),
        ("history/loss", [0.5], "training.epoch is 2 but history/loss has 1"),
        ("optimizer/0/step", np.array([4]), "optimizer/0/step must be an integer >= 1"),
        ("optimizer/0/step", np.array(4.0), "optimizer/0/step must be an integer >= 1"),
        ("optimizer/0/step", np.array(0), "optimizer/0/step must be an integer >= 1"),
        (
            "optimizer/2/m",
            np.zeros((4, 1), np.float32),
            "optimizer/2/m must be finite floats of the parameter's shape (4, 2)",
        ),
        (
            "optimizer/2/m",
            np.zeros((4, 2), np.int32),
            "optimizer/2/m must be finite floats of the parameter's shape (4, 2)",
        ),
        (
            "optimizer/2/m",
            np.full((4, 2), np.nan),
            "optimizer/2/m must be finite floats of the parameter's shape (4, 2)",
        ),
        (
            "optimizer/3/v",
            np.full(2, -1.0),
            "optimizer/3/v must be finite floats of the parameter's shape (2,) and >= 0",
        ),
        (
            "optimizer/3/v",
            np.full(2, np.inf),
            "optimizer/3/v must be finite floats of the parameter's shape (2,) and >= 0",
        ),
    ],
)
def test_a_bad_array_is_refused_with_its_message(
    tmp_path: Path, arrays: dict[str, np.ndarray], entry: str, value: object, message: str
) -> None:
    path = write(tmp_path, edited(arrays, entry, value))
    assert refusal(path) == f"{path}: {message}"


def test_boundary_values_load(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    shorter = edited(arrays, "history/accuracy", [0.75])  # at most epoch entries: fewer is fine
    shorter = edited(shorter, "optimizer/0/step", np.array(1))
    shorter = edited(shorter, "optimizer/3/v", np.zeros(2, np.float32))
    shorter = edited(shorter, "optimizer/3/m", np.full(2, -1.0, np.float32))  # a first moment may be negative
    net = gn.Network.load(write(tmp_path, shorter))
    assert net.history["accuracy"] == [0.75] and int(net.optimizer.state[0]["step"]) == 1
    assert net.optimizer.state[3]["v"].tolist() == [0, 0] and net.optimizer.state[3]["m"].tolist() == [-1, -1]


def test_optimizer_state_for_another_parameter_count_is_refused(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    fewer = {key: value for key, value in arrays.items() if not key.startswith("optimizer/3/")}
    path = write(tmp_path, fewer, optimizer={"steps": 4, "state": [["m", "step", "v"]] * 3})
    assert refusal(path) == f"{path}: optimizer state for 3 parameters, the network has 4"
    none = {key: value for key, value in arrays.items() if not key.startswith("optimizer/")}
    net = gn.Network.load(write(tmp_path, none, optimizer={"steps": 4, "state": []}))
    assert net.optimizer.state == [] and net.optimizer.steps == 4


def without_batches(arrays: dict[str, np.ndarray], entry: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays and history keys without one of the per-batch entries."""
    kept = {key: value for key, value in arrays.items() if key != f"history/{entry}"}
    return kept, [key for key in training_of(arrays)["history"] if key != entry]


@pytest.mark.parametrize("entry", ["batch_loss", "batch_points"])
def test_the_batch_history_entries_come_together(tmp_path: Path, arrays: dict[str, np.ndarray], entry: str) -> None:
    kept, history = without_batches(arrays, entry)
    path = write(tmp_path, kept, history=history)
    assert refusal(path) == f"{path}: history/batch_loss and history/batch_points come together"


def test_a_file_without_batch_history_loads(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    kept = {key: value for key, value in arrays.items() if not key.startswith("history/batch_")}
    history = [key for key in training_of(arrays)["history"] if not key.startswith("batch_")]
    net = gn.Network.load(write(tmp_path, kept, history=history))  # as from format 2
    assert net.history["batch_loss"] == net.history["batch_points"] == [] and len(net.history["loss"]) == 2


@pytest.mark.parametrize("counts", [[-1.0, 5.0], [np.nan, 4.0], [1.5, 2.5], [np.inf, 4.0]])
def test_batch_counts_must_be_whole_numbers(tmp_path: Path, arrays: dict[str, np.ndarray], counts: list[float]) -> None:
    path = write(tmp_path, edited(arrays, "history/batch_points", counts))
    assert refusal(path) == f"{path}: history/batch_points must hold whole numbers >= 0"


def test_batch_counts_must_add_up_and_may_be_zero(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    path = write(tmp_path, edited(arrays, "history/batch_points", [1.0, 2.0]))
    assert refusal(path) == f"{path}: history/batch_points adds up to 3 but history/batch_loss has 4 values"
    net = gn.Network.load(write(tmp_path, edited(arrays, "history/batch_points", [0.0, 4.0])))
    assert net.history["batch_points"] == [0.0, 4.0]
