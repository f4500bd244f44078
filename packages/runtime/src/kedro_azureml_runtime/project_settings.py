"""A Kedro project setting replaced for the length of a block."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def setting_replaced(name: str, replace: Callable[[Any], Any]) -> Iterator[None]:
    """Within, the project's setting ``name`` (``kedro.framework.project.settings``) is
    ``replace`` of its value; it is restored on the way out."""
    from kedro.framework.project import settings

    original = getattr(settings, name)
    settings.set(name, replace(original))
    try:
        yield
    finally:
        settings.set(name, original)
