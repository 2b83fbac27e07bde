"""The progress bar spans the whole run (one ETA, one images/s figure); epoch lines go to stdout above it."""

from __future__ import annotations

import numpy as np

import glassnet as gn
from glassnet.network.progress import RunProgress


def test_one_bar_counts_every_image_of_the_run() -> None:
    progress = RunProgress(2, 4, 100, verbose=1)  # epochs 2, 3 and 4 of a resumed run
    assert progress.bar is not None and progress.bar.total == 300
    progress.update(50, 0.5, 0.9)
    assert progress.bar.n == 50 and "img/s" not in str(progress.bar.postfix)  # tqdm's own rate is the one figure
    progress.close()
    assert RunProgress(1, 3, 100, verbose=2).bar is None


def test_epoch_lines_are_printed_and_the_bar_goes_to_stderr(capsys) -> None:
    x, y = np.random.default_rng(0).random((64, 4)), np.arange(64) % 2
    net = gn.Network(batch_size=16, seed=0, verbose=1).add(gn.Dense(4, 2)).add(gn.Softmax()).use("cross_entropy")
    net.fit(x, y, epochs=2)
    out, err = capsys.readouterr()
    assert [line.split(" - ")[0] for line in out.splitlines()] == ["Epoch 1/2", "Epoch 2/2"]
    assert "Epoch" in err and "img" in err


def test_the_bar_is_tqdm_auto_a_text_bar_outside_jupyter(capsys) -> None:
    from tqdm.auto import tqdm as auto_tqdm
    from tqdm.std import tqdm as text_tqdm

    progress = RunProgress(1, 1, 10, verbose=1)
    assert isinstance(progress.bar, auto_tqdm)  # a widget in a notebook (tqdm.notebook) ...
    assert isinstance(progress.bar, text_tqdm) and not hasattr(progress.bar, "container")  # ... text here
    progress.update(10, 0.5, None)
    progress.close()
    assert "Epoch 1/1:" in capsys.readouterr().err  # the text bar, captured as before
