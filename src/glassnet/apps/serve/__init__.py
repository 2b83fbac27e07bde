"""`glassnet serve MODEL|RUN`: a local web page to draw a digit and watch the network read it, epoch by epoch.

The standard library's ThreadingHTTPServer serves three files shipped in glassnet/serve/static
(index.html, app.js, style.css: no framework, no CDN, no build step) and a JSON API. It binds
127.0.0.1 unless told otherwise. Only the whitelisted paths below exist: no request reads a file.

GET /, /index.html, /app.js, /style.css
    The page: a canvas to draw on or a photo to upload, the class probabilities, each layer's
    activations, and what is known of the model (name, classes, test accuracy).
GET /api/summary
    The layer table, the kept epochs, and the model's name, classes and known accuracies.
POST /api/predict
    A drawing as JSON {"width", "height", "pixels"}, or a PNG/JPEG file as the body, made
    MNIST-like by glassnet.apps.imaging.to_mnist as `glassnet predict` does; options ?layers=0
    (no activations, a small answer) and ?epoch=N, in the query or as JSON fields.

docs/serve-api.md describes every request, answer, limit and error (errors are JSON
{"error": "..."} with a 4xx status; 503 when 64 connections are being served); docs/security.md
how the server holds up against hostile clients.
"""

from glassnet.apps.serve.api import Predictor, RequestError, parse_image
from glassnet.apps.serve.server import AppServer, serve

__all__ = ["AppServer", "Predictor", "RequestError", "parse_image", "serve"]
