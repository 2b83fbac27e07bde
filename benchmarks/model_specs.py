"""The benchmarked architectures, described once and built identically in glassnet and PyTorch.

A model is a tuple of layer specs such as ("conv", 1, 8, 3) or ("dense", 1352, 10); the same
tuple builds the glassnet Network, the torch.nn.Sequential and the FLOP count, so the two
frameworks cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LayerSpec = tuple[Any, ...]
INPUT_SHAPE = (28, 28, 1)  # one MNIST image, HWC


@dataclass(frozen=True)
class ModelSpec:
    """One benchmarked architecture.

    Args:
        name: short id used on the command line (M1, M2, M3, article_mlp, article_cnn).
        layers: layer specs, input to output, without the final softmax.
        loss: "cross_entropy" (softmax + cross-entropy from the logits) or "mse" (the article's).
        description: one line for tables.
    """

    name: str
    layers: tuple[LayerSpec, ...]
    loss: str
    description: str


def m1(hidden: int = 128) -> ModelSpec:
    """M1: Dense 784->hidden, ReLU, Dense hidden->10."""
    return ModelSpec(
        "M1" if hidden == 128 else f"M1-h{hidden}",
        (("flatten",), ("dense", 784, hidden), ("relu",), ("dense", hidden, 10)),
        "cross_entropy",
        f"Dense 784->{hidden}, ReLU, Dense {hidden}->10",
    )


M2 = ModelSpec(
    "M2",
    (("conv", 1, 8, 3), ("relu",), ("maxpool", 2), ("flatten",), ("dense", 13 * 13 * 8, 10)),
    "cross_entropy",
    "Conv 1->8 3x3, ReLU, MaxPool 2, Flatten, Dense 1352->10",
)

M3 = ModelSpec(
    "M3",
    (
        ("conv", 1, 32, 3),
        ("relu",),
        ("maxpool", 2),
        ("conv", 32, 64, 3),
        ("relu",),
        ("maxpool", 2),
        ("flatten",),
        ("dense", 5 * 5 * 64, 128),
        ("relu",),
        ("dense", 128, 10),
    ),
    "cross_entropy",
    "Conv 1->32, ReLU, Pool, Conv 32->64, ReLU, Pool, Dense 1600->128, ReLU, Dense 128->10",
)

# The article's networks (Omar Aflak, "Neural Network from scratch in Python"):
# example_mnist_fc.py and example_mnist_conv.py, tanh everywhere, mean squared error.
ARTICLE_MLP = ModelSpec(
    "article_mlp",
    (("flatten",), ("dense", 784, 100), ("tanh",), ("dense", 100, 50), ("tanh",), ("dense", 50, 10), ("tanh",)),
    "mse",
    "article MLP: Dense 784-100-50-10, tanh, MSE",
)

ARTICLE_CNN = ModelSpec(
    "article_cnn",
    (("conv", 1, 1, 3), ("tanh",), ("flatten",), ("dense", 26 * 26, 100), ("tanh",), ("dense", 100, 10), ("tanh",)),
    "mse",
    "article CNN: Conv 1->1 3x3, tanh, Flatten, Dense 676-100-10, tanh, MSE",
)

MODELS: dict[str, ModelSpec] = {s.name: s for s in (m1(), M2, M3, ARTICLE_MLP, ARTICLE_CNN)}
ARTICLE_MODELS = ("article_mlp", "article_cnn")


def get_spec(name: str, hidden: int | None = None) -> ModelSpec:
    """The spec called `name`; for M1, `hidden` changes the hidden width."""
    if name == "M1" and hidden is not None:
        return m1(hidden)
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: expected one of {sorted(MODELS)}")
    return MODELS[name]


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------
def _glassnet_layer(gn: Any, spec: LayerSpec) -> Any:
    """One glassnet layer from its spec."""
    kind, *args = spec
    makers = {
        "dense": lambda: gn.Dense(args[0], args[1]),
        "conv": lambda: gn.Conv2D(args[0], args[1], kernel_size=args[2]),
        "maxpool": lambda: gn.MaxPool2D(args[0]),
        "flatten": lambda: gn.Flatten(),
        "relu": lambda: gn.ReLU(),
        "tanh": lambda: gn.Tanh(),
    }
    return makers[kind]()


def build_glassnet(gn: Any, spec: ModelSpec, *, learning_rate: float, batch_size: int, seed: int) -> Any:
    """A glassnet Network for `spec`: plain SGD; Softmax appended for cross-entropy."""
    net = gn.Network(
        epochs=1, learning_rate=learning_rate, batch_size=batch_size, optimizer="sgd", seed=seed, verbose=0
    )
    layers = list(spec.layers)
    if layers and layers[0] == ("flatten",):
        layers = layers[1:]  # glassnet's Dense takes (N, 784); the data is flattened once
    for layer in layers:
        net.add(_glassnet_layer(gn, layer))
    if spec.loss == "cross_entropy":
        net.add(gn.Softmax())
    return net.use(spec.loss)


def build_torch(torch: Any, spec: ModelSpec) -> Any:
    """A torch.nn.Sequential for `spec` taking NCHW input and returning logits."""
    nn = torch.nn
    makers = {
        "dense": lambda a: nn.Linear(a[0], a[1]),
        "conv": lambda a: nn.Conv2d(a[0], a[1], kernel_size=a[2]),
        "maxpool": lambda a: nn.MaxPool2d(a[0]),
        "flatten": lambda a: nn.Flatten(),
        "relu": lambda a: nn.ReLU(),
        "tanh": lambda a: nn.Tanh(),
    }
    layers = list(spec.layers)
    if layers and layers[0] == ("flatten",):
        layers = layers[1:]  # the data is flattened once, outside the timed loop
    return nn.Sequential(*(makers[kind](args) for kind, *args in layers))


def flattens_input(spec: ModelSpec) -> bool:
    """True when the model starts with Flatten: the data is fed as (N, 784)."""
    return bool(spec.layers) and spec.layers[0] == ("flatten",)


# ---------------------------------------------------------------------------------------------
# Arithmetic
# ---------------------------------------------------------------------------------------------
def _layer_macs(spec: LayerSpec, shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """Multiply-adds of one layer's forward pass for one image, and its output shape."""
    kind, *args = spec
    if kind == "dense":
        return args[0] * args[1], (args[1],)
    if kind == "conv":
        cin, cout, k = args
        h, w, _ = shape
        oh, ow = h - k + 1, w - k + 1
        return oh * ow * cout * k * k * cin, (oh, ow, cout)
    if kind == "maxpool":
        h, w, c = shape
        return 0, (h // args[0], w // args[0], c)
    if kind == "flatten":
        size = 1
        for d in shape:
            size *= d
        return 0, (size,)
    return 0, shape  # activations: no multiply-adds


def training_flops_per_image(spec: ModelSpec) -> dict[str, int]:
    """FLOPs of one training step per image, counting only Dense and Conv2D products.

    Forward: 2 FLOPs per multiply-add. Backward: the weight gradient costs the same again, and
    the input gradient too, except for the first layer, whose input gradient nobody computes
    (neither glassnet nor PyTorch). Element-wise work (activations, pooling, softmax, the SGD
    update) is left out: it is a few percent and not matrix-multiply work.
    """
    shape: tuple[int, ...] = INPUT_SHAPE
    forward = backward = 0
    first = True
    for layer in spec.layers:
        macs, shape = _layer_macs(layer, shape)
        if macs:
            forward += 2 * macs
            backward += 2 * macs if first else 4 * macs
            first = False
    return {"forward": forward, "backward": backward, "training": forward + backward}
