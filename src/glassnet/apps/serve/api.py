"""The JSON API of `glassnet serve`: checking a drawn image, predicting, and the layer table."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from glassnet.apps.activations import MAX_CHANNELS, MAX_UNITS, LayerActivation, layer_activations
from glassnet.apps.data import is_digit_model
from glassnet.apps.imaging import FIELD, resize, to_mnist
from glassnet.datasets.folder import picture_input
from glassnet.errors import GlassnetError, InputError
from glassnet.io.limits import DEFAULT_LIMITS, NetworkTooLargeError, check_network_size
from glassnet.network.network import Network
from glassnet.network.summary import format_shape

MAX_BODY = 2 * 1024 * 1024  # bytes of a request body; a 560x560 drawing written as "255," fits
MAX_SIDE = 560  # pixels of the longer side of a drawing
INPUT_SHAPE = (FIELD, FIELD, 1)  # what to_mnist makes, so what a served model must take
TILE_SIDE = FIELD  # feature maps larger than this are shrunk for the page
DECIMALS = 4  # vector activations are rounded to this many decimals to keep responses small
IMAGE_KEYS = {"width", "height", "pixels"}


class RequestError(GlassnetError):
    """A request the API refuses, with the HTTP status to answer.

    Args:
        status: 400 (not JSON), 413 (too large), 422 (JSON that is not a valid image), ...
        message: what was wrong and how to fix it, sent to the client.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _no_constants(name: str) -> None:
    raise RequestError(400, f"not valid JSON: {name} is not a number in JSON; send pixel values 0..255")


def parse_json(body: bytes) -> Any:
    """The JSON document of a request body (UTF-8; NaN and Infinity refused).

    Args:
        body: the raw bytes.
    """
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise RequestError(400, "the body is not UTF-8 text: send JSON") from None
    except (json.JSONDecodeError, RecursionError) as error:
        raise RequestError(400, f"not valid JSON: {error}") from None
    except ValueError as error:  # an integer of thousands of digits: Python's conversion limit
        raise RequestError(400, f"not valid JSON for an image: {str(error)[:120]}") from None


def _side(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if type(value) is not int or not 1 <= value <= MAX_SIDE:
        raise RequestError(422, f'"{key}" must be an integer from 1 to {MAX_SIDE}, got {json.dumps(value)[:40]}')
    return value


def parse_image(data: Any) -> np.ndarray:
    """The gray image of a predict request, checked: {"width": W, "height": H, "pixels": [...]}.

    Args:
        data: the parsed JSON; "pixels" holds H*W numbers in 0..255 (or 0..1), row by row, in
            either polarity; without "width" and "height" it must hold 28*28 of them.

    Shapes:
        output float64 (H, W).
    """
    if not isinstance(data, dict):
        raise RequestError(422, 'expected a JSON object {"width": W, "height": H, "pixels": [H*W numbers]}')
    unknown = sorted(set(data) - IMAGE_KEYS)
    if unknown:
        raise RequestError(422, f"unknown key {unknown[0]!r}: send width, height and pixels")
    if ("width" in data) != ("height" in data):
        raise RequestError(422, 'send both "width" and "height", or neither for a 28x28 image')
    width, height = (_side(data, "width"), _side(data, "height")) if "width" in data else (FIELD, FIELD)
    pixels = data.get("pixels")
    if not isinstance(pixels, list):
        raise RequestError(422, f'"pixels" must be a list of {width}*{height} numbers, row by row')
    if len(pixels) != width * height:
        raise RequestError(422, f'"pixels" must hold width*height = {width * height} numbers, got {len(pixels)}')
    try:
        values = np.array(pixels)
    except ValueError:  # nested lists of different lengths
        values = np.array([])
    if values.dtype.kind not in "iuf" or values.shape != (width * height,) or any(type(v) is bool for v in pixels):
        raise RequestError(422, '"pixels" must hold numbers only (no strings, booleans, lists or null)')
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        raise RequestError(422, '"pixels" must be finite numbers')
    if values.min() < 0 or values.max() > 255:
        raise RequestError(422, f'"pixels" must be in 0..255 (or 0..1), got {values.min():g}..{values.max():g}')
    return values.reshape(height, width)  # (H, W)


def activation_json(item: LayerActivation) -> dict[str, Any]:
    """One layer's activations as JSON: at most 16 maps of at most 28x28 gray levels, or 128 values.

    Maps are sent as gray levels 0..255 spanning the layer's values from "low" to "high"
    (value = low + level / 255 * (high - low)), which keeps an answer for the default CNN near 120 kB.

    Args:
        item: the layer's output for one sample.
    """
    shape = list(item.values.shape)
    if not item.is_maps:
        return {
            "name": item.name,
            "kind": "vector",
            "shape": shape,
            "values": np.round(item.values.ravel()[:MAX_UNITS].astype(np.float64), DECIMALS).tolist(),
        }
    maps = np.moveaxis(item.values[..., :MAX_CHANNELS], -1, 0).astype(np.float64)  # (C, H, W)
    height, width = maps.shape[1:]
    scale = TILE_SIDE / max(height, width)
    if scale < 1:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        maps = np.stack([resize(image, size) for image in maps])  # (C, h, w)
    low, high = float(item.values.min()), float(item.values.max())
    levels = np.round((maps - low) * (255 / (high - low))) if high > low else np.zeros_like(maps)
    return {
        "name": item.name,
        "kind": "maps",
        "shape": shape,
        "low": low,
        "high": high,
        "values": levels.astype(np.uint8).tolist(),
    }


class Predictor:
    """A network behind a lock, answering the API's predictions for drawn digits.

    The lock serializes forward passes: layers keep state from their last forward (inputs,
    pooling winners), so two at once would mix, and a stateless forward would mean a second
    code path in every layer. One image through the default CNN takes under a millisecond, so
    little is lost; parsing, preprocessing and encoding run outside the lock. Inside it BLAS is
    held to one thread: for matrices this small, waking a second thread costs more than it
    saves (about 12 ms instead of 0.5 ms when the cores are busy).

    Args:
        net: a network taking (N, 28, 28, 1) images and giving (N, classes).
    """

    def __init__(self, net: Network) -> None:
        try:
            check_network_size(net.layers, INPUT_SHAPE, DEFAULT_LIMITS, "the model")
            shapes = net.layer_shapes(INPUT_SHAPE)
        except NetworkTooLargeError:
            raise
        except ValueError as error:
            raise InputError(
                f"the model does not take 28x28x1 images, so it cannot read drawn digits: {error}"
            ) from None
        if not shapes or (shapes[-1] is not None and len(shapes[-1]) != 1):
            raise InputError(
                "the model must give one score per class, (N, classes); "
                f"it gives {format_shape(shapes[-1] if shapes else None)}"
            )
        self.net = net
        classes = int(shapes[-1][0] or 0) if shapes[-1] is not None else 0
        names = net.class_names
        fits = names is not None and len(names) == classes
        self.class_names = list(names) if names is not None and fits else [str(k) for k in range(classes)]
        self.digits = is_digit_model(net)  # else a folder's model: pictures resized whole, as it was trained
        self.lock = threading.Lock()
        self.blas = ThreadpoolController()
        self.predict(np.zeros(INPUT_SHAPE, dtype=np.float32), preprocess=False)  # compile and warm up now

    def predict(self, image: np.ndarray, preprocess: bool = True, layers: bool = True) -> dict[str, Any]:
        """The prediction, class scores, 28x28 input and (unless layers=False) layer activations for one image.

        Args:
            image: a drawing or picture (H, W[, C]) made MNIST-like by imaging.to_mnist (a folder's
                model: resized whole, as `glassnet predict` reads pictures for it), or with
                preprocess=False an input (28, 28, 1) as the network takes it.
            layers: include "layers", each layer's activations (most of an answer's size).
        """
        start = time.perf_counter()
        if preprocess:
            try:
                image = to_mnist(image) if self.digits else picture_input(image, (FIELD, FIELD), "gray")  # (28, 28, 1)
            except (GlassnetError, ValueError) as error:
                raise RequestError(422, str(error)) from None
        with self.lock, self.blas.limit(limits=1, user_api="blas"):
            activations = layer_activations(self.net, image)
        scores = activations[-1].values.ravel().astype(np.float64)
        is_probability = bool(np.all(scores >= 0) and abs(scores.sum() - 1) < 1e-3)
        answer = {
            "prediction": int(np.argmax(scores)),
            "class": self.class_names[int(np.argmax(scores))] if self.class_names else None,
            "class_names": self.class_names,
            "scores": scores.tolist(),
            "probabilities": scores.tolist() if is_probability else None,
            "input": image[..., 0].astype(np.float64).tolist(),  # exact: float32 survives the round trip
        }
        if layers:
            answer["layers"] = [activation_json(item) for item in activations]
        return answer | {"milliseconds": round(1000 * (time.perf_counter() - start), 2)}

    def summary(self) -> dict[str, Any]:
        """The layer table: text as Network.summary prints it, and one row per layer."""
        shapes = self.net.layer_shapes(INPUT_SHAPE)
        rows = [
            {
                "name": repr(layer),
                "output_shape": format_shape(shape),
                "parameters": sum(p.size for p in layer.parameters()),
            }
            for layer, shape in zip(self.net.layers, shapes, strict=True)
        ]
        return {
            "text": self.net.summary(INPUT_SHAPE),
            "input_shape": format_shape(INPUT_SHAPE),
            "layers": rows,
            "parameters": sum(p.size for p in self.net.parameters()),
        }
