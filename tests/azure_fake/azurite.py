"""Azurite's blob service in a child process, standing in for the workspace's storage account.

``./scripts/test`` installs Azurite (npm package ``azurite``) into ``.azurite/`` when it is missing
and exports ``AZURITE_BIN``; without it (nor ``azurite-blob`` on ``PATH``) the tests that need it
fail and say how to get it: they are part of the default suite, never skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: Azurite's well-known development account (public, documented by Microsoft).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
INSTALL_HINT = (
    "Azurite is not installed: run ./scripts/test, which installs it into .azurite/ (npm install "
    "--no-save --prefix .azurite azurite@3) and exports AZURITE_BIN, or set AZURITE_BIN to an "
    "azurite-blob executable."
)


@dataclass
class Azurite:
    """A running ``azurite-blob``.

    Attributes:
        port: the blob service port on 127.0.0.1.
        process: the child process.
    """

    port: int
    process: subprocess.Popen[bytes]

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def blob_names(self, container: str) -> list[str]:
        """The names of the blobs in ``container`` (none when it does not exist)."""
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string)
        try:
            return sorted(blob.name for blob in client.get_container_client(container).list_blobs())
        except ResourceNotFoundError:
            return []

    def create_container(self, container: str) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string)
        with contextlib.suppress(ResourceExistsError):
            client.create_container(container)

    def delete_container(self, container: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string)
        with contextlib.suppress(ResourceNotFoundError):
            client.delete_container(container)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def azurite_executable() -> Path:
    """``$AZURITE_BIN`` when set, else ``azurite-blob`` on ``PATH``, else the one ``./scripts/test``
    installs into the repository's ``.azurite/``.

    Raises:
        RuntimeError: none of them exists (the message says how to install Azurite).
    """
    configured = os.environ.get("AZURITE_BIN")
    if configured:
        if not Path(configured).is_file():
            raise RuntimeError(f"AZURITE_BIN is {configured}, which does not exist. {INSTALL_HINT}")
        return Path(configured)
    found = shutil.which("azurite-blob")
    if found:
        return Path(found)
    installed = Path(__file__).resolve().parents[2] / ".azurite/node_modules/.bin/azurite-blob"
    if installed.is_file():
        return installed
    raise RuntimeError(INSTALL_HINT)


def start_azurite(workdir: Path, *, timeout: float = 30) -> Azurite:
    """Start ``azurite-blob`` on a free port of 127.0.0.1, in memory, and wait until it listens."""
    executable = azurite_executable()
    port = _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "azurite.log").open("wb")
    process = subprocess.Popen(
        [
            str(executable),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--inMemoryPersistence",
            "--loose",
            "--silent",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    azurite = Azurite(port=port, process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"azurite-blob exited with {process.returncode}: "
                f"{(workdir / 'azurite.log').read_text(errors='replace')[-2000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return azurite
        except OSError:
            time.sleep(0.1)
    azurite.stop()
    raise RuntimeError(f"azurite-blob did not listen on 127.0.0.1:{port} within {timeout} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
