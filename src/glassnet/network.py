"""Network: the article's chainable model. add layers, use a loss, fit, predict."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from glassnet.distributed import strategy
from glassnet.errors import InputTypeError, NotReadyError
from glassnet.fusion import fuse
from glassnet.initializers import glorot_to_he_factor
from glassnet.layers.activations import Softmax
from glassnet.layers.base import Layer, Shape
from glassnet.losses import CrossEntropy, Loss, LossFn, get_loss
from glassnet.metrics import to_labels
from glassnet.numerics import first_non_finite, overflow_error, quiet
from glassnet.optimizers import Optimizer, check_learning_rate, get_optimizer
from glassnet.parameter import Parameter
from glassnet.progress import epoch_line
from glassnet.summary import summary_table
from glassnet.targets import check_output_shape, network_targets
from glassnet.training import interruptible, train_epoch
from glassnet.validation import (
    check_callbacks,
    check_count,
    check_flag,
    check_seed,
    check_validation_data,
    network_inputs,
    split_validation,
)

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
        self.seed = check_seed(seed)
        self.verbose = check_count(verbose, "verbose", minimum=0)
        self.rng = np.random.default_rng(seed)
        self.layers: list[Layer] = []
        self.loss: Loss | None = None
        self.history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
        self.input_shape: tuple[int, ...] | None = None  # one sample's shape, as last given or loaded
        self.fuse_relu_pool = True  # run each ReLU + MaxPool2D pair as one step: glassnet.fusion
        self.stop_training = False
        self.interrupted = False  # set by fit: True when Ctrl-C stopped it (glassnet.training)
        self._auto_drawn: tuple[Layer, np.ndarray] | None = None

    # Building -------------------------------------------------------------------------------

    def add(self, layer: Layer) -> Network:
        """Append a layer, draw its parameters and check its shape against the layer before."""
        if isinstance(layer, type):
            raise InputTypeError(f"add() takes a layer, got the class {layer.__name__}: write {layer.__name__}(...)")
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
        x = network_inputs(self, x, name)
        self.input_shape = tuple(x.shape[1:])
        return x

    @property
    def _fused(self) -> bool:
        """True when the last layer is Softmax and the loss cross-entropy: one stable step."""
        return isinstance(self.loss, CrossEntropy) and bool(self.layers) and isinstance(self.layers[-1], Softmax)

    def _steps(self, layers: list[Layer]) -> list[Any]:
        """The layers as run: a ReLU + MaxPool2D pair is one step while self.fuse_relu_pool."""
        return fuse(layers) if self.fuse_relu_pool else layers

    def _forward(self, x: np.ndarray, logits: bool = False) -> np.ndarray:
        """Run the layers; with logits=True stop before a final Softmax."""
        layers = self.layers[:-1] if logits else self.layers
        for step in self._steps(layers):
            x = step.forward(x)
        return x

    def _backward(self, grad: np.ndarray, from_logits: bool) -> None:
        layers = self.layers[:-1] if from_logits else self.layers
        for step in reversed(self._steps(layers)):
            grad = step.backward(grad)

    def _loss_and_grad(self, loss: Loss, targets: np.ndarray, out: np.ndarray) -> tuple[float, np.ndarray]:
        if self._fused:
            return cast(CrossEntropy, loss).from_logits(targets, out)  # _fused: the loss is CrossEntropy
        return loss(targets, out), loss.gradient(targets, out)

    def predict(self, x: object, batch_size: int = 256) -> np.ndarray:
        """Outputs of the last layer for every sample, computed batch by batch in inference mode."""
        batch_size = check_count(batch_size, "batch_size")
        x = self._inputs(x)
        self._set_training(False)
        with quiet():
            out = np.concatenate([self._forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
        bad = first_non_finite(out)
        if bad is not None:
            raise overflow_error(self, x, f"predict gave {bad[0]} NaN or infinite outputs, the first at index {bad[1]}")
        return out

    def evaluate(self, x: object, y: object, batch_size: int = 256) -> dict[str, float]:
        """{"loss": mean loss, "accuracy": ...} over (x, y), in inference mode."""
        loss = self._require_loss()
        batch_size = check_count(batch_size, "batch_size")
        x = self._inputs(x)
        targets, labels = network_targets(self, y, len(x), x.dtype)
        self._set_training(False)
        total, correct = 0.0, 0
        with quiet():
            for i in range(0, len(x), batch_size):
                out = self._forward(x[i : i + batch_size], logits=self._fused)
                batch_targets = targets[i : i + batch_size]
                check_output_shape(out.shape[1:], batch_targets.shape)
                value = loss.loss_from_logits(batch_targets, out) if self._fused else loss(batch_targets, out)  # type: ignore[attr-defined]
                total += value * len(out)
                if labels is not None:
                    correct += int(np.count_nonzero(to_labels(out) == labels[i : i + batch_size]))
        if not np.isfinite(total):
            raise overflow_error(self, x, f"evaluate got a mean loss of {total / len(x)}")
        return {"loss": total / len(x), "accuracy": correct / len(x)}

    # Training -----------------------------------------------------------------------------------

    @interruptible
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
        checkpoint: str | os.PathLike[str] | None = None,
        resume: str | os.PathLike[str] | None = None,
        distributed: bool = False,
    ) -> Network:
        """Train on (x, y) in shuffled mini-batches; y holds integer labels, one-hot rows or targets.

        Arguments left as None take the constructor's values. A second fit trains `epochs` more
        epochs. After each epoch its metrics are appended to `history`, and each callback is called
        as callback(net, epoch, logs); setting `net.stop_training = True` ends training after that
        epoch.

        checkpoint=PATH saves the model and its training state there (atomically) after every epoch.
        resume=PATH first loads such a checkpoint of this same network (weights, optimizer state,
        generator, history); `epochs` then counts the whole run, so epochs=3 from a checkpoint
        written after epoch 1 trains epochs 2 and 3, and nothing when the checkpoint is further on.

        distributed=True, under `mpiexec -n K`, trains data-parallel over MPI: each rank computes a
        share of every batch, gradients are averaged, only rank 0 prints and saves checkpoints
        (glassnet.distributed). Without it, or with one process, training is single-process.

        If the loss or the weights become NaN or infinite, gn.DivergenceError is raised and the
        network is back at the start of that epoch. Ctrl-C stops after the current batch, sets
        `net.interrupted` and re-raises KeyboardInterrupt (docs/training-safety.md).
        """
        loss = self._require_loss()
        epochs = check_count(self.epochs if epochs is None else epochs, "epochs")
        batch_size = check_count(self.batch_size if batch_size is None else batch_size, "batch_size")
        verbose = check_count(self.verbose if verbose is None else verbose, "verbose", minimum=0)
        rate = None if learning_rate is None else check_learning_rate(learning_rate)
        shuffle, callbacks = check_flag(shuffle, "shuffle"), check_callbacks(callbacks)
        parallel = strategy(check_flag(distributed, "distributed"))
        verbose = verbose if parallel.is_root else 0
        validation_data = check_validation_data(validation_data)
        x = self._inputs(x)
        targets, labels = network_targets(self, y, len(x), x.dtype)
        x, targets, labels, validation_data = split_validation(x, targets, labels, validation_data, validation_split)
        if validation_data is not None:
            val_x = self._inputs(validation_data[0], "validation x")
            network_targets(
                self, validation_data[1], len(val_x), val_x.dtype, "validation y"
            )  # now, not after an epoch
            validation_data = (val_x, validation_data[1])
        self._start_run(checkpoint, resume)
        if rate is not None:
            self.optimizer.learning_rate = rate
        self.stop_training = False
        done = len(self.history["loss"])
        last = epochs if resume is not None else done + epochs
        with parallel.session(self.layers, self.rng):
            for epoch in range(done + 1, last + 1):
                start = time.perf_counter()
                logs = train_epoch(self, loss, x, targets, labels, batch_size, shuffle, epoch, last, verbose, parallel)
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
                if checkpoint is not None and parallel.is_root:
                    self.save(checkpoint)
                if self.stop_training:
                    break
        return self

    # Files --------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Network:
        """Write the model and its training state to one .npz file, atomically; returns self.

        Args:
            path: the file; only built-in layers, losses and optimizers can be saved.
        """
        from glassnet.io import save_network  # glassnet.io imports this module

        save_network(self, path)
        return self

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Network:
        """Read a model file or checkpoint written by save (gn.ModelFileError if it is not valid).

        Args:
            path: the file.
        """
        from glassnet.io import load_network  # glassnet.io imports this module

        return load_network(path)

    def _start_run(self, checkpoint: str | os.PathLike[str] | None, resume: str | os.PathLike[str] | None) -> None:
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

    def _set_training(self, training: bool) -> None:
        for layer in self.layers:
            layer.training = training
        if self.layers and self.layers[0] not in self.layers[1:]:  # nobody needs dLoss/dData in fit
            self.layers[0].needs_input_grad = not training

    def __repr__(self) -> str:
        return f"Network({len(self.layers)} layers, loss={self.loss!r})"
