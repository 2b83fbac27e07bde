"""What fit prints: a tqdm bar per epoch and one line of metrics when an epoch ends."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class EpochProgress:
    """A progress bar over one epoch's images (verbose=1), showing loss, accuracy and images/s."""

    def __init__(self, epoch: int, epochs: int, total: int, verbose: int) -> None:
        self.bar = None
        self.start = time.perf_counter()
        if verbose == 1:
            self.bar = tqdm(
                total=total,
                desc=f"Epoch {epoch}/{epochs}",
                unit="img",
                leave=False,
                file=sys.stderr,
                mininterval=0.5,
                dynamic_ncols=True,
            )

    def update(self, images: int, loss: float, accuracy: float | None) -> None:
        """Advance by one batch and refresh the shown metrics."""
        if self.bar is None:
            return
        self.bar.update(images)
        rate = self.bar.n / max(time.perf_counter() - self.start, 1e-9)
        shown = {"loss": f"{loss:.4f}", "img/s": f"{rate:,.0f}"}
        if accuracy is not None:
            shown["acc"] = f"{accuracy:.4f}"
        self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def epoch_line(epoch: int, epochs: int, logs: dict[str, float]) -> str:
    """'Epoch 2/5 - 3.1s - loss 0.1234 - accuracy 0.9650 - val_loss ... - val_accuracy ...'."""
    parts = [f"Epoch {epoch}/{epochs}", f"{logs['seconds']:.1f}s"]
    parts += [f"{key} {value:.4f}" for key, value in logs.items() if key != "seconds"]
    return " - ".join(parts)
