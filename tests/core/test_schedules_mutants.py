"""Schedules: the exact messages, reprs, hashes and edge rates that mutation testing found unchecked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import glassnet as gn
from glassnet.errors import InputError, InputTypeError
from glassnet.schedule_specs import _value, build_schedule, check_schedule, parse_schedule
from glassnet.schedules import Horizon, describe_schedule

S = gn.schedules
HORIZON = Horizon(steps_per_epoch=10, total_steps=100)

BAD_ARGUMENTS: list[tuple[Callable[[], object], str]] = [
    (lambda: S.Constant(0), "Constant learning_rate must be a positive finite number such as 0.01, got 0"),
    (lambda: S.Step(-1.0), "Step learning_rate must be a positive finite number such as 0.01, got -1.0"),
    (lambda: S.Step(0.1, step_size=0), "Step step_size must be an int >= 1, got 0"),
    (lambda: S.Step(0.1, gamma=0.0), "Step: gamma must be a number in (0, 1], got 0.0"),
    (lambda: S.Step(0.1, unit="batch"), 'Step: unit must be "step" or "epoch", got \'batch\''),
    (lambda: S.Exponential(0, 0.5), "Exponential learning_rate must be a positive finite number such as 0.01, got 0"),
    (lambda: S.Exponential(0.1, 1.5), "Exponential: gamma must be a number in (0, 1], got 1.5"),
    (lambda: S.Exponential(0.1, 0.5, "batch"), 'Exponential: unit must be "step" or "epoch", got \'batch\''),
    (lambda: S.Cosine(0), "Cosine learning_rate must be a positive finite number such as 0.01, got 0"),
    (lambda: S.Cosine(0.1, total_steps=0), "Cosine total_steps must be an int >= 1, got 0"),
    (lambda: S.Cosine(0.1, warmup=-1), "Cosine warmup must be an int >= 0, got -1"),
    (lambda: S.Cosine(0.1, min_rate=0.2), "Cosine: min_rate must be a number in [0, 0.1), got 0.2"),
    (lambda: S.Cosine(0.1, total_steps=5, warmup=6), "Cosine: warmup (6) must be below total_steps (5)"),
    (lambda: S.OneCycle(0), "OneCycle max_rate must be a positive finite number such as 0.01, got 0"),
    (lambda: S.OneCycle(0.1, total_steps=0), "OneCycle total_steps must be an int >= 1, got 0"),
    (lambda: S.OneCycle(0.1, pct_start=1.0), "OneCycle: pct_start must be a number in (0, 1), got 1.0"),
    (lambda: S.OneCycle(0.1, div_factor=0), "OneCycle div_factor must be a positive finite number such as 25, got 0"),
    (
        lambda: S.OneCycle(0.1, final_div_factor=-1),
        "OneCycle final_div_factor must be a positive finite number such as 1e4, got -1",
    ),
    (lambda: S.OneCycle(0.1, anneal="cosine"), 'OneCycle: anneal must be "cos" or "linear", got \'cosine\''),
    (lambda: S.Warmup(S.Constant(0.1), 0), "Warmup steps must be an int >= 1, got 0"),
]


@pytest.mark.parametrize(("make", "message"), BAD_ARGUMENTS, ids=[message for _, message in BAD_ARGUMENTS])
def test_each_bad_argument_names_the_schedule_the_argument_and_a_fix(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        make()
    assert str(caught.value) == message


def test_warmup_names_the_type_it_got() -> None:
    with pytest.raises(InputTypeError) as caught:
        S.Warmup(0.1, 5)  # type: ignore[arg-type]
    assert str(caught.value) == "Warmup: inner must be a gn.schedules schedule, got float"


def test_a_decay_factor_of_one_is_allowed() -> None:
    assert S.Step(0.1, gamma=1.0).rate(50, HORIZON) == 0.1
    assert S.Exponential(0.1, 1.0).rate(50, HORIZON) == 0.1


def test_repr_shows_the_class_and_its_arguments() -> None:
    assert repr(S.Exponential(0.1, 0.5)) == "Exponential(learning_rate=0.1, gamma=0.5, unit='epoch')"


def test_different_schedules_hash_differently() -> None:
    assert hash(S.Step(0.1)) == hash(S.Step(0.1))
    assert hash(S.Step(0.1)) != hash(S.Step(0.2))
    assert hash(S.Step(0.1)) != hash(S.Exponential(0.1, 0.1))


def test_a_one_step_cosine_ends_at_min_rate() -> None:
    schedule = S.Cosine(0.1, total_steps=1, min_rate=0.01)
    assert [schedule.rate(step, HORIZON) for step in (0, 1, 5)] == [0.1, 0.01, 0.01]


def test_unknown_schedule_lists_the_names() -> None:
    with pytest.raises(InputError) as caught:
        parse_schedule("saw", 0.1)
    assert str(caught.value) == (
        "unknown schedule 'saw': use one of constant, step, exponential, cosine, onecycle, e.g. cosine:warmup=100"
    )


def test_an_option_value_is_everything_after_the_first_equals_sign() -> None:
    with pytest.raises(InputError, match="Cosine warmup must be an int >= 0, got '1=2'"):
        parse_schedule("cosine:warmup=1=2", 0.1)


@pytest.mark.parametrize(
    ("raw", "value"), [("true", True), ("TRUE", True), ("False", False), ("false", False), ("3", 3), ("x", "x")]
)
def test_option_values_are_typed(raw: str, value: object) -> None:
    assert _value(raw) == value and type(_value(raw)) is type(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["type", "config"], "a schedule is written {\"type\": ..., \"config\": {...}}, got ['type', 'config']"),
        ({"type": "Step"}, "a schedule is written {\"type\": ..., \"config\": {...}}, got {'type': 'Step'}"),
        (
            {"type": "Step", "config": []},
            "a schedule is written {\"type\": ..., \"config\": {...}}, got {'type': 'Step', 'config': []}",
        ),
        (
            {"type": ["Step"], "config": {}},
            "unknown schedule ['Step']: use one of Constant, Step, Exponential, Cosine, OneCycle, Warmup",
        ),
    ],
)
def test_a_malformed_description_is_one_clear_error(value: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        build_schedule(value)
    assert str(caught.value) == message


def test_only_warmup_builds_an_inner_schedule() -> None:
    with pytest.raises(InputError, match=r"^schedule Step: .*unexpected keyword argument 'inner'$"):
        build_schedule({"type": "Step", "config": {"learning_rate": 0.1, "inner": 5}})


def test_check_schedule_says_what_to_pass() -> None:
    with pytest.raises(InputTypeError) as caught:
        check_schedule("onecycle")
    assert str(caught.value) == (
        "schedule must be a gn.schedules schedule or None, got str: pass e.g. gn.schedules.OneCycle(1e-2)"
    )


class Halved(S.Constant):
    """A user's schedule: a subclass of a built-in one, with the same config."""

    def rate(self, step: int, horizon: Horizon) -> float:
        return self.learning_rate / 2


def test_a_custom_schedule_cannot_be_stored_and_lists_the_built_in_ones() -> None:
    with pytest.raises(InputTypeError) as caught:
        describe_schedule(Halved(0.1))
    assert str(caught.value) == (
        "the schedule Halved is not built in, so a model file cannot store it: "
        "use one of Constant, Step, Exponential, Cosine, OneCycle, Warmup"
    )


def test_equality_needs_the_same_class_and_the_same_config() -> None:
    assert S.Step(0.1) == S.Step(0.1)
    assert S.Step(0.1) != S.Step(0.2)
    assert S.Constant(0.1) != Halved(0.1)
    assert S.Constant(0.1) != 0.1


def test_a_one_step_warm_up_phase_reaches_the_peak_at_once() -> None:
    # pct_start * total_steps = 1: the climb ends where it starts, at step 0.
    schedule = S.OneCycle(1.0, total_steps=10, pct_start=0.1)
    assert schedule.rate(0, HORIZON) == 1.0
