"""What fit prints: one tqdm.auto bar over the whole run (a widget in Jupyter) and one line per epoch."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


class RunProgress:
    """One progress bar over every image of a fit's epochs (verbose=1): the whole run's ETA, one images/s figure.

    Args:
        first_epoch, last_epoch: the epochs this fit trains.
        images: training images per epoch.
        verbose: the bar shows for 1 only.
    """

    def __init__(self, first_epoch: int, last_epoch: int, images: int, verbose: int) -> None:
        self.bar = None
        self.last_epoch = last_epoch
        if verbose == 1:
            self.bar = tqdm(
                total=images * max(last_epoch - first_epoch + 1, 0),
                desc=f"Epoch {first_epoch}/{last_epoch}",
                unit="img",
                unit_scale=True,
                leave=False,
                file=sys.stderr,
                mininterval=0.5,
                dynamic_ncols=True,
            )

    def start_epoch(self, epoch: int) -> None:
        """Show which epoch runs."""
        if self.bar is not None:
            self.bar.set_description(f"Epoch {epoch}/{self.last_epoch}", refresh=False)

    def update(self, images: int, loss: float, accuracy: float | None) -> None:
        """Advance by one batch and refresh the shown metrics."""
        if self.bar is None:
            return
        self.bar.update(images)
        shown = {"loss": f"{loss:.4f}"}
        if accuracy is not None:
            shown["acc"] = f"{accuracy:.4f}"
        self.bar.set_postfix(shown, refresh=False)

    def write(self, line: str) -> None:
        """Print a line above the bar (to stdout)."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
            sys.stdout.flush()
        else:
            print(line, flush=True)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def epoch_line(epoch: int, epochs: int, logs: dict[str, float]) -> str:
    """'Epoch 2/5 - 3.1s - loss 0.1234 - accuracy 0.9650 - val_loss ... - val_accuracy ...'."""
    parts = [f"Epoch {epoch}/{epochs}", f"{logs['seconds']:.1f}s"]
    parts += [f"{key} {value:.4f}" for key, value in logs.items() if key != "seconds"]
    return " - ".join(parts)
