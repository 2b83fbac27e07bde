"""Network: the article's chainable model. add layers, use a loss, fit, predict."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet.augment import Augmentation
from glassnet.checks import check_count, check_positive, check_seed, first_non_finite
from glassnet.curves import training_curves
from glassnet.errors import InputTypeError, NotReadyError
from glassnet.io import model_build
from glassnet.io.limits import inference_batch
from glassnet.layers.base import Layer, Shape
from glassnet.losses import Loss, LossFn, get_loss
from glassnet.network.card import DataHashing
from glassnet.network.data import labelled, network_inputs
from glassnet.network.diagnoses import Diagnosis
from glassnet.network.files import ModelFiles
from glassnet.network.fitting import FitArguments, fit_network
from glassnet.network.gradcheck import NetworkGradientCheck, check_network
from glassnet.network.hooks import Callback, EpochFunction
from glassnet.network.interrupt import interruptible
from glassnet.network.loop import HISTORY_KEYS
from glassnet.network.numerics import overflow_error
from glassnet.network.plan import Plan
from glassnet.network.summary import summary_html, summary_table
from glassnet.optimizers import Optimizer, get_optimizer
from glassnet.parameter import Parameter
from glassnet.schedule_specs import check_schedule
from glassnet.schedules import Schedule

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Callback", "EpochFunction", "Network"]


class Network(ModelFiles):
    """A stack of layers trained by mini-batch gradient descent; add, use and fit return self.

    Args:
        epochs: passes over the training data in fit.
        learning_rate: step size of the optimizer built from a name.
        batch_size: samples per gradient step.
        optimizer: "sgd", "momentum" (SGD, momentum 0.9), "adam", or a gn.optimizers instance.
        seed: seed of the network's generator (initial weights, shuffling, dropout); None: random.
        verbose: 0 silent, 1 a progress bar and a line per epoch, 2 a line per epoch.
        schedule: a gn.schedules schedule setting the learning rate before every optimizer step
            (None: the optimizer's rate stays as it is).

    `Network([layer, ...])` (Keras's habit) adds those layers, with the other settings as given.

    Shapes:
        x (N, ...) as the first layer takes it -> predict gives (N, ...) of the last layer.
    """

    def __init__(
        self,
        epochs: int | Sequence[Layer] = 1,
        learning_rate: float = 0.01,
        batch_size: int = 32,
        optimizer: str | Optimizer = "sgd",
        seed: int | None = None,
        verbose: int = 1,
        schedule: Schedule | None = None,
    ) -> None:
        layers: Sequence[Layer] = ()
        if isinstance(epochs, (list, tuple)):
            layers, epochs = epochs, 1
        self.epochs = check_count(epochs, "epochs")
        self.learning_rate = check_positive(learning_rate, "learning_rate", "0.01")
        self.batch_size = check_count(batch_size, "batch_size")
        self.optimizer: Optimizer = get_optimizer(optimizer, self.learning_rate)
        self.seed = check_seed(seed)
        self.verbose = check_count(verbose, "verbose", minimum=0)
        self.schedule = check_schedule(schedule)
        self.augment: Augmentation | None = None  # set by fit(augment=...), kept for later fits and saved
        self.rng = np.random.default_rng(seed)
        self.layers: list[Layer] = []
        self.loss: Loss | None = None
        self.history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
        self.input_shape: tuple[int, ...] | None = None  # one sample's shape, as last given or loaded
        self.class_names: list[str] | None = None  # what each output means, saved in the model file
        self.fuse_relu_pool = True  # run each ReLU + MaxPool2D pair as one step: glassnet.network.plan
        self.stop_training = False
        self.callback_states: list[dict[str, Any]] = []  # the callbacks' states after the last epoch, for checkpoints
        self.interrupted = False  # set by fit: True when Ctrl-C stopped it (glassnet.network.loop)
        self.card: dict[str, Any] = {"fits": []}  # what made this model, one record per fit (network/card.py)
        self.card_hashing: DataHashing | None = None  # the last fit's data hashes, until they are in
        self.diagnoses: list[Diagnosis] = []  # the training doctor's findings in the last fit (network/doctor.py)
        for layer in layers:
            self.add(layer)

    # Building -----------------------------------------------------------------------------------

    def add(self, layer: Layer) -> Network:
        """Append a layer, draw its parameters and check its shape against the layer before."""
        if isinstance(layer, type):
            raise InputTypeError(f"add() takes a layer, got the class {layer.__name__}: write {layer.__name__}(...)")
        if not isinstance(layer, Layer):
            raise InputTypeError(
                f"add() takes a layer with forward and backward methods, got {type(layer).__name__}: "
                "pass e.g. gn.Dense(784, 10), or subclass gn.Layer"
            )
        if self.layers:
            self.layers[-1].adopt_init(layer.preferred_init)
        layer.initialize(self.rng)
        self.layers.append(layer)
        try:
            self.layer_shapes(self.input_shape)
        except ValueError:
            self.layers.pop()
            raise
        return self

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
            shape = layer.output_shape(shape)
            shapes.append(shape)
        return shapes

    def summary(self, input_shape: Shape | None = None) -> str:
        """A table of each layer, its output shape and parameter count, and the total."""
        return summary_table(self, input_shape or self.input_shape)

    @property
    def dtype(self) -> np.dtype | None:
        """The parameters' dtype, to which inputs are cast; None for a network without any."""
        params = self.parameters()
        return params[0].value.dtype if params else None

    # Running ------------------------------------------------------------------------------------

    def predict(self, x: object, batch_size: int | None = None) -> np.ndarray:
        """Outputs of the last layer for every sample, batch by batch in inference mode (None: a batch of
        up to 1024 samples that fits 32 MiB, glassnet.io.limits.inference_batch)."""
        x, _ = network_inputs(self, x)
        self.input_shape = tuple(x.shape[1:])
        out = self._plan().predict(x, inference_batch(self.layers, x.shape[1:], batch_size))
        bad = first_non_finite(out)
        if bad is not None:
            raise overflow_error(
                self.layers, x, f"predict gave {bad[0]} NaN or infinite outputs, the first at index {bad[1]}"
            )
        return out

    def evaluate(self, x: object, y: object, batch_size: int | None = None) -> dict[str, float]:
        """{"loss": mean loss, "accuracy": ...} over (x, y), in inference mode (batch_size as predict's)."""
        self._require_loss()
        data = labelled(self, x, y)
        return self._plan().evaluate(
            data.x, data.targets, data.labels, inference_batch(self.layers, data.x.shape[1:], batch_size)
        )

    def check_gradients(
        self, x: object, y: object, *, training: bool = False, max_elements: int = 500
    ) -> NetworkGradientCheck:
        """Check every layer's backward and the loss's gradient against float64 central differences
        on a small batch (x, y); the result's `culprit` names the first layer that disagrees."""
        return check_network(self, x, y, training=training, max_elements=max_elements)

    # Training -----------------------------------------------------------------------------------

    @interruptible
    def fit(
        self,
        x: object,
        y: object = None,
        *,
        epochs: int | None = None,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        validation_data: tuple[object, object] | None = None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        callbacks: Sequence[Callback | EpochFunction] = (),
        verbose: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        resume: str | os.PathLike[str] | None = None,
        distributed: bool = False,
        schedule: Schedule | None = None,
        clip_norm: float | None = None,
        augment: Augmentation | None = None,
        doctor: bool = True,
    ) -> Network:
        """Train on (x, y) in shuffled mini-batches; y holds integer labels, one-hot rows or targets.

        x may instead be a dataset object (anything with `__len__` and `__getitem__(index_array)`
        returning the batch's (x, y), e.g. gn.datasets.ImageFolder), given without y: its samples
        are read batch by batch; a validation_split is read from its end once, into memory.
        validation_split holds out the end of x before shuffling; with validation_data as well,
        fit raises InputError rather than prefer one.

        Arguments left as None take the constructor's values. A second fit trains `epochs` more
        epochs. After each epoch its metrics are appended to `history`, and each callback is called
        as callback(net, epoch, logs); setting `net.stop_training = True` ends training after that
        epoch.

        checkpoint=PATH saves the model and its training state there (atomically) after every epoch.
        resume=PATH first loads such a checkpoint of this same network (weights, optimizer state,
        generator, history); `epochs` then counts the whole run, so epochs=3 from a checkpoint
        written after epoch 1 trains epochs 2 and 3, and nothing when the checkpoint is further on.

        schedule= replaces the network's learning-rate schedule (kept for later fits and saved);
        it is evaluated before every optimizer step, at the optimizer's step count, and overrides
        learning_rate. A resumed run takes the checkpoint's schedule and continues it where it was.

        clip_norm=C scales the gradients of each step so that their global L2 norm is at most C
        (torch.nn.utils.clip_grad_norm_), after they are averaged over processes.

        augment=gn.augment.RandomAffine(...) (or Elastic, Compose) transforms each training batch
        with draws from the network's generator (never validation data, predict or evaluate); like
        schedule, it is kept for later fits and saved in the model file.

        distributed=True, under `mpiexec -n K`, trains data-parallel over MPI: each rank computes a
        share of every batch, gradients are averaged, only rank 0 prints and saves checkpoints
        (glassnet.network.distributed). Without it, or with one process, training is single-process.

        If the loss or the weights become NaN or infinite, gn.DivergenceError is raised and the
        network is back at the start of that epoch. Any other failure (a layer's error at some batch, a
        callback's, a checkpoint that cannot be written) leaves everything as before the call: weights,
        buffers, optimizer and its state, learning rate, generator, history. Ctrl-C stops after the current batch, sets
        `net.interrupted` and re-raises KeyboardInterrupt (docs/training-safety.md).

        The training doctor (doctor=True) watches the run and names each classic failure once (inputs
        not scaled, learning rate too high or too low, dead ReLUs, ...) with what to do: printed at
        the end of the epoch while verbose, always kept in `net.diagnoses` (network/diagnoses.py).
        """
        given = FitArguments(
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            validation_data=validation_data,
            validation_split=validation_split,
            shuffle=shuffle,
            callbacks=callbacks,
            verbose=verbose,
            checkpoint=checkpoint,
            resume=resume,
            distributed=distributed,
            schedule=schedule,
            clip_norm=clip_norm,
            augment=augment,
            doctor=doctor,
        )
        fit_network(self, x, y, given, self._require_loss())
        return self

    def plot_history(self, title: str = "") -> Figure:
        """`history` as a matplotlib Figure: loss (each batch's too) and accuracy per epoch; needs glassnet[plot]."""
        return training_curves(self.history, title)

    # Helpers ------------------------------------------------------------------------------------

    def _plan(self) -> Plan:
        return Plan(self.layers, self.loss, self.fuse_relu_pool)

    def _require_loss(self) -> Loss:
        if self.loss is None:
            raise NotReadyError('no loss chosen: call net.use("cross_entropy") or net.use("mse") before fit')
        return self.loss

    def _repr_html_(self) -> str:
        """The summary table, for Jupyter."""
        return summary_html(self, self.input_shape)

    def __repr__(self) -> str:
        return f"Network({len(self.layers)} layers, loss={self.loss!r})"


model_build.register_network_class(Network)
