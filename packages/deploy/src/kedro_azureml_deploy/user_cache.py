"""The user's cache folder, where the tool keeps what it can rebuild and shares between projects.

``kedro-azureml/`` in ``$XDG_CACHE_HOME`` (else ``~/.cache``), or ``~/Library/Caches`` on macOS:
the step environments replays build (``replay.step_environment``) and the secret scan's results
(``snapshot.secret_scan``). Nothing there is needed: deleting it costs a rebuild, never a result.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache(name: str) -> Path:
    """The folder ``name`` of the tool's user cache (not created)."""
    configured = Path(os.environ.get("XDG_CACHE_HOME") or ".")
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif configured.is_absolute():
        base = configured
    else:  # unset, or relative, which the XDG specification says to ignore
        base = Path.home() / ".cache"
    return base / "kedro-azureml" / name
