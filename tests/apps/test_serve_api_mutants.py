"""The promises of glassnet.apps.serve.api that its surviving mutants broke: exact refusals, the
boundaries of a drawing, the JSON of a layer's activations, the Predictor's classes, probabilities,
BLAS limit and timing, and its layer table (see docs/mutation.md)."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import glassnet as gn
from glassnet.apps.activations import LayerActivation
from glassnet.apps.imaging import to_mnist
from glassnet.apps.serve import api
from glassnet.apps.serve.api import Predictor, RequestError, activation_json, parse_image, parse_json
from glassnet.datasets.folder import picture_input


def refusal(call: Any, *args: object) -> tuple[int, str]:
    """The status and message of the RequestError that call(*args) raises."""
    with pytest.raises(RequestError) as caught:
        call(*args)
    return caught.value.status, str(caught.value)


def linear(bias: list[float], class_names: list[str] | None = None) -> gn.Network:
    """Flatten and Dense(784, len(bias)) with zero weights: every input gives exactly `bias`."""
    net = gn.Network(seed=0).add(gn.Flatten()).add(gn.Dense(784, len(bias)))
    dense = net.layers[1]
    assert isinstance(dense, gn.Dense)
    dense.weight.value[...] = 0
    dense.bias.value[...] = bias
    net.class_names = class_names
    return net


BLANK = np.zeros((28, 28, 1), dtype=np.float32)


def test_a_request_error_keeps_its_status_and_message() -> None:
    error = RequestError(413, "too big")
    assert error.status == 413 and str(error) == "too big" and isinstance(error, gn.GlassnetError)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"\xff{}", 400, "the body is not UTF-8 text: send JSON"),
        (b"[NaN]", 400, "not valid JSON: NaN is not a number in JSON; send pixel values 0..255"),
        (b"[-Infinity]", 400, "not valid JSON: -Infinity is not a number in JSON; send pixel values 0..255"),
        (b"{", 400, "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ],
)
def test_parse_json_refusals_are_exact(body: bytes, status: int, message: str) -> None:
    assert refusal(parse_json, body) == (status, message)


def test_parse_json_reads_utf8_text() -> None:
    assert parse_json('{"é": [1, 2.5]}'.encode()) == {"é": [1, 2.5]}


def test_an_integer_past_the_conversion_limit_is_cut_to_120_characters_of_its_reason() -> None:
    status, message = refusal(parse_json, b"[" + b"9" * 5000 + b"]")
    prefix = "not valid JSON for an image: "
    assert status == 400 and message.startswith(prefix + "Exceeds the limit (4300 digits)")
    assert len(message) == len(prefix) + 120  # Python's message is longer (about 140 characters)


def test_json_nested_too_deeply_is_400() -> None:
    status, message = refusal(parse_json, b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and message.startswith("not valid JSON: ") and "recursion" in message


def image(width: object = 2, height: object = 2, pixels: object = None) -> dict[str, object]:
    return {"width": width, "height": height, "pixels": [0, 255, 0, 0] if pixels is None else pixels}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([0, 1], 'expected a JSON object {"width": W, "height": H, "pixels": [H*W numbers]}'),
        ({**image(), "zz": 1, "depth": 1}, "unknown key 'depth': send width, height and pixels"),
        ({"height": 2, "pixels": [0, 0, 0, 0]}, 'send both "width" and "height", or neither for a 28x28 image'),
        (image(width=0), '"width" must be an integer from 1 to 560, got 0'),
        (image(height=561), '"height" must be an integer from 1 to 560, got 561'),
        (image(width="x" * 50), '"width" must be an integer from 1 to 560, got "' + "x" * 39),
        (image(width=3, pixels="0"), '"pixels" must be a list of 3*2 numbers, row by row'),
        (image(width=3), '"pixels" must hold width*height = 6 numbers, got 4'),
        ({"pixels": []}, '"pixels" must hold width*height = 784 numbers, got 0'),
        (image(pixels=[0, [1, 2], 0, 0]), '"pixels" must hold numbers only (no strings, booleans, lists or null)'),
        (image(pixels=[0, True, 0, 0]), '"pixels" must hold numbers only (no strings, booleans, lists or null)'),
        (
            image(width=1, pixels=[[0, 1], [2, 3]]),
            '"pixels" must hold numbers only (no strings, booleans, lists or null)',
        ),
        (image(pixels=[0, 1e999, 0, 0]), '"pixels" must be finite numbers'),
        (image(pixels=[0, -0.5, 7, 0]), '"pixels" must be in 0..255 (or 0..1), got -0.5..7'),
        (image(pixels=[3, 255.5, 4, 5]), '"pixels" must be in 0..255 (or 0..1), got 3..255.5'),
    ],
)
def test_parse_image_refusals_are_exact_422s(data: object, message: str) -> None:
    assert refusal(parse_image, data) == (422, message)


def test_parse_image_keeps_rows_and_the_ends_of_the_ranges() -> None:
    got = parse_image(image(width=3, height=2, pixels=[0, 1, 2, 3, 4, 255]))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [[0, 1, 2], [3, 4, 255]])
    assert parse_image(image(width=1, height=560, pixels=[7] * 560)).shape == (560, 1)
    assert parse_image(image(width=560, height=1, pixels=[7] * 560)).shape == (1, 560)
    assert parse_image({"pixels": [0.5] * 784}).shape == (28, 28)


def test_a_vector_is_its_first_128_values_rounded_to_4_decimals() -> None:
    values = np.arange(200, dtype=np.float32) / 3  # (200,)
    answer = activation_json(LayerActivation("Dense(9 -> 200)", values))
    assert answer == {
        "name": "Dense(9 -> 200)",
        "kind": "vector",
        "shape": [200],
        "values": [round(k / 3, 4) for k in range(128)],
    }


def test_maps_are_gray_levels_spanning_every_channel() -> None:
    values = np.arange(8, dtype=np.float32).reshape(2, 2, 2)  # (H, W, C): channel 0 holds 0, 2, 4, 6
    assert activation_json(LayerActivation("Conv2D(1 -> 2, 3x3)", values)) == {
        "name": "Conv2D(1 -> 2, 3x3)",
        "kind": "maps",
        "shape": [2, 2, 2],
        "low": 0.0,
        "high": 7.0,
        # level = round(value * 255 / 7): 2 -> 72.9, 4 -> 145.7, 6 -> 218.6; 1 -> 36.4, 3 -> 109.3, 5 -> 182.1
        "values": [[[0, 73], [146, 219]], [[36, 109], [182, 255]]],
    }
    levels = activation_json(LayerActivation("m", values))["values"]
    assert json.dumps(levels) == "[[[0, 73], [146, 219]], [[36, 109], [182, 255]]]"  # integers: small answers


def test_only_16_maps_are_sent_but_the_range_is_every_channels() -> None:
    values = np.zeros((3, 3, 20), dtype=np.float32)
    values[0, 0, 0] = 1.0
    values[1, 1, 19] = -1.0  # channel 19 is not sent, but sets "low"
    answer = activation_json(LayerActivation("m", values))
    levels = np.array(answer["values"])
    assert levels.shape == (16, 3, 3) and answer["low"] == -1.0 and answer["high"] == 1.0
    assert levels[0, 0, 0] == 255 and levels[0, 1, 1] == 128 and levels[1, 0, 0] == 128  # 0 -> round(127.5)


def test_a_constant_map_is_level_zero() -> None:
    answer = activation_json(LayerActivation("m", np.full((2, 3, 1), 4.5, dtype=np.float32)))
    assert answer["low"] == answer["high"] == 4.5 and answer["values"] == [[[0, 0, 0], [0, 0, 0]]]


@pytest.mark.parametrize(
    ("shape", "tile"),
    [
        ((28, 28, 1), (28, 28)),
        ((20, 10, 1), (20, 10)),  # smaller maps keep their size
        ((29, 10, 1), (28, 10)),
        ((66, 33, 2), (28, 14)),
        ((600, 1, 1), (28, 1)),
        ((1, 600, 1), (1, 28)),
    ],
)
def test_large_maps_shrink_to_28_pixels_on_the_longer_side(shape: tuple[int, int, int], tile: tuple) -> None:
    values = np.random.default_rng(0).random(shape).astype(np.float32)
    levels = np.array(activation_json(LayerActivation("m", values))["values"])
    assert levels.shape == (shape[2], *tile)
    if tile == shape[:2]:  # not resized: the levels are the values'
        low, high = values.min(), values.max()
        np.testing.assert_array_equal(levels[0], np.round((values[..., 0] - low) * (255 / (high - low))))


def test_a_model_too_large_is_refused_by_the_size_check_naming_the_model() -> None:
    net = gn.Network(seed=0).add(gn.Conv2D(1, 8, 3, padding=20_000)).add(gn.Flatten())
    with pytest.raises(gn.io.NetworkTooLargeError, match=r"^the model: one "):
        Predictor(net)


def test_a_model_that_cannot_read_28x28x1_is_refused_with_the_reason() -> None:
    with pytest.raises(gn.InputError) as caught:
        Predictor(gn.Network(seed=0).add(gn.Dense(10, 2)))
    assert str(caught.value).startswith(
        "the model does not take 28x28x1 images, so it cannot read drawn digits: "
    ) and str(caught.value) != ("the model does not take 28x28x1 images, so it cannot read drawn digits: ")


@pytest.mark.parametrize(
    ("net", "gives"),
    [
        (gn.Network(seed=0), "?"),
        (gn.Network(seed=0).add(gn.Conv2D(1, 2, 3)), "(N, 26, 26, 2)"),
    ],
)
def test_a_model_without_one_score_per_class_is_refused(net: gn.Network, gives: str) -> None:
    with pytest.raises(gn.InputError) as caught:
        Predictor(net)
    assert str(caught.value) == f"the model must give one score per class, (N, classes); it gives {gives}"


def test_class_names_are_the_models_when_they_fit_else_the_indices() -> None:
    assert Predictor(linear([0.0] * 3, ["cat", "dog", "eel"])).class_names == ["cat", "dog", "eel"]
    assert Predictor(linear([0.0] * 3, ["cat", "dog"])).class_names == ["0", "1", "2"]
    assert Predictor(linear([0.0] * 12)).class_names == [str(k) for k in range(12)]
    deeper = linear([0.0] * 5).add(gn.ReLU()).add(gn.Dense(5, 3))  # the last layer's 3 outputs, not the first's 5
    assert Predictor(deeper).class_names == ["0", "1", "2"]


class Unsized(gn.Layer):
    """A custom layer giving a vector of a size it does not say: ones for every sample."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ones((len(x), 4), dtype=x.dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad

    def output_shape(self, input_shape: object) -> tuple[None]:
        return (None,)


def test_a_model_of_unknown_class_count_gets_no_class_names() -> None:
    predictor = Predictor(gn.Network(seed=0).add(Unsized()))
    assert predictor.class_names == [] and predictor.predict(BLANK, preprocess=False)["class"] is None


class Shapeless(gn.Layer):
    """A custom layer that does not say its output shape: ones for every sample."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ones((len(x), 4), dtype=x.dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


def test_a_model_of_unknown_output_shape_answers_without_class_names() -> None:
    predictor = Predictor(gn.Network(seed=0).add(Shapeless()))
    answer = predictor.predict(BLANK, preprocess=False, layers=False)
    assert predictor.class_names == [] and answer["class"] is None and answer["class_names"] == []
    assert answer["scores"] == [1.0] * 4 and answer["probabilities"] is None and answer["prediction"] == 0


@pytest.mark.parametrize(
    ("bias", "probabilities"),
    [
        ([0.0, 1.0, 0.0], True),  # exactly one-hot: zeros count as probabilities
        ([0.25, 0.0, 0.7503], True),  # within 1e-3 of a sum of 1
        ([0.5, 0.0, 1.0], False),  # sums to 1.5
        ([0.25, 0.0, 0.7511], False),  # more than 1e-3 above 1
        ([0.5, 0.0, 0.0], False),  # sums to 0.5
        ([-0.5, 1.5, 0.0], False),  # sums to 1 with a negative score
    ],
)
def test_scores_are_probabilities_when_none_is_negative_and_they_sum_to_one(
    bias: list[float], probabilities: bool
) -> None:
    answer = Predictor(linear(bias, ["a", "b", "c"])).predict(BLANK, preprocess=False)
    scores = np.float32(bias).astype(np.float64).tolist()  # the network computes in float32
    assert answer["scores"] == scores and answer["probabilities"] == (scores if probabilities else None)
    best = int(np.argmax(bias))
    assert answer["prediction"] == best and answer["class"] == "abc"[best] and answer["class_names"] == ["a", "b", "c"]


def test_an_answer_describes_the_input_and_every_layer_unless_told_not_to() -> None:
    net = linear([0.0, 1.0])
    predictor = Predictor(net)
    sample = np.random.default_rng(1).random((28, 28, 1)).astype(np.float32)
    answer = predictor.predict(sample, preprocess=False)
    assert answer["input"] == sample[..., 0].astype(np.float64).tolist()
    assert [layer["name"] for layer in answer["layers"]] == ["Flatten()", "Dense(784 -> 2)"]
    assert answer["layers"][1]["values"] == [0.0, 1.0]
    assert "layers" not in predictor.predict(sample, preprocess=False, layers=False)


def test_milliseconds_are_the_time_spent_rounded_to_hundredths(monkeypatch: pytest.MonkeyPatch) -> None:
    predictor = Predictor(linear([0.0, 1.0]))
    clock = iter([2.0, 2.0123456])
    monkeypatch.setattr(api, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    assert predictor.predict(BLANK, preprocess=False, layers=False)["milliseconds"] == 12.35


def test_the_forward_pass_runs_under_the_lock_on_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    gn.set_threads(2)  # the autouse fixture puts back its own count afterwards
    predictor = Predictor(linear([0.0, 1.0]))
    seen: list[tuple[bool, list[int]]] = []
    forward = api.layer_activations

    def spy(net: gn.Network, sample: object) -> list[LayerActivation]:
        blas = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
        seen.append((predictor.lock.locked(), blas))
        return forward(net, sample)

    monkeypatch.setattr(api, "layer_activations", spy)
    predictor.predict(BLANK, preprocess=False)
    assert seen == [(True, [1] * len(seen[0][1]))] and seen[0][1]
    assert [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"] == [2] * len(seen[0][1])
    assert isinstance(predictor.lock, type(threading.Lock()))


def test_a_digit_model_makes_a_drawing_mnist_like() -> None:
    drawing = np.full((60, 40), 255.0)
    drawing[10:50, 18:22] = 0  # a dark stroke on white: a one
    answer = Predictor(linear([0.0, 1.0])).predict(drawing, layers=False)
    np.testing.assert_array_equal(np.array(answer["input"], dtype=np.float32), to_mnist(drawing)[..., 0])


def test_a_folder_model_reads_a_colour_picture_resized_whole_in_gray() -> None:
    picture = np.zeros((30, 50, 3))
    picture[5:25, 10:40] = [250, 10, 10]  # a red box on black
    predictor = Predictor(linear([0.0, 1.0], ["box", "ring"]))
    answer = predictor.predict(picture, layers=False)
    expected = picture_input(picture, (28, 28), "gray")  # (28, 28, 1)
    np.testing.assert_array_equal(np.array(answer["input"], dtype=np.float32), expected[..., 0])


def test_a_drawing_that_cannot_be_read_is_a_422_with_the_readers_reason() -> None:
    blank = np.full((40, 40), 255.0)
    with pytest.raises(gn.GlassnetError) as reason:
        to_mnist(blank)
    assert refusal(Predictor(linear([0.0, 1.0])).predict, blank) == (422, str(reason.value))


def test_the_summary_is_the_layer_table() -> None:
    net = linear([0.0] * 10).add(gn.Softmax())
    summary = Predictor(net).summary()
    assert summary == {
        "text": net.summary((28, 28, 1)),
        "input_shape": "(N, 28, 28, 1)",
        "layers": [
            {"name": "Flatten()", "output_shape": "(N, 784)", "parameters": 0},
            {"name": "Dense(784 -> 10)", "output_shape": "(N, 10)", "parameters": 7850},
            {"name": "Softmax()", "output_shape": "(N, 10)", "parameters": 0},
        ],
        "parameters": 7850,
    }
    assert summary["text"].splitlines()[2].startswith("Input") and "(N, 28, 28, 1)" in summary["text"]
    json.dumps(summary)  # all of it is JSON
