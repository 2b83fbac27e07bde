"""Optional dependencies: imported when a command needs them, or a one-line error naming the extra."""

from __future__ import annotations

import importlib
from types import ModuleType

from glassnet.errors import GlassnetError

PACKAGES = {"PIL": "Pillow"}  # import name -> the name pip installs


class MissingExtraError(GlassnetError, ImportError):
    """An optional dependency (an extra of glassnet) is needed but not installed."""


def import_extra(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or say which extra installs it.

    Args:
        module: the module to import, e.g. "PIL.Image".
        extra: glassnet's extra that provides it, e.g. "images".
        purpose: what it is needed for, e.g. "reading PNG/JPEG images".
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        package = PACKAGES.get(module.split(".")[0], module.split(".")[0])
        raise MissingExtraError(f'{purpose} needs {package}: pip install "glassnet[{extra}]"') from None
