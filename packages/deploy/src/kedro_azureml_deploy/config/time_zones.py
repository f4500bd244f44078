"""Time zone names of schedules: IANA names (``Europe/Paris``) or the Windows ids Azure ML expects.

Azure ML schedules take Windows time zone ids (``Romance Standard Time``); people think in IANA
names. Both are accepted, and the Windows id is what the config keeps.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import tz_win, win_tz

from kedro_azureml_deploy.config.problems import did_you_mean


def windows_time_zone(name: str) -> str:
    """The Windows time zone id Azure ML schedules expect for ``name``.

    Args:
        name: an IANA time zone name (``Europe/Paris``, ``UTC``) or a Windows time zone id
            (``Romance Standard Time``), in any letter case.

    Raises:
        ValueError: ``name`` is neither, or is an IANA name without a Windows equivalent.
    """
    key = name.strip().casefold()
    windows_ids, iana_names = _known_names()
    if key in windows_ids:
        return windows_ids[key]
    if key in iana_names:
        return tz_win[iana_names[key]]
    if _is_iana_name(name.strip()):
        raise ValueError(
            f"time zone `{name}` has no Windows equivalent, which Azure ML schedules need. Use a "
            "zone with the same offset, such as `Europe/London` or `America/New_York`"
        )
    hint = did_you_mean(name, [*win_tz, *iana_names.values()])
    raise ValueError(
        f"unknown time zone `{name}`{hint or '.'} Use an IANA name such as `Europe/Paris` or a "
        "Windows id such as `Romance Standard Time`"
    )


def now_in(time_zone: str) -> datetime:
    """The local time now in ``time_zone``, a Windows id :func:`windows_time_zone` returned,
    without an offset (to the minute), as schedules write their start and end times."""
    return datetime.now(ZoneInfo(win_tz[time_zone])).replace(tzinfo=None, second=0, microsecond=0)


@cache
def _known_names() -> tuple[dict[str, str], dict[str, str]]:
    """Windows ids and IANA names tzlocal can map, keyed by their case-folded spelling."""
    windows_ids = {windows_id.casefold(): windows_id for windows_id in win_tz}
    iana_names = {iana.casefold(): iana for iana in tz_win if iana}
    return windows_ids, iana_names


def _is_iana_name(name: str) -> bool:
    from zoneinfo import available_timezones

    return name in available_timezones()
