"""Network: the article's chainable model. add layers, use a loss, fit, predict."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet.errors import InputError, InputTypeError, NotReadyError
from glassnet.initializers import glorot_to_he_factor
from glassnet.layers.activations import Softmax
from glassnet.layers.base import Layer, LayerShapeError, Shape
from glassnet.losses import CrossEntropy, Loss, LossFn, get_loss
from glassnet.metrics import to_labels
from glassnet.optimizers import Optimizer, check_learning_rate, get_optimizer
from glassnet.parameter import Parameter
from glassnet.progress import EpochProgress, epoch_line
from glassnet.summary import summary_table
from glassnet.validation import as_input_array, check_count, check_finite, prepare_targets

Callback = Callable[["Network", int, dict[str, float]], Any]
HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "seconds")


class Network:
    """A stack of layers trained by mini-batch gradient descent; add, use and fit return self.

    Args:
        epochs: passes over the training data in fit.
        learning_rate: step size of the optimizer built from a name.
        batch_size: samples per gradient step.
        optimizer: "sgd", "momentum" (SGD, momentum 0.9), "adam", or a gn.optimizers instance.
        seed: seed of the network's generator (initial weights, shuffling, dropout); None: random.
        verbose: 0 silent, 1 a progress bar and a line per epoch, 2 a line per epoch.

    Shapes:
        x (N, ...) as the first layer takes it -> predict gives (N, ...) of the last layer.
    """

    def __init__(
        self,
        epochs: int = 1,
        learning_rate: float = 0.01,
        batch_size: int = 32,
        optimizer: str | Optimizer = "sgd",
        seed: int | None = None,
        verbose: int = 1,
    ) -> None:
        self.epochs = check_count(epochs, "epochs")
        self.learning_rate = check_learning_rate(learning_rate)
        self.batch_size = check_count(batch_size, "batch_size")
        self.optimizer: Optimizer = get_optimizer(optimizer, self.learning_rate)
        self.seed = seed
        self.verbose = check_count(verbose, "verbose", minimum=0)
        self.rng = np.random.default_rng(seed)
        self.layers: list[Layer] = []
        self.loss: Loss | None = None
        self.history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
        self.input_shape: Shape | None = None
        self.stop_training = False
        self._auto_drawn: tuple[Layer, np.ndarray] | None = None

    # Building -------------------------------------------------------------------------------

    def add(self, layer: Layer) -> Network:
        """Append a layer, draw its parameters and check its shape against the layer before."""
        if not callable(getattr(layer, "forward", None)) or not callable(getattr(layer, "backward", None)):
            raise InputTypeError(
                f"add() takes a layer with forward and backward methods, got {type(layer).__name__}: "
                "pass e.g. gn.Dense(784, 10), or subclass gn.Layer"
            )
        self._adapt_previous_init(layer)
        drawn_before = getattr(layer, "weight", None)
        if hasattr(layer, "initialize"):
            layer.initialize(self.rng)
        weight = getattr(layer, "weight", None)
        if drawn_before is None and isinstance(weight, Parameter) and getattr(layer, "init", None) == "auto":
            self._auto_drawn = (layer, weight.value)
        self.layers.append(layer)
        try:
            self.layer_shapes(self.input_shape)
        except ValueError:
            self.layers.pop()
            raise
        return self

    def _adapt_previous_init(self, layer: Layer) -> None:
        """Before a ReLU-family layer, turn the previous layer's automatic Glorot draw into He."""
        pending, self._auto_drawn = self._auto_drawn, None
        if pending is None or getattr(layer, "preferred_init", None) != "he":
            return
        previous, drawn = pending
        if previous.weight.value is drawn:  # type: ignore[attr-defined]  # unless the user replaced it
            drawn *= np.float32(glorot_to_he_factor(*previous.fans))  # type: ignore[attr-defined]

    def use(self, loss: str | Loss | LossFn, loss_prime: Callable[..., np.ndarray] | None = None) -> Network:
        """Choose the loss: "mse", "cross_entropy", a gn.Loss, or the article's (mse, mse_prime)."""
        self.loss = get_loss(loss, loss_prime)
        return self

    def parameters(self) -> list[Parameter]:
        """Every layer's Parameters, in layer order."""
        return [param for layer in self.layers for param in layer.parameters()]

    def layer_shapes(self, input_shape: Shape | None) -> list[Shape | None]:
        """Each layer's per-sample output shape for a per-sample input shape (None: unknown)."""
        shapes: list[Shape | None] = []
        shape = input_shape
        for layer in self.layers:
            infer = getattr(layer, "output_shape", None)
            shape = infer(shape) if infer is not None else None
            shapes.append(shape)
        return shapes

    def summary(self, input_shape: Shape | None = None) -> str:
        """A table of each layer, its output shape and parameter count, and the total."""
        return summary_table(self, input_shape or self.input_shape)

    # Running ------------------------------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype | None:
        """The parameters' dtype, to which inputs are cast; None for a network without any."""
        params = self.parameters()
        return params[0].value.dtype if params else None

    def _inputs(self, x: object, name: str = "x") -> np.ndarray:
        """x checked, cast to the network's dtype and checked against the layers' shapes."""
        if not self.layers:
            raise NotReadyError("the network has no layers: add some with net.add(gn.Dense(...)) first")
        x = as_input_array(x, name)
        dtype = self.dtype or (x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32))
        x = x.astype(dtype, copy=False)
        check_finite(x, name)
        try:
            self.layer_shapes(tuple(x.shape[1:]))
        except LayerShapeError as error:
            raise error.with_batch(len(x)) from None
        self.input_shape = tuple(x.shape[1:])
        return x

    @property
    def _fused(self) -> bool:
        """True when the last layer is Softmax and the loss cross-entropy: one stable step."""
        return isinstance(self.loss, CrossEntropy) and bool(self.layers) and isinstance(self.layers[-1], Softmax)

    def _forward(self, x: np.ndarray, logits: bool = False) -> np.ndarray:
        """Run the layers; with logits=True stop before a final Softmax."""
        layers = self.layers[:-1] if logits else self.layers
        for layer in layers:
            x = layer.forward(x)
        return x

    def _backward(self, grad: np.ndarray, from_logits: bool) -> None:
        layers = self.layers[:-1] if from_logits else self.layers
        for layer in reversed(layers):
            grad = layer.backward(grad)

    def _loss_and_grad(self, loss: Loss, targets: np.ndarray, out: np.ndarray) -> tuple[float, np.ndarray]:
        if self._fused:
            return loss.from_logits(targets, out)  # type: ignore[attr-defined]
        return loss(targets, out), loss.gradient(targets, out)

    def predict(self, x: object, batch_size: int = 256) -> np.ndarray:
        """Outputs of the last layer for every sample, computed batch by batch in inference mode."""
        x = self._inputs(x)
        batch_size = check_count(batch_size, "batch_size")
        self._set_training(False)
        return np.concatenate([self._forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])

    def evaluate(self, x: object, y: object, batch_size: int = 256) -> dict[str, float]:
        """{"loss": mean loss, "accuracy": ...} over (x, y), in inference mode."""
        loss = self._require_loss()
        x = self._inputs(x)
        targets, labels = prepare_targets(y, len(x), self._outputs(), x.dtype)
        self._set_training(False)
        total, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            out = self._forward(x[i : i + batch_size], logits=self._fused)
            batch_targets = targets[i : i + batch_size]
            value = loss.loss_from_logits(batch_targets, out) if self._fused else loss(batch_targets, out)  # type: ignore[attr-defined]
            total += value * len(out)
            if labels is not None:
                correct += int(np.count_nonzero(to_labels(out) == labels[i : i + batch_size]))
        return {"loss": total / len(x), "accuracy": correct / len(x)}

    # Training -----------------------------------------------------------------------------------

    def fit(
        self,
        x: object,
        y: object,
        *,
        epochs: int | None = None,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        validation_data: tuple[object, object] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        callbacks: Sequence[Callback] = (),
        verbose: int | None = None,
        checkpoint: str | os.PathLike | None = None,
        resume: str | os.PathLike | None = None,
    ) -> Network:
        """Train on (x, y) in shuffled mini-batches; y holds integer labels, one-hot rows or targets.

        Arguments left as None take the constructor's values. A second fit trains `epochs` more
        epochs. After each epoch its metrics are appended to `history`, and each callback is called as callback(net, epoch, logs); setting
        `net.stop_training = True` ends training after that epoch.

        checkpoint=PATH saves the model and its training state there (atomically) after every epoch.
        resume=PATH first loads such a checkpoint of this same network (weights, optimizer state,
        generator, history); `epochs` then counts the whole run, so epochs=3 from a checkpoint
        written after epoch 1 trains epochs 2 and 3, and nothing when the checkpoint is further on.
        """
        loss = self._require_loss()
        epochs = check_count(self.epochs if epochs is None else epochs, "epochs")
        batch_size = check_count(self.batch_size if batch_size is None else batch_size, "batch_size")
        verbose = check_count(self.verbose if verbose is None else verbose, "verbose", minimum=0)
        self._start_run(checkpoint, resume)
        if learning_rate is not None:
            self.optimizer.learning_rate = check_learning_rate(learning_rate)
        x = self._inputs(x)
        targets, labels = prepare_targets(y, len(x), self._outputs(), x.dtype)
        x, targets, labels, validation_data = _split_validation(x, targets, labels, validation_data, validation_split)
        if validation_data is not None:
            validation_data = (self._inputs(validation_data[0], "validation x"), validation_data[1])
        self.stop_training = False
        done = len(self.history["loss"])
        last = epochs if resume is not None else done + epochs
        for epoch in range(done + 1, last + 1):
            start = time.perf_counter()
            logs = self._train_epoch(loss, x, targets, labels, batch_size, shuffle, epoch, last, verbose)
            if validation_data is not None:
                scores = self.evaluate(*validation_data, batch_size=max(batch_size, 256))
                logs.update(val_loss=scores["loss"], val_accuracy=scores["accuracy"])
            logs["seconds"] = time.perf_counter() - start
            for key in HISTORY_KEYS:
                if key in logs:
                    self.history[key].append(logs[key])
            if verbose:
                print(epoch_line(epoch, last, logs), flush=True)
            for callback in callbacks:
                callback(self, epoch, logs)
            if checkpoint is not None:
                self.save(checkpoint)
            if self.stop_training:
                break
        return self

    def _train_epoch(
        self,
        loss: Loss,
        x: np.ndarray,
        targets: np.ndarray,
        labels: np.ndarray | None,
        batch_size: int,
        shuffle: bool,
        epoch: int,
        epochs: int,
        verbose: int,
    ) -> dict[str, float]:
        """One pass over the data; returns the mean loss and accuracy of its batches."""
        order = self.rng.permutation(len(x)) if shuffle else np.arange(len(x))
        params = self.parameters()
        progress = EpochProgress(epoch, epochs, len(x), verbose)
        total_loss, correct, seen = 0.0, 0, 0
        self._set_training(True)
        try:
            for start in range(0, len(x), batch_size):
                batch = order[start : start + batch_size]
                out = self._forward(x[batch], logits=self._fused)
                value, grad = self._loss_and_grad(loss, targets[batch], out)
                self._backward(grad, from_logits=self._fused)
                self.optimizer.step(params)
                total_loss += value * len(batch)
                seen += len(batch)
                if labels is not None:
                    correct += int(np.count_nonzero(to_labels(out) == labels[batch]))
                progress.update(len(batch), total_loss / seen, correct / seen if labels is not None else None)
        finally:
            self._set_training(False)
            progress.close()
        logs = {"loss": total_loss / seen}
        if labels is not None:
            logs["accuracy"] = correct / seen
        return logs

    # Files --------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Network:
        """Write the model and its training state to one .npz file, atomically; returns self.

        Args:
            path: the file; only built-in layers, losses and optimizers can be saved.
        """
        from glassnet.io import save_network  # glassnet.io imports this module

        save_network(self, path)
        return self

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """Read a model file or checkpoint written by save (gn.ModelFileError if it is not valid).

        Args:
            path: the file.
        """
        from glassnet.io import load_network  # glassnet.io imports this module

        return load_network(path)

    def _start_run(self, checkpoint: str | os.PathLike | None, resume: str | os.PathLike | None) -> None:
        """Load the checkpoint to resume from, and check now, not after an epoch, that checkpoints can be saved."""
        from glassnet.architecture import describe
        from glassnet.io import resume_training  # glassnet.io imports this module

        if resume is not None:
            resume_training(self, resume)
        if checkpoint is not None:
            describe(self)

    # Helpers ------------------------------------------------------------------------------------

    def _require_loss(self) -> Loss:
        if self.loss is None:
            raise NotReadyError('no loss chosen: call net.use("cross_entropy") or net.use("mse") before fit')
        return self.loss

    def _outputs(self) -> int | None:
        """The number of outputs per sample of the last layer, when known and one-dimensional."""
        shapes = self.layer_shapes(self.input_shape)
        last = shapes[-1] if shapes else None
        return last[0] if last is not None and len(last) == 1 else None

    def _set_training(self, training: bool) -> None:
        for layer in self.layers:
            layer.training = training

    def __repr__(self) -> str:
        return f"Network({len(self.layers)} layers, loss={self.loss!r})"


def _split_validation(
    x: np.ndarray,
    targets: np.ndarray,
    labels: np.ndarray | None,
    validation_data: tuple[object, object] | None,
    validation_split: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[object, object] | None]:
    """Hold out the last validation_split of the samples (before shuffling), as Keras does."""
    if not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
        raise InputError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
    if validation_split == 0:
        return x, targets, labels, validation_data
    if validation_data is not None:
        raise InputError("give validation_data or validation_split, not both")
    keep = len(x) - int(len(x) * validation_split)
    if keep < 1 or keep == len(x):
        raise InputError(f"validation_split={validation_split} of {len(x)} samples leaves no training or validation data")
    held_out = (x[keep:], labels[keep:] if labels is not None else targets[keep:])
    return x[:keep], targets[:keep], None if labels is None else labels[:keep], held_out
