"""The text table of Network.summary(): each layer, its output shape and parameter count."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from glassnet.layers.base import Shape

if TYPE_CHECKING:
    from glassnet.network.network import Network


def format_shape(shape: Shape | None) -> str:
    """'(N, 26, 26, 8)', with ? for sizes not known yet."""
    if shape is None:
        return "?"
    return "(" + ", ".join("?" if d is None else str(d) for d in ("N", *shape)) + ")"


def summary_table(net: Network, input_shape: Shape | None) -> str:
    """Layer, output shape and parameter count per row, then the total."""
    shapes = net.layer_shapes(input_shape)
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
    shapes = net.layer_shapes(input_shape)
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
