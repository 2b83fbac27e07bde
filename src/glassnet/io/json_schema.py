"""A small JSON Schema validator for the subset glassnet's schemas use, so that validating needs no package.

Supported (JSON Schema 2020-12 meaning): type, enum, const, properties, required,
additionalProperties (true, false or a schema), items, prefixItems, minItems, maxItems, minimum,
exclusiveMinimum, maximum, anyOf, allOf, if/then, $ref to "#/$defs/NAME"; title, description,
default, deprecated, $schema, $id and $comment are notes. A schema using any other keyword is
refused by check_schema, so a schema cannot silently mean more than this validator checks.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from glassnet.errors import InputError

CHECKED = {
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "anyOf",
    "allOf",
    "if",
    "then",
    "$ref",
    "$defs",
}
NOTES = {"title", "description", "default", "deprecated", "$schema", "$id", "$comment"}
TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


class SchemaError(InputError):
    """A JSON document that does not follow its schema: where, and what was expected."""


def check_schema(schema: Any, where: str = "#") -> None:
    """Refuse a schema with a keyword this validator does not check. Args: schema: the schema; where: its path."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise ValueError(f"{where}: a schema must be an object or a boolean, got {schema!r:.60}")
    unknown = sorted(set(schema) - CHECKED - NOTES)
    if unknown:
        raise ValueError(f"{where}: the keyword {unknown[0]!r} is not supported by glassnet.io.json_schema")
    for key in ("properties", "$defs"):
        for name, inner in schema.get(key, {}).items():
            check_schema(inner, f"{where}/{key}/{name}")
    for key in ("items", "additionalProperties", "if", "then"):
        if key in schema:
            check_schema(schema[key], f"{where}/{key}")
    for key in ("prefixItems", "anyOf", "allOf"):
        for index, inner in enumerate(schema.get(key, [])):
            check_schema(inner, f"{where}/{key}/{index}")


@cache
def packaged_schema(package: str, name: str) -> dict[str, Any]:
    """A schema file shipped in a package, read and checked once.

    Args:
        package: the package holding it, e.g. "glassnet.apps".
        name: the file's name.
    """
    schema: dict[str, Any] = json.loads(files(package).joinpath(name).read_text(encoding="utf-8"))
    check_schema(schema)
    return schema


def validate(value: Any, schema: Any, root: Any = None, where: str = "") -> None:
    """Raise a SchemaError naming the first place where value does not follow the schema.

    Args:
        value: the parsed JSON document (or a part of it).
        schema: its schema (or the part that applies).
        root: the whole schema, for $ref; the schema itself when None.
        where: the path of value in the document, e.g. "layers[2].kernel_size".
    """
    root = schema if root is None else root
    if schema is True:
        return
    if schema is False:
        raise SchemaError(f"{where or 'the document'}: not allowed here")
    if "$ref" in schema:
        validate(value, _resolve(root, schema["$ref"]), root, where)
    place = where or "the document"
    if "type" in schema and not any(_is_type(value, kind) for kind in _types(schema)):
        raise SchemaError(f"{place}: expected {describe(schema)}, got {_show(value)}")
    if "const" in schema and not _equal(value, schema["const"]):
        raise SchemaError(f"{place}: expected {_show(schema['const'])}, got {_show(value)}")
    if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
        raise SchemaError(f"{place}: expected one of {', '.join(map(_show, schema['enum']))}; got {_show(value)}")
    if _is_type(value, "number"):
        _check_range(value, schema, place)
    if isinstance(value, dict):
        _check_object(value, schema, root, where)
    if isinstance(value, list):
        _check_array(value, schema, root, where)
    if "anyOf" in schema and not any(_follows(value, option, root) for option in schema["anyOf"]):
        raise SchemaError(f"{place}: expected {describe(schema)}, got {_show(value)}")
    for option in schema.get("allOf", []):
        validate(value, option, root, where)
    if "if" in schema and "then" in schema and _follows(value, schema["if"], root):
        validate(value, schema["then"], root, where)


def describe(schema: Any) -> str:
    """What a schema asks for, in words: "an integer or a list of 2 integers"."""
    if not isinstance(schema, dict):
        return "anything" if schema else "nothing"
    if "anyOf" in schema:
        return " or ".join(describe(option) for option in schema["anyOf"])
    if "enum" in schema:
        return f"one of {', '.join(map(_show, schema['enum']))}"
    words = []
    for kind in _types(schema):
        if kind == "array" and isinstance(schema.get("items"), dict) and "type" in schema["items"]:
            count = schema.get("minItems") if schema.get("minItems") == schema.get("maxItems") else None
            inner = describe(schema["items"]).removeprefix("an ").removeprefix("a ")
            words.append(f"a list of {count} {inner}s" if count else f"a list of {inner}s")
        else:
            words.append(TYPE_NAMES.get(kind, kind) + _bounds(schema) * (kind in ("integer", "number")))
    return " or ".join(words) or "a value"


def _bounds(schema: dict[str, Any]) -> str:
    """A number's bounds in words: " >= 1", " > 0"."""
    signs = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}
    return "".join(f" {sign} {schema[key]}" for key, sign in signs.items() if key in schema)


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _is_type(value: Any, kind: str) -> bool:
    """Whether a parsed JSON value has a JSON Schema type (an integer-valued float is an integer, as JSON says)."""
    if kind == "integer":
        return (type(value) is int) or (type(value) is float and value.is_integer())
    checks = {
        "object": lambda: isinstance(value, dict),
        "array": lambda: isinstance(value, list),
        "string": lambda: isinstance(value, str),
        "number": lambda: type(value) in (int, float),
        "boolean": lambda: isinstance(value, bool),
        "null": lambda: value is None,
    }
    return checks[kind]()


def _equal(value: Any, expected: Any) -> bool:
    """JSON equality: true is not 1."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    return bool(value == expected)


def _check_range(value: float, schema: dict[str, Any], place: str) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        raise SchemaError(f"{place}: expected a number >= {schema['minimum']}, got {_show(value)}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        raise SchemaError(f"{place}: expected a number > {schema['exclusiveMinimum']}, got {_show(value)}")
    if "maximum" in schema and value > schema["maximum"]:
        raise SchemaError(f"{place}: expected a number <= {schema['maximum']}, got {_show(value)}")


def _check_object(value: dict[str, Any], schema: dict[str, Any], root: Any, where: str) -> None:
    place = where or "the document"
    for key in schema.get("required", []):
        if key not in value:
            raise SchemaError(f"{place}: missing {key!r}")
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, inner in value.items():
        inside = f"{where}.{key}" if where else key
        if key in properties:
            validate(inner, properties[key], root, inside)
        elif extra is False:
            allowed = ", ".join(sorted(properties)) or "no keys"
            raise SchemaError(f"{place}: unknown key {key!r}: it takes {allowed}")
        else:
            validate(inner, extra, root, inside)


def _check_array(value: list[Any], schema: dict[str, Any], root: Any, where: str) -> None:
    place = where or "the document"
    if len(value) < schema.get("minItems", 0):
        raise SchemaError(f"{place}: expected at least {schema['minItems']} items, got {len(value)}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise SchemaError(f"{place}: expected at most {schema['maxItems']} items, got {len(value)}")
    prefix = schema.get("prefixItems", [])
    for index, item in enumerate(value):
        inner = prefix[index] if index < len(prefix) else schema.get("items", True)
        validate(item, inner, root, f"{where}[{index}]")


def _follows(value: Any, schema: Any, root: Any) -> bool:
    try:
        validate(value, schema, root)
    except SchemaError:
        return False
    return True


def _resolve(root: Any, reference: str) -> Any:
    """The schema "#/$defs/NAME" points to in root."""
    if not reference.startswith("#/$defs/") or reference[8:] not in root.get("$defs", {}):
        raise ValueError(f"unsupported or unknown $ref {reference!r}: use #/$defs/NAME")
    return root["$defs"][reference[8:]]


def _show(value: Any) -> str:
    """A value as JSON, cut to 60 characters."""
    text = json.dumps(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
