"""Schedules from their descriptions: a model file's {"type", "config"} and the command line's text.

`build_schedule` is the inverse of `schedules.describe_schedule` (model files and JSON specs),
`parse_schedule` reads `--schedule NAME[:KEY=VALUE,...]`, and `check_schedule` checks the schedule
argument of `Network` and `fit`. The schedules themselves are in `glassnet/schedules.py`.
"""

from __future__ import annotations

from typing import Any

from glassnet.errors import InputError, InputTypeError
from glassnet.schedules import SCHEDULES, Constant, Cosine, Exponential, OneCycle, Schedule, Step, Warmup


def build_schedule(value: object) -> Schedule:
    """The schedule {"type": ..., "config": ...} describes; InputError if it is not a valid one."""
    if not isinstance(value, dict) or set(value) != {"type", "config"} or not isinstance(value["config"], dict):
        raise InputError(f'a schedule is written {{"type": ..., "config": {{...}}}}, got {value!r}')
    cls = SCHEDULES.get(value["type"]) if isinstance(value["type"], str) else None
    if cls is None:
        raise InputError(f"unknown schedule {value['type']!r}: use one of {', '.join(SCHEDULES)}")
    config = dict(value["config"])
    if cls is Warmup and "inner" in config:
        config["inner"] = build_schedule(config["inner"])
    try:
        return cls(**config)
    except TypeError as error:
        raise InputError(f"schedule {value['type']}: {error}") from None


def check_schedule(schedule: object) -> Schedule | None:
    """A Schedule or None, else an InputTypeError saying what to pass."""
    if schedule is None or isinstance(schedule, Schedule):
        return schedule
    raise InputTypeError(
        f"schedule must be a gn.schedules schedule or None, got {type(schedule).__name__}: "
        "pass e.g. gn.schedules.OneCycle(1e-2)"
    )


NAMES: dict[str, type[Schedule]] = {
    "constant": Constant,
    "step": Step,
    "exponential": Exponential,
    "cosine": Cosine,
    "onecycle": OneCycle,
}


def parse_schedule(text: str, learning_rate: float) -> Schedule:
    """A schedule from the command line's NAME[:KEY=VALUE,...], its base rate `learning_rate`.

    Examples: "onecycle", "cosine:warmup=100", "step:gamma=0.5,step_size=2", "exponential:gamma=0.9".

    Args:
        text: the name and options.
        learning_rate: the rate (max_rate for onecycle).
    """
    name, _, rest = text.partition(":")
    cls = NAMES.get(name.strip().lower())
    if cls is None:
        raise InputError(f"unknown schedule {name!r}: use one of {', '.join(NAMES)}, e.g. cosine:warmup=100")
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, raw = item.partition("=")
        if not sep:
            raise InputError(f"schedule option {item!r}: write KEY=VALUE, e.g. {name}:gamma=0.5")
        options[key.strip()] = _value(raw.strip())
    first = "max_rate" if cls is OneCycle else "learning_rate"
    try:
        schedule: Schedule = cls(**{first: learning_rate, **options})
    except TypeError as error:
        raise InputError(f"schedule {text!r}: {error}") from None
    return schedule


def _value(raw: str) -> Any:
    """A command-line option value as int, float, bool or text."""
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw
