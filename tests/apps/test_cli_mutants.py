"""The promises of glassnet.apps.cli and glassnet.apps.commands that their surviving mutants broke, checked
in this process through `main(argv)` and `build_parser()`: every option's name, type, bounds, default,
choices and help; the one-line refusals; what evaluate, predict, summary, models, serve, report and
export print or pass on (see docs/mutation.md)."""

from __future__ import annotations

import argparse
import errno
import functools
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from image_folders import make_folder

import glassnet as gn
from glassnet import __version__
from glassnet.apps import cli, commands, pretrained
from glassnet.apps import data as app_data
from glassnet.apps.diagnose import doctor_command, reproduce_command
from glassnet.apps.export import ExportTarget
from glassnet.apps.plotting import format_confusion
from glassnet.apps.train import train_command
from glassnet.apps.zoo import describe_models


@functools.cache
def mnist_500() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """MNIST's first 500 training and 500 test images: commands run in a fraction of a second on them."""
    (x_train, y_train), (x_test, y_test) = gn.datasets.load_mnist()
    return (x_train[:500], y_train[:500]), (x_test[:500], y_test[:500])


@pytest.fixture
def mnist(monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    """Both data sets replaced by MNIST's first 500 images (Fashion-MNIST keeps its title and class names)."""
    for name, (title, _, classes) in list(app_data.DATASETS.items()):
        monkeypatch.setitem(app_data.DATASETS, name, (title, mnist_500, classes))
    return mnist_500()[1]


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """main(argv) in this process: (exit status, stdout, stderr)."""
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys: pytest.CaptureFixture[str], *argv: object) -> str:
    """The one stderr line of a command line argparse refuses (exit status 2)."""
    with pytest.raises(SystemExit) as stop:
        cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and out == ""
    return err


def linear(
    path: Path, bias: list[float], input_shape: tuple[int, int, int] = (28, 28, 1), softmax: bool = False
) -> gn.Network:
    """Flatten and Dense(in, len(bias)) with zero weights, saved to path: every image gives exactly `bias`."""
    net = gn.Network(seed=0, verbose=0).add(gn.Flatten()).add(gn.Dense(int(np.prod(input_shape)), len(bias)))
    if softmax:
        net.add(gn.Softmax())
    net.use("cross_entropy")
    dense = net.layers[1]
    assert isinstance(dense, gn.Dense)
    dense.weight.value[...] = 0
    dense.bias.value[...] = bias
    net.input_shape = input_shape
    net.save(path)
    return net


# The parser -----------------------------------------------------------------------------------------

MODEL_HELP = 'a model file written by `glassnet train` (default, or "pretrained": the model shipped with glassnet)'
DATASET_HELP = "the data set (default: mnist)"
DATA_HELP = "a data set, or a folder holding one subfolder of images per class (overrides --dataset)"
# Per command: each argument's flags (or name), metavar and help, in order; `glassnet COMMAND --help` shows them.
HELP: dict[str, tuple[str, list[tuple[str, str | None, str]]]] = {
    "train": (
        "train a network and save it",
        [
            (
                "--model",
                None,
                "a registered architecture (default: speedrun; list them with `glassnet models`) or FILE.json, "
                "a spec of layers",
            ),
            ("--epochs", None, "passes over the training data (total, with --resume)"),
            ("--batch-size", None, "images per gradient step"),
            ("--lr", None, "learning rate"),
            ("--optimizer", None, "the optimizer"),
            (
                "--schedule",
                "NAME[:KEY=VALUE,...]",
                "learning-rate schedule from --lr: constant, step, exponential, cosine, onecycle, with options, "
                "e.g. onecycle, cosine:warmup=100, step:gamma=0.5 (default: the model's)",
            ),
            (
                "--threads",
                None,
                'BLAS threads: a number, or "auto" (the default): timed on the first batches, and again when the '
                "steps slow down, e.g. because another program computes on the same cores",
            ),
            ("--seed", None, "random seed (default: 0)"),
            ("--limit", None, "train on the first N training images only"),
            (
                "--validation-split",
                None,
                "fraction of the training images held out for validation (default: the model's, mostly 0.1; 0: none)",
            ),
            (
                "--out",
                None,
                "save the model exactly there, checkpoint included (default: a new run folder runs/MODEL-N/; "
                "with --resume: the checkpoint)",
            ),
            ("--runs", None, "the folder of run folders (default: ./runs)"),
            ("--plot", None, "write the training curves to this image file (.png, .svg, .pdf)"),
            ("--resume", "PATH", "continue training a checkpoint (saved after every epoch)"),
            ("--dataset", None, DATASET_HELP),
            ("--data", "mnist|fashion-mnist|DIR", DATA_HELP),
            ("--color", None, "images of --data DIR (default: gray)"),
            ("--quiet", None, "print only the final results"),
            (
                "--keep-epochs",
                None,
                "also keep the model after every epoch in OUT-epochs/ (for serve's epoch slider and the report)",
            ),
            ("--distributed", None, "data-parallel over MPI: run as `mpiexec -n K glassnet train --distributed`"),
        ],
    ),
    "evaluate": (
        "accuracy, per-class accuracy and confusion matrix on the test set",
        [
            ("model", "MODEL", MODEL_HELP),
            ("--dataset", None, DATASET_HELP),
            ("--data", "mnist|fashion-mnist|DIR", DATA_HELP),
            ("--plot", None, "write the confusion matrix to this image file"),
        ],
    ),
    "predict": (
        "the digit in each image (PNG, JPEG or .npy)",
        [
            ("model", "MODEL", MODEL_HELP + "; a .npz file"),
            ("images", "IMAGE", "a picture (any size and colours), or a folder of pictures"),
            ("--json", None, "one JSON object per image: file, class, probabilities (or scores)"),
        ],
    ),
    "summary": ("the layers of a saved model", [("model", "MODEL", MODEL_HELP)]),
    "models": ("list the registered architectures and their defaults", []),
    "serve": (
        "a local web page: draw a digit, see the prediction and every layer",
        [
            ("model", "MODEL", MODEL_HELP + ", or its folder of epoch snapshots"),
            ("--port", None, "TCP port (default: 8000; 0: any free one)"),
            ("--host", None, "address to bind (default: 127.0.0.1, this machine only)"),
            ("--verbose", None, "log every request"),
        ],
    ),
    "export": (
        "write a model as an ONNX file for onnxruntime and other runtimes",
        [
            ("model", "MODEL", MODEL_HELP),
            ("--format", None, "the format (default: onnx)"),
            ("--out", None, "the file to write (default: MODEL with the suffix .onnx)"),
            (
                "--layout",
                None,
                "image layout of the graph's input (default: nhwc, glassnet's; nchw is ONNX's and PyTorch's)",
            ),
            ("--dataset", None, "the data set, for the class names (default: mnist)"),
            ("--check", None, "run the file in onnxruntime and report the largest difference"),
        ],
    ),
    "report": (
        "a self-contained HTML report: curves, accuracy, mistakes, layers",
        [
            ("model", "MODEL", MODEL_HELP + " (with its -epochs/ folder), or that folder"),
            ("--out", None, "the HTML file to write (default: report.html)"),
            ("--dataset", None, DATASET_HELP),
        ],
    ),
}


def subparsers() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = cli.build_parser()
    commands = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    assert len(commands) == 1
    return parser, commands[0]


def test_the_main_parser() -> None:
    parser, commands = subparsers()
    assert parser.prog == "glassnet" and parser.description == "Train, evaluate and use glassnet networks on MNIST."
    assert commands.dest == "command" and commands.required and commands.metavar == "COMMAND"
    assert list(commands.choices) == [*HELP, "doctor", "reproduce"]
    assert all(isinstance(sub, cli._Parser) for sub in commands.choices.values())


@pytest.mark.parametrize("command", list(HELP))
def test_every_argument_has_its_help(command: str) -> None:
    _, commands = subparsers()
    described, arguments = HELP[command]
    assert {action.dest: action.help for action in commands._choices_actions}[command] == described
    actions = [action for action in commands.choices[command]._actions if not isinstance(action, argparse._HelpAction)]
    got = [
        (action.option_strings[0] if action.option_strings else action.dest, action.metavar, action.help)
        for action in actions
    ]
    assert got == arguments


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out == f"glassnet {__version__} (NumPy {np.__version__})\n"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys)
    assert err == "glassnet: error: the following arguments are required: COMMAND (see glassnet --help)\n"


def parse(*argv: str) -> dict[str, Any]:
    return vars(cli.build_parser().parse_args(argv))


def test_the_defaults_of_every_command() -> None:
    assert parse("train") == {
        "command": "train",
        "model": None,
        "epochs": None,
        "batch_size": None,
        "lr": None,
        "optimizer": None,
        "schedule": None,
        "threads": "auto",
        "seed": 0,
        "limit": None,
        "validation_split": None,
        "out": None,
        "runs": "runs",
        "plot": None,
        "resume": None,
        "dataset": "mnist",
        "data": None,
        "color": "gray",
        "quiet": False,
        "keep_epochs": False,
        "distributed": False,
        "run": train_command,
    }
    evaluate = {"model": None, "dataset": "mnist", "data": None, "plot": None, "run": commands.evaluate_command}
    assert parse("evaluate") == {"command": "evaluate", **evaluate}
    assert parse("predict", "a.png") == {
        "command": "predict",
        "model": None,
        "images": ["a.png"],
        "json": False,
        "run": commands.predict_command,
    }
    assert parse("summary") == {"command": "summary", "model": None, "run": commands.summary_command}
    assert parse("models") == {"command": "models", "run": commands.models_command}
    serve = {"model": None, "port": 8000, "host": "127.0.0.1", "verbose": False, "run": commands.serve_command}
    assert parse("serve") == {"command": "serve", **serve}
    assert parse("export") == {
        "command": "export",
        "model": None,
        "format": "onnx",
        "out": None,
        "layout": "nhwc",
        "dataset": "mnist",
        "check": False,
        "run": commands.export_command,
    }
    report = {"model": None, "out": "report.html", "dataset": "mnist", "run": commands.report_command}
    assert parse("report") == {"command": "report", **report}
    assert parse("doctor") == {"command": "doctor", "model": None, "dataset": "mnist", "run": doctor_command}
    assert parse("reproduce") == {"command": "reproduce", "model": None, "run": reproduce_command}


def test_every_option_is_read_with_its_type() -> None:
    given = parse(
        *("train", "--model", "cnn", "--epochs", "3", "--batch-size", "1", "--lr", "1e-9", "--optimizer", "adamw"),
        *("--schedule", "cosine", "--threads", "1", "--seed", "0", "--limit", "1", "--validation-split", "0"),
        *("--out", "o.npz", "--runs", "r", "--plot", "p.png", "--resume", "c.npz", "--dataset", "fashion-mnist"),
        *("--data", "DIR", "--color", "rgb", "--quiet", "--keep-epochs", "--distributed"),
    )
    expected = {
        "model": "cnn",
        "epochs": 3,
        "batch_size": 1,
        "lr": 1e-9,
        "optimizer": "adamw",
        "schedule": "cosine",
        "threads": 1,
        "seed": 0,
        "limit": 1,
        "validation_split": 0.0,
        "out": "o.npz",
        "runs": "r",
        "plot": "p.png",
        "resume": "c.npz",
        "dataset": "fashion-mnist",
        "data": "DIR",
        "color": "rgb",
        "quiet": True,
        "keep_epochs": True,
        "distributed": True,
    }
    assert {key: given[key] for key in expected} == expected
    assert [type(given[key]) for key in ("epochs", "threads", "seed", "lr", "validation_split")] == [int] * 3 + [
        float
    ] * 2
    assert parse("train", "--threads", "12")["threads"] == 12
    assert parse("evaluate", "m.npz", "--data", "D", "--plot", "c.png")["plot"] == "c.png"
    assert parse("predict", "m.npz", "a.png", "b", "--json") | {"run": None} == {
        "command": "predict",
        "model": "m.npz",
        "images": ["a.png", "b"],
        "json": True,
        "run": None,
    }
    assert parse("serve", "m.npz", "--port", "0", "--host", "::1", "--verbose") | {"run": None} == {
        "command": "serve",
        "model": "m.npz",
        "port": 0,
        "host": "::1",
        "verbose": True,
        "run": None,
    }
    export = parse("export", "m.npz", "--format", "onnx", "--out", "m.onnx", "--layout", "nchw", "--check")
    assert (export["out"], export["layout"], export["check"]) == ("m.onnx", "nchw", True)
    assert parse("report", "m.npz", "--out", "r.html", "--dataset", "fashion-mnist")["out"] == "r.html"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "0"], "argument --epochs: expected a number >= 1, got '0'"),
        (["train", "--epochs", "x"], "argument --epochs: expected an integer, got 'x'"),
        (["train", "--batch-size", "1.5"], "argument --batch-size: expected an integer, got '1.5'"),
        (["train", "--batch-size", "0"], "argument --batch-size: expected a number >= 1, got '0'"),
        (["train", "--lr", "0"], "argument --lr: expected a number > 0, got '0'"),
        (["train", "--lr=-1e-3"], "argument --lr: expected a number > 0, got '-1e-3'"),
        (["train", "--lr", "nan"], "argument --lr: expected a number > 0, got 'nan'"),
        (["train", "--lr", "fast"], "argument --lr: expected a number, got 'fast'"),
        (["train", "--seed", "-1"], "argument --seed: expected a number >= 0, got '-1'"),
        (["train", "--limit", "0"], "argument --limit: expected a number >= 1, got '0'"),
        (["train", "--validation-split", "-0.1"], "argument --validation-split: expected a number >= 0, got '-0.1'"),
        (["train", "--validation-split", "nan"], "argument --validation-split: expected a number >= 0, got 'nan'"),
        (["train", "--threads", "0"], "argument --threads: expected a number >= 1, got '0'"),
        (["train", "--threads", "Auto"], "argument --threads: expected an integer, got 'Auto'"),
        (["serve", "--port", "-1"], "argument --port: expected a number >= 0, got '-1'"),
    ],
)
def test_bad_numbers_are_refused_in_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    command = argv[0]
    assert refused(capsys, *argv) == f"glassnet {command}: error: {message} (see glassnet {command} --help)\n"


@pytest.mark.parametrize(
    ("option", "choices"),
    [
        ("--optimizer", ["sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad"]),
        ("--color", ["gray", "rgb"]),
        ("--dataset", ["mnist", "fashion-mnist"]),
    ],
)
def test_the_choices_are_each_accepted_defaults_included(option: str, choices: list[str]) -> None:
    key = option.removeprefix("--")
    assert [parse("train", option, choice)[key] for choice in choices] == choices
    if option == "--dataset":
        assert [parse("export", "--layout", layout)["layout"] for layout in ("nhwc", "nchw")] == ["nhwc", "nchw"]
        assert parse("export", "--format", "onnx")["format"] == "onnx"


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["train", "--optimizer", "lbfgs"], "--optimizer"),
        (["train", "--color", "cmyk"], "--color"),
        (["train", "--dataset", "cifar"], "--dataset"),
        (["evaluate", "--dataset", "cifar"], "--dataset"),
        (["export", "--format", "tflite"], "--format"),
        (["export", "--layout", "nwch"], "--layout"),
    ],
)
def test_choices_are_enforced(capsys: pytest.CaptureFixture[str], argv: list[str], option: str) -> None:
    assert f"error: argument {option}: invalid choice: " in refused(capsys, *argv)


# Helpers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "m.npz"), "m.npz: No such file or directory"),
        (OSError(errno.EIO, "Input/output error"), "[Errno 5] Input/output error"),
        (OSError("plain"), "plain"),
        (ValueError("first\n   second  \n\n third "), "first second third"),
        (ValueError(), "ValueError"),
    ],
)
def test_an_error_is_one_line(error: BaseException, line: str) -> None:
    assert cli._one_line(error) == line


@pytest.mark.parametrize(
    ("shape", "used"),
    [
        ((28, 28, 3), (28, 28, 3)),
        ((28, 28, 1), (28, 28, 1)),
        ((28, 32, 3), (28, 28, 1)),
        ((32, 28, 3), (28, 28, 1)),
        ((28, 28), (28, 28, 1)),
        ((28, 28, 3, 1), (28, 28, 1)),
        (None, (28, 28, 1)),
    ],
)
def test_the_input_shape_is_the_models_when_it_is_28x28(shape: tuple[int, ...] | None, used: tuple) -> None:
    net = gn.Network(seed=0)
    net.input_shape = shape
    assert commands._input_shape(net) == used


def test_the_batch_holds_at_most_the_values_of_one_images_limit() -> None:
    small = gn.Network(seed=0).add(gn.Flatten()).add(gn.Dense(784, 10))
    assert commands._batch_size(small) == 256  # 784 + 784 + 10 values an image: far below 20,000,000 / 256
    relus = gn.Network(seed=0)
    for _ in range(100):
        relus.add(gn.ReLU())
    size = commands._batch_size(relus)
    assert size == 252 and type(size) is int  # 20,000,000 // (101 * 784 = 79,184)
    huge = gn.Network(seed=0).add(gn.Conv2D(1, 1, 1, padding=2300))  # one 4628x4628 map: over the limit alone
    assert commands._batch_size(huge) == 1


class Shapeless(gn.Layer):
    """A custom layer that does not say its output shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


GIVES = "for an image; evaluate, predict and report need one score per class, (N, classes): end the network with "


def test_a_model_of_unknown_output_is_refused_as_giving_nothing() -> None:
    with pytest.raises(gn.InputError) as caught:
        commands._check_classifier(gn.Network(seed=0).add(Shapeless()), "m.npz")
    assert str(caught.value) == f"m.npz: the model gives nothing {GIVES}Flatten() and a Dense layer"


@pytest.mark.parametrize(
    ("net", "gives"),
    [
        (gn.Network(seed=0), "nothing"),
        (gn.Network(seed=0).add(gn.Conv2D(1, 2, 3)), "(N, 26, 26, 2)"),
        (gn.Network(seed=0).add(gn.Conv2D(1, 2, 28)).add(gn.Flatten()).add(gn.Dense(2, 10)), "(N, 10)"),
    ],
)
def test_only_a_model_giving_one_score_per_class_is_a_classifier(net: gn.Network, gives: str, capsys, tmp_path) -> None:
    net.save(tmp_path / "m.npz")
    if gives == "(N, 10)":
        assert commands._check_classifier(net, "m.npz") is net
        return
    status, out, err = run(capsys, "evaluate", tmp_path / "m.npz")
    assert (status, out) == (1, "")
    assert err == f"glassnet: error: {tmp_path / 'm.npz'}: the model gives {gives} {GIVES}Flatten() and a Dense layer\n"


def test_a_model_that_cannot_read_28x28_images_is_refused_with_the_reason(capsys, tmp_path) -> None:
    gn.Network(seed=0).add(gn.Dense(10, 2)).save(tmp_path / "m.npz")
    status, _, err = run(capsys, "predict", tmp_path / "m.npz", tmp_path / "a.npy")
    prefix = f"glassnet: error: {tmp_path / 'm.npz'}: the model cannot read 28x28x1 images: "
    assert status == 1 and err.startswith(prefix) and len(err) > len(prefix) + 10
    big = gn.Network(seed=0).add(gn.Conv2D(1, 8, 3, padding=20_000)).add(gn.Flatten())
    big.save(tmp_path / "big.npz")
    status, _, err = run(capsys, "evaluate", tmp_path / "big.npz")
    assert status == 1 and err.startswith(
        f"glassnet: error: {tmp_path / 'big.npz'}: the model cannot read 28x28x1 images: {tmp_path / 'big.npz'}: one "
    )


# main's errors ------------------------------------------------------------------------------------------


def failing(error: BaseException) -> Any:
    def command(args: argparse.Namespace) -> int:
        raise error

    return command


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (gn.InputError("bad input"), "glassnet: error: bad input"),
        (ValueError("bad value"), "glassnet: error: bad value"),
        (TypeError("bad type"), "glassnet: error: bad type"),
        (PermissionError(errno.EACCES, "Permission denied", "out.npz"), "glassnet: error: out.npz: Permission denied"),
        (MemoryError(), "glassnet: error: models ran out of memory: use a smaller model, batch or input"),
        (RecursionError(), "glassnet: error: models met input nested too deeply to process"),
        (KeyboardInterrupt(), "\nglassnet: interrupted"),
    ],
)
def test_errors_end_in_one_line_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: BaseException, line: str
) -> None:
    monkeypatch.setattr(cli, "models_command", failing(error))
    status = 130 if isinstance(error, KeyboardInterrupt) else 1
    assert run(capsys, "models") == (status, "", line + "\n")


def test_a_reader_that_went_away_ends_quietly(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    stdout = (tmp_path / "stdout").open("w")
    monkeypatch.setattr(cli, "models_command", failing(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        assert cli.main(["models"]) == 1
        stdout.write("after the pipe broke")  # goes to /dev/null now
    finally:
        stdout.close()
    assert (tmp_path / "stdout").read_text() == "" and capsys.readouterr().err == ""


# The commands -------------------------------------------------------------------------------------------


def test_models_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "models") == (0, describe_models() + "\n", "")


def test_summary_prints_the_table_of_the_given_or_the_shipped_model(monkeypatch, capsys, tmp_path: Path) -> None:
    linear(tmp_path / "m.npz", [0.0, 1.0])
    linear(tmp_path / "shipped.npz", [0.0, 1.0, 2.0])
    monkeypatch.setattr(pretrained, "PRETRAINED", tmp_path / "shipped.npz")
    assert run(capsys, "summary", tmp_path / "m.npz") == (0, gn.Network.load(tmp_path / "m.npz").summary() + "\n", "")
    shipped = gn.Network.load(tmp_path / "shipped.npz").summary()
    assert "Dense(784 -> 3)" in shipped
    assert run(capsys, "summary") == (0, shipped + "\n", "")
    assert run(capsys, "summary", "pretrained") == (0, shipped + "\n", "")


def test_serve_passes_the_model_address_port_and_verbosity(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(commands, "serve", lambda *args: calls.append(args))
    assert run(capsys, "serve", "m.npz", "--port", "0", "--host", "::1", "--verbose")[0] == 0
    assert run(capsys, "serve", "m.npz")[0] == 0
    assert calls == [("m.npz", "::1", 0, True), ("m.npz", "127.0.0.1", 8000, False)]


def seven() -> np.ndarray:
    image = np.zeros((28, 28), dtype=np.float32)
    image[4:24, 12:16] = 1.0  # a stroke
    return image


@pytest.mark.parametrize(
    ("bias", "line"),
    [
        ([0.1, 0.6, 0.3], "1  (top 3 probabilities: 1: 60.0%, 2: 30.0%, 0: 10.0%)"),
        ([0.1, 0.4, 0.2, 0.3], "1  (top 3 probabilities: 1: 40.0%, 3: 30.0%, 2: 20.0%)"),
        ([0.25, 0.5, 0.25], "1  (top 3 probabilities: 1: 50.0%, 0: 25.0%, 2: 25.0%)"),  # ties: the first first
        ([0.0, 0.75, 0.25], "1  (top 3 probabilities: 1: 75.0%, 2: 25.0%, 0: 0.0%)"),
        ([0.5, 0.5005, 0.0], "1  (top 3 probabilities: 1: 50.1%, 0: 50.0%, 2: 0.0%)"),  # within 1e-3 of 1
        ([0.5, 0.502, 0.0], "1  (top 3 scores: 1: 0.502, 0: 0.500, 2: 0.000)"),
        ([1.0, 0.5, 0.0], "0  (top 3 scores: 0: 1.000, 1: 0.500, 2: 0.000)"),
        ([2.0, -1.0, 0.5], "0  (top 3 scores: 0: 2.000, 2: 0.500, 1: -1.000)"),
        ([-0.5, 1.5, 0.0], "1  (top 3 scores: 1: 1.500, 2: 0.000, 0: -0.500)"),
        # 20 classes, 18 tied: a stable sort keeps their order (NumPy's default quicksort gives 7, 0, 2)
        (
            [0.05] * 3 + [0.04] + [0.05] * 3 + [0.06] + [0.05] * 12,
            "7  (top 3 probabilities: 7: 6.0%, 0: 5.0%, 1: 5.0%)",
        ),
    ],
)
def test_predict_prints_the_class_and_the_top_3(capsys, tmp_path: Path, bias: list[float], line: str) -> None:
    linear(tmp_path / "m.npz", bias)
    image = tmp_path / "seven.npy"
    np.save(image, seven())
    assert run(capsys, "predict", tmp_path / "m.npz", image, image) == (0, f"{image}: {line}\n" * 2, "")


def test_predict_json_gives_every_score_rounded_to_6_decimals(capsys, tmp_path: Path) -> None:
    image = tmp_path / "seven.npy"
    np.save(image, seven())
    linear(tmp_path / "p.npz", [0.1234567, 0.8765433])
    linear(tmp_path / "s.npz", [2.0, -1.0, 0.5])
    _, out, _ = run(capsys, "predict", tmp_path / "p.npz", image, image, "--json")
    assert out == f'{{"file": "{image}", "class": "1", "probabilities": {{"0": 0.123457, "1": 0.876543}}}}\n' * 2
    _, out, _ = run(capsys, "predict", tmp_path / "s.npz", image, "--json")
    assert out == f'{{"file": "{image}", "class": "0", "scores": {{"0": 2.0, "1": -1.0, "2": 0.5}}}}\n'


class Flushes(io.StringIO):
    """A stdout that keeps what had been written at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def test_predict_json_and_export_flush_each_line_for_a_reader_on_a_pipe(monkeypatch, tmp_path: Path) -> None:
    image = tmp_path / "seven.npy"
    np.save(image, seven())
    linear(tmp_path / "m.npz", [0.0, 1.0])
    stdout = Flushes()
    monkeypatch.setattr(sys, "stdout", stdout)
    assert cli.main(["predict", str(tmp_path / "m.npz"), str(image), str(image), "--json"]) == 0
    line = f'{{"file": "{image}", "class": "1", "probabilities": {{"0": 0.0, "1": 1.0}}}}\n'
    assert stdout.flushed == [line, line * 2]
    stdout = Flushes()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(commands, "export_model", lambda *args: iter(["one", "two"]))
    assert cli.main(["export", str(tmp_path / "m.npz")]) == 0
    assert stdout.flushed == ["one\n", "one\ntwo\n"]


def test_predict_without_a_model_file_uses_the_shipped_one(monkeypatch, capsys, tmp_path: Path) -> None:
    image = tmp_path / "seven.npy"
    np.save(image, seven())
    linear(tmp_path / "shipped.npz", [0.0, 0.0, 1.0])
    monkeypatch.setattr(pretrained, "PRETRAINED", tmp_path / "shipped.npz")
    line = f"{image}: 2  (top 3 probabilities: 2: 100.0%, 0: 0.0%, 1: 0.0%)\n"
    assert run(capsys, "predict", image) == (0, line, "")
    assert run(capsys, "predict", image, image) == (0, line * 2, "")  # argparse took the first for MODEL


def test_train_gets_its_model_option_as_given(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """--model names an architecture or a spec: train never reads it as the shipped model file."""
    given: list[object] = []
    monkeypatch.setattr(cli, "train_command", lambda args: given.append(args.model) or 0)
    assert run(capsys, "train")[0] == 0 and run(capsys, "train", "--model", "pretrained")[0] == 0
    assert given == [None, "pretrained"]


def test_evaluate_prints_the_accuracy_loss_and_confusion_matrix(capsys, tmp_path: Path, mnist) -> None:
    net = linear(tmp_path / "m.npz", [0.0, 5.0, 0.0, 0, 0, 0, 0, 0, 0, 0], softmax=True)  # every image: a 1
    x_test, y_test = mnist
    loss = net.evaluate(x_test, y_test)["loss"]
    matrix = np.zeros((10, 10), dtype=np.int64)
    matrix[:, 1] = np.bincount(y_test, minlength=10)  # every true class in the column of 1
    table = format_confusion(matrix, list("0123456789"))
    expected = f"Accuracy {np.mean(y_test == 1):.2%} (loss {loss:.4f}) on 500 MNIST test images\n\n{table}\n"
    assert run(capsys, "evaluate", tmp_path / "m.npz") == (0, expected, "")


@pytest.fixture
def fashion(mnist: object) -> list[str]:
    """Fashion-MNIST's class names; its images are MNIST's first 500 (no download)."""
    return list(app_data.DATASETS["fashion-mnist"][2])


def test_evaluate_on_the_dataset_named(capsys, tmp_path: Path, fashion: list[str]) -> None:
    linear(tmp_path / "m.npz", [0.0, 5.0, 0.0, 0, 0, 0, 0, 0, 0, 0], softmax=True)
    _, out, _ = run(capsys, "evaluate", tmp_path / "m.npz", "--dataset", "fashion-mnist")
    first, _, table = out.partition("\n\n")
    assert first.startswith("Accuracy ") and first.endswith(" on 500 Fashion-MNIST test images")
    assert table.splitlines()[1].strip().startswith(fashion[0])


def test_evaluate_plots_the_matrix_titled_with_the_model_and_data(
    monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path, mnist: object
) -> None:
    linear(tmp_path / "m.npz", [0.0, 5.0, 0.0, 0, 0, 0, 0, 0, 0, 0], softmax=True)
    figures: list[tuple[object, ...]] = []
    monkeypatch.setattr(
        commands, "confusion_figure", lambda matrix, classes, title: (matrix.sum(axis=0), classes, title)
    )
    monkeypatch.setattr(commands, "save_figure", lambda figure, path: figures.append((figure, path)))
    status, out, _ = run(capsys, "evaluate", tmp_path / "m.npz", "--plot", tmp_path / "c.png")
    assert status == 0 and out.endswith(f"\n\nSaved the confusion matrix to {tmp_path / 'c.png'}\n")
    [((predicted, classes, title), path)] = figures
    assert predicted.tolist() == [0, 500] + [0] * 8  # the matrix: all 500 images predicted as 1
    assert (classes, title, path) == (list("0123456789"), "m.npz on MNIST", str(tmp_path / "c.png"))


def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """The batch_size that each later Network.evaluate and Network.predict call is given, in order."""
    batches: list[tuple[str, object]] = []

    def spy(name: str) -> None:
        method = getattr(gn.Network, name)

        def call(self: gn.Network, x: np.ndarray, *args: Any, **options: Any) -> Any:
            batches.append((name, options.get("batch_size")))
            return method(self, x, *args, **options)

        monkeypatch.setattr(gn.Network, name, call)

    spy("evaluate")
    spy("predict")
    return batches


def test_evaluate_bounds_its_batches_by_the_activation_limit(monkeypatch, capsys, tmp_path: Path, mnist) -> None:
    linear(tmp_path / "m.npz", [0.0, 5.0, 0.0, 0, 0, 0, 0, 0, 0, 0], softmax=True)
    batches = batch_sizes(monkeypatch)
    assert run(capsys, "evaluate", tmp_path / "m.npz")[0] == 0
    assert batches == [("evaluate", 256), ("predict", 256)]  # commands._batch_size of this model


def test_predict_bounds_its_batches_by_the_activation_limit(monkeypatch, capsys, tmp_path: Path) -> None:
    linear(tmp_path / "m.npz", [0.0, 1.0])
    np.save(tmp_path / "seven.npy", seven())
    batches = batch_sizes(monkeypatch)
    assert run(capsys, "predict", tmp_path / "m.npz", tmp_path / "seven.npy")[0] == 0
    assert batches == [("predict", 256)]


def test_evaluate_refuses_a_plot_over_the_model_or_of_an_unknown_kind(capsys, tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    linear(model, [0.0] * 10, softmax=True)
    (tmp_path / "m.png").symlink_to(model)
    _, _, err = run(capsys, "evaluate", model, "--plot", tmp_path / "m.png")
    start = f"glassnet: error: --plot {tmp_path / 'm.png'} is the same file as MODEL {model}: writing it would "
    assert err.startswith(start)
    assert err.endswith("choose another --plot path\n")
    status, out, err = run(capsys, "evaluate", model, "--plot", tmp_path / "c.txt")
    assert status == 1 and out == "" and err.startswith("glassnet: error: ") and ".txt" in err


def test_evaluate_on_a_folder_maps_its_classes_to_the_models(capsys, tmp_path: Path) -> None:
    pytest.importorskip("PIL.Image")
    folder = make_folder(tmp_path / "shapes", per_class=3)
    next((folder / "circle").glob("0.*")).unlink()  # 2 circles, 3 squares
    linear(tmp_path / "m.npz", [5.0, 0.0], softmax=True)  # every picture: class 0
    net = gn.Network.load(tmp_path / "m.npz")
    net.class_names = ["square", "circle"]  # the folder's order is circle, square
    net.save(tmp_path / "m.npz")
    _, out, _ = run(capsys, "evaluate", tmp_path / "m.npz", "--data", folder)
    assert out.startswith("Accuracy 60.00% (loss ") and out.splitlines()[0].endswith(f" on 5 {folder} images")
    net.class_names = ["square", "star"]
    net.save(tmp_path / "m.npz")
    error = f"{folder}: the model does not know the classes circle; it knows square, star"
    assert run(capsys, "evaluate", tmp_path / "m.npz", "--data", folder) == (1, "", f"glassnet: error: {error}\n")


def test_evaluate_reads_a_colour_models_folder_in_colour(capsys, tmp_path: Path) -> None:
    pytest.importorskip("PIL.Image")
    folder = make_folder(tmp_path / "shapes", per_class=2)
    net = linear(tmp_path / "m.npz", [0.0, 5.0], input_shape=(28, 28, 3), softmax=True)
    net.class_names = ["circle", "square"]
    net.save(tmp_path / "m.npz")
    status, out, err = run(capsys, "evaluate", tmp_path / "m.npz", "--data", folder)
    assert (status, err) == (0, "") and out.startswith("Accuracy 50.00% ")


def test_report_passes_the_model_data_and_names_to_the_writer(monkeypatch, capsys, tmp_path, mnist) -> None:
    model = tmp_path / "m.npz"
    linear(model, [0.0] * 10, softmax=True)
    calls: list[tuple[Any, ...]] = []

    def write(*args: Any) -> Path:
        calls.append(args)
        return Path(args[1])

    monkeypatch.setattr(commands, "write_report", write)
    assert run(capsys, "report", model, "--out", tmp_path / "r.html") == (
        0,
        f"Wrote the report to {tmp_path / 'r.html'}\n",
        "",
    )
    net, out, x_test, y_test, classes, name, batch, epochs = calls[0]
    mnist_x, mnist_y = mnist
    assert isinstance(net, gn.Network) and out == str(tmp_path / "r.html") and epochs == {}
    np.testing.assert_array_equal(x_test, mnist_x)
    np.testing.assert_array_equal(y_test, mnist_y)
    assert (classes, name, batch) == (list("0123456789"), "m.npz on MNIST", 256)


def test_report_refuses_an_output_over_its_model_or_a_model_without_classes(monkeypatch, capsys, tmp_path) -> None:
    model = tmp_path / "m.npz"
    linear(model, [0.0] * 10)
    monkeypatch.setattr(commands, "load_data", failing(AssertionError("the output is checked before loading data")))
    _, _, err = run(capsys, "report", model, "--out", model)
    assert err.startswith(f"glassnet: error: --out {model} is the same file as MODEL {model}: ")
    _, _, err = run(capsys, "report", model, "--out", tmp_path / "none" / "r.html")
    folder = tmp_path / "none"
    assert err == f"glassnet: error: {folder / 'r.html'}: no such folder {str(folder)!r} to write the report in\n"
    gn.Network(seed=0).add(gn.Conv2D(1, 2, 3)).save(tmp_path / "maps.npz")
    _, _, err = run(capsys, "report", tmp_path / "maps.npz", "--out", tmp_path / "r.html")
    gives = f"the model gives (N, 26, 26, 2) {GIVES}Flatten() and a Dense layer"
    assert err == f"glassnet: error: {tmp_path / 'maps.npz'}: {gives}\n"


def test_report_names_the_classes_of_the_dataset(monkeypatch, capsys, tmp_path: Path, fashion: list[str]) -> None:
    linear(tmp_path / "m.npz", [0.0] * 10, softmax=True)
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(commands, "write_report", lambda *args: calls.append(args) or Path(args[1]))
    assert run(capsys, "report", tmp_path / "m.npz", "--dataset", "fashion-mnist", "--out", tmp_path / "r.html")[0] == 0
    assert calls[0][4] == fashion and calls[0][5] == "m.npz on Fashion-MNIST"


def test_export_passes_its_target_and_the_test_images(monkeypatch, capsys, tmp_path: Path, fashion: list[str]) -> None:
    calls: list[tuple[Any, ...]] = []

    def export(path: Path, target: ExportTarget, images: Any, check: bool) -> Any:
        calls.append((path, target, images(), check))
        yield "first line"
        yield "second line"

    monkeypatch.setattr(commands, "export_model", export)
    argv = (
        "export",
        tmp_path / "m.npz",
        "--out",
        tmp_path / "m.onnx",
        "--layout",
        "nchw",
        "--dataset",
        "fashion-mnist",
    )
    assert run(capsys, *argv, "--check") == (0, "first line\nsecond line\n", "")
    assert run(capsys, "export", tmp_path / "m.npz")[0] == 0
    x_test = mnist_500()[1][0]
    (path, target, images, check), (_, default, _, unchecked) = calls
    assert path == tmp_path / "m.npz" and check is True and unchecked is False
    assert target == ExportTarget(tmp_path / "m.onnx", "nchw", "Fashion-MNIST", tuple(fashion))
    assert default == ExportTarget(None, "nhwc", "MNIST", tuple("0123456789"))
    np.testing.assert_array_equal(images, x_test)
