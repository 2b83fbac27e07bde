"""The predict request's other forms: a PNG or JPEG file as the body, and the options (epoch, layers).

A picture is decoded by glassnet.io.images.read_picture, the reader of `glassnet predict`:
Pillow with an explicit list of formats, at most MAX_PIXELS pixels from the header, reduced to
WORK_SIDE a side when larger. At most DECODERS uploads are decoded at once, so a burst of large
pictures costs a bounded amount of memory.

Options go in the query string (/api/predict?layers=0&epoch=2) with any body, or as fields of a
JSON body ({"pixels": [...], "layers": 0}); the same option in both places is refused.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import numpy as np

from glassnet.apps.serve.api import Predictor, RequestError
from glassnet.errors import InputError
from glassnet.extras import MissingExtraError
from glassnet.io.images import read_picture

PICTURE_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}  # content type -> signature
MAX_UPLOAD = 8 * 1024 * 1024  # bytes of an uploaded picture: a phone's JPEG photo fits
DECODERS = 2  # uploads decoded at once; a 50-megapixel picture takes about 200 MB while it is decoded
OPTIONS = ("epoch", "layers")
SWITCHES = {"0": False, "1": True, "false": False, "true": True}  # the values "layers" takes, in a query
_decoding = threading.BoundedSemaphore(DECODERS)


@dataclass(frozen=True)
class Options:
    """What a predict request asks besides its image.

    Args:
        epoch: the kept epoch whose weights read the image (None: the served model); not checked yet.
        layers: whether the answer holds every layer's activations.
    """

    epoch: object = None
    layers: bool = True


def read_upload(body: bytes, kind: str) -> np.ndarray:
    """The image of a picture sent as the body, checked against its content type and decoded safely.

    Args:
        body: the request body.
        kind: its content type, a key of PICTURE_TYPES.

    Shapes:
        output (H, W) gray or (H, W, 4) RGBA, as imaging.read_picture gives it.
    """
    if not body.startswith(PICTURE_TYPES[kind]):
        found = next((name for name, signature in PICTURE_TYPES.items() if body.startswith(signature)), None)
        hint = f"it is {found}: send Content-Type: {found}" if found else "send the file's bytes unchanged"
        raise RequestError(422, f"the body is not a {kind.removeprefix('image/').upper()} file ({hint})")
    with _decoding:
        try:
            return read_picture(body, "the uploaded picture")
        except MissingExtraError as error:
            raise RequestError(415, f"this server cannot read pictures: {error}; or send JSON pixels") from None
        except InputError as error:
            raise RequestError(422, str(error)) from None


def parse_options(query: str, data: object) -> Options:
    """The options of a predict request, taken out of the JSON body (when it is an object).

    Args:
        query: the request target's query string ("layers=0&epoch=2").
        data: the parsed JSON body, or None for a picture; "epoch" and "layers" are removed from it.
    """
    try:
        fields = parse_qs(query, keep_blank_values=True, max_num_fields=len(OPTIONS))
    except ValueError:
        raise RequestError(422, f"too many query fields: the options are {', '.join(OPTIONS)}") from None
    unknown = sorted(set(fields) - set(OPTIONS))
    if unknown:
        raise RequestError(422, f"unknown option {unknown[0][:40]!r}: the options are {', '.join(OPTIONS)}")
    given: dict[str, Any] = {}
    for name, values in fields.items():
        if len(values) > 1:
            raise RequestError(422, f"the option {name!r} is given {len(values)} times: give it once")
        given[name] = SWITCHES.get(values[0].lower(), values[0]) if name == "layers" else values[0]
    if isinstance(data, dict):
        for name in OPTIONS:
            if name in data:
                if name in given:
                    raise RequestError(422, f'"{name}" is given in the query and in the JSON body: give it once')
                given[name] = data.pop(name)
    return Options(_epoch(given.get("epoch")), _layers(given.get("layers", True)))


def _epoch(value: object) -> object:
    """A query's epoch as an integer when it is one; anything else is left for pick_epoch to refuse."""
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10 else value


def _layers(value: object) -> bool:
    """The "layers" option: 0, 1, false or true (a query's text already turned into a bool)."""
    if type(value) in (bool, int) and value in (0, 1):
        return bool(value)
    raise RequestError(422, f'"layers" must be 0 (no activations) or 1, got {json.dumps(value)[:40]}')


def pick_epoch(epochs: dict[int, Predictor], epoch: object) -> Predictor:
    """The predictor of a requested epoch, or a 422 naming the epochs there are."""
    if type(epoch) is not int or epoch not in epochs:
        kept = f"the kept epochs are {list(epochs)}" if epochs else "this run kept no epochs (train with --keep-epochs)"
        raise RequestError(422, f'"epoch" must be one of the kept epochs, got {json.dumps(epoch)[:20]}: {kept}')
    return epochs[epoch]
