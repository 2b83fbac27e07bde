"""Your own layers in model files: `@gn.register_layer` gives a layer class a name that files may store.

A model file stores a registered layer as {"type": NAME, "config": ..., "custom": true} with its
named parameters. Loading builds only classes registered in this process (or passed to
`Network.load(path, custom_layers={NAME: cls})`): nothing named by a file is ever imported.

A layer's config is what `config()` returns when the class defines it; otherwise its
constructor's arguments, read from the attributes of the same names (`self.scale = scale`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from glassnet.errors import InputError, InputTypeError, UnsaveableError
from glassnet.layers.base import Layer

L = TypeVar("L", bound=type[Layer])
REGISTERED: dict[str, type[Layer]] = {}


@overload
def register_layer(cls: L, *, name: str | None = None) -> L: ...


@overload
def register_layer(cls: None = None, *, name: str | None = None) -> Callable[[L], L]: ...


def register_layer(cls: L | None = None, *, name: str | None = None) -> L | Callable[[L], L]:
    """Register a gn.Layer subclass so that model files can save and load it; use as a decorator.

    Args:
        cls: the class (`@gn.register_layer`), or None (`@gn.register_layer(name="MySine")`).
        name: the name stored in files; the class's name by default. It may not be a built-in
            layer's, and another class may not already hold it.
    """

    def register(layer_class: L) -> L:
        if not isinstance(layer_class, type) or not issubclass(layer_class, Layer):
            raise InputTypeError(f"register_layer takes a subclass of gn.Layer, got {layer_class!r}")
        key = layer_class.__name__ if name is None else name
        if not isinstance(key, str) or not key.isidentifier():
            raise InputError(f"a registered layer's name must be an identifier, got {key!r}")
        from glassnet import layers  # the built-in names: this module is part of that package

        if key in layers.__all__:
            raise InputError(f"{key!r} is a built-in layer's name: register your class with another, name='My{key}'")
        held = REGISTERED.get(key)
        if held is not None and held.__qualname__ != layer_class.__qualname__:
            raise InputError(f"the layer name {key!r} is already registered for {held.__module__}.{held.__qualname__}")
        REGISTERED[key] = layer_class  # the same class defined again (a notebook cell run twice) replaces it
        return layer_class

    return register if cls is None else register(cls)


def registered_name(layer: Layer, extra: Mapping[str, type[Layer]] = {}) -> str | None:
    """The name under which the layer's class is registered, None if it is not."""
    for key, cls in (*extra.items(), *REGISTERED.items()):
        if cls is type(layer):
            return key
    return None


def custom_config(index: int, layer: Layer) -> dict[str, Any]:
    """A registered layer's config, checked to be JSON: its config(), else its constructor's arguments.

    Args:
        index: its position, for messages.
        layer: the layer.
    """
    cls = type(layer)
    if cls.config is not Layer.config:
        config = layer.config()
    else:
        config = {}
        stored = vars(layer)
        for arg in _constructor_parameters(cls):
            if arg.name in stored:
                config[arg.name] = stored[arg.name]
            elif arg.default is arg.empty:
                raise UnsaveableError(
                    f"layer {index}, {layer!r}: its constructor takes {arg.name!r} but the layer keeps no attribute "
                    f"of that name: store it in __init__ (self.{arg.name} = {arg.name}) or define config()"
                )
    try:
        json.dumps(config, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise UnsaveableError(
            f"layer {index}, {layer!r}: its config {config!r} is not JSON ({error}): keep numbers, strings, lists"
        ) from None
    return dict(config)


def _constructor_parameters(cls: type[Layer]) -> list[inspect.Parameter]:
    if cls.__init__ is object.__init__:
        return []
    return [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
