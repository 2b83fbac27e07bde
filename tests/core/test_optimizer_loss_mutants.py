"""Tests for mutants that survived in optimizers.py and losses.py (docs/mutation.md): each fails if its line breaks."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError
from glassnet.losses import CrossEntropy, FunctionLoss, distributions, get_loss, log_softmax
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop, get_optimizer


def test_named_optimizers_carry_their_options() -> None:
    momentum = get_optimizer("momentum", 0.1)
    assert type(momentum) is SGD and momentum.momentum == 0.9 and momentum.learning_rate == 0.1
    assert get_optimizer("sgd", 0.1).momentum == 0.0
    assert [type(get_optimizer(name, 0.1)) for name in ("adam", "adamw", "rmsprop", "adagrad")] == [
        Adam,
        AdamW,
        RMSprop,
        Adagrad,
    ]


def test_nesterov_needs_momentum() -> None:
    with pytest.raises(InputError, match="nesterov=True needs a momentum > 0"):
        SGD(0.1, nesterov=True)
    assert SGD(0.1, momentum=0.5, nesterov=True).nesterov is True


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: get_optimizer("adadelta", 0.01),
            "unknown optimizer 'adadelta': use one of 'sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad' "
            "or a gn.optimizers instance",
        ),
        (lambda: get_optimizer(["sgd"], 0.01), "unknown optimizer ['sgd']: use one of 'sgd', "),  # unhashable
        (
            lambda: SGD(0.01, nesterov=True),
            "SGD: nesterov=True needs a momentum > 0, e.g. SGD(0.01, momentum=0.9, nesterov=True)",
        ),
        (lambda: RMSprop(0), "RMSprop learning_rate must be a positive finite number such as 0.01, got 0"),
    ],
)
def test_optimizer_refusals_word_for_word(make, message: str) -> None:
    with pytest.raises(InputError) as caught:
        make()
    assert str(caught.value).startswith(message)


def test_default_learning_rates_are_pytorchs() -> None:
    assert (SGD().learning_rate, Adam().learning_rate, AdamW().learning_rate) == (0.01, 1e-3, 1e-3)
    assert (RMSprop().learning_rate, Adagrad().learning_rate) == (0.01, 0.01)


def test_values_above_one_are_accepted_where_they_mean_something() -> None:
    assert Adam(eps=2.0).eps == 2.0 and SGD(weight_decay=3.0).weight_decay == 3.0
    assert Adagrad(initial_accumulator_value=5.0).initial_accumulator_value == 5.0


def test_a_loss_of_two_functions_is_the_articles_use_fn_fn_prime() -> None:
    def l1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        return float(np.abs(y_pred - y_true).mean())

    def l1_prime(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        return np.sign(y_pred - y_true) / y_true.size

    loss = get_loss(l1, l1_prime)
    assert isinstance(loss, FunctionLoss) and repr(loss) == "FunctionLoss(l1)"
    y, p = np.array([[0.0, 1.0]]), np.array([[0.5, 0.25]], dtype=np.float32)
    assert loss(y, p) == pytest.approx(0.625)  # (0.5 + 0.75) / 2
    grad = loss.gradient(y, p)
    assert grad.dtype == np.float32 and np.array_equal(grad, np.array([[0.5, -0.5]], dtype=np.float32))
    net = gn.Network(seed=0, learning_rate=0.5, verbose=0).add(gn.Dense(2, 2)).use(l1, l1_prime)
    before = net.evaluate(np.eye(2), np.eye(2))["loss"]
    net.fit(np.eye(2), np.eye(2), epochs=20, batch_size=2)
    assert net.evaluate(np.eye(2), np.eye(2))["loss"] < before


def test_log_softmax_and_the_loss_of_sequences_are_per_step() -> None:
    logits = np.array([[[0.0, 0.0], [0.0, np.log(3.0)]]])  # (N=1, T=2, classes=2)
    expected = np.log([[[0.5, 0.5], [0.25, 0.75]]])
    np.testing.assert_allclose(log_softmax(logits), expected)
    assert distributions(logits) == 2 and distributions(np.zeros((4, 3))) == 4 and distributions(np.float64(1)) == 1
    targets = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    assert CrossEntropy().loss_from_logits(targets, logits) == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2)


def test_cross_entropy_of_a_zero_probability_is_large_but_finite() -> None:
    y, p = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]], dtype=np.float32)
    tiny = np.finfo(np.float32).tiny
    assert CrossEntropy()(y, p) == pytest.approx(-np.log(tiny), rel=1e-6)  # log clipped at the smallest float
    grad = CrossEntropy().gradient(y, p)
    assert np.isfinite(grad).all() and grad[0, 0] == pytest.approx(-1 / tiny, rel=1e-6) and grad[0, 1] == 0
    over = np.array([[1.5, 0.0]], dtype=np.float32)  # above 1: clipped to 1, loss 0
    assert CrossEntropy()(y, over) == 0.0


def test_get_loss_maps_names_and_the_articles_mse_pair_and_refuses_the_rest() -> None:
    assert type(get_loss("mse")) is gn.losses.MSE
    assert type(get_loss(gn.losses.mse, gn.losses.mse_prime)) is gn.losses.MSE  # saveable, not a FunctionLoss
    with pytest.raises(InputError, match=r"unknown loss 'nope': use one of \['cross_entropy', 'mse'\], a gn.Loss"):
        get_loss("nope")
    expected = r"use\(\) takes a loss name \(cross_entropy, mse\), a gn.Loss, or two functions \(loss, loss_prime\)"
    with pytest.raises(gn.InputTypeError, match=expected + "; got function and NoneType"):
        get_loss(gn.losses.mse)  # a function without its derivative
    with pytest.raises(gn.InputTypeError, match="; got function and str"):
        get_loss(gn.losses.mse, "mse_prime")
    nameless = FunctionLoss(lambda t, p: 0.0, lambda t, p: p)
    assert repr(nameless) == "FunctionLoss(<lambda>)"

    class Callable:
        def __call__(self, t: np.ndarray, p: np.ndarray) -> float:
            return 0.0

    assert FunctionLoss(Callable(), lambda t, p: p).name == "custom"


def test_cross_entropys_settings_are_named_and_kept_in_its_dtype() -> None:
    with pytest.raises(InputError, match=r"^CrossEntropy: label_smoothing must be a number in \[0, 1\), got 1.5"):
        CrossEntropy(1.5)
    assert CrossEntropy().config() == {} and CrossEntropy(0.1).config() == {"label_smoothing": 0.1}
    assert repr(CrossEntropy(0.1)) == "CrossEntropy(label_smoothing=0.1)"
    y = np.array([[[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]]])  # (N=2, T=1, classes=3): smoothing spreads over 3
    smoothed = CrossEntropy(0.3).smooth(y, np.dtype(np.float32))
    assert smoothed.dtype == np.float32 and np.allclose(smoothed[0, 0], [0.8, 0.1, 0.1])
    p = np.full((2, 1, 3), 1 / 3, dtype=np.float32)
    loss = CrossEntropy(0.3)
    assert loss.gradient(y, p).dtype == np.float32 and loss.from_logits(y, np.zeros_like(p))[1].dtype == np.float32
    assert loss.loss_from_logits(y, np.zeros_like(p)) == pytest.approx(np.log(3), rel=1e-6)
    assert distributions(np.zeros((2, 3, 4))) == 6 and isinstance(distributions(np.zeros((2, 3, 4))), int)


def test_log_softmax_shifts_each_row_by_its_own_maximum() -> None:
    logits = np.array([[1000.0, 1000.0], [0.0, 0.0]])  # one shift for all rows would underflow the second
    np.testing.assert_allclose(log_softmax(logits), np.log(0.5))


def test_cross_entropy_gradient_clips_probabilities_above_one() -> None:
    y, p = np.array([[1.0, 0.0]]), np.array([[1.5, 0.0]], dtype=np.float32)
    assert CrossEntropy().gradient(y, p)[0, 0] == -1.0  # -1 / clip(1.5, tiny, 1) / N


DEFAULTS = {  # PyTorch's defaults, but AdamW's weight decay 0.01 and no dampening
    SGD: {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
    Adam: {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "weight_decay": 0.0},
    AdamW: {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "weight_decay": 0.01},
    RMSprop: {
        **{"learning_rate": 0.01, "alpha": 0.99, "eps": 1e-08},
        **{"momentum": 0.0, "centered": False, "weight_decay": 0.0},
    },
    Adagrad: {"learning_rate": 0.01, "initial_accumulator_value": 0.0, "eps": 1e-10, "weight_decay": 0.0},
}
CHANGED = {  # every setting away from its default, each valid
    SGD: {"learning_rate": 0.2, "momentum": 0.5, "nesterov": True, "weight_decay": 2.0},
    Adam: {"learning_rate": 0.2, "beta1": 0.5, "beta2": 0.6, "eps": 2.0, "weight_decay": 3.0},
    AdamW: {"learning_rate": 0.2, "beta1": 0.5, "beta2": 0.6, "eps": 2.0, "weight_decay": 3.0},
    RMSprop: {"learning_rate": 0.2, "alpha": 0.5, "eps": 2.0, "momentum": 0.6, "centered": True, "weight_decay": 3.0},
    Adagrad: {"learning_rate": 0.2, "initial_accumulator_value": 4.0, "eps": 2.0, "weight_decay": 3.0},
}
FRACTIONS = {"momentum", "beta1", "beta2", "alpha"}  # in [0, 1); the other numbers in [0, inf)


@pytest.mark.parametrize("cls", list(DEFAULTS), ids=lambda cls: cls.__name__)
def test_every_optimizer_setting_has_its_default_round_trips_and_names_itself_when_wrong(cls) -> None:
    assert cls().config() == DEFAULTS[cls]
    built = cls(**CHANGED[cls])
    assert built.config() == CHANGED[cls] and cls(**built.config()).config() == CHANGED[cls]
    numbers = [key for key, value in DEFAULTS[cls].items() if not isinstance(value, bool) and key != "learning_rate"]
    for key in numbers:
        interval = r"\[0, 1\)" if key in FRACTIONS else r"\[0, inf\)"
        with pytest.raises(InputError, match=rf"^{cls.__name__}: {key} must be a number in {interval}, got -1"):
            cls(**{key: -1})
    with pytest.raises(InputError, match=rf"^{cls.__name__} learning_rate must be a positive finite number"):
        cls(learning_rate=0)
