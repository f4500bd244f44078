"""Headless Chromium driven over the Chrome DevTools Protocol, for tests of pages we write.

The protocol runs over a WebSocket; the few frames it needs (text, masked from the client,
unfragmented from the browser in practice) are written here on the standard library, so the tests
need no driver and no package: only Debian's ``chromium``, which ``scripts/test`` installs. A
library (websocket-client, selenium) would do the same with a dependency and, for selenium, a
matching ``chromium-driver``.

    with Chromium.start(tmp_path) as browser:
        page = browser.open(html_file)
        assert page.evaluate("document.title") == "..."
        assert not page.errors  # console errors, exceptions, failed loads
        page.screenshot(tmp_path / "page.png")
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

NAMES = ("chromium", "chromium-browser", "google-chrome")
MISSING = (
    "headless Chromium is needed for the browser tests: install Debian's package "
    "(`apt-get install -y chromium`, as ./scripts/test does when run as root)"
)


def chromium_binary() -> str | None:
    """The Chromium on ``PATH`` (or ``$CHROMIUM_BIN``), if any."""
    explicit = os.environ.get("CHROMIUM_BIN")
    if explicit:
        return explicit
    return next((found for name in NAMES if (found := shutil.which(name))), None)


class _WebSocket:
    """A client WebSocket (RFC 6455) carrying text frames."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self._socket = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self._socket.sendall(
            (
                f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += self._socket.recv(4096)
        head, self._buffer = answer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"no WebSocket at {url}: {head[:200]!r}")

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytes([0x81])  # FIN, text
        mask = os.urandom(4)
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 2**16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self._socket.sendall(header + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self._socket.recv(max(65536, count - len(self._buffer)))
            if not chunk:
                raise ConnectionError("the browser closed the DevTools connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the browser closed the DevTools connection")
            if opcode in (0x9, 0xA):  # ping, pong: not sent by Chromium to clients in practice
                continue
            message += payload
            if first & 0x80:
                return message.decode()

    def close(self) -> None:
        self._socket.close()


@dataclass
class Page:
    """A browser tab; ``errors`` collects console errors, uncaught exceptions and failed loads."""

    _socket: _WebSocket
    errors: list[str] = field(default_factory=list)
    _next_id: int = 0
    _events: list[dict[str, Any]] = field(default_factory=list)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.receive())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        self._events.append(message)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.errors.append(f"console.{params['type']}: {args}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(f"uncaught: {text}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.errors.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}")

    def wait_for(self, method: str, timeout: float = 20) -> dict[str, Any]:
        for message in self._events:
            if message.get("method") == method:
                return message
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self._socket.receive())
            self._event(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(f"no {method} within {timeout} s")

    def evaluate(self, expression: str) -> Any:
        """The value of JavaScript ``expression`` in the page (JSON-serializable values)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        """A PNG of the viewport (or of the whole page) at ``path``."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path


class Chromium:
    """A headless Chromium with a fresh profile under ``folder``, reachable over DevTools."""

    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self._process = process
        self._port = port
        self._pages: list[Page] = []

    @classmethod
    def start(cls, folder: Path, *, timeout: float = 30) -> Chromium:
        """Start the browser.

        Raises:
            RuntimeError: no Chromium is installed (the message says how to install it), or it
                did not start.
        """
        binary = chromium_binary()
        if binary is None:
            raise RuntimeError(MISSING)
        profile = folder / "chromium-profile"
        profile.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",  # containers and CI runners as root have no user namespaces
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        assert process.stderr is not None
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if match:
                return cls(process, int(match[1]))
        process.kill()
        raise RuntimeError(f"{binary} did not start its DevTools endpoint within {timeout} s")

    def open(self, file: Path, *, width: int = 1400, height: int = 900) -> Page:
        """A new tab showing ``file``, once it has loaded."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self._port}/json/new?about:blank", method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            target = json.load(answer)
        page = Page(_WebSocket(target["webSocketDebuggerUrl"], timeout=30))
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        page.call("Page.navigate", url=file.resolve().as_uri())
        page.wait_for("Page.loadEventFired")
        self._pages.append(page)
        return page

    def close(self) -> None:
        for page in self._pages:
            page._socket.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
