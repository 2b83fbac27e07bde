"""Learning-rate schedules: values against PyTorch's schedulers, configs, checks, the CLI's text form."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InputError, InputTypeError
from glassnet.schedule_specs import build_schedule, parse_schedule
from glassnet.schedules import Horizon, describe_schedule

S = gn.schedules
HORIZON = Horizon(steps_per_epoch=10, total_steps=100)


def rates(schedule: gn.schedules.Schedule, steps: int, horizon: Horizon = HORIZON) -> np.ndarray:
    return np.array([schedule.rate(step, horizon) for step in range(steps)])


def torch_rates(make_scheduler, steps: int, lr: float, per_epoch: int = 1) -> np.ndarray:
    """The rate torch's scheduler gives each of `steps` optimizer steps (stepped every per_epoch steps)."""
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(optimizer)
    out = []
    for step in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if (step + 1) % per_epoch == 0:
            scheduler.step()
    return np.array(out)


def test_constant() -> None:
    np.testing.assert_array_equal(rates(S.Constant(0.1), 5), [0.1] * 5)


def test_step_per_epoch_matches_torch_step_lr() -> None:
    lr_sched = pytest.importorskip("torch").optim.lr_scheduler
    want = torch_rates(lambda opt: lr_sched.StepLR(opt, step_size=2, gamma=0.5), 60, 0.1, per_epoch=10)
    np.testing.assert_allclose(rates(S.Step(0.1, step_size=2, gamma=0.5), 60), want, rtol=1e-12)


def test_step_per_step_and_exponential_match_torch() -> None:
    lr_sched = pytest.importorskip("torch").optim.lr_scheduler
    want = torch_rates(lambda opt: lr_sched.StepLR(opt, step_size=3, gamma=0.1), 20, 0.5)
    np.testing.assert_allclose(rates(S.Step(0.5, step_size=3, gamma=0.1, unit="step"), 20), want, rtol=1e-12)
    want = torch_rates(lambda opt: lr_sched.ExponentialLR(opt, gamma=0.9), 40, 0.1, per_epoch=10)
    np.testing.assert_allclose(rates(S.Exponential(0.1, gamma=0.9), 40), want, rtol=1e-12)


def test_cosine_matches_torch_cosine_annealing() -> None:
    lr_sched = pytest.importorskip("torch").optim.lr_scheduler
    want = torch_rates(lambda opt: lr_sched.CosineAnnealingLR(opt, T_max=100, eta_min=0.001), 100, 0.1)
    np.testing.assert_allclose(rates(S.Cosine(0.1, min_rate=0.001), 100), want, rtol=1e-10)


def test_cosine_warmup_is_linear_then_torch_cosine() -> None:
    lr_sched = pytest.importorskip("torch").optim.lr_scheduler
    got = rates(S.Cosine(0.1, total_steps=50, warmup=10), 50)
    # warm-up: 0.1 * 1/10, 0.1 * 2/10, ..., 0.1 * 10/10
    np.testing.assert_allclose(got[:10], 0.1 * np.arange(1, 11) / 10, rtol=1e-12)
    want = torch_rates(lambda opt: lr_sched.CosineAnnealingLR(opt, T_max=40), 40, 0.1)
    np.testing.assert_allclose(got[10:], want, rtol=1e-10)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
        {"anneal": "linear"},
        {"three_phase": True},
        {"three_phase": True, "anneal": "linear", "pct_start": 0.4},
    ],
)
def test_onecycle_matches_torch_onecycle_lr(options: dict) -> None:
    lr_sched = pytest.importorskip("torch").optim.lr_scheduler
    torch_options = {("anneal_strategy" if key == "anneal" else key): value for key, value in options.items()}
    want = torch_rates(
        lambda opt: lr_sched.OneCycleLR(opt, max_lr=0.01, total_steps=100, cycle_momentum=False, **torch_options),
        100,
        0.01,
    )
    np.testing.assert_allclose(rates(S.OneCycle(0.01, **options), 100), want, rtol=1e-12)


def test_onecycle_takes_the_run_length_or_its_own() -> None:
    own = S.OneCycle(0.01, total_steps=40)
    assert own.rate(39, HORIZON) == pytest.approx(0.01 / 25 / 1e4)  # its own end, whatever the run
    run = S.OneCycle(0.01)
    assert run.rate(99, HORIZON) == pytest.approx(0.01 / 25 / 1e4)
    assert run.rate(29, HORIZON) == pytest.approx(0.01)  # the peak at pct_start * 100 - 1
    assert run.rate(500, HORIZON) == run.rate(99, HORIZON)  # beyond the end: the final rate


def test_warmup_wraps_any_schedule_and_matches_torch_linear_lr() -> None:
    lr_sched = pytest.importorskip("torch").optim.lr_scheduler
    got = rates(S.Warmup(S.Constant(0.2), steps=5), 12)
    want = torch_rates(lambda opt: lr_sched.LinearLR(opt, start_factor=1 / 5, total_iters=4), 12, 0.2)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    inner = S.Exponential(0.1, gamma=0.5, unit="step")
    wrapped = rates(S.Warmup(inner, steps=4), 8)
    np.testing.assert_allclose(wrapped, [0.1 * 0.5**s * min(1, (s + 1) / 4) for s in range(8)], rtol=1e-12)


@pytest.mark.parametrize(
    "schedule",
    [
        S.Constant(0.1),
        S.Step(0.1, 3, 0.5, unit="step"),
        S.Exponential(0.1, 0.9),
        S.Cosine(0.1, total_steps=80, warmup=5, min_rate=0.01),
        S.OneCycle(0.02, pct_start=0.2, three_phase=True),
        S.Warmup(S.Cosine(0.1), 7),
    ],
    ids=repr,
)
def test_config_rebuilds_the_same_schedule(schedule: gn.schedules.Schedule) -> None:
    rebuilt = build_schedule(describe_schedule(schedule))
    assert rebuilt == schedule
    np.testing.assert_array_equal(rates(rebuilt, 100), rates(schedule, 100))


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(InputError, match="gamma must be a number in \\(0, 1\\]"):
        S.Step(0.1, gamma=1.5)
    with pytest.raises(InputError, match='unit must be "step" or "epoch"'):
        S.Exponential(0.1, 0.9, unit="batch")
    with pytest.raises(InputError, match="warmup \\(10\\) must be below total_steps \\(10\\)"):
        S.Cosine(0.1, total_steps=10, warmup=10)
    with pytest.raises(InputError, match="anneal must be"):
        S.OneCycle(0.1, anneal="cosine")
    with pytest.raises(InputTypeError, match=r"inner must be a gn\.schedules schedule"):
        S.Warmup(0.1, 5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown schedule 'Sawtooth'"):
        build_schedule({"type": "Sawtooth", "config": {}})
    with pytest.raises(InputTypeError, match=r"schedule must be a gn\.schedules schedule"):
        gn.Network(schedule="onecycle")  # type: ignore[arg-type]


def test_parse_schedule_reads_the_command_line_form() -> None:
    assert parse_schedule("onecycle", 0.01) == S.OneCycle(0.01)
    assert parse_schedule("cosine:warmup=100", 0.1) == S.Cosine(0.1, warmup=100)
    assert parse_schedule("step:gamma=0.5,step_size=2", 0.1) == S.Step(0.1, 2, 0.5)
    assert parse_schedule("onecycle:anneal=linear,three_phase=true", 0.1) == S.OneCycle(
        0.1, anneal="linear", three_phase=True
    )
    with pytest.raises(InputError, match="unknown schedule 'saw'"):
        parse_schedule("saw", 0.1)
    with pytest.raises(InputError, match="write KEY=VALUE"):
        parse_schedule("step:0.5", 0.1)
    with pytest.raises(InputError, match="unexpected keyword argument 'gama'"):
        parse_schedule("step:gama=0.5", 0.1)


def test_cosine_is_half_way_at_the_middle() -> None:
    assert S.Cosine(0.2).rate(50, HORIZON) == pytest.approx(0.1 * (1 + math.cos(math.pi / 2)))
