"""The model spec's JSON Schema: shipped as generated, followed by every zoo model and layer, enforced on load."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from glassnet.apps.model_entry import ModelEntry
from glassnet.apps.model_spec import SPEC_SCHEMA, load_spec
from glassnet.apps.spec_schema import render
from glassnet.apps.zoo import REGISTRY
from glassnet.augment import describe_augmentation
from glassnet.errors import InputError
from glassnet.io.json_schema import SchemaError, check_schema, packaged_schema, validate
from glassnet.io.schema import (
    ARCHITECTURE_KEYS,
    LAYER_TYPES,
    OPTIONAL_ARCHITECTURE_KEYS,
    build_layer,
    constructor_arguments,
)

SCHEMA = packaged_schema("glassnet.apps", SPEC_SCHEMA)
SAMPLES = {"integer": 2, "number": 0.5, "boolean": False, "string": "auto"}  # a value of each JSON type
REQUIRED_VALUES = {  # values the constructors accept where the sample of the type would not do
    ("Conv2D", "kernel_size"): 3,
    ("TransformerBlock", "hidden"): 8,
    ("MultiHeadAttention", "dim"): 4,
    ("TransformerBlock", "dim"): 4,
}


def spec_of(entry: ModelEntry) -> dict[str, Any]:
    """A zoo entry written as a JSON spec: its layers' configs and its hyper-parameters."""
    spec: dict[str, Any] = {
        "layers": [{"type": type(layer).__name__, **layer.config()} for layer in entry.layers()],
        "description": entry.description,
        "loss": entry.loss,
        "epochs": entry.epochs,
        "learning_rate": entry.learning_rate,
        "batch_size": entry.batch_size,
        "optimizer": entry.optimizer,
        "optimizer_options": entry.optimizer_options,
        "limit": entry.limit,
        "schedule": entry.schedule,
    }
    if entry.augment is not None:
        spec["augment"] = describe_augmentation(entry.augment)
    return json.loads(json.dumps(spec))  # tuples become lists, as in a file


def write(tmp_path, spec: object):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def test_the_shipped_schema_is_what_the_code_generates() -> None:
    shipped = files("glassnet.apps").joinpath(SPEC_SCHEMA).read_text(encoding="utf-8")
    assert shipped == render(), "regenerate it: python -m glassnet.apps.spec_schema"


def test_the_schema_takes_exactly_the_keys_the_code_takes() -> None:
    layer_names = SCHEMA["$defs"]["layer"]["properties"]["type"]["enum"]
    assert layer_names == list(LAYER_TYPES)
    for name, cls in LAYER_TYPES.items():
        required, optional = constructor_arguments(cls)
        entry = SCHEMA["$defs"][name]
        assert set(entry["properties"]) == {"type"} | required | optional, name
        assert set(entry["required"]) == {"type"} | required and entry["additionalProperties"] is False, name
    spec_keys = {field.name for field in fields(ModelEntry)} - {"name"} | {"lr_decay"}
    assert set(SCHEMA["properties"]) == spec_keys and SCHEMA["required"] == ["layers"]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_zoo_model_follows_the_schema_and_loads_as_a_spec(name, tmp_path) -> None:
    entry = REGISTRY[name]
    spec = spec_of(entry)
    validate(spec, SCHEMA)
    loaded = load_spec(write(tmp_path, spec))
    assert [repr(layer) for layer in loaded.layers()] == [repr(layer) for layer in entry.layers()]
    assert (loaded.epochs, loaded.optimizer, loaded.schedule, loaded.augment) == (
        entry.epochs,
        entry.optimizer,
        entry.schedule,
        entry.augment,
    )


def layer_example(name: str, everything: bool) -> dict[str, Any]:
    """A layer of each type with its required options (everything: its optional ones too, at their defaults)."""
    entry = SCHEMA["$defs"][name]
    layer: dict[str, Any] = {"type": name}
    for arg, schema in entry["properties"].items():
        if arg == "type" or (arg not in entry["required"] and not everything):
            continue
        kind = schema.get("type") or schema["anyOf"][0]["type"]
        layer[arg] = schema["default"] if "default" in schema else REQUIRED_VALUES.get((name, arg), SAMPLES[kind])
    return layer


@pytest.mark.parametrize("everything", [False, True], ids=["required", "all-options"])
@pytest.mark.parametrize("name", list(LAYER_TYPES))
def test_every_layer_type_follows_the_schema_and_builds(name, everything) -> None:
    layer = layer_example(name, everything)
    validate({"layers": [layer]}, SCHEMA)
    built = build_layer(name, {key: value for key, value in layer.items() if key != "type"}, "layer 1")
    assert type(built) is LAYER_TYPES[name]


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"layers": [{"type": "Flatten"}], "description": 5}, "description: expected a string, got 5"),
        (
            {"layers": [{"type": "Flatten"}], "optimizer_options": [["beta1"]]},
            "optimizer_options[0]: expected at least 2",
        ),
        (
            {"layers": [{"type": "Flatten"}], "optimizer_options": [["beta1", "0.7"]]},
            'optimizer_options[0][1]: expected a number, got "0.7"',
        ),
        ({"layers": [{"type": "Flatten"}], "schedule": 3}, "schedule must be text"),
        ({"layers": [{"type": "Flatten"}], "loss": "hinge"}, '"loss" must be'),
        ({"layers": [{"type": "Conv3D"}]}, "layer 1: unknown type 'Conv3D'"),
        (
            {"layers": [{"type": "Dense", "in_features": 784.0, "out_features": 10}]},
            "in_features must be a positive int",
        ),
    ],
)
def test_invalid_specs_are_refused_with_a_clear_message(tmp_path, spec, message) -> None:
    with pytest.raises(InputError, match="^.*" + message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        load_spec(write(tmp_path, spec))


DOCUMENTS = [
    {"layers": [{"type": "Flatten"}]},
    {"layers": []},
    {"layers": [{"type": "Flatten", "x": 1}]},
    {"layers": [{}]},
    {"layers": [{"type": "Conv2D", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 3]}]},
    {"layers": [{"type": "Conv2D", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 3, 3]}]},
    {"layers": [{"type": "Conv2D", "in_channels": 1, "out_channels": 2, "kernel_size": "3"}]},
    {"layers": [{"type": "Conv2D", "in_channels": True, "out_channels": 2, "kernel_size": 3}]},
    {"layers": [{"type": "Conv2D", "in_channels": 1, "out_channels": 2}]},
    {"layers": [{"type": "Conv2D", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": "same"}]},
    {"layers": [{"type": "RNN", "in_features": 2, "hidden": 3, "return_sequences": 1}]},
    {"layers": [{"type": "Dropout", "rate": 1}]},
    {"layers": [{"type": "MaxPool2D", "stride": None}]},
    {"layers": [{"type": "ReLU"}], "epochs": 0},
    {"layers": [{"type": "ReLU"}], "learning_rate": 0},
    {"layers": [{"type": "ReLU"}], "limit": None, "schedule": None},
    {"layers": [{"type": "ReLU"}], "optimizer": "lbfgs"},
    {"layers": [{"type": "ReLU"}], "augment": {"type": "RandomAffine", "config": {"shift": 0.1}}},
    {"layers": [{"type": "ReLU"}], "augment": {"type": "RandomAffine"}},
    {"layers": [{"type": "ReLU"}], "lr_decay": 0.5, "unknown": 1},
    [{"type": "ReLU"}],
]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: json.dumps(document)[:60])
def test_the_small_validator_agrees_with_jsonschema(document) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="pip install jsonschema (in the test extra)")
    expected = jsonschema.Draft202012Validator(SCHEMA).is_valid(document)
    try:
        validate(document, SCHEMA)
    except SchemaError:
        assert not expected, "jsonschema accepts what glassnet's validator refuses"
    else:
        assert expected, "glassnet's validator accepts what jsonschema refuses"


def test_the_schema_is_valid_json_schema_and_uses_only_supported_keywords() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="pip install jsonschema (in the test extra)")
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    check_schema(SCHEMA)
    with pytest.raises(ValueError, match="'pattern' is not supported"):
        check_schema({"type": "object", "properties": {"name": {"type": "string", "pattern": "^a"}}})


def test_messages_say_where_and_what_was_expected() -> None:
    cases = [
        ({"layers": [{"type": "Flatten"}, {"type": "Dense", "in_features": 1}]}, "layers[1]: missing 'out_features'"),
        ({"layers": [{"type": "Flatten", "size": 2}]}, "layers[0]: unknown key 'size': it takes type"),
        ({"layers": [{"type": "Conv3D"}]}, "layers[0].type: expected one of "),
        (
            {"layers": [{"type": "Conv2D", "in_channels": 1, "out_channels": 2, "kernel_size": "3"}]},
            'layers[0].kernel_size: expected an integer or a list of 2 integers, got "3"',
        ),
        ({"layers": [{"type": "ReLU"}], "limit": 0}, "limit: expected an integer >= 1 or null, got 0"),
        ({"layers": []}, "layers: expected at least 1 items, got 0"),
    ]
    for document, message in cases:
        with pytest.raises(SchemaError) as caught:
            validate(document, SCHEMA)
        assert str(caught.value).startswith(message), str(caught.value)


DOC = Path(__file__).resolve().parents[2] / "docs" / "model-spec.md"


def test_the_docs_example_spec_loads_and_its_tables_match_the_schema(tmp_path) -> None:
    text = DOC.read_text()
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]
    spec = next(block for block in blocks if "network" not in block)
    entry = load_spec(write(tmp_path, spec))
    assert [repr(layer) for layer in entry.layers()] == [repr(layer) for layer in REGISTRY["lenet"].layers()]
    keys = text.split("## The keys")[1].split("## Layers")[0]
    assert sorted(re.findall(r"^\| `(\w+)` \|", keys, re.MULTILINE)) == sorted(SCHEMA["properties"])
    for name in LAYER_TYPES:
        entry_schema = SCHEMA["$defs"][name]
        required = [arg for arg in entry_schema["required"] if arg != "type"]
        optional = [
            f"`{arg}` = `{json.dumps(schema['default'])}`"
            for arg, schema in entry_schema["properties"].items()
            if arg != "type" and arg not in required
        ]
        row = (
            f"| `{name}` | {', '.join(f'`{arg}`' for arg in required) or '-'} | {', '.join(optional) or '-'} | "
            f"{entry_schema['description']} |"
        )
        assert row in text, f"docs/model-spec.md's layer table is stale: {row}"
    stored = next(block for block in blocks if "network" in block)
    assert set(stored) <= ARCHITECTURE_KEYS | OPTIONAL_ARCHITECTURE_KEYS
