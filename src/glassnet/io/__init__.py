"""Files: model files and checkpoints, the layer-spec schema, training state, safe .npz and atomic writes.

`save_network(net, path)` and `load_network(path)` are what `Network.save` and `Network.load` call.
"""

from glassnet.io.limits import Limits, NetworkTooLargeError
from glassnet.io.model_file import FORMAT_VERSION, load_network, save_network

__all__ = ["FORMAT_VERSION", "Limits", "NetworkTooLargeError", "load_network", "save_network"]
