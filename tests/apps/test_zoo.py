"""models: the registry of named architectures and JSON model specs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.apps.model_spec import load_spec
from glassnet.apps.zoo import DEFAULT_MODEL, REGISTRY, describe_models, get_model
from glassnet.errors import InputError


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_registered_model_builds_and_runs_on_mnist_images(name: str) -> None:
    entry = get_model(name)
    net = entry.build(seed=0, verbose=0)
    assert net.epochs == entry.epochs and net.batch_size == entry.batch_size
    out = net.predict(np.zeros((2, 28, 28, 1), dtype=np.float32))
    assert out.shape == (2, 10)
    assert name in describe_models()


def test_the_registry_holds_the_required_models() -> None:
    assert {"mlp", "cnn", "lenet", "article-mlp", "article-cnn"} <= set(REGISTRY)
    assert DEFAULT_MODEL == "speedrun"
    article = get_model("article-mlp")
    assert (article.loss, article.optimizer, article.limit) == ("mse", "sgd", 1000)
    layers = article.layers()
    assert [type(layer).__name__ for layer in layers] == ["Flatten", "Dense", "Tanh", "Dense", "Tanh", "Dense", "Tanh"]
    assert [layer.out_features for layer in layers if isinstance(layer, gn.Dense)] == [100, 50, 10]


def test_options_override_the_defaults_and_none_keeps_them() -> None:
    entry = get_model("cnn").with_options(epochs=7, learning_rate=None, optimizer="momentum")
    assert entry.epochs == 7 and entry.learning_rate == get_model("cnn").learning_rate
    net = entry.build(seed=0, verbose=0)
    assert isinstance(net.optimizer, gn.optimizers.SGD) and net.optimizer.momentum == 0.9


def test_the_same_seed_builds_the_same_weights() -> None:
    first, second = (get_model("lenet").build(seed=3, verbose=0) for _ in range(2))
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)


def _write(tmp_path, spec: object, name: str = "net.json"):
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return path


def test_a_json_spec_builds_its_network(tmp_path) -> None:
    spec = {
        "layers": [
            {"type": "Conv2D", "in_channels": 1, "out_channels": 4, "kernel_size": [3, 3], "padding": "same"},
            {"type": "ReLU"},
            {"type": "MaxPool2D", "pool_size": 2},
            {"type": "Flatten"},
            {"type": "Dense", "in_features": 14 * 14 * 4, "out_features": 10},
            {"type": "Softmax"},
        ],
        "loss": "cross_entropy",
        "epochs": 2,
        "optimizer": "sgd",
    }
    entry = get_model(str(_write(tmp_path, spec, "tiny.json")))
    assert entry.name == "tiny" and entry.epochs == 2 and entry.optimizer == "sgd"
    net = entry.build(seed=0, verbose=0)
    assert net.predict(np.zeros((1, 28, 28, 1))).shape == (1, 10)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([1, 2], 'non-empty "layers" list'),
        ({"layers": []}, 'non-empty "layers" list'),
        ({"layers": [{"type": "Flatten"}], "lr": 0.1}, "unknown key 'lr'"),
        ({"layers": [{"type": "Flatten"}], "loss": "hinge"}, '"loss" must be'),
        ({"layers": [{"type": "Conv3D"}]}, "layer 1: unknown type 'Conv3D'"),
        ({"layers": ["ReLU"]}, "layer 1: expected an object"),
        (
            {"layers": [{"type": "Flatten"}, {"type": "Dense", "in_features": 784, "out": 10}]},
            "layer 2 \\(Dense\\): unknown option 'out'",
        ),
        ({"layers": [{"type": "Flatten"}, {"type": "Dense", "in_features": 784}]}, "layer 2 \\(Dense\\)"),
        ({"layers": [{"type": "Dropout", "rate": 2}]}, "layer 1 \\(Dropout\\)"),
    ],
)
def test_bad_json_specs_get_clear_errors(tmp_path, spec: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_spec(_write(tmp_path, spec))


def test_a_spec_that_does_not_take_mnist_images_is_rejected_when_built(tmp_path) -> None:
    spec = {"layers": [{"type": "Dense", "in_features": 784, "out_features": 10}]}
    with pytest.raises(InputError, match="does not take 28x28x1 images"):
        load_spec(_write(tmp_path, spec)).build()


def test_files_that_are_not_json_specs_are_rejected(tmp_path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_spec(tmp_path / "broken.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError, match="not text"):
        load_spec(tmp_path / "binary.json")
    with pytest.raises(FileNotFoundError):
        get_model(str(tmp_path / "missing.json"))
    with pytest.raises(InputError, match="unknown model 'resnet'"):
        get_model("resnet")


def test_entries_carry_their_schedule_built_from_their_learning_rate() -> None:
    entry = get_model("cnn").with_options(learning_rate=0.01)
    assert entry.build(seed=0, verbose=0).schedule == gn.schedules.Step(0.01, step_size=1, gamma=0.5)
    assert get_model("mlp").build(seed=0, verbose=0).schedule is None
    onecycle = get_model("mlp").with_options(schedule="onecycle", learning_rate=0.02)
    assert onecycle.learning_schedule() == gn.schedules.OneCycle(0.02)


def test_a_specs_schedule_is_checked_and_an_old_lr_decay_becomes_a_step_schedule(tmp_path) -> None:
    spec = {"layers": [{"type": "Flatten"}], "lr_decay": 1.5}
    with pytest.raises(InputError, match="gamma must be a number in \\(0, 1\\]"):
        load_spec(_write(tmp_path, spec))
    spec = {"layers": [{"type": "Flatten"}], "lr_decay": 0.5, "learning_rate": 0.1}
    assert load_spec(_write(tmp_path, spec)).learning_schedule() == gn.schedules.Step(0.1, gamma=0.5)
    spec = {"layers": [{"type": "Flatten"}], "schedule": "cosine:warmup=oops"}
    with pytest.raises(InputError, match="warmup must be an int"):
        load_spec(_write(tmp_path, spec))


def test_entries_carry_their_augmentation_and_specs_can_give_one(tmp_path) -> None:
    assert get_model("cnn-best").build(seed=0, verbose=0).augment == gn.augment.RandomAffine(0.08, 8.0, 0.05)
    assert get_model("cnn").build(seed=0, verbose=0).augment is None
    augment = {"type": "RandomAffine", "config": {"shift": 0.1, "rotation": 5.0}}
    spec = {"layers": [{"type": "Flatten"}], "augment": augment}
    assert load_spec(_write(tmp_path, spec)).augment == gn.augment.RandomAffine(shift=0.1, rotation=5.0)


def test_the_speedrun_entry_is_the_published_recipe() -> None:
    net = get_model("speedrun").build(seed=0, verbose=0)
    assert isinstance(net.optimizer, gn.optimizers.Adam)
    assert (net.optimizer.beta1, net.optimizer.beta2, net.batch_size, net.epochs) == (0.7, 0.9, 256, 1)
    assert net.schedule == gn.schedules.OneCycle(1e-2)
    assert sum(p.value.size for p in net.parameters()) == 24 * 25 + 24 + 32 * 24 * 9 + 32 + 800 * 256 + 256 + 2570
