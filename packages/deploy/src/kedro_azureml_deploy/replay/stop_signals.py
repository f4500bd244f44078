"""SIGINT and SIGTERM, while a replay runs, become a request to stop that the scheduler honours.

The handler only records the signal: the scheduler notices it within one polling interval, stops
the running steps' process groups and records the run as interrupted, so it can be resumed.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """A context manager that catches the stop signals; ``received`` is the first one caught.

    Python lets only the main thread install signal handlers: from another thread this catches
    nothing, and the caller is expected to handle stopping itself.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._record)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _record(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
