"""The text table of Network.summary(): each layer, its output shape and parameter count."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

import numpy as np

from glassnet.layers.base import Layer, Shape

if TYPE_CHECKING:
    from glassnet.network.network import Network


def format_shape(shape: Shape | None) -> str:
    """'(N, 26, 26, 8)', with ? for sizes not known yet."""
    if shape is None:
        return "?"
    return "(" + ", ".join("?" if d is None else str(d) for d in ("N", *shape)) + ")"


PROBE_ELEMENTS = 1 << 20  # a custom layer's shape is probed on one sample of at most this many values


def summary_shapes(net: Network, input_shape: Shape | None) -> list[Shape | None]:
    """Each layer's output shape as layer_shapes gives it, and a custom layer's that it cannot give
    (its output_shape returns None) from its forward on one zero sample, when that works."""
    shapes: list[Shape | None] = []
    shape = input_shape
    for layer in net.layers:
        output = layer.output_shape(shape)
        shape = output if output is not None else _probe(layer, shape)
        shapes.append(shape)
    return shapes


def _probe(layer: Layer, input_shape: Shape | None) -> Shape | None:
    """A custom layer's output shape for one zero sample (in inference mode), or None."""
    custom = not type(layer).__module__.startswith("glassnet.")
    known = input_shape is not None and all(d is not None for d in input_shape)
    if not custom or not known or math.prod(input_shape) > PROBE_ELEMENTS:  # type: ignore[arg-type]
        return None
    training, layer.training = layer.training, False
    try:
        out = np.asarray(layer.forward(np.zeros((1, *input_shape), dtype=np.float32)))  # type: ignore[misc]
    except Exception:  # the layer's own limits: the shape stays unknown
        return None
    finally:
        layer.training = training
    return tuple(out.shape[1:]) if out.ndim >= 1 and len(out) == 1 else None


def summary_table(net: Network, input_shape: Shape | None) -> str:
    """Layer, output shape and parameter count per row, then the total."""
    shapes = summary_shapes(net, input_shape)
    rows = [("Layer", "Output shape", "Parameters")]
    if input_shape is not None:
        rows.append(("Input", format_shape(input_shape), ""))
    for layer, shape in zip(net.layers, shapes, strict=True):
        count = sum(p.size for p in layer.parameters())
        rows.append((repr(layer), format_shape(shape), f"{count:,}"))
    total = sum(p.size for p in net.parameters())
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    rule = "-" * (sum(widths) + 4)
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
    return "\n".join([lines[0], rule, *lines[1:], rule, f"Total parameters: {total:,}"])


def summary_html(net: Network, input_shape: Shape | None) -> str:
    """The summary as an HTML table (Jupyter shows a Network with it)."""
    shapes = summary_shapes(net, input_shape)
    rows = [] if input_shape is None else [("Input", format_shape(input_shape), "")]
    rows += [
        (repr(layer), format_shape(shape), f"{sum(p.size for p in layer.parameters()):,}")
        for layer, shape in zip(net.layers, shapes, strict=True)
    ]
    body = "".join(
        f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td style='text-align:right'>{c}</td></tr>"
        for a, b, c in rows
    )
    total = sum(p.size for p in net.parameters())
    loss = "no loss" if net.loss is None else html.escape(repr(net.loss))
    return (
        f"<table><caption>Network: {len(net.layers)} layers, {loss}</caption>"
        "<thead><tr><th>Layer</th><th>Output shape</th><th>Parameters</th></tr></thead>"
        f"<tbody>{body}</tbody><tfoot><tr><td colspan='2'>Total parameters</td>"
        f"<td style='text-align:right'>{total:,}</td></tr></tfoot></table>"
    )
