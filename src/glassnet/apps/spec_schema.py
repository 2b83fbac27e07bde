"""The JSON Schema of model specs, generated from the code: the layer table, the constructors and ModelEntry.

`glassnet train --model FILE.json` reads a spec {"layers": [{"type": "Conv2D", ...}, ...], ...}.
Its schema ships as glassnet/apps/model-spec.schema.json (docs/model-spec.md): every built-in
layer type of glassnet.io.schema.LAYER_TYPES with its constructor's arguments, their JSON types
from the type hints and their defaults, and the hyper-parameters of glassnet.apps.model_entry.ModelEntry.
load_spec validates every spec against the shipped file (glassnet.io.json_schema); a test checks
that the file is what this module generates, so the two cannot drift. After changing a layer's
constructor or ModelEntry, regenerate it with `python -m glassnet.apps.spec_schema`.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

from glassnet.apps.model_entry import SPEC_LOSSES, ModelEntry
from glassnet.apps.model_spec import SPEC_SCHEMA
from glassnet.augment import AUGMENTATIONS
from glassnet.io.schema import LAYER_TYPES, constructor_arguments
from glassnet.optimizers import NAMED as OPTIMIZERS

SCALARS = {int: "integer", float: "number", bool: "boolean", str: "string", type(None): "null"}
AT_LEAST_ONE = {"epochs", "batch_size", "limit"}  # ModelEntry's counts (check_count)
POSITIVE = {"learning_rate"}
ARG_LINE = re.compile(r"^(?P<indent> +)(?P<name>\w+): (?P<text>.*)$")


def json_type(hint: Any, where: str) -> dict[str, Any]:
    """The JSON Schema of a type hint: int, float, bool, str, None, unions and tuples of them.

    Args:
        hint: the resolved type hint.
        where: the argument, for the error a hint without a JSON form raises.
    """
    if hint in SCALARS:
        return {"type": SCALARS[hint]}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return {"anyOf": [json_type(arg, where) for arg in args]}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": json_type(args[0], where)}
    if origin is tuple and args:
        if len(set(args)) == 1:
            return {"type": "array", "items": json_type(args[0], where), "minItems": len(args), "maxItems": len(args)}
        prefix = [json_type(arg, where) for arg in args]
        return {"type": "array", "prefixItems": prefix, "minItems": len(args), "maxItems": len(args)}
    raise TypeError(f"{where}: the type {hint!r} has no JSON form: give the argument a JSON type")


def documented_arguments(cls: type) -> dict[str, str]:
    """The Args section of a class's docstring: name -> its text (continuation lines joined)."""
    found: dict[str, str] = {}
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    if "Args:" not in lines:
        return found
    name, indent = None, 0
    for line in lines[lines.index("Args:") + 1 :]:
        match = ARG_LINE.match(line)
        if match and (name is None or len(match["indent"]) == indent):
            name, indent = match["name"], len(match["indent"])
            found[name] = match["text"]
        elif name is not None and line.startswith(" " * (indent + 1)):
            found[name] += " " + line.strip()
        else:
            break
    return found


def layer_schema(name: str, cls: type[object]) -> dict[str, Any]:
    """One layer type's entry: {"type": NAME} and its constructor's arguments, the required ones required."""
    required, optional = constructor_arguments(cls)
    hints = typing.get_type_hints(cls.__init__) if required | optional else {}
    notes = documented_arguments(cls)
    defaults = {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()}
    properties: dict[str, Any] = {"type": {"const": name}}
    for arg in sorted(required | optional, key=list(defaults).index):
        schema = json_type(hints[arg], f"{name}.{arg}")
        if arg in notes:
            schema["description"] = notes[arg]
        if arg in optional:
            schema["default"] = json.loads(json.dumps(defaults[arg]))  # tuples as lists
        properties[arg] = schema
    summary = inspect.cleandoc(cls.__doc__ or name).splitlines()[0]
    return {
        "type": "object",
        "description": summary,
        "properties": properties,
        "required": ["type", *sorted(required, key=list(defaults).index)],
        "additionalProperties": False,
    }


def spec_fields() -> dict[str, Any]:
    """The spec's keys besides "layers": ModelEntry's fields with their JSON types and meanings."""
    hints = typing.get_type_hints(ModelEntry)
    notes = documented_arguments(ModelEntry)
    augment = {
        "type": "object",
        "properties": {"type": {"enum": list(AUGMENTATIONS)}, "config": {"type": "object"}},
        "required": ["type", "config"],
        "additionalProperties": False,
    }
    special: dict[str, dict[str, Any]] = {
        "loss": {"enum": list(SPEC_LOSSES)},
        "optimizer": {"enum": list(OPTIMIZERS)},
        "augment": augment,
        "optimizer_options": {"type": "array", "items": json_type(tuple[str, float], "optimizer_options")},
    }
    properties: dict[str, Any] = {}
    for field in fields(ModelEntry):
        if field.name in ("name", "layers"):
            continue
        schema = dict(special.get(field.name) or json_type(hints[field.name], field.name))
        if field.name in AT_LEAST_ONE | POSITIVE:
            bound = {"minimum": 1} if field.name in AT_LEAST_ONE else {"exclusiveMinimum": 0}
            schema = _bounded(schema, bound)
        properties[field.name] = {**schema, "description": notes.get(field.name, field.name)}
    properties["lr_decay"] = {
        "type": "number",
        "deprecated": True,
        "description": 'specs written before schedules: the same as "schedule": "step:gamma=LR_DECAY"',
    }
    return properties


def _bounded(schema: dict[str, Any], bound: dict[str, Any]) -> dict[str, Any]:
    """A number's schema with a bound added (to the number of an "or null")."""
    if "anyOf" in schema:
        return {"anyOf": [_bounded(option, bound) for option in schema["anyOf"]]}
    return schema | bound if schema.get("type") in ("integer", "number") else schema


def generate() -> dict[str, Any]:
    """The model spec's JSON Schema (draft 2020-12), from the layer table and ModelEntry."""
    layer_names = list(LAYER_TYPES)
    layer = {
        "type": "object",
        "description": "a layer: its type and its constructor's arguments",
        "properties": {"type": {"enum": layer_names}},
        "required": ["type"],
        "allOf": [
            {"if": {"properties": {"type": {"const": name}}, "required": ["type"]}, "then": {"$ref": f"#/$defs/{name}"}}
            for name in layer_names
        ],
    }
    layers = {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/$defs/layer"},
        "description": "the layers, input to output, for 28x28 images of 1 channel and 10 classes",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "glassnet model spec",
        "description": "A network for glassnet train --model FILE.json (docs/model-spec.md). Generated by "
        "python -m glassnet.apps.spec_schema from glassnet's layer table: do not edit.",
        "type": "object",
        "properties": {"layers": layers, **spec_fields()},
        "required": ["layers"],
        "additionalProperties": False,
        "$defs": {"layer": layer} | {name: layer_schema(name, cls) for name, cls in LAYER_TYPES.items()},
    }


def render() -> str:
    """The schema file's text: indented JSON, one trailing newline."""
    return json.dumps(generate(), indent=2) + "\n"


if __name__ == "__main__":
    path = Path(__file__).with_name(SPEC_SCHEMA)
    path.write_text(render(), encoding="utf-8")
    print(f"wrote {path}")
