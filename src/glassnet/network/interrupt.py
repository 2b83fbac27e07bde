"""Ctrl-C during fit: stop between batches, never in the middle of a step.

Ctrl-C: while fit runs in the main thread, the first SIGINT only asks training to stop; the
current batch finishes its step and fit raises KeyboardInterrupt before the next one (a Ctrl-C
during an epoch's last batch lets that epoch finish: validation, history, callbacks,
checkpoint). A second Ctrl-C stops at once. Either way `net.interrupted` is True, the layers are
out of training mode and `net.history` holds the completed epochs only.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from glassnet.network.network import Network

Fit = TypeVar("Fit", bound=Callable[..., Any])


class _StopRequest:
    """The SIGINT handler of a running fit: the first Ctrl-C is a request, the second interrupts at once."""

    requested = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            signal.default_int_handler(signum, frame)
        self.requested = True


STOP = _StopRequest()


def interruptible(fit: Fit) -> Fit:
    """Make Network.fit stop between batches on Ctrl-C, set net.interrupted, and re-raise KeyboardInterrupt."""

    @functools.wraps(fit)
    def guarded(net: Network, *args: Any, **kwargs: Any) -> Any:
        net.interrupted = False
        install = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if install:
            STOP.requested = False
            signal.signal(signal.SIGINT, STOP.handle)
        try:
            result = fit(net, *args, **kwargs)
            if STOP.requested:  # pressed during the last epoch's last batch: that epoch is complete
                raise KeyboardInterrupt(f"training stopped after epoch {len(net.history['loss'])}")
            return result
        except KeyboardInterrupt:
            net.interrupted = True
            raise
        finally:
            if install:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                STOP.requested = False

    return guarded  # type: ignore[return-value]
