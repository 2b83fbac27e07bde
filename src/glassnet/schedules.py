"""Learning-rate schedules: each maps the optimizer's step (0, 1, ...) to the rate of that step.

fit evaluates the network's schedule before every optimizer step and sets
`optimizer.learning_rate` to it. The step is the optimizer's step count, which checkpoints store,
so a resumed run continues the schedule exactly. A schedule that needs the run's length
(`Cosine`, `OneCycle` with `total_steps=None`) spans the whole run: the epochs of fit, counting
the network's history, times the steps per epoch. `unit="epoch"` counts whole epochs instead of
steps (PyTorch's schedulers stepped once per epoch).

Every schedule is stateless given the step, and `config()` rebuilds it, so model files hold it
(`describe_schedule`; `glassnet/schedule_specs.py` builds schedules back from it and from text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from glassnet.checks import check_count, check_fraction, check_positive
from glassnet.errors import InputError, InputTypeError

UNITS = ("step", "epoch")


@dataclass(frozen=True)
class Horizon:
    """How long the run is, for schedules that depend on it.

    Args:
        steps_per_epoch: optimizer steps in one epoch.
        total_steps: optimizer steps in the whole run (all epochs, counting the history).
    """

    steps_per_epoch: int
    total_steps: int


class Schedule:
    """Base of the schedules: `rate(step, horizon)` is the learning rate of optimizer step `step` (from 0)."""

    def rate(self, step: int, horizon: Horizon) -> float:
        """The learning rate of step `step` (0 is the first step of the run)."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this schedule (JSON-ready)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Schedule) and other.config() == self.config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


def _unit(unit: object, name: str) -> str:
    if unit not in UNITS:
        raise InputError(f'{name}: unit must be "step" or "epoch", got {unit!r}')
    return str(unit)


def _count_of(step: int, horizon: Horizon, unit: str) -> int:
    """Steps or whole epochs done before `step`."""
    return step if unit == "step" else step // horizon.steps_per_epoch


class Constant(Schedule):
    """The same rate at every step.

    Args:
        learning_rate: the rate.
    """

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = check_positive(learning_rate, "Constant learning_rate", "0.01")

    def rate(self, step: int, horizon: Horizon) -> float:
        return self.learning_rate

    def config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate}


class Step(Schedule):
    """learning_rate * gamma ** (count // step_size), as PyTorch's StepLR.

    Args:
        learning_rate: the rate at the start.
        step_size: steps (or epochs) between two decays.
        gamma: the factor of each decay.
        unit: "epoch" (count epochs, the default) or "step".
    """

    def __init__(self, learning_rate: float, step_size: int = 1, gamma: float = 0.1, unit: str = "epoch") -> None:
        self.learning_rate = check_positive(learning_rate, "Step learning_rate", "0.01")
        self.step_size = check_count(step_size, "Step step_size")
        self.gamma = check_fraction(gamma, "gamma", "Step", closed="(]")
        self.unit = _unit(unit, "Step")

    def rate(self, step: int, horizon: Horizon) -> float:
        return self.learning_rate * self.gamma ** (_count_of(step, horizon, self.unit) // self.step_size)

    def config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "step_size": self.step_size,
            "gamma": self.gamma,
            "unit": self.unit,
        }


class Exponential(Schedule):
    """learning_rate * gamma ** count, as PyTorch's ExponentialLR.

    Args:
        learning_rate: the rate at the start.
        gamma: the factor per step (or epoch).
        unit: "epoch" (the default) or "step".
    """

    def __init__(self, learning_rate: float, gamma: float, unit: str = "epoch") -> None:
        self.learning_rate = check_positive(learning_rate, "Exponential learning_rate", "0.01")
        self.gamma = check_fraction(gamma, "gamma", "Exponential", closed="(]")
        self.unit = _unit(unit, "Exponential")

    def rate(self, step: int, horizon: Horizon) -> float:
        return self.learning_rate * self.gamma ** _count_of(step, horizon, self.unit)

    def config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "gamma": self.gamma, "unit": self.unit}


class Cosine(Schedule):
    """A linear warm-up over `warmup` steps, then cosine annealing to min_rate (PyTorch's CosineAnnealingLR).

    Step s < warmup gets learning_rate * (s + 1) / warmup; after it the rate is
    min_rate + (learning_rate - min_rate) * (1 + cos(pi * (s - warmup) / (total - warmup))) / 2.

    Args:
        learning_rate: the peak rate.
        total_steps: steps of the whole schedule; None: the whole run.
        warmup: steps of linear warm-up (0: none).
        min_rate: the rate at the end.
    """

    def __init__(
        self, learning_rate: float, total_steps: int | None = None, warmup: int = 0, min_rate: float = 0.0
    ) -> None:
        self.learning_rate = check_positive(learning_rate, "Cosine learning_rate", "0.01")
        self.total_steps = None if total_steps is None else check_count(total_steps, "Cosine total_steps")
        self.warmup = check_count(warmup, "Cosine warmup", minimum=0)
        self.min_rate = check_fraction(min_rate, "min_rate", "Cosine", high=self.learning_rate)
        if self.total_steps is not None and self.warmup >= self.total_steps:
            raise InputError(f"Cosine: warmup ({self.warmup}) must be below total_steps ({self.total_steps})")

    def rate(self, step: int, horizon: Horizon) -> float:
        if step < self.warmup:
            return self.learning_rate * (step + 1) / self.warmup
        total = self.total_steps or horizon.total_steps
        span = max(total - self.warmup, 1)
        done = min(step - self.warmup, span)
        return self.min_rate + (self.learning_rate - self.min_rate) * (1 + math.cos(math.pi * done / span)) / 2

    def config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "total_steps": self.total_steps,
            "warmup": self.warmup,
            "min_rate": self.min_rate,
        }


class OneCycle(Schedule):
    """The one-cycle policy, per step, with the formulas of PyTorch's OneCycleLR (learning rate only).

    The rate climbs from max_rate / div_factor to max_rate over pct_start of the steps, then
    anneals to max_rate / div_factor / final_div_factor (three_phase: back to the start rate
    first, then down to the final one), by cosine or linear annealing.

    Args:
        max_rate: the peak rate.
        total_steps: steps of the cycle; None: the whole run.
        pct_start: the fraction of steps spent climbing.
        div_factor: start rate = max_rate / div_factor.
        final_div_factor: final rate = start rate / final_div_factor.
        anneal: "cos" or "linear".
        three_phase: PyTorch's three_phase.
    """

    def __init__(
        self,
        max_rate: float,
        total_steps: int | None = None,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        anneal: str = "cos",
        three_phase: bool = False,
    ) -> None:
        self.max_rate = check_positive(max_rate, "OneCycle max_rate", "0.01")
        self.total_steps = None if total_steps is None else check_count(total_steps, "OneCycle total_steps")
        self.pct_start = check_fraction(pct_start, "pct_start", "OneCycle", closed="()")
        self.div_factor = check_positive(div_factor, "OneCycle div_factor", "25")
        self.final_div_factor = check_positive(final_div_factor, "OneCycle final_div_factor", "1e4")
        if anneal not in ("cos", "linear"):
            raise InputError(f'OneCycle: anneal must be "cos" or "linear", got {anneal!r}')
        self.anneal, self.three_phase = anneal, bool(three_phase)

    def rate(self, step: int, horizon: Horizon) -> float:
        total = self.total_steps or horizon.total_steps
        initial = self.max_rate / self.div_factor
        final = initial / self.final_div_factor
        up = float(self.pct_start * total) - 1
        if self.three_phase:
            phases = [(up, initial, self.max_rate), (2 * up, self.max_rate, initial), (total - 1.0, initial, final)]
        else:
            phases = [(up, initial, self.max_rate), (total - 1.0, self.max_rate, final)]
        step = min(step, total - 1)
        index = next(i for i, phase in enumerate(phases) if step <= phase[0])  # the last ends at total - 1
        start_step = phases[index - 1][0] if index else 0.0
        end_step, start, end = phases[index]
        fraction = (step - start_step) / (end_step - start_step) if end_step != start_step else 1.0
        return self._anneal(start, end, fraction)

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal == "linear":
            return (end - start) * fraction + start
        return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)

    def config(self) -> dict[str, Any]:
        return {
            "max_rate": self.max_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal": self.anneal,
            "three_phase": self.three_phase,
        }


class Warmup(Schedule):
    """A linear warm-up in front of another schedule: step s < steps gets inner's rate * (s + 1) / steps.

    Args:
        inner: the schedule warmed up.
        steps: steps of warm-up.
    """

    def __init__(self, inner: Schedule, steps: int) -> None:
        if not isinstance(inner, Schedule):
            raise InputTypeError(f"Warmup: inner must be a gn.schedules schedule, got {type(inner).__name__}")
        self.inner = inner
        self.steps = check_count(steps, "Warmup steps")

    def rate(self, step: int, horizon: Horizon) -> float:
        rate = self.inner.rate(step, horizon)
        return rate * (step + 1) / self.steps if step < self.steps else rate

    def config(self) -> dict[str, Any]:
        return {"inner": describe_schedule(self.inner), "steps": self.steps}


SCHEDULES: dict[str, type[Schedule]] = {
    cls.__name__: cls for cls in (Constant, Step, Exponential, Cosine, OneCycle, Warmup)
}


def describe_schedule(schedule: Schedule) -> dict[str, Any]:
    """{"type": ..., "config": ...} of a built-in schedule, for model files."""
    kind = type(schedule).__name__
    if SCHEDULES.get(kind) is not type(schedule):
        raise InputTypeError(
            f"the schedule {kind} is not built in, so a model file cannot store it: use one of {', '.join(SCHEDULES)}"
        )
    return {"type": kind, "config": schedule.config()}
