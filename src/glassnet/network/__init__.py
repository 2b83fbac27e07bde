"""The Network and the path of a batch through fit: data, plan, loop, with their support modules."""

from glassnet.network.network import Network

__all__ = ["Network"]
