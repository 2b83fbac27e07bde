"""Mutation testing of glassnet's core with mutmut 3, each module against only the tests that cover it.

Usage (from the repository root, with `pip install -e .[mutation]`):

    python tools/mutation.py src/glassnet/optimizers.py src/glassnet/losses.py   # run these modules
    python tools/mutation.py all                                               # every module in MODULE_TESTS
    python tools/mutation.py --report                                          # the score table so far
    python tools/mutation.py --survivors src/glassnet/schedules.py             # the surviving mutants' diffs

Each module gets its own work folder, `.mutation/<dotted.name>/`: links to `src/` and `tests/`, and a copy of
pyproject.toml with a generated `[tool.mutmut]` section that mutates only that module and selects only its
tests. mutmut keeps a single `mutants/` folder and a single test selection per project, and changing the
selection resets every cached result, so one folder per module is what lets modules run (and be resumed)
independently. Inside a work folder the plain mutmut commands work too: `cd .mutation/glassnet.losses &&
mutmut show glassnet.losses.x_mse__mutmut_3`.

Args (command line):
    MODULE: a path under src/ or a dotted name (`glassnet.losses`), or `all`.
    --max-children: parallel mutant workers (default 1: the machine is shared).
    --fresh: delete the module's work folder first (needed after editing the module itself).
    --report: print the per-module table from the work folders and exit.
    --survivors: print the changed lines of every surviving mutant of the given modules and exit.
    --brief: print, per function, the numbers of the surviving mutants of the given modules and exit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutation"

# The one place that says which tests cover which module: a mutant is run against these files only.
# Keep each list to the tests that exercise the module directly; the full suite is too slow per mutant.
# Tests written to kill survivors are named tests/**/test_*_mutants.py and listed with their module.
# Leave out tests that import torch where a module has other tests: a worker forked after torch's
# thread pools started can hang until mutmut's timeout (seen with test_torch_parity.py on conv.py).
MODULE_TESTS: dict[str, list[str]] = {
    "src/glassnet/optimizers.py": [
        "tests/core/test_optimizer_steps.py",
        "tests/core/test_optimizer_loss_mutants.py",
        "tests/core/test_optimizer_torch.py",
        "tests/network/test_network.py",
        "tests/io/test_io.py",
    ],
    "src/glassnet/losses.py": [
        "tests/core/test_loss_values.py",
        "tests/core/test_optimizer_loss_mutants.py",
        "tests/layers/test_gradients.py",
        "tests/network/test_network.py",
        "tests/network/test_evaluate_values.py",
    ],
    "src/glassnet/schedules.py": [
        "tests/core/test_schedules.py",
        "tests/core/test_schedules_mutants.py",
        "tests/network/test_schedule_training.py",
    ],
    "src/glassnet/schedule_specs.py": [
        "tests/core/test_schedules.py",
        "tests/core/test_schedules_mutants.py",
        "tests/network/test_schedule_training.py",
        "tests/apps/test_zoo.py",
    ],
    "src/glassnet/layers/dense.py": [
        "tests/layers/test_layers.py",
        "tests/layers/test_gradients.py",
        "tests/layers/test_dense_mutants.py",
    ],
    "src/glassnet/layers/activations.py": [
        "tests/layers/test_layers.py",
        "tests/layers/test_gradients.py",
        "tests/layers/test_activations_mutants.py",
    ],
    "src/glassnet/layers/conv.py": [
        "tests/layers/test_layers.py",
        "tests/layers/test_gradients.py",
        "tests/layers/test_conv_mutants.py",
    ],
    "src/glassnet/layers/maxpool2x2.py": [
        "tests/layers/test_layers.py",
        "tests/layers/test_gradients.py",
        "tests/layers/test_fast.py",
        "tests/layers/test_maxpool_ties.py",
        "tests/layers/test_maxpool2x2_mutants.py",
    ],
    "src/glassnet/layers/pooling.py": [
        "tests/layers/test_layers.py",
        "tests/layers/test_gradients.py",
        "tests/layers/test_maxpool_ties.py",
        "tests/io/test_io.py",
        "tests/layers/test_pooling_mutants.py",
    ],
    "src/glassnet/io/atomic.py": [
        "tests/io/test_io.py",
        "tests/io/test_checkpoint.py",
        "tests/io/test_hostile_files.py",
        "tests/datasets/test_idx.py",
        "tests/io/test_durable_saves.py",
        "tests/io/test_atomic_mutants.py",
    ],
    "src/glassnet/network/loop.py": [
        "tests/network/test_network.py",
        "tests/network/test_fit_options.py",
        "tests/network/test_training_safety.py",
        "tests/network/test_fit_rollback.py",
        "tests/network/test_progress.py",
        "tests/network/test_callbacks.py",
        "tests/network/test_schedule_training.py",
        "tests/network/test_augment_training.py",
        "tests/network/test_loop_mutants.py",
        "tests/network/test_doctor.py",
        "tests/network/test_batches_and_validation.py",
        "tests/network/test_evaluate_values.py",
        "tests/network/test_distributed_mutants.py",
        "tests/network/test_batch_history.py",
    ],
    "src/glassnet/network/data.py": [
        "tests/network/test_validation.py",
        "tests/network/test_network.py",
        "tests/network/test_batches_and_validation.py",
        "tests/network/test_loop_mutants.py",
        "tests/datasets/test_folder.py",
        "tests/network/test_data_mutants.py",
    ],
    # The ranks of test_distributed.py run under mpiexec, where mutmut's trampolines do not reach;
    # test_distributed_mutants.py runs them as threads against a fake communicator (tests/fake_mpi.py).
    "src/glassnet/network/distributed.py": [
        "tests/network/test_distributed_mutants.py",
        "tests/network/test_distributed.py",
    ],
    # Not test_checkpoint.py: its runs train and kill subprocesses (seconds a test, a minute a surviving mutant),
    # and test_io.py takes every save and load path it takes.
    "src/glassnet/io/model_file.py": [
        "tests/io/test_io.py",
        "tests/io/test_hostile_files.py",
        "tests/io/test_fixtures.py",
        "tests/io/test_custom_layers.py",
        "tests/io/test_model_file_mutants.py",
    ],
    # The stored architecture's checks and building, moved out of model_file.py: the same tests.
    "src/glassnet/io/model_build.py": [
        "tests/io/test_io.py",
        "tests/io/test_hostile_files.py",
        "tests/io/test_fixtures.py",
        "tests/io/test_custom_layers.py",
        "tests/io/test_model_file_mutants.py",
    ],
    "src/glassnet/io/resume.py": [
        "tests/io/test_checkpoint.py",
        "tests/io/test_fixtures.py",
        "tests/io/test_custom_layers.py",
        "tests/network/test_fit_rollback.py",
        "tests/network/test_schedule_training.py",
        "tests/network/test_augment_training.py",
        "tests/network/test_callbacks.py",
        "tests/io/test_resume_mutants.py",
    ],
    "src/glassnet/io/state.py": [
        "tests/io/test_checkpoint.py",
        "tests/io/test_io.py",
        "tests/io/test_fixtures.py",
        "tests/network/test_fit_rollback.py",
        "tests/network/test_training_safety.py",
        "tests/network/test_batch_history.py",
        "tests/network/test_callbacks.py",
        "tests/io/test_state_mutants.py",
    ],
    # Tests that call glassnet.apps.cli.main in this process. test_cli.py and test_cli_folders.py run `python -m
    # glassnet` in subprocesses, which mutmut's trampolines do not reach (they would only cost minutes). The
    # in-process trainings of test_cli_options.py, test_pretrained.py and test_export.py (1-80 s each) are left
    # out: every test that calls main reaches build_parser, whose 668 mutants would each run them all.
    "src/glassnet/apps/cli.py": ["tests/apps/test_hostile_inputs.py", "tests/apps/test_cli_mutants.py"],
    # The commands, moved out of cli.py: the same tests, which reach them through main.
    "src/glassnet/apps/commands.py": ["tests/apps/test_hostile_inputs.py", "tests/apps/test_cli_mutants.py"],
    # The tests that send requests to an in-process AppServer or call the Predictor, but test_serve_doc.py,
    # which reads docs/serve-api.md beside tests/ (mutmut's copy of the tree has no docs/), and
    # test_serve_concurrency.py, 12 s of every Predictor.predict mutant's run (the mutants test checks the lock).
    "src/glassnet/apps/serve/api.py": [
        "tests/apps/test_serve.py",
        "tests/apps/test_serve_hostile.py",
        "tests/apps/test_serve_upload.py",
        "tests/apps/test_serve_api_mutants.py",
    ],
}
# Environment variables a module's run needs: numba cannot compile mutmut's trampolines, so the
# compiled max-pool kernels run as plain Python (and get mutated) with the JIT off.
MODULE_ENV: dict[str, dict[str, str]] = {"src/glassnet/layers/maxpool2x2.py": {"NUMBA_DISABLE_JIT": "1"}}

# Counted as killed: a test failed, or the mutant ran past its time limit or crashed the worker.
KILLED = {"killed", "timeout", "segfault", "caught by type check"}


def resolve(name: str) -> str:
    """Return the module's path under src/ for a path or a dotted name.

    Args:
        name: `src/glassnet/losses.py` or `glassnet.losses`.
    """
    path = name if name.endswith(".py") else "src/" + name.replace(".", "/") + ".py"
    if path not in MODULE_TESTS:
        raise SystemExit(f"no tests mapped for {name!r}: add it to MODULE_TESTS in tools/mutation.py")
    return path


def dotted(path: str) -> str:
    """Return `glassnet.losses` for `src/glassnet/losses.py`."""
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def prepare(path: str, fresh: bool) -> Path:
    """Create the module's work folder and its pyproject.toml; return the folder.

    Args:
        path: the module, under src/.
        fresh: delete an existing folder (and its cached results) first.
    """
    folder = WORK / dotted(path)
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("src", "tests"):
        link = folder / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    section = {
        "source_paths": ["src"],
        "only_mutate": [path],
        "pytest_add_cli_args_test_selection": MODULE_TESTS[path],
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q"],
        # The mutants/ copy of the tests is refreshed on every run; the copy of src/ is kept (see --fresh).
        "use_git_change_detection": False,
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in section.items()]
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    (folder / "pyproject.toml").write_text(text + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n", "utf-8")
    return folder


def statuses(path: str) -> dict[str, str]:
    """Return each mutant's status from the module's work folder (empty before a run).

    Args:
        path: the module, under src/.
    """
    from mutmut.stats import status_by_exit_code

    meta = WORK / dotted(path) / "mutants" / (path + ".meta")
    if not meta.exists():
        return {}
    codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in codes.items()}


def score_line(path: str) -> str:
    """Return one Markdown table row: module, killed / total, score, survivors, other statuses."""
    found = statuses(path)
    if not found:
        return f"| {path} | not run | | | |"
    killed = sum(status in KILLED for status in found.values())
    survived = [name for name, status in found.items() if status == "survived"]
    other = sorted({status for status in found.values()} - KILLED - {"survived"})
    counts = ", ".join(f"{status}: {list(found.values()).count(status)}" for status in other)
    return f"| {path} | {killed} / {len(found)} | {100 * killed / len(found):.1f}% | {len(survived)} | {counts} |"


def report(paths: list[str]) -> None:
    """Print the score table for the given modules."""
    print("| module | killed / total | score | survived | other |")
    print("|---|---|---|---|---|")
    for path in paths:
        print(score_line(path))


def survivors(path: str) -> None:
    """Print the changed lines of each mutant of the module that no test killed (`mutmut show` in brief)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    found = statuses(path)
    os.chdir(WORK / dotted(path))
    for name, status in sorted(found.items()):
        if status not in KILLED:
            changed = [line for line in get_diff_for_mutant(name, path=path).splitlines()[2:] if line[:1] in "+-"]
            print(f"# {name}: {status}", *changed, sep="\n")


def brief(path: str) -> None:
    """Print one line per function: the numbers of its mutants that no test killed, by status."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, status in statuses(path).items():
        if status not in KILLED:
            function, _, number = name.removeprefix(dotted(path) + ".").rpartition("__mutmut_")
            # mutmut names a method xǁClassǁname and a function x_name
            readable = function[2:] if function.startswith("x_") else function[1:].replace("ǁ", ".").lstrip(".")
            grouped.setdefault((readable, status), []).append(number)
    for (function, status), numbers in sorted(grouped.items()):
        print(f"- `{function}` {status}: {', '.join(sorted(numbers, key=int))}")


def run(path: str, max_children: int, fresh: bool) -> int:
    """Run mutmut on one module in its work folder; return mutmut's exit status.

    Args:
        path: the module, under src/.
        max_children: parallel mutant workers.
        fresh: start from an empty work folder.
    """
    folder = prepare(path, fresh)
    print(f"== {path}: tests {' '.join(MODULE_TESTS[path])}", flush=True)
    start = time.monotonic()
    env = {**os.environ, **MODULE_ENV.get(path, {})}
    done = subprocess.run(["mutmut", "run", "--max-children", str(max_children)], cwd=folder, env=env, check=False)
    print(f"== {path}: {time.monotonic() - start:.0f} s", flush=True)
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run, report or list survivors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths under src/, dotted names, or 'all'")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--survivors", action="store_true")
    parser.add_argument("--brief", action="store_true")
    args = parser.parse_args(argv)
    paths = list(MODULE_TESTS) if args.modules in ([], ["all"]) else [resolve(name) for name in args.modules]
    if args.report:
        report(paths)
        return 0
    if args.brief:
        for path in paths:
            print(f"### {path}")
            brief(path)
        return 0
    if args.survivors:
        for path in paths:
            survivors(path)
        return 0
    if not args.modules:
        parser.error("name the modules to mutate, or 'all'")
    failures = [path for path in paths if run(path, args.max_children, args.fresh) != 0]
    report(paths)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
