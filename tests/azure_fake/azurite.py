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


class StorageProxy:
    """A TCP proxy on 127.0.0.1 in front of Azurite, which a test switches between faults.

    Modes (``mode``, changed at any time; each new connection follows the current one):

    - ``"forward"``: pass bytes both ways, as if the proxy were not there;
    - ``"reset"``: read the start of the request, then close the connection with a TCP reset
      (``SO_LINGER`` 0), as a storage account whose connections keep resetting; connections
      already open are reset too, at their next bytes;
    - ``"hang"``: read the request and never answer, as a storage account that stalls;
    - ``"down"``: nothing listens on the port any more: connections are refused, as a storage
      account that is down (``forward`` listens again).

    Args:
        target_port: Azurite's port.

    Attributes:
        connections: how many connections the proxy accepted.
    """

    def __init__(self, target_port: int) -> None:
        import threading

        self.target_port = target_port
        self.connections = 0
        self._mode = "forward"
        self._stopped = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self.port = _free_port()
        self._listen()

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT_NAME}"

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        assert mode in ("forward", "reset", "hang", "down"), mode
        self._mode = mode
        if mode == "down" and self._listener is not None:
            self._listener.close()
            self._listener = None
        elif mode != "down" and self._listener is None:
            self._listen()

    def stop(self) -> None:
        self._stopped.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _listen(self) -> None:
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while not self._stopped.is_set() and self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client, self._mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        import struct
        import threading

        client.settimeout(0.2)
        if mode in ("reset", "hang"):
            with contextlib.suppress(OSError):
                self._read_until_data(client)
                while mode == "hang" and not self._stopped.is_set():
                    with contextlib.suppress(TimeoutError):
                        if not client.recv(65536):
                            break
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(0.2)
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join(timeout=5)
        for end in (client, upstream):
            with contextlib.suppress(OSError):
                end.close()

    def _read_until_data(self, client: socket.socket) -> None:
        while not self._stopped.is_set():
            with contextlib.suppress(TimeoutError):
                client.recv(65536)
                return

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        import struct

        while not self._stopped.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if self._mode == "reset":
                for end in (source, sink):
                    with contextlib.suppress(OSError):
                        linger = struct.pack("ii", 1, 0)
                        end.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                        end.close()
                return
            try:
                sink.sendall(data)
            except OSError:
                break
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
