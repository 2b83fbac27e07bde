"""Custom layers in model files: @gn.register_layer, custom_layers=, config, named parameters, clear errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.layers import registry


@pytest.fixture(autouse=True)
def clean_registry():
    saved = dict(registry.REGISTERED)
    yield
    registry.REGISTERED.clear()
    registry.REGISTERED.update(saved)


class Sine(gn.Layer):
    """The README's layer, with a frequency kept as the constructor's argument."""

    def __init__(self, frequency: float = 1.0) -> None:
        self.frequency = frequency

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.sin(self.frequency * x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * self.frequency * np.cos(self.frequency * self.x)


class Scale(gn.Layer):
    """A trained per-feature scale, created at initialisation; config() defined by the class."""

    def __init__(self, features: int) -> None:
        self.features = features
        self.scale: gn.Parameter | None = None

    def initialize(self, rng: np.random.Generator) -> None:
        if self.scale is None:
            self.scale = gn.Parameter(rng.uniform(0.5, 1.5, self.features).astype(np.float32))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x * self.scale.value

    def backward(self, grad: np.ndarray) -> np.ndarray:
        self.scale.grad = (grad * self.x).sum(axis=0)
        return grad * self.scale.value

    def config(self) -> dict[str, int]:
        return {"features": self.features}


def _net() -> gn.Network:
    return (
        gn.Network(seed=0, verbose=0, epochs=2, batch_size=8)
        .add(gn.Dense(3, 4))
        .add(Sine(2.5))
        .add(Scale(4))
        .add(gn.Dense(4, 2))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 3)).astype(np.float32), rng.integers(0, 2, 32)


def test_registered_layers_save_and_load_with_config_and_parameters(tmp_path: Path) -> None:
    gn.register_layer(Sine)
    gn.register_layer(name="MyScale")(Scale)
    x, y = _data()
    net = _net().fit(x, y)
    net.save(tmp_path / "m.npz")
    loaded = gn.Network.load(tmp_path / "m.npz")
    assert isinstance(loaded.layers[1], Sine) and loaded.layers[1].frequency == 2.5
    assert isinstance(loaded.layers[2], Scale) and loaded.layers[2].features == 4
    np.testing.assert_array_equal(loaded.layers[2].scale.value, net.layers[2].scale.value)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        assert "parameters/2/scale.npy" in archive.namelist()
    # resuming from a checkpoint of a network with custom layers continues the same run
    net2 = _net().fit(x, y, epochs=1, checkpoint=tmp_path / "c.npz")
    resumed = _net().fit(x, y, epochs=2, resume=tmp_path / "c.npz")
    np.testing.assert_array_equal(resumed.layers[2].scale.value, net.layers[2].scale.value)
    assert net2.history["loss"] == net.history["loss"][:1]


def test_custom_layers_argument_loads_without_registering(tmp_path: Path) -> None:
    gn.register_layer(Sine)
    gn.register_layer(Scale)
    _net().save(tmp_path / "m.npz")
    registry.REGISTERED.clear()
    loaded = gn.Network.load(tmp_path / "m.npz", custom_layers={"Sine": Sine, "Scale": Scale})
    assert [type(layer) for layer in loaded.layers[1:3]] == [Sine, Scale]


def test_unregistered_layer_in_a_file_is_named_with_how_to_register(tmp_path: Path) -> None:
    gn.register_layer(Sine)
    gn.register_layer(Scale)
    _net().save(tmp_path / "m.npz")
    registry.REGISTERED.pop("Scale")
    with pytest.raises(gn.errors.ModelFileError, match=r"layer 2 is the custom layer 'Scale'.*@gn.register_layer"):
        gn.Network.load(tmp_path / "m.npz")


def test_a_file_cannot_name_code_to_import(tmp_path: Path) -> None:
    """A file naming os.system (or any class not registered) builds nothing."""
    gn.register_layer(Sine)
    net = gn.Network(seed=0).add(Sine()).use("mse")
    net.save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    architecture = np.load(tmp_path / "m.npz")["architecture"][()]
    spec = json.loads(str(architecture))
    spec["layers"][0]["type"] = "os.system"
    spec["layers"][0]["config"] = {"command": "touch pwned"}
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array(json.dumps(spec)))
    entries["architecture.npy"] = buffer.getvalue()
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(gn.errors.ModelFileError, match=r"'os\.system', which is not registered"):
        gn.Network.load(tmp_path / "evil.npz")
    assert not (Path.cwd() / "pwned").exists()


def test_unsaveable_custom_layers_say_why(tmp_path: Path) -> None:
    with pytest.raises(gn.errors.UnsaveableError, match=r"not registered: decorate its class with @gn\.register_layer"):
        gn.Network().add(Sine()).use("mse").save(tmp_path / "m.npz")

    @gn.register_layer
    class Forgetful(gn.Layer):
        def __init__(self, size: int) -> None:
            pass

    with pytest.raises(gn.errors.UnsaveableError, match=r"self.size = size"):
        gn.Network().add(Forgetful(3)).use("mse").save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_register_layer_refuses_built_in_names_and_non_layers() -> None:
    with pytest.raises(gn.errors.InputError, match="built-in layer's name"):
        gn.register_layer(name="Dense")(Sine)
    with pytest.raises(TypeError, match=r"subclass of gn\.Layer"):
        gn.register_layer(int)  # type: ignore[type-var]

    class Other(gn.Layer):
        pass

    gn.register_layer(name="Taken")(Sine)
    with pytest.raises(gn.errors.InputError, match="already registered"):
        gn.register_layer(name="Taken")(Other)


def test_summary_shows_a_custom_layers_output_shape_from_one_zero_sample() -> None:
    class Doubler(gn.Layer):
        """Repeats its features twice: (N, F) -> (N, 2F); declares no output_shape."""

        def forward(self, x: np.ndarray) -> np.ndarray:
            return np.concatenate([x, x], axis=1)

        def backward(self, grad: np.ndarray) -> np.ndarray:
            half = grad.shape[1] // 2
            return grad[:, :half] + grad[:, half:]

    class Picky(Doubler):
        def forward(self, x: np.ndarray) -> np.ndarray:
            raise ValueError("only real data")

    net = gn.Network().add(gn.Flatten()).add(gn.Dense(4, 3)).add(Doubler()).add(gn.Dense(6, 2)).add(Picky())
    rows = net.summary((2, 2, 1)).splitlines()
    assert "(N, 6)" in next(row for row in rows if row.startswith("Doubler()"))
    assert next(row for row in rows if row.startswith("Picky()")).split()[1] == "?"  # its forward refused
    assert "(N, 6)" in net._repr_html_()
