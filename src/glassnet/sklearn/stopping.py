"""StallRule: MLPClassifier's n_iter_no_change / tol stopping rule, as a glassnet epoch callback."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from glassnet.network.network import Network

Score = Callable[[Network, dict[str, float]], float]


class StallRule:
    """Stop once more than `patience` epochs in a row fail to beat the best by `tol`; keep the best weights.

    As MLPClassifier: with a validation score (early stopping) an epoch counts as stalled when its
    score < best score + tol, else when its training loss > best loss - tol; the best is updated on
    any improvement, however small. Called as callback(net, epoch, logs) after every epoch.

    Args:
        patience: n_iter_no_change.
        tol: the improvement that resets the count.
        score: score(net, logs) -> the validation score to maximise, or None to watch the training loss.
    """

    def __init__(self, patience: int, tol: float, score: Score | None = None) -> None:
        self.patience = patience
        self.tol = tol
        self.score = score
        self.scores: list[float] = []
        self.best_loss = math.inf
        self.best_score = -math.inf
        self.best_values: list[np.ndarray] | None = None
        self.stalled = 0

    def __call__(self, net: Network, epoch: int, logs: dict[str, float]) -> None:
        """Count this epoch as stalled or not, and stop the training after too many in a row."""
        if self.score is not None:
            score = self.score(net, logs)
            self.scores.append(score)
            self.stalled = self.stalled + 1 if score < self.best_score + self.tol else 0
            if score > self.best_score:
                self.best_score, self.best_values = score, [param.value.copy() for param in net.parameters()]
        else:
            loss = logs["loss"]
            self.stalled = self.stalled + 1 if loss > self.best_loss - self.tol else 0
            self.best_loss = min(self.best_loss, loss)
        if self.stalled > self.patience:
            net.stop_training = True

    def restore_best(self, net: Network) -> None:
        """Put back the weights of the epoch with the best validation score (nothing without a score)."""
        if self.best_values is not None:
            for param, value in zip(net.parameters(), self.best_values, strict=True):
                param.value = value
