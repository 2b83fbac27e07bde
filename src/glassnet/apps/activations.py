"""Looking inside a network: each layer's activations for one input, and the learned filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from glassnet.checks import first_non_finite
from glassnet.errors import InputError, NumericalError
from glassnet.extras import import_extra
from glassnet.layers import Conv2D, Dense
from glassnet.network.data import network_inputs
from glassnet.network.numerics import quiet

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from glassnet.network.network import Network

MAX_CHANNELS = 16  # feature maps drawn per layer
MAX_UNITS = 128  # values drawn per vector layer


@dataclass(frozen=True)
class LayerActivation:
    """One layer's output for one sample.

    Args:
        name: the layer as repr shows it, e.g. "Conv2D(1 -> 8, 3x3)".
        values: the output without its batch axis, e.g. (26, 26, 8) or (10,).
    """

    name: str
    values: np.ndarray

    @property
    def is_maps(self) -> bool:
        """True for feature maps (H, W, C), False for anything drawn as a vector."""
        return self.values.ndim == 3


def layer_activations(net: Network, sample: object) -> list[LayerActivation]:
    """Run one sample through the layers in inference mode and keep every layer's output.

    Not thread-safe: layers keep state from their last forward pass, so serialize the calls
    (as `glassnet serve` does with a lock) and do not call this while the network trains.

    Args:
        net: the network.
        sample: one input without its batch axis, e.g. a (28, 28, 1) image.

    Shapes:
        sample (H, W, C) -> one LayerActivation per layer; the last holds the network's output.
    """
    x, _ = network_inputs(net, np.asarray(sample)[None], "sample")  # (1, H, W, C)
    outputs = []
    with quiet():
        for layer in net.layers:
            layer.training = False
            x = layer.forward(x)
            outputs.append(LayerActivation(repr(layer), x[0]))
    bad = first_non_finite(x)
    if bad is not None:
        raise NumericalError(f"the network's output has {bad[0]} NaN or infinite values for this sample")
    return outputs


def first_conv(net: Network) -> Conv2D | None:
    """The network's first Conv2D layer, or None when it has none.

    Args:
        net: the network.
    """
    return next((layer for layer in net.layers if isinstance(layer, Conv2D)), None)


def filter_images(layer: Conv2D) -> np.ndarray:
    """Each filter of a convolution as a 2-D image, averaged over its input channels.

    Args:
        layer: a Conv2D whose weights exist.

    Shapes:
        weight (KH, KW, C_in, C_out) -> output (C_out, KH, KW).
    """
    if layer.weight is None:
        raise InputError(f"{layer!r} has no weights yet: add it to a Network or run it once")
    return np.moveaxis(layer.weight.value.mean(axis=2), -1, 0)  # (C_out, KH, KW)


def _grid(figure: Figure, count: int, columns: int) -> list[Axes]:
    """count image axes in rows of `columns`, without ticks; the spare cells hidden."""
    rows = -(-count // columns)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for index, ax in enumerate(axes):
        ax.set_axis_off()
        ax.set_visible(index < count)
    return list(axes[:count])


def filters_figure(layer: Conv2D, title: str = "") -> Figure:
    """A convolution's learned filters as gray tiles (light: positive weights).

    Args:
        layer: a Conv2D whose weights exist.
        title: the figure's title (default: the layer).
    """
    images = filter_images(layer)
    figure_module = import_extra("matplotlib.figure", "plot", "plotting")
    columns = min(len(images), 8)
    rows = -(-len(images) // columns)
    figure: Figure = figure_module.Figure(figsize=(1.1 * columns, 1.1 * rows + 0.5), layout="constrained")
    limit = float(np.abs(images).max()) or 1.0
    for index, (ax, image) in enumerate(zip(_grid(figure, len(images), columns), images, strict=True)):
        ax.imshow(image, cmap="gray", vmin=-limit, vmax=limit)
        ax.set_title(str(index), fontsize=8)
    figure.suptitle(title or f"filters of {layer!r}")
    return figure


def first_layer_filters(net: Network, count: int = 8) -> np.ndarray | None:
    """The first layer's filters as images: the first Conv2D's (averaged over input channels), else
    the first Dense's on flattened images (each unit's weights in the image's shape); None otherwise.

    Args:
        net: the network.
        count: at most this many filters.

    Shapes:
        output (count, KH, KW) for a convolution, (count, H, W) for a Dense on H*W*1 images.
    """
    conv = first_conv(net)
    if conv is not None:
        return filter_images(conv)[:count]
    dense = next((layer for layer in net.layers if isinstance(layer, Dense)), None)
    shape = net.input_shape
    if dense is None or dense.weight is None or shape is None or len(shape) != 3 or shape[2] != 1:
        return None
    if dense.in_features != shape[0] * shape[1]:
        return None
    return np.moveaxis(dense.weight.value[:, :count], -1, 0).reshape(-1, shape[0], shape[1])  # (count, H, W)


def filters_by_epoch_figure(epochs: dict[int, Network], count: int = 8) -> Figure | None:
    """The first layer's filters after each epoch, one row per epoch (light: positive weights).

    Args:
        epochs: epoch -> the network saved after it (glassnet.apps.epochs).
        count: filters per row.
    """
    rows = [(epoch, first_layer_filters(net, count)) for epoch, net in sorted(epochs.items())]
    shown = [(epoch, images) for epoch, images in rows if images is not None]
    if not shown:
        return None
    columns = max(len(images) for _, images in shown)
    figure_module = import_extra("matplotlib.figure", "plot", "plotting")
    figure: Figure = figure_module.Figure(figsize=(1.0 * columns + 0.6, 1.0 * len(shown) + 0.5), layout="constrained")
    axes = _grid(figure, len(shown) * columns, columns)
    for row, (epoch, images) in enumerate(shown):
        limit = float(np.abs(images).max()) or 1.0
        for column, image in enumerate(images):
            ax = axes[row * columns + column]
            ax.imshow(image, cmap="gray", vmin=-limit, vmax=limit)
            if column == 0:
                ax.set_axis_on()
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_ylabel(f"epoch {epoch}", fontsize=8)
    figure.suptitle("the first layer's filters, epoch by epoch")
    return figure


def montage(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """Feature maps side by side in one row, NaN (drawn blank) between them.

    Args:
        maps: the maps, channels first.
        gap: blank columns between two maps.

    Shapes:
        maps (C, H, W) -> output (H, C * (W + gap) - gap).
    """
    count, height, width = maps.shape
    row = np.full((height, count * (width + gap) - gap), np.nan)
    for index, image in enumerate(maps):
        row[:, index * (width + gap) : index * (width + gap) + width] = image
    return row


def activations_figure(
    activations: Sequence[LayerActivation], sample: np.ndarray | None = None, title: str = ""
) -> Figure:
    """Every layer's activations, one row per layer: up to 16 feature maps in gray, or bars.

    Args:
        activations: layer_activations(net, sample).
        sample: the input image (H, W, C) drawn first, or None.
        title: the figure's title.
    """
    if not activations:
        raise InputError("no activations to plot: the network has no layers")
    figure_module = import_extra("matplotlib.figure", "plot", "plotting")
    rows = [("input", np.asarray(sample))] if sample is not None else []
    rows += [(item.name, item.values) for item in activations]
    figure: Figure = figure_module.Figure(figsize=(12, 1.2 * len(rows) + 0.4), layout="constrained")
    for ax, (name, values) in zip(figure.subplots(len(rows), 1, squeeze=False).ravel(), rows, strict=True):
        ax.set_title(f"{name}  {tuple(values.shape)}", fontsize=9, loc="left")
        if values.ndim == 3:
            low, high = float(values.min()), float(values.max())
            ax.imshow(
                montage(np.moveaxis(values[..., :MAX_CHANNELS], -1, 0)),
                cmap="gray",  # (C, H, W)
                vmin=low,
                vmax=high if high > low else low + 1,
            )
            ax.set_axis_off()
        else:
            units = values.ravel()[:MAX_UNITS]
            ax.bar(range(len(units)), units, color="tab:blue" if len(units) > 16 else "tab:orange")
            ax.set_xlim(-0.5, len(units) - 0.5)
            ax.tick_params(labelsize=7)
            if len(units) <= 16:
                ax.set_xticks(range(len(units)))
    if title:
        figure.suptitle(title)
    return figure
