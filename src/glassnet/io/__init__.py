"""Files: model files and checkpoints, the layer-spec schema, training state, safe .npz and atomic writes,
and interchange with ONNX and PyTorch.

`save_network(net, path)` and `load_network(path)` are what `Network.save` and `Network.load` call;
`export_onnx` and `load_onnx` are what `Network.to_onnx` and `Network.from_onnx` call;
`from_torch(module_or_state_dict, net)` copies a PyTorch model's weights into a network.
"""

from glassnet.io.limits import Limits, NetworkTooLargeError
from glassnet.io.model_file import FORMAT_VERSION, load_network, save_network
from glassnet.io.onnx_export import export_onnx
from glassnet.io.onnx_import import load_onnx
from glassnet.io.torch_import import from_torch

__all__ = [
    "FORMAT_VERSION",
    "Limits",
    "NetworkTooLargeError",
    "export_onnx",
    "from_torch",
    "load_network",
    "load_onnx",
    "save_network",
]
