"""`glassnet serve MODEL|RUN`: a local web page to draw a digit and watch the network read it, epoch by epoch.

The standard library's ThreadingHTTPServer serves three files shipped in glassnet/serve/static
(index.html, app.js, style.css: no framework, no CDN, no build step) and a JSON API. It binds
127.0.0.1 unless told otherwise. Only the whitelisted paths below exist: no request reads a file.

GET /, /index.html, /app.js, /style.css
    The page: a canvas to draw on, the class probabilities, and each layer's activations.

GET /api/summary
    {"text": the table of Network.summary, "input_shape": "(N, 28, 28, 1)",
     "layers": [{"name": "Conv2D(1 -> 8, 3x3)", "output_shape": "(N, 26, 26, 8)", "parameters": 80}, ...],
     "parameters": total,
     "epochs": [1, 2, ...] the run's kept per-epoch snapshots (glassnet.apps.epochs), [] if none}

POST /api/predict   (Content-Type: application/json, at most 2 MiB)
    Request:  {"width": W, "height": H, "pixels": [H*W numbers, row by row]}, W and H from 1 to 560,
              gray values 0..255 (or 0..1), ink dark on light or light on dark; or
              {"pixels": [784 numbers]}, a 28x28 image. Either way the image is made MNIST-like
              by glassnet.apps.imaging.to_mnist (cropped, 20 px box, centred by mass), as `glassnet predict` does.
              An optional "epoch": N reads it with the snapshot kept after epoch N (the page's slider).
    Response: {"prediction": 7,
               "scores": [10 outputs of the last layer],
               "probabilities": the same when they are probabilities (a final Softmax), else null,
               "input": [28 rows of 28 values in 0..1], the image the network read,
               "layers": [{"name": "Conv2D(1 -> 8, 3x3)", "kind": "maps", "shape": [26, 26, 8],
                           "low": -0.8, "high": 1.9, "values": [channel][row][column]}
                              at most 16 maps, shrunk to at most 28x28, as gray levels 0..255
                              (value = low + level / 255 * (high - low)),
                          {"name": "Dense(1352 -> 10)", "kind": "vector", "shape": [10],
                           "values": [...]}  at most the first 128 values, ...],
               "milliseconds": time spent on the server}

Errors answer {"error": "what was wrong and how to fix it"} with status 400 (not JSON, NaN, an
integer of thousands of digits; a malformed Content-Length, Host or request target; a body
shorter than its Content-Length), 408 (a body that stalls for 15 s), 411 (no Content-Length),
413 (body over 2 MiB), 415 (not application/json), 422 (JSON that is not a valid image: wrong
size or types, values out of range, a blank drawing), 403 (a Host header other than this
machine's while bound to loopback), 404, 405, or 503 (already serving 64 connections).
A connection idle for 15 s is closed; a client that disconnects early is one line in the log;
when file descriptors run out the server waits and retries instead of spinning (docs/security.md).
"""

from glassnet.apps.serve.api import Predictor, RequestError, parse_image
from glassnet.apps.serve.server import AppServer, serve

__all__ = ["AppServer", "Predictor", "RequestError", "parse_image", "serve"]
