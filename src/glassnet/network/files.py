"""The model-file and ONNX methods of Network: save, load, to_onnx, from_onnx.

A mixin, so that network.py stays the article's model (add, use, fit, predict) and these thin
doors to glassnet.io sit together; Network inherits them, and `Network.load` builds the class
registered with glassnet.io.model_build.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

from glassnet.io import model_file
from glassnet.io.limits import DEFAULT_LIMITS, Limits
from glassnet.io.onnx_export import export_onnx
from glassnet.io.onnx_import import load_onnx
from glassnet.layers.base import Layer
from glassnet.network.card import card_complete

if TYPE_CHECKING:
    from glassnet.network.network import Network


class ModelFiles:
    """save / load a model file, to_onnx / from_onnx; mixed into Network (self is always a Network)."""

    def save(self, path: str | os.PathLike[str]) -> Network:
        """Write the model and its training state to one .npz file, atomically; returns self.

        Args:
            path: the file; only built-in layers, losses and optimizers can be saved. An existing
                file keeps its permission bits; a symbolic link is followed (its target is
                replaced, the link stays); a folder, device or FIFO there is refused, never replaced.
        """
        net = cast("Network", self)
        card_complete(net)  # the data hashes of a fit still running (a callback saving) are in first
        model_file.save_network(net, path)
        return net

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        limits: Limits = DEFAULT_LIMITS,
        custom_layers: Mapping[str, type[Layer]] | None = None,
    ) -> Network:
        """Read a model file or checkpoint written by save (gn.ModelFileError if it is not valid).

        Args:
            path: the file (a regular file: FIFOs and devices are refused).
            limits: the largest network accepted, gn.io.Limits(parameters=..., activations=...);
                the default refuses a file describing more than 50 M parameters or 20 M values in
                one sample's forward pass (docs/security.md).
            custom_layers: your layer classes by the name the file stores (Keras's custom_objects),
                for those not registered with @gn.register_layer; nothing else is ever built.
        """
        return cast("Network", model_file.load_network(path, limits, custom_layers))  # the class network.py registers

    def to_onnx(
        self,
        path: str | os.PathLike[str],
        *,
        input_shape: Sequence[int] | None = None,
        layout: str = "nhwc",
        class_names: Sequence[str] | None = None,
        preprocessing: str | None = None,
    ) -> Network:
        """Write the network for inference as an ONNX file (needs `pip install "glassnet[onnx]"`); returns self.

        Args:
            path: the .onnx file; the graph's input is "input" (N, H, W, C), its output "output".
            input_shape: one sample's shape; default: the shape the network last saw.
            layout: "nhwc" (glassnet's) or "nchw" (ONNX's and PyTorch's) for image input and output.
            class_names: stored in the file's metadata, one per output.
            preprocessing: how raw data becomes the input, stored in the file's metadata.
        """
        net = cast("Network", self)
        export_onnx(
            net, path, input_shape=input_shape, layout=layout, class_names=class_names, preprocessing=preprocessing
        )
        return net

    @classmethod
    def from_onnx(cls, path: str | os.PathLike[str]) -> Network:
        """A network computing what an ONNX file computes (gn.ModelFileError if glassnet cannot); it takes NHWC.

        Args:
            path: the .onnx file, from to_onnx or from PyTorch's export of the equivalent nn.Sequential.
        """
        return cast("Network", load_onnx(path))
