"""The article's algorithm, per sample, as the baseline glassnet's speed-up is measured against.

A small, faithful copy of Omar Aflak's "Neural Network from scratch in Python" (the code the
beginner's article builds on): a Layer base class with forward_propagation and
backward_propagation(output_error, learning_rate) that updates its own weights, FCLayer,
ActivationLayer(tanh, tanh_prime), FlattenLayer, ConvLayer, SoftmaxLayer, mse/mse_prime, and a
Network whose fit loops over the samples one at a time (no mini-batches). As in the article,
weights are drawn with np.random.rand(...) - 0.5 and are float64, so the arithmetic is float64.

One deliberate change: the article's ConvLayer calls scipy.signal.correlate2d/convolve2d per
(output channel, input channel) pair; here those two functions are written with NumPy slices
(`correlate2d_valid`, `convolve2d_full`), keeping the per-sample, per-channel loops. Two slips
of the article's ConvLayer are corrected, neither changing the timing nor anything at the
article's depth of 1: its forward pass adds the bias once per input channel, and its bias
gradient is multiplied by layer_depth; here the bias is added once and its gradient is the sum.

Run on its own:
    python benchmarks/article_reference.py --model article_mlp --images 1000 --epochs 1
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

Array = np.ndarray


# --- functions -------------------------------------------------------------------------------
def tanh(x: Array) -> Array:
    """The article's activation."""
    return np.tanh(x)


def tanh_prime(x: Array) -> Array:
    """Derivative of tanh, from the layer's input."""
    return 1 - np.tanh(x) ** 2


def mse(y_true: Array, y_pred: Array) -> float:
    """Mean squared error over the elements of one sample."""
    return float(np.mean(np.power(y_true - y_pred, 2)))


def mse_prime(y_true: Array, y_pred: Array) -> Array:
    """dMSE/dy_pred."""
    return 2 * (y_pred - y_true) / y_true.size


def correlate2d_valid(x: Array, k: Array) -> Array:
    """scipy.signal.correlate2d(x, k, "valid") with NumPy slices.

    Loops over the kernel's elements when the kernel is the smaller array (forward pass,
    3x3 kernel), over the output's elements otherwise (weight gradient, 3x3 output).
    """
    kh, kw = k.shape
    oh, ow = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    out = np.zeros((oh, ow), dtype=np.result_type(x, k))
    if kh * kw <= oh * ow:
        for i in range(kh):
            for j in range(kw):
                out += k[i, j] * x[i : i + oh, j : j + ow]
    else:
        for i in range(oh):
            for j in range(ow):
                out[i, j] = np.sum(x[i : i + kh, j : j + kw] * k)
    return out


def convolve2d_full(x: Array, k: Array) -> Array:
    """scipy.signal.convolve2d(x, k, "full"): the zero-padded x correlated with the flipped k."""
    kh, kw = k.shape
    padded = np.pad(x, ((kh - 1, kh - 1), (kw - 1, kw - 1)))  # (H+2KH-2, W+2KW-2)
    return correlate2d_valid(padded, k[::-1, ::-1])


# --- layers ----------------------------------------------------------------------------------
class Layer:
    """Base class: forward_propagation(input) and backward_propagation(error, learning_rate)."""

    def __init__(self) -> None:
        self.input: Array | None = None
        self.output: Array | None = None

    def forward_propagation(self, input_data: Array) -> Array:
        """Output for one sample."""
        raise NotImplementedError

    def backward_propagation(self, output_error: Array, learning_rate: float) -> Array:
        """Update own parameters from dE/dY and return dE/dX."""
        raise NotImplementedError


class FCLayer(Layer):
    """Fully connected: (1, input_size) -> (1, output_size)."""

    def __init__(self, input_size: int, output_size: int) -> None:
        super().__init__()
        self.weights = np.random.rand(input_size, output_size) - 0.5
        self.bias = np.random.rand(1, output_size) - 0.5

    def forward_propagation(self, input_data: Array) -> Array:
        self.input = input_data
        self.output = np.dot(self.input, self.weights) + self.bias
        return self.output

    def backward_propagation(self, output_error: Array, learning_rate: float) -> Array:
        input_error = np.dot(output_error, self.weights.T)
        weights_error = np.dot(self.input.T, output_error)
        self.weights -= learning_rate * weights_error
        self.bias -= learning_rate * output_error
        return input_error


class ActivationLayer(Layer):
    """Element-wise activation with its derivative."""

    def __init__(self, activation: Callable[[Array], Array], activation_prime: Callable[[Array], Array]) -> None:
        super().__init__()
        self.activation = activation
        self.activation_prime = activation_prime

    def forward_propagation(self, input_data: Array) -> Array:
        self.input = input_data
        self.output = self.activation(self.input)
        return self.output

    def backward_propagation(self, output_error: Array, learning_rate: float) -> Array:
        return self.activation_prime(self.input) * output_error


class FlattenLayer(Layer):
    """(H, W, D) -> (1, H*W*D)."""

    def forward_propagation(self, input_data: Array) -> Array:
        self.input = input_data
        self.output = input_data.flatten().reshape((1, -1))  # (1, H*W*D)
        return self.output

    def backward_propagation(self, output_error: Array, learning_rate: float) -> Array:
        return output_error.reshape(self.input.shape)  # (H, W, D)


class ConvLayer(Layer):
    """Valid convolution, stride 1: (H, W, D) -> (H-KH+1, W-KW+1, layer_depth), one sample."""

    def __init__(self, input_shape: tuple[int, int, int], kernel_shape: tuple[int, int], layer_depth: int) -> None:
        super().__init__()
        self.input_shape = input_shape
        self.input_depth = input_shape[2]
        self.kernel_shape = kernel_shape
        self.layer_depth = layer_depth
        self.output_shape = (input_shape[0] - kernel_shape[0] + 1, input_shape[1] - kernel_shape[1] + 1, layer_depth)
        self.weights = np.random.rand(kernel_shape[0], kernel_shape[1], self.input_depth, layer_depth) - 0.5
        self.bias = np.random.rand(layer_depth) - 0.5

    def forward_propagation(self, input_data: Array) -> Array:
        self.input = input_data
        self.output = np.zeros(self.output_shape)
        for k in range(self.layer_depth):
            for d in range(self.input_depth):
                self.output[:, :, k] += correlate2d_valid(self.input[:, :, d], self.weights[:, :, d, k])
            self.output[:, :, k] += self.bias[k]
        return self.output

    def backward_propagation(self, output_error: Array, learning_rate: float) -> Array:
        in_error = np.zeros(self.input_shape)
        d_weights = np.zeros(self.weights.shape)
        d_bias = np.zeros(self.layer_depth)
        for k in range(self.layer_depth):
            for d in range(self.input_depth):
                in_error[:, :, d] += convolve2d_full(output_error[:, :, k], self.weights[:, :, d, k])
                d_weights[:, :, d, k] = correlate2d_valid(self.input[:, :, d], output_error[:, :, k])
            d_bias[k] = np.sum(output_error[:, :, k])
        self.weights -= learning_rate * d_weights
        self.bias -= learning_rate * d_bias
        return in_error


class SoftmaxLayer(Layer):
    """Softmax over one sample's (1, n) row (from the article's follow-up)."""

    def forward_propagation(self, input_data: Array) -> Array:
        self.input = input_data
        tmp = np.exp(input_data - np.max(input_data))
        self.output = tmp / np.sum(tmp)
        return self.output

    def backward_propagation(self, output_error: Array, learning_rate: float) -> Array:
        s = self.output
        return s * (output_error - np.sum(output_error * s))


# --- network ---------------------------------------------------------------------------------
class Network:
    """The article's Network: add, use, predict and fit, one sample at a time."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.loss: Callable[[Array, Array], float] | None = None
        self.loss_prime: Callable[[Array, Array], Array] | None = None

    def add(self, layer: Layer) -> None:
        self.layers.append(layer)

    def use(self, loss: Callable[[Array, Array], float], loss_prime: Callable[[Array, Array], Array]) -> None:
        self.loss = loss
        self.loss_prime = loss_prime

    def predict(self, input_data: Array) -> list[Array]:
        """Forward pass of each sample in turn."""
        result = []
        for i in range(len(input_data)):
            output = input_data[i]
            for layer in self.layers:
                output = layer.forward_propagation(output)
            result.append(output)
        return result

    def fit(
        self, x_train: Array, y_train: Array, epochs: int, learning_rate: float, verbose: bool = True
    ) -> list[float]:
        """Per-sample gradient descent; returns the mean training error of each epoch."""
        errors = []
        samples = len(x_train)
        for i in range(epochs):
            err = 0.0
            for j in range(samples):
                output = x_train[j]
                for layer in self.layers:
                    output = layer.forward_propagation(output)
                err += self.loss(y_train[j], output)
                error = self.loss_prime(y_train[j], output)
                for layer in reversed(self.layers):
                    error = layer.backward_propagation(error, learning_rate)
            err /= samples
            errors.append(err)
            if verbose:
                print(f"epoch {i + 1}/{epochs}   error={err:f}")
        return errors


# --- the article's two MNIST networks --------------------------------------------------------
def build(model: str) -> Network:
    """The article's MLP (example_mnist_fc.py) or CNN (example_mnist_conv.py), with MSE."""
    net = Network()
    if model == "article_mlp":
        net.add(FCLayer(28 * 28, 100))
        net.add(ActivationLayer(tanh, tanh_prime))
        net.add(FCLayer(100, 50))
        net.add(ActivationLayer(tanh, tanh_prime))
        net.add(FCLayer(50, 10))
        net.add(ActivationLayer(tanh, tanh_prime))
    elif model == "article_cnn":
        net.add(ConvLayer((28, 28, 1), (3, 3), 1))  # (28, 28, 1) -> (26, 26, 1)
        net.add(ActivationLayer(tanh, tanh_prime))
        net.add(FlattenLayer())  # -> (1, 676)
        net.add(FCLayer(26 * 26 * 1, 100))
        net.add(ActivationLayer(tanh, tanh_prime))
        net.add(FCLayer(100, 10))
        net.add(ActivationLayer(tanh, tanh_prime))
    else:
        raise ValueError(f"unknown article model {model!r}: expected article_mlp or article_cnn")
    net.use(mse, mse_prime)
    return net


def prepare_inputs(model: str, x: Array) -> Array:
    """The article's input layout: (N, 1, 784) for the MLP, (N, 28, 28, 1) for the CNN."""
    return x.reshape(len(x), 1, 28 * 28) if model == "article_mlp" else x.reshape(-1, 28, 28, 1)


def one_hot(y: Array, num_classes: int = 10) -> Array:
    """Integer labels -> float32 one-hot rows, as keras' to_categorical."""
    return np.eye(num_classes, dtype=np.float32)[y]


def accuracy(outputs: list[Array], y: Array) -> float:
    """Fraction of samples whose largest output is the label."""
    predicted = np.array([int(np.argmax(o)) for o in outputs])
    return float(np.mean(predicted == y))


def main() -> None:
    """Train the article's network per sample on a subset and print its speed."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchlib import load_mnist_local

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("article_mlp", "article_cnn"), default="article_mlp")
    parser.add_argument("--images", type=int, default=1000, help="training subset (article: 1000)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    np.random.seed(args.seed)  # the article draws from the global state
    (x_train, y_train), (x_test, y_test) = load_mnist_local()
    net = build(args.model)
    x = prepare_inputs(args.model, x_train[: args.images])
    start = time.perf_counter()
    net.fit(x, one_hot(y_train[: args.images]), args.epochs, args.learning_rate)
    seconds = time.perf_counter() - start
    acc = accuracy(net.predict(prepare_inputs(args.model, x_test[:1000])), y_test[:1000])
    print(
        f"{args.model}: {args.images * args.epochs / seconds:,.0f} images/s "
        f"({seconds:.2f} s), test accuracy on 1,000 images {acc:.3f}"
    )


if __name__ == "__main__":
    main()
