"""The report's account of how a model was made: hyper-parameters, time, dates, versions, commands.

Read from the model's reproducibility card (`net.card`, glassnet.network.card: one record per fit)
and its history (seconds per epoch). A model saved before glassnet kept a card shows the
hyper-parameters its network holds, and says what is missing.
"""

from __future__ import annotations

import datetime
import html
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from glassnet.io.schema import describe
from glassnet.network.network import Network

MISSING = "not recorded"
SETTINGS = (  # (card key, row label) of each fit's hyper-parameters
    ("epochs", "epochs"),
    ("learning_rate", "learning rate"),
    ("batch_size", "batch size"),
    ("shuffle", "shuffle"),
    ("validation_split", "validation split"),
    ("callbacks", "callbacks"),
    ("resume", "resumed from a checkpoint"),
    ("distributed", "distributed (MPI)"),
)
ENVIRONMENT = (("glassnet", "glassnet"), ("numpy", "NumPy"), ("blas", "BLAS"), ("python", "Python"))


def fit_seconds(history: Mapping[str, Sequence[float]], fits: Sequence[Mapping[str, Any]]) -> list[float]:
    """The training time of each fit: the seconds of the epochs it added to the history.

    Args:
        history: Network.history (its seconds, one per epoch).
        fits: the card's fit records, in order (each knows the epochs before it).
    """
    seconds = list(history.get("seconds") or [])
    starts = [int(fit.get("epochs_before", 0)) for fit in fits] + [len(seconds)]
    return [sum(seconds[start:end]) for start, end in itertools.pairwise(starts)]


def duration(seconds: float) -> str:
    """'41.3 s', '12 min 5 s' or '2 h 3 min'. Args: seconds: the time."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _date(value: object) -> str:
    """An ISO date from the card as 'YYYY-MM-DD HH:MM UTC'; MISSING for a card from before dates."""
    if not isinstance(value, str):
        return MISSING
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return html.escape(value)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _call(record: Mapping[str, Any] | None) -> str:
    """'Adam(learning_rate=0.002, beta1=0.9, ...)' from a {"type", "config"} record (optimizer, schedule, augment)."""
    if not record:
        return MISSING
    config = ", ".join(f"{key}={value!r}" for key, value in record.get("config", {}).items())
    return f"{record.get('type')}({config})"


def _value(value: object) -> str:
    """A card setting as a cell: yes/no, a list joined (none when empty), else as written; escaped."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return html.escape(", ".join(map(str, value)) or "none")
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table, the first column as row headers; cells already escaped."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join(
        "<tr><th>" + row[0] + "</th>" + "".join(f"<td>{cell}</td>" for cell in row[1:]) + "</tr>" for row in rows
    )
    return f'<table class="run"><tr>{head}</tr>{body}</table>'


def run_section(net: Network, now: datetime.datetime | None = None) -> list[str]:
    """The report's "How it was trained" part: one column per fit, then the network's own settings.

    Args:
        net: the model, with its card and history.
        now: when the report is written (default: now), shown with the glassnet that wrote it.
    """
    from glassnet import __version__  # the package's version, as the card records it

    now = now or datetime.datetime.now(datetime.timezone.utc)
    fits: list[dict[str, Any]] = list(net.card.get("fits", []))
    epochs, total = len(net.history.get("loss", [])), sum(net.history.get("seconds") or [])
    lead = (
        f"{epochs} epoch{'s' if epochs > 1 else ''} trained in {duration(total)} ({duration(total / epochs)} an epoch)"
        if epochs
        else "Not trained yet"
    )
    parts = [
        "<h2>How it was trained</h2>",
        f'<p class="lead">{lead}. Report written {now.strftime("%Y-%m-%d %H:%M UTC")} by glassnet '
        f"{html.escape(__version__)}.</p>",
    ]
    if fits:
        seconds = fit_seconds(net.history, fits)
        rows = [
            ["started", *(_date(fit.get("date")) for fit in fits)],
            ["training time", *(duration(value) for value in seconds)],
            ["seed", *(html.escape(str(fit.get("seed"))) for fit in fits)],
        ]
        for key, label in SETTINGS:
            rows.append([label, *(_value(fit["settings"].get(key, MISSING)) for fit in fits)])
        rows.append(["optimizer", *(html.escape(_call(fit.get("optimizer"))) for fit in fits)])
        for key, label in ENVIRONMENT:
            rows.append([label, *(html.escape(str(fit["environment"].get(key, MISSING))) for fit in fits)])
        rows.append(["command", *(f"<code>{html.escape(str(fit.get('command', MISSING)))}</code>" for fit in fits)])
        parts.append(_table(["", *(f"fit {number}" for number in range(1, len(fits) + 1))], rows))
    else:
        parts.append(
            '<p class="note">This model file holds no reproducibility card (saved before glassnet kept one): '
            "no dates, commands or versions; the settings below are those the network holds.</p>"
        )
    try:
        architecture = describe(net)
    except ValueError:  # a custom layer, loss or optimizer: no settings to describe beyond the card
        return parts
    network = architecture["network"]
    rows = [
        ["loss", html.escape(str(architecture["loss"]))],
        ["optimizer now", html.escape(_call(architecture["optimizer"]))],
        [
            "constructor",
            html.escape(", ".join(f"{key}={network[key]}" for key in ("epochs", "learning_rate", "batch_size"))),
        ],
    ]
    for key in ("schedule", "augment"):
        if architecture.get(key):
            rows.append([key, html.escape(_call(architecture[key]))])
    parts.append(_table(["network", ""], rows))
    return parts
