"""Bad input gets a clear glassnet error at the boundary: a table of cases, and random arrays thrown at a network."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet as gn

RNG = np.random.default_rng(0)
X = RNG.random((12, 4, 4, 1), dtype=np.float32)
Y = np.arange(12) % 3


def classifier(**options) -> gn.Network:
    """(N, 4, 4, 1) images -> 3 classes, cross-entropy."""
    net = gn.Network(**{"epochs": 1, "batch_size": 4, "seed": 0, "verbose": 0, **options})
    return net.add(gn.Flatten()).add(gn.Dense(16, 3)).add(gn.Softmax()).use("cross_entropy")


def regressor() -> gn.Network:
    """(N, 5) -> (N, 1), mean squared error."""
    return gn.Network(epochs=1, seed=0, verbose=0).add(gn.Dense(5, 1)).use("mse")


def with_nans() -> np.ndarray:
    x = X.copy()
    x[3, 1, 2, 0] = np.nan
    x[7, 0, 0, 0] = np.inf
    return x


CASES = [
    # what x is made of
    (
        "complex x",
        lambda: classifier().fit(X.astype(np.complex64), Y),
        gn.InputTypeError,
        r"x holds complex numbers \(complex64\).*x\.real",
    ),
    (
        "string x",
        lambda: classifier().predict(np.full((2, 4, 4, 1), "0.5")),
        gn.InputTypeError,
        r"x holds strings \(<U3\).*np\.asarray\(x, dtype=np\.float32\)",
    ),
    (
        "object x",
        lambda: classifier().predict(np.array([None, 1.0], dtype=object)),
        gn.InputTypeError,
        r"x holds Python objects \(dtype object",
    ),
    (
        "datetime x",
        lambda: classifier().predict(np.zeros((2, 4, 4, 1), dtype="datetime64[s]")),
        gn.InputTypeError,
        r"dates or durations \(datetime64\[s\]\)",
    ),
    (
        "timedelta x",
        lambda: classifier().predict(np.zeros((2, 4, 4, 1), dtype="timedelta64[s]")),
        gn.InputTypeError,
        r"dates or durations",
    ),
    (
        "ragged lists",
        lambda: regressor().fit([[1, 2, 3, 4, 5], [1, 2]], [0.0, 1.0]),
        gn.InputError,
        r"x must be a rectangular array.*different lengths.*pad or crop",
    ),
    (
        "x is None",
        lambda: classifier().predict(None),
        gn.ShapeError,
        r"x must be an array of samples \(N, \.\.\.\), got NoneType",
    ),
    ("x is a number", lambda: classifier().predict(3.0), gn.ShapeError, r"got a single value 3\.0"),
    ("empty x", lambda: classifier().fit(X[:0], Y[:0]), gn.InputError, r"x is empty \(shape \(0, 4, 4, 1\)\)"),
    (
        "NaN and inf in x",
        lambda: classifier().fit(with_nans(), Y),
        gn.InputError,
        r"x has 2 NaN or infinite values, the first at index \(3, 1, 2, 0\)",
    ),
    (
        "x beyond float32",
        lambda: classifier().predict(X.astype(np.float64) * 1e300),
        gn.InputError,
        r"values beyond the range of float32.*scale x down",
    ),
    # shapes
    (
        "one image, no batch axis",
        lambda: classifier().predict(X[0]),
        gn.ShapeError,
        r"expected input \(N, 4, 4, 1\), got x of shape \(4, 4, 1\), one sample without its batch axis: pass x\[None\]",
    ),
    (
        "one row, no batch axis",
        lambda: regressor().predict(np.zeros(5)),
        gn.ShapeError,
        r"got x of shape \(5,\), one sample.*x\[None\] \(shape \(1, 5\)\)",
    ),
    (
        "Dense before Flatten",
        lambda: gn.Network().add(gn.Dense(16, 3)).predict(X),
        gn.ShapeError,
        r"Dense\(16 -> 3\) expected input \(N, 16\), got \(12, 4, 4, 1\): add Flatten\(\) first",
    ),
    (
        "wrong number of features",
        lambda: regressor().predict(np.zeros((3, 6))),
        gn.ShapeError,
        r"Dense\(5 -> 1\) expected input \(N, 5\), got \(3, 6\): .*use Dense\(6, 1\)",
    ),
    (
        "images without channel axis",
        lambda: gn.Network().add(gn.Conv2D(1, 2, 3)).predict(np.zeros((2, 8, 8))),
        gn.ShapeError,
        r"expected input \(N, H, W, 1\), got \(2, 8, 8\).*NHWC",
    ),
    (
        "len(x) != len(y)",
        lambda: classifier().fit(X, Y[:5]),
        gn.ShapeError,
        r"x and y must have one entry per sample, got 12 samples in x and 5 in y",
    ),
    # labels and targets
    (
        "label too large",
        lambda: classifier().fit(X, Y + 1),
        gn.InputError,
        r"labels must be in \[0, 3\) for a network with 3 outputs, got y values from 1 to 3: "
        r"give the last layer 4 outputs",
    ),
    (
        "negative label",
        lambda: classifier().evaluate(X, Y - 1),
        gn.InputError,
        r"got y values from -1 to 1: remap them",
    ),
    (
        "float labels",
        lambda: classifier().fit(X, Y.astype(np.float64)),
        gn.InputError,
        r"one float64 value per sample, but the network gives 3 outputs.*y\.astype\(np\.int64\)",
    ),
    (
        "one-hot rows that are not",
        lambda: classifier().fit(X, np.ones((12, 3))),
        gn.InputError,
        r"cross_entropy expects each row of y to be one-hot or probabilities summing to 1, "
        r"but 12 rows are not, the first row 0",
    ),
    (
        "negative probabilities",
        lambda: classifier().fit(X, np.tile([1.5, -0.5, 0.0], (12, 1))),
        gn.InputError,
        r"12 rows are not",
    ),
    (
        "more classes than outputs",
        lambda: classifier().fit(X, np.eye(4)[Y]),
        gn.ShapeError,
        r"y expected shape \(N, 3\).*got \(12, 4\): y has 4 columns \(classes\): give the last layer 4 outputs",
    ),
    (
        "fewer one-hot columns",
        lambda: classifier().fit(X, np.eye(2)[Y % 2]),
        gn.ShapeError,
        r"to_categorical\(labels, 3\)",
    ),
    (
        "labels for image outputs",
        lambda: gn.Network().add(gn.Conv2D(1, 2, 3)).use("mse").fit(X, Y),
        gn.ShapeError,
        r"integer labels y \(N,\) need a network ending in \(N, classes\).*Flatten\(\)",
    ),
    (
        "NaN in targets",
        lambda: regressor().fit(np.zeros((3, 5)), [0.0, np.nan, 1.0]),
        gn.InputError,
        r"y has 1 NaN or infinite values, the first at index \(1,\)",
    ),
    (
        "string labels",
        lambda: classifier().fit(X, np.array(["cat"] * 12)),
        gn.InputTypeError,
        r"y holds strings.*integer labels",
    ),
    (
        "complex targets",
        lambda: regressor().fit(np.zeros((2, 5)), np.ones(2, dtype=complex)),
        gn.InputTypeError,
        r"y holds complex numbers.*y\.real",
    ),
    # hyper-parameters and options
    (
        "zero learning rate",
        lambda: classifier().fit(X, Y, learning_rate=0),
        gn.InputError,
        r"learning_rate must be a positive finite number such as 0\.01, got 0",
    ),
    (
        "NaN learning rate",
        lambda: gn.Network(learning_rate=float("nan")),
        gn.InputError,
        r"learning_rate must be a positive finite number",
    ),
    (
        "infinite learning rate",
        lambda: gn.optimizers.Adam(float("inf")),
        gn.InputError,
        r"Adam learning_rate must be a positive finite number",
    ),
    (
        "float epochs",
        lambda: classifier().fit(X, Y, epochs=2.0),
        gn.InputError,
        r"epochs must be an int >= 1, got 2\.0: pass epochs=2",
    ),
    ("negative epochs", lambda: gn.Network(epochs=-1), gn.InputError, r"epochs must be an int >= 1, got -1"),
    (
        "zero batch size",
        lambda: classifier().fit(X, Y, batch_size=0),
        gn.InputError,
        r"batch_size must be an int >= 1, got 0",
    ),
    (
        "bool batch size",
        lambda: classifier().predict(X, batch_size=True),
        gn.InputError,
        r"batch_size must be an int >= 1, got True",
    ),
    (
        "evaluate batch size",
        lambda: classifier().evaluate(X, Y, batch_size=0.5),
        gn.InputError,
        r"batch_size must be an int >= 1",
    ),
    (
        "bad seed",
        lambda: gn.Network(seed=-3),
        gn.InputError,
        r"seed must be None \(a new run each time\) or an int >= 0",
    ),
    (
        "string shuffle",
        lambda: classifier().fit(X, Y, shuffle="no"),
        gn.InputTypeError,
        r"shuffle must be True or False, got 'no'",
    ),
    (
        "callback not in a list",
        lambda: classifier().fit(X, Y, callbacks=print),
        gn.InputTypeError,
        r"callbacks must be a list of functions.*callbacks=\[my_callback\]",
    ),
    (
        "callback not callable",
        lambda: classifier().fit(X, Y, callbacks=[1]),
        gn.InputTypeError,
        r"callbacks\[0\] must be a function",
    ),
    (
        "validation_data an array",
        lambda: classifier().fit(X, Y, validation_data=X),
        gn.InputTypeError,
        r"validation_data must be a pair \(x_val, y_val\), got an array of shape \(12, 4, 4, 1\)",
    ),
    (
        "validation_data of 3",
        lambda: classifier().fit(X, Y, validation_data=(X, Y, Y)),
        gn.InputTypeError,
        r"got a tuple of 3 items",
    ),
    (
        "bad validation labels",
        lambda: classifier().fit(X, Y, validation_data=(X, Y + 5)),
        gn.InputError,
        r"got validation y values from 5 to 7",
    ),
    (
        "bad validation x",
        lambda: classifier().fit(X, Y, validation_data=(X[:, :2], Y)),
        gn.ShapeError,
        r"Dense\(16 -> 3\).*got \(12, 8\)",
    ),
    (
        "validation_split 1",
        lambda: classifier().fit(X, Y, validation_split=1.0),
        gn.InputError,
        r"validation_split must be a number in \[0, 1\)",
    ),
    ("unknown optimizer", lambda: gn.Network(optimizer="adadelta"), gn.InputError, r"unknown optimizer 'adadelta'"),
    # readiness and building
    (
        "fit without use()",
        lambda: gn.Network().add(gn.Dense(5, 1)).fit(np.zeros((2, 5)), [0.0, 1.0]),
        gn.NotReadyError,
        r"no loss chosen: call net\.use",
    ),
    (
        "evaluate without use()",
        lambda: gn.Network().add(gn.Dense(5, 1)).evaluate(np.zeros((2, 5)), [0.0, 1.0]),
        gn.NotReadyError,
        r"no loss chosen",
    ),
    (
        "predict without layers",
        lambda: gn.Network().predict(np.zeros((2, 5))),
        gn.NotReadyError,
        r"the network has no layers",
    ),
    (
        "add a layer class",
        lambda: gn.Network().add(gn.ReLU),
        gn.InputTypeError,
        r"add\(\) takes a layer, got the class ReLU: write ReLU\(\.\.\.\)",
    ),
    (
        "add a non-layer",
        lambda: gn.Network().add("relu"),
        gn.InputTypeError,
        r"add\(\) takes a layer with forward and backward methods, got str",
    ),
    ("unknown loss", lambda: gn.Network().use("hinge"), gn.InputError, r"unknown loss 'hinge'"),
]


@pytest.mark.parametrize(("make", "error", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_gets_a_clear_error_at_the_boundary(make, error, message):
    with pytest.raises(error, match=message) as caught:
        make()
    assert isinstance(caught.value, gn.GlassnetError)
    assert isinstance(caught.value, (ValueError, TypeError))


CONSTRUCTORS = [
    ("Dense size 0", lambda: gn.Dense(0, 3), r"Dense: in_features must be a positive int, got 0"),
    ("Dense float size", lambda: gn.Dense(2.5, 3), r"Dense: in_features must be a positive int, got 2\.5"),
    ("Dense string size", lambda: gn.Dense(4, "3"), r"Dense: out_features must be a positive int, got '3'"),
    ("Dense init", lambda: gn.Dense(2, 3, init="zeros"), r'Dense: init must be "auto", "glorot" or "he"'),
    ("Conv2D kernel 0", lambda: gn.Conv2D(1, 2, 0), r"Conv2D: kernel_size must be an int >= 1 or a pair"),
    ("Conv2D stride triple", lambda: gn.Conv2D(1, 2, 3, stride=(1, 2, 3)), r"Conv2D: stride must be"),
    ("Conv2D padding name", lambda: gn.Conv2D(1, 2, 3, padding="full"), r'Conv2D: padding must be "valid", "same"'),
    ("Conv2D channels", lambda: gn.Conv2D(True, 2, 3), r"Conv2D: in_channels must be a positive int"),
    ("MaxPool2D padding", lambda: gn.MaxPool2D(2, padding=2), r"MaxPool2D: padding must be at most half the pool size"),
    ("AvgPool2D size", lambda: gn.AvgPool2D(-2), r"AvgPool2D: pool_size must be an int >= 1"),
    ("Dropout 1", lambda: gn.Dropout(1.0), r"Dropout: rate must be a number in \[0, 1\), got 1\.0"),
    ("Dropout string", lambda: gn.Dropout("0.5"), r"Dropout: rate must be a number"),
    ("LeakyReLU", lambda: gn.LeakyReLU(-1), r"LeakyReLU: alpha must be a number in \[0, 1\)"),
    ("BatchNorm 0", lambda: gn.BatchNorm(0), r"BatchNorm: num_features must be a positive int"),
    ("BatchNorm eps", lambda: gn.BatchNorm(3, eps=float("inf")), r"BatchNorm: eps must be a positive finite number"),
    (
        "BatchNorm momentum",
        lambda: gn.BatchNorm(3, momentum=float("nan")),
        r"BatchNorm: momentum must be a number in \[0, 1\]",
    ),
    ("Activation", lambda: gn.Activation(np.tanh, 3), r"Activation\(fn, fn_prime\) takes two functions"),
    ("SGD momentum", lambda: gn.optimizers.SGD(0.1, momentum=1.5), r"SGD: momentum must be a number in \[0, 1\)"),
]


@pytest.mark.parametrize(
    ("make", "message"), [case[1:] for case in CONSTRUCTORS], ids=[case[0] for case in CONSTRUCTORS]
)
def test_every_layer_constructor_checks_its_arguments(make, message):
    with pytest.raises(gn.GlassnetError, match=message) as caught:
        make()
    assert isinstance(caught.value, (ValueError, TypeError))


def test_soft_probability_targets_are_fine_for_cross_entropy():
    soft = np.full((12, 3), 0.05, dtype=np.float32)
    soft[np.arange(12), Y] = 0.9
    net = classifier().fit(X, soft)
    assert len(net.history["loss"]) == 1
    # soft rows score against their largest entry (Y) for accuracy and as distributions for the loss
    p = net.predict(X).astype(np.float64)
    result = net.evaluate(X, soft)
    assert result["accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == Y), abs=1e-12)
    assert result["loss"] == pytest.approx(-np.mean(np.sum(soft * np.log(p), axis=1)), rel=1e-5)


def test_checks_run_before_any_work():
    net = classifier()
    weights = [p.value.copy() for p in net.parameters()]
    rate = net.optimizer.learning_rate
    with pytest.raises(gn.InputError):
        net.fit(X, Y + 1, learning_rate=0.5, epochs=3)
    assert net.optimizer.learning_rate == rate
    assert net.history["loss"] == [] and net.optimizer.steps == 0
    assert all(np.array_equal(a, p.value) for a, p in zip(weights, net.parameters(), strict=True))


def test_integer_images_and_bool_features_are_accepted():
    net = classifier().fit((X * 255).astype(np.uint8), Y)
    assert net.predict(X.astype(bool)).dtype == np.float32


def test_outputs_that_overflow_are_an_error_not_a_warning():
    net = gn.Network(seed=0).add(gn.Dense(5, 3)).add(gn.Softmax()).use("mse")
    net.parameters()[0].value[...] = 1  # every output is 5 * 3e38: beyond float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(gn.NumericalError, match=r"predict gave \d+ NaN or infinite outputs.*scale the inputs"):
            net.predict(np.full((2, 5), 3e38, dtype=np.float32))
        with pytest.raises(gn.NumericalError, match=r"evaluate got a mean loss of"):
            net.evaluate(np.full((2, 5), 3e38, dtype=np.float32), np.eye(3)[[0, 1]])


# Random arrays of every dtype and shape thrown at fit, predict and evaluate -----------------------

DTYPES = st.sampled_from(
    [
        "int8",
        "uint8",
        "int64",
        "uint64",
        "float16",
        "float32",
        "float64",
        "bool",
        "complex64",
        "complex128",
        "U3",
        "S2",
        "datetime64[D]",
        "timedelta64[s]",
        "O",
    ]
)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)


@st.composite
def arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(DTYPES))
    shape = draw(st.one_of(SHAPES, st.sampled_from([(6, 5), (5,), (3, 5)])))
    if dtype.kind == "O":
        values = draw(
            st.lists(st.one_of(st.none(), st.floats(), st.integers(), st.text(max_size=2)), min_size=1, max_size=8)
        )
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    if dtype.kind in "mM":
        return np.zeros(shape, dtype=dtype)
    return draw(hnp.arrays(dtype, shape))


@st.composite
def plausible_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Data that could be right: (n, 5) floats of any size, labels, one-hot, probabilities or values."""
    n = draw(st.integers(1, 6))
    x = draw(hnp.arrays(draw(st.sampled_from(["float16", "float32", "float64", "int64"])), (n, 5)))
    kind = draw(st.sampled_from(["labels", "one_hot", "values"]))
    if kind == "labels":
        return x, draw(hnp.arrays(np.int64, n, elements=st.integers(0, 2)))
    if kind == "one_hot":
        return x, np.eye(3)[draw(hnp.arrays(np.int64, n, elements=st.integers(0, 2)))]
    return x, draw(hnp.arrays(np.float64, (n, 3)))


PAIRS = st.one_of(st.tuples(arrays(), arrays()), plausible_pairs())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=PAIRS, call=st.sampled_from(["fit", "predict", "evaluate"]), loss=st.sampled_from(["mse", "cross_entropy"]))
def test_random_arrays_give_a_glassnet_error_or_work(pair, call, loss):
    x, y = pair
    net = gn.Network(epochs=1, batch_size=4, seed=0, verbose=0).add(gn.Dense(5, 3)).add(gn.Softmax()).use(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = net.predict(x) if call == "predict" else getattr(net, call)(x, y)
        except gn.GlassnetError as error:
            assert isinstance(error, (ValueError, TypeError, ArithmeticError))
            assert str(error)
            return
    if call == "predict":
        assert result.shape == (len(x), 3) and np.isfinite(result).all()
    else:
        assert all(np.isfinite(p.value).all() for p in net.parameters())
