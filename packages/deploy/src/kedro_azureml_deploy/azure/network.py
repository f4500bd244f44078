"""How long any call to Azure may take: connect and read timeouts, and how often it is retried.

Every client this package builds (the credential, each ``MLClient`` and the storage client of the
code upload) gets the same bounds, read once per command from the environment:

- ``KEDRO_AZUREML_CONNECT_TIMEOUT``: seconds to open a connection (default 10);
- ``KEDRO_AZUREML_READ_TIMEOUT``: seconds to wait for each part of an answer (default 60);
- ``KEDRO_AZUREML_RETRIES``: how many times a failed request is tried again (default 2).

A request that gets no answer therefore fails after at most about
``(retries + 1) * (connect + read)`` seconds plus the waits between tries (at most
:data:`BACKOFF_MAX` seconds each), instead of the SDKs' defaults (five minutes a read, ten tries).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kedro_azureml_deploy.errors import SubmitError

CONNECT_TIMEOUT_VARIABLE = "KEDRO_AZUREML_CONNECT_TIMEOUT"
READ_TIMEOUT_VARIABLE = "KEDRO_AZUREML_READ_TIMEOUT"
RETRIES_VARIABLE = "KEDRO_AZUREML_RETRIES"
#: The longest wait between two tries of a request, in seconds (azure-core's default is 120).
BACKOFF_MAX = 8
#: The first wait between two tries of a request, in seconds (then doubled each time).
BACKOFF_FACTOR = 0.5


@dataclass(frozen=True)
class NetworkSettings:
    """The timeouts and retries of every call to Azure.

    Attributes:
        connect_timeout: seconds to open a connection.
        read_timeout: seconds to wait for each part of an answer.
        retries: how many times a request that failed (no answer, a broken connection, a
            throttling or server error answer) is tried again.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 2

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> NetworkSettings:
        """The settings of ``environ`` (``os.environ`` by default); the defaults for unset ones.

        Raises:
            SubmitError: a variable is not a number in its range (one line naming it).
        """
        environ = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            connect_timeout=_seconds(environ, CONNECT_TIMEOUT_VARIABLE, defaults.connect_timeout),
            read_timeout=_seconds(environ, READ_TIMEOUT_VARIABLE, defaults.read_timeout),
            retries=_count(environ, RETRIES_VARIABLE, defaults.retries),
        )

    @property
    def attempts(self) -> int:
        """How many times a request is sent at most."""
        return self.retries + 1

    def client_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of azure-core clients (``MLClient`` passes them on to each of
        its clients, and azure-identity's credentials to theirs): transport timeouts and
        ``RetryPolicy`` settings."""
        return {
            "connection_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retry_total": self.retries,
            "retry_connect": self.retries,
            "retry_read": self.retries,
            "retry_status": self.retries,
            "retry_backoff_factor": BACKOFF_FACTOR,
            "retry_backoff_max": BACKOFF_MAX,
        }

    def storage_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of an azure-storage-blob client: the transport timeouts and
        storage's own retry policy (whose defaults wait 15 s, then longer, between ten tries)."""
        from azure.storage.blob import ExponentialRetry

        retry = ExponentialRetry(
            initial_backoff=1,
            increment_base=2,
            retry_total=self.retries,
            random_jitter_range=1,
            retry_connect=self.retries,
            retry_read=self.retries,
            retry_status=self.retries,
        )
        return {
            "connection_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retry_policy": retry,
        }

    def describe(self) -> str:
        """``10 s to connect, 60 s to read, 3 attempts``."""
        return (
            f"{_number(self.connect_timeout)} s to connect, {_number(self.read_timeout)} s to "
            f"read, {self.attempts} attempt(s)"
        )


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SubmitError(
            f"{name}={environ[name]!r} is not a number of seconds: set it to a positive number "
            f"such as {_number(default)}, or unset it for the default ({_number(default)} s)."
        )
    return value


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0 or value > 20:
        raise SubmitError(
            f"{name}={environ[name]!r} is not a number of retries: set it to a whole number from "
            f"0 to 20 such as {default}, or unset it for the default ({default})."
        )
    return value


def _number(value: float) -> str:
    return f"{value:g}"
