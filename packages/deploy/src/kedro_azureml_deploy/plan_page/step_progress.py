"""How far a step got, in the words of the plan page: queued, running, completed, failed, skipped."""

from __future__ import annotations

from dataclasses import dataclass

#: The states the page shows, in the order of its legend.
PAGE_STATES = ("queued", "running", "completed", "failed", "skipped")


@dataclass(frozen=True)
class StepProgress:
    """The state of one step of a run, as the page shows it (its nodes share it).

    Attributes:
        state: one of :data:`PAGE_STATES`.
        started: when the step started, as the run recorded it (ISO 8601), if it did.
        duration: seconds it ran (or has been running), if known.
        log: where its log is: a path relative to the page, or the step's Studio URL.
        detail: what the run called the state when it says more (``timed_out``,
            ``Canceled``), or the one-line cause of a failure.
    """

    state: str
    started: str | None = None
    duration: float | None = None
    log: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.state not in PAGE_STATES:
            raise ValueError(f"state {self.state!r} is not one of {', '.join(PAGE_STATES)}")


def format_duration(seconds: float | None) -> str:
    """``seconds`` as a person reads it: ``0.4 s``, ``12 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
