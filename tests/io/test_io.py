"""Model files: exact round trips, atomic saves, clear refusals of what cannot be saved or loaded, fuzzing."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_cases import LAYER_CASES

import glassnet as gn
import glassnet.initializers
import glassnet.io.npz
from glassnet.io.model_file import FORMAT_VERSION

RNG = np.random.default_rng(7)
X_FLAT = RNG.standard_normal((40, 6)).astype(np.float32)
Y_FLAT = RNG.random((40, 3)).astype(np.float32)
X_IMG = RNG.random((48, 8, 8, 1), dtype=np.float32)
Y_IMG = RNG.integers(0, 3, 48)


def mlp(seed: int = 0) -> gn.Network:
    """An MLP with every elementwise activation, MSE and SGD with momentum."""
    return (
        gn.Network(epochs=2, batch_size=8, seed=seed, verbose=0, optimizer=gn.optimizers.SGD(0.05, momentum=0.9))
        .add(gn.Dense(6, 16))
        .add(gn.Tanh())
        .add(gn.Dense(16, 8))
        .add(gn.LeakyReLU(0.1))
        .add(gn.Dense(8, 8))
        .add(gn.ReLU())
        .add(gn.Dense(8, 3))
        .add(gn.Sigmoid())
        .use("mse")
    )


def cnn(seed: int = 0) -> gn.Network:
    """A CNN with BatchNorm, both poolings and Dropout, cross-entropy and Adam."""
    return (
        gn.Network(epochs=2, batch_size=16, seed=seed, verbose=0, optimizer="adam", learning_rate=0.01)
        .add(gn.Conv2D(1, 4, 3, padding="same"))
        .add(gn.BatchNorm(4))
        .add(gn.ReLU())
        .add(gn.MaxPool2D(2))
        .add(gn.Conv2D(4, 6, (2, 3)))
        .add(gn.AvgPool2D(2, stride=1))
        .add(gn.Flatten())
        .add(gn.Dropout(0.25))
        .add(gn.Dense(12, 3))
        .add(gn.Softmax())
        .use("cross_entropy")
    )


def weights(net: gn.Network) -> list[np.ndarray]:
    """Every parameter and buffer of the network."""
    return [p.value for p in net.parameters()] + [b for layer in net.layers for b in layer.buffers().values()]


def assert_same_state(a: gn.Network, b: gn.Network) -> None:
    """Bit-identical parameters, buffers, optimizer state and generator state."""
    assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(weights(a), weights(b), strict=True))
    assert a.optimizer.steps == b.optimizer.steps and type(a.optimizer) is type(b.optimizer)
    assert a.optimizer.config() == b.optimizer.config()
    for sa, sb in zip(a.optimizer.state, b.optimizer.state, strict=True):
        assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state


def entries(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def rewrite(path: Path, arrays: dict[str, np.ndarray], **architecture_edits: object) -> Path:
    """Write arrays (optionally with top-level architecture keys replaced) as another .npz."""
    arrays = dict(arrays)
    if architecture_edits:
        arch = json.loads(str(arrays["architecture"]))
        arch.update(architecture_edits)
        arrays["architecture"] = np.array(json.dumps(arch))
    out = path.with_name("edited.npz")
    np.savez(out, **arrays)
    return out


@pytest.fixture(scope="module")
def trained_cnn() -> gn.Network:
    return cnn().fit(X_IMG, Y_IMG, validation_split=0.25)


@pytest.fixture
def saved(tmp_path: Path, trained_cnn: gn.Network) -> Path:
    trained_cnn.save(tmp_path / "model.npz")
    return tmp_path / "model.npz"


def reload(net: gn.Network, path: Path) -> gn.Network:
    """The network saved to path and loaded back."""
    net.save(path)
    return gn.Network.load(path)


# Round trips ----------------------------------------------------------------------------------


def test_mlp_round_trip_predicts_bit_identically(tmp_path: Path) -> None:
    net = mlp().fit(X_FLAT, Y_FLAT)
    assert net.save(tmp_path / "mlp.npz") is net
    loaded = gn.Network.load(tmp_path / "mlp.npz")
    assert np.array_equal(loaded.predict(X_FLAT), net.predict(X_FLAT))
    assert_same_state(net, loaded)
    assert loaded.history == net.history and len(loaded.history["loss"]) == 2
    assert (loaded.epochs, loaded.batch_size, loaded.seed, loaded.verbose) == (2, 8, 0, 0)
    assert repr(loaded.loss) == "MSE()" and loaded.summary() == net.summary()


def test_cnn_with_batchnorm_and_dropout_round_trips_and_trains_on_identically(tmp_path: Path) -> None:
    net = cnn().fit(X_IMG, Y_IMG, validation_split=0.25)
    loaded = reload(net, tmp_path / "cnn.npz")
    assert np.array_equal(loaded.predict(X_IMG), net.predict(X_IMG))
    assert loaded.evaluate(X_IMG, Y_IMG) == net.evaluate(X_IMG, Y_IMG)
    assert_same_state(net, loaded)
    dropout = [layer for layer in loaded.layers if isinstance(layer, gn.Dropout)]
    assert dropout and all(layer.rng is loaded.rng for layer in dropout)
    net.fit(X_IMG, Y_IMG, epochs=2)
    loaded.fit(X_IMG, Y_IMG, epochs=2)  # same shuffles, dropout masks and Adam moments
    assert_same_state(net, loaded)
    assert loaded.history["loss"] == net.history["loss"]


@pytest.mark.parametrize("case", [c for c in LAYER_CASES if c[0] != "activation-sin"], ids=lambda c: c[0])
def test_every_built_in_layer_round_trips(tmp_path: Path, case: tuple) -> None:
    _, factory, shape, _ = case
    net = gn.Network(seed=1).add(factory())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    loaded = reload(net, tmp_path / "one.npz")
    assert type(loaded.layers[0]) is type(net.layers[0]) and loaded.layers[0].config() == net.layers[0].config()
    assert np.array_equal(loaded.predict(x), net.predict(x))


def test_float64_parameters_and_a_network_without_loss_or_layers_round_trip(tmp_path: Path) -> None:
    net = gn.Network(seed=None).add(gn.Dense(3, 2))
    for p in net.parameters():
        p.value = p.value.astype(np.float64)
    loaded = reload(net, tmp_path / "a.npz")
    assert loaded.dtype == np.float64 and loaded.loss is None and loaded.seed is None
    assert np.array_equal(loaded.predict(X_FLAT[:, :3]), net.predict(X_FLAT[:, :3]))
    empty = reload(gn.Network(), tmp_path / "b.npz")
    assert empty.layers == []


def test_loading_draws_nothing_and_restores_the_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    net = mlp(seed=5)
    net.rng.random(3)  # the state to restore is not the seed's
    net.save(tmp_path / "m.npz")

    def no_draw(*args: object) -> None:
        raise AssertionError("a parameter was drawn while loading")

    monkeypatch.setattr(glassnet.initializers, "INITIALIZERS", {"glorot": no_draw, "he": no_draw})
    loaded = gn.Network.load(tmp_path / "m.npz")
    assert_same_state(net, loaded)


def test_saving_the_same_state_gives_the_same_bytes(tmp_path: Path, trained_cnn: gn.Network) -> None:
    trained_cnn.save(tmp_path / "a.npz").save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_the_file_is_a_plain_npz_listing_its_entries(saved: Path) -> None:
    arrays = entries(saved)
    assert int(arrays["format_version"]) == FORMAT_VERSION
    arch, training = json.loads(str(arrays["architecture"])), json.loads(str(arrays["training"]))
    assert [layer["type"] for layer in arch["layers"]][:3] == ["Conv2D", "BatchNorm", "ReLU"]
    assert arch["loss"] == "cross_entropy" and arch["optimizer"]["type"] == "Adam"
    assert training["epoch"] == 2 and training["rng"]["bit_generator"] == "PCG64"
    for key in ("parameters/0/weight", "buffers/1/running_var", "optimizer/0/m", "history/val_loss"):
        assert key in arrays
    with zipfile.ZipFile(saved) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


# Saving: atomic, and only what a file can describe ----------------------------------------------


def test_a_save_failing_midway_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trained_cnn: gn.Network
) -> None:
    path = tmp_path / "model.npz"
    trained_cnn.save(path)
    before = path.read_bytes()
    real, calls = np.lib.format.write_array, []

    def fail_on_fifth(fp: object, array: np.ndarray, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 5:
            fp.write(b"\x00" * 10)  # type: ignore[attr-defined]
            raise OSError(28, "No space left on device")
        real(fp, array, **kwargs)

    monkeypatch.setattr(glassnet.io.npz.np.lib.format, "write_array", fail_on_fifth)
    with pytest.raises(OSError, match="No space"):
        mlp().save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]
    monkeypatch.undo()
    assert np.array_equal(gn.Network.load(path).predict(X_IMG), trained_cnn.predict(X_IMG))


class Sine(gn.Layer):
    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.sin(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * np.cos(self.x)


class MyDense(gn.Dense):
    pass


class MyOptimizer(gn.optimizers.SGD):
    pass


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: gn.Network().add(gn.Dense(2, 2)).add(Sine()), r"layer 1, Sine\(\), is a custom layer"),
        (lambda: gn.Network().add(MyDense(2, 2)), r"layer 0, Dense\(2 -> 2\), is a custom layer"),
        (lambda: gn.Network().add(gn.Activation(np.sin, np.cos)), r"layer 0, Activation\(sin\).*gn.Tanh\(\)"),
        (lambda: gn.Network().add(gn.Dense(2, 2)).use(lambda t, p: 0.0, lambda t, p: p), "loss FunctionLoss"),
        (lambda: gn.Network(optimizer=MyOptimizer(0.1)), "optimizer MyOptimizer is not built in"),
    ],
)
def test_what_a_file_cannot_describe_is_refused_at_save_time(tmp_path: Path, build, match: str) -> None:
    with pytest.raises(gn.UnsaveableError, match=match):
        build().save(tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_the_articles_mse_pair_is_the_built_in_loss_and_saves(tmp_path: Path) -> None:
    net = gn.Network().add(gn.Dense(2, 1)).use(gn.losses.mse, gn.losses.mse_prime)
    assert repr(reload(net, tmp_path / "x.npz").loss) == "MSE()"


def test_nan_weights_are_refused_and_the_previous_file_kept(tmp_path: Path) -> None:
    net = mlp().save(tmp_path / "x.npz")
    before = (tmp_path / "x.npz").read_bytes()
    net.parameters()[0].value[0, 0] = np.nan
    with pytest.raises(gn.UnsaveableError, match=r"parameters/0/weight.*diverged"):
        net.save(tmp_path / "x.npz")
    assert (tmp_path / "x.npz").read_bytes() == before


# Loading refuses anything else, clearly ---------------------------------------------------------


def refuses(path: Path, match: str) -> None:
    with pytest.raises(gn.ModelFileError, match=match):
        gn.Network.load(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not a zip file"),
        (b"hello, I am a text file\n" * 10, "not a zip file"),
        (b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "not a zip file"),
    ],
    ids=["empty", "text", "npy"],
)
def test_not_an_npz_is_refused(tmp_path: Path, content: bytes, match: str) -> None:
    (tmp_path / "x.npz").write_bytes(content)
    refuses(tmp_path / "x.npz", match)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        gn.Network.load(tmp_path / "nothing.npz")


def test_pickled_object_arrays_are_refused_without_unpickling(tmp_path: Path, saved: Path) -> None:
    arrays = entries(saved)
    arrays["architecture"] = np.array([{"evil": 1}], dtype=object)  # np.savez pickles it
    refuses(rewrite(saved, arrays), "dtype object is not allowed")


def test_compressed_members_are_refused(tmp_path: Path, saved: Path) -> None:
    np.savez_compressed(tmp_path / "c.npz", **entries(saved))
    refuses(tmp_path / "c.npz", "uncompressed")


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.99])
def test_truncated_files_are_refused(tmp_path: Path, saved: Path, fraction: float) -> None:
    data = saved.read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: int(len(data) * fraction)])
    refuses(tmp_path / "t.npz", "corrupt, truncated")


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ("parameters/4/weight", r"missing entries \['parameters/4/weight'\]"),
        ("format_version", "no format_version entry"),
        ("training", "'training' is missing"),
        ("optimizer/0/m", "missing entries"),
        ("history/loss", "missing entries"),
    ],
)
def test_missing_entries_are_refused(saved: Path, entry: str, match: str) -> None:
    arrays = entries(saved)
    del arrays[entry]
    refuses(rewrite(saved, arrays), match)


def test_unknown_entries_are_refused(saved: Path) -> None:
    refuses(rewrite(saved, entries(saved) | {"extra": np.zeros(2)}), r"unknown entries \['extra'\]")


@pytest.mark.parametrize(
    ("version", "match"), [(FORMAT_VERSION + 1, "newer glassnet.*upgrade"), (0, "unknown model file format 0")]
)
def test_other_format_versions_are_refused(saved: Path, version: int, match: str) -> None:
    refuses(rewrite(saved, entries(saved) | {"format_version": np.array(version)}), match)


def edit_layer(saved: Path, index: int, **config: object) -> Path:
    arrays = entries(saved)
    arch = json.loads(str(arrays["architecture"]))
    arch["layers"][index]["config"].update(config)
    return rewrite(saved, arrays, layers=arch["layers"])


def test_unknown_layer_types_and_config_keys_are_refused(saved: Path) -> None:
    arrays = entries(saved)
    layers = json.loads(str(arrays["architecture"]))["layers"]
    layers[2] = {"type": "Lambda", "config": {"code": "os.system('rm -rf /')"}}
    refuses(rewrite(saved, arrays, layers=layers), "layer 2: unknown type 'Lambda'")
    refuses(edit_layer(saved, 0, activation="relu"), r"layer 0 \(Conv2D\): unknown option 'activation'")
    refuses(edit_layer(saved, 7, rate=1.5), r"layer 7 \(Dropout\): .*rate")


def test_shapes_that_disagree_with_the_stored_weights_are_refused(saved: Path) -> None:
    refuses(edit_layer(saved, 8, in_features=13), r"implies parameters/8/weight of shape \(13, 3\).*\(12, 3\)")
    refuses(edit_layer(saved, 1, num_features=5), r"parameters/1/gamma of shape \(5,\)")
    # consistent with its own weights, but not with the layers around it:
    arrays = entries(saved)
    arrays["parameters/8/weight"] = np.zeros((13, 3), np.float32)
    refuses(edit_layer(rewrite(saved, arrays), 8, in_features=13), r"inconsistent.*Dense\(13 -> 3\) expected input")


def test_absurd_sizes_are_refused_before_any_allocation(saved: Path) -> None:
    tracemalloc.start()
    try:
        refuses(edit_layer(saved, 8, in_features=10**9, out_features=10**9), r"\(1000000000, 1000000000\)")
        refuses(edit_layer(saved, 1, num_features=10**12), r"gamma of shape \(1000000000000,\)")
        huge_header = _replace_header(saved, "parameters/8/weight", "(12, 3)", "(1000000000, 1000000000)")
        refuses(huge_header, r"header says shape \(1000000000, 1000000000\)")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def _replace_header(saved: Path, entry: str, old: str, new: str) -> Path:
    """A copy of the file with text replaced in one entry's .npy header, padded to the same length."""
    out = saved.with_name("header.npz")
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == f"{entry}.npy":
                end = data.index(b"\n")
                header = data[:end].replace(old.encode(), new.encode()).rstrip(b" ")
                data = header.ljust(end, b" ") + data[end:]
            dst.writestr(info, data)
    return out


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("'<f4'", "b'<f4'", "reading the header of entry"),  # a bytes descr: NumPy raises TypeError
        ("'shape': (3, 3, 1, 4), }", "'shape': (3, 3, 1, 4", "reading the header of entry"),  # unterminated
        ("'<f4'", "'|O'", "dtype object is not allowed"),
        ("'<f4'", "[('a', '<f4')]", "is not allowed"),
        ("(3, 3, 1, 4)", "(-3, -3, 1, 4)", "negative dimension"),
    ],
)
def test_malformed_npy_headers_are_refused(saved: Path, old: str, new: str, match: str) -> None:
    refuses(_replace_header(saved, "optimizer/0/v", old, new), match)  # Conv2D(1, 4, 3)


def test_a_python_2_header_is_refused_or_read_as_written(saved: Path) -> None:
    """NumPy >= 2 warns on (3L, ...) shapes (refused, clearly); NumPy 1.x reads them as Python 2 wrote them."""
    path = _replace_header(saved, "optimizer/0/v", "(3, 3, 1, 4)", "(3L, 3, 1, 4)")
    try:
        loaded = gn.Network.load(path)
    except gn.ModelFileError as error:
        assert "reading the header of entry" in str(error)
    else:
        original = gn.Network.load(saved)
        for a, b in zip(loaded.parameters(), original.parameters(), strict=True):
            np.testing.assert_array_equal(a.value, b.value)


def test_nan_or_infinite_weights_and_negative_variances_are_refused(saved: Path) -> None:
    arrays = entries(saved)
    for entry, bad in [("parameters/0/weight", np.inf), ("buffers/1/running_var", -1.0), ("optimizer/0/v", -1.0)]:
        edited = dict(arrays)
        edited[entry] = edited[entry].copy()
        edited[entry].flat[0] = bad
        refuses(rewrite(saved, edited), entry)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({"loss": "hinge"}, "unknown loss 'hinge'"),
        ({"optimizer": {"type": "Adadelta", "config": {}}}, "unknown optimizer 'Adadelta'"),
        ({"optimizer": {"type": "RMSprop", "config": {}}}, r"state entries must be .*not \['m', 'step', 'v'\]"),
        ({"optimizer": {"type": "Adam", "config": {"lr": 1}}}, r"optimizer config: .*unknown keys \['lr'\]"),
        ({"network": {"epochs": 1, "learning_rate": -1, "batch_size": 1, "seed": 0, "verbose": 0}}, "learning_rate"),
        ({"input_shape": [8, 8, 3]}, "inconsistent.*3 channels"),
        ({"layers": {"not": "a list"}}, "layers must be a list"),
        ({"surprise": 1}, r"unknown keys \['surprise'\]"),
    ],
)
def test_invalid_architecture_values_are_refused(saved: Path, edit: dict, match: str) -> None:
    refuses(rewrite(saved, entries(saved), **edit), match)


def test_non_json_nan_and_deep_nesting_are_refused(saved: Path) -> None:
    for text in ["{not json", '{"network": NaN}', "[" * 100_000 + "]" * 100_000]:
        refuses(rewrite(saved, entries(saved) | {"architecture": np.array(text)}), "not valid JSON")


def test_a_bad_training_state_is_refused(saved: Path) -> None:
    arrays = entries(saved)
    training = json.loads(str(arrays["training"]))
    for key, value, match in [
        ("rng", {"bit_generator": "Evil"}, "training.rng must be the state of one of"),
        ("rng", {"bit_generator": "PCG64", "state": {"state": -1, "inc": "x"}}, "not a valid PCG64 state"),
        ("epoch", 5, "training.epoch is 5 but history/loss has 2"),
        ("optimizer", {"steps": 3, "state": [["velocity"]]}, r"must be \[\] or \['m', 'v'\]"),
    ]:
        edited = json.dumps(training | {key: value})
        refuses(rewrite(saved, arrays | {"training": np.array(edited)}), match)


# Fuzzing --------------------------------------------------------------------------------------

FUZZ_NET = (
    gn.Network(seed=0, verbose=0, batch_size=8, optimizer="momentum")
    .add(gn.Conv2D(1, 2, 3))
    .add(gn.BatchNorm(2))
    .add(gn.ReLU())
    .add(gn.MaxPool2D(2))
    .add(gn.Flatten())
    .add(gn.Dropout(0.5))
    .add(gn.Dense(8, 2))
    .add(gn.Softmax())
    .use("cross_entropy")
    .fit(X_IMG[:16, :6, :6], Y_IMG[:16] % 2, epochs=1)
)
FUZZ_X = X_IMG[:4, :6, :6]
FUZZ_EXPECTED = FUZZ_NET.predict(FUZZ_X)
mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 16), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.integers(0, 255)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    """Apply byte flips (xor), truncations and one-byte insertions at positions modulo the length."""
    out = bytearray(data)
    for kind, pos, value in mutations:
        pos %= len(out) + 1
        if kind == "flip" and pos < len(out):
            out[pos] ^= value
        elif kind == "truncate":
            del out[pos:]
        elif kind == "insert":
            out.insert(pos, value)
    return bytes(out)


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    FUZZ_NET.save(folder / "seed.npz")
    return folder


def load_mutated(folder: Path, data: bytes) -> gn.Network | None:
    """The network loaded from data, or None when it was refused with ModelFileError."""
    (folder / "case.npz").write_bytes(data)
    try:
        return gn.Network.load(folder / "case.npz")
    except gn.ModelFileError:
        return None


def fuzz_raw(folder: Path, mutations: list) -> None:
    net = load_mutated(folder, mutate((folder / "seed.npz").read_bytes(), mutations))
    if net is not None:  # every byte of content is CRC-checked: what loads is the original model
        assert np.array_equal(net.predict(FUZZ_X), FUZZ_EXPECTED)


def repack(seed: bytes, member: int, mutations: list) -> bytes:
    """The archive with one member's bytes mutated and a valid zip (CRCs) around it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(seed)) as src, zipfile.ZipFile(out, "w") as dst:
        infos = src.infolist()
        target = infos[member % len(infos)]
        for info in infos:
            data = src.read(info)
            if info is target:
                limit = 200 if info.filename.startswith(("parameters", "buffers", "optimizer")) else len(data)
                data = mutate(data[:limit], mutations) + data[limit:]  # header (or JSON) bytes
            dst.writestr(info, data)
    return out.getvalue()


def fuzz_repacked(folder: Path, member: int, mutations: list) -> None:
    net = load_mutated(folder, repack((folder / "seed.npz").read_bytes(), member, mutations))
    if net is not None:  # a valid but different model (another eps, rate, ...) may load: it must run
        try:
            with np.errstate(all="ignore"):
                assert net.predict(FUZZ_X).shape[0] == len(FUZZ_X)
        except gn.ShapeError:  # an edited input_shape and layer that fit each other but not FUZZ_X
            pass


RAW = given(mutations=st.lists(mutation, min_size=1, max_size=3))
REPACKED = given(member=st.integers(0, 100), mutations=st.lists(mutation, min_size=1, max_size=3))


@settings(max_examples=300, deadline=5000)
@RAW
def test_fuzz_raw_bytes_load_identically_or_raise_model_file_error(fuzz_folder, mutations) -> None:
    fuzz_raw(fuzz_folder, mutations)


@settings(max_examples=300, deadline=5000)
@REPACKED
def test_fuzz_edited_entries_load_and_run_or_raise_model_file_error(fuzz_folder, member, mutations) -> None:
    fuzz_repacked(fuzz_folder, member, mutations)


@pytest.mark.slow
@settings(max_examples=5000, deadline=5000)
@RAW
def test_fuzz_raw_bytes_long(fuzz_folder, mutations) -> None:
    fuzz_raw(fuzz_folder, mutations)


@pytest.mark.slow
@settings(max_examples=5000, deadline=5000)
@REPACKED
def test_fuzz_edited_entries_long(fuzz_folder, member, mutations) -> None:
    fuzz_repacked(fuzz_folder, member, mutations)
