"""What the requests of a command did: which one failed or stalled, and what they created.

A :class:`RequestLog` sits in the pipeline of every client this package builds (``MLClient``'s
clients and the storage client of the code upload), and records each request with its answer or
its error. Errors are then said in terms of the service that failed (Azure Resource Manager,
Azure ML, or the storage account of the code upload), and a submission that fails or is
interrupted says what already exists (:class:`Leftovers`) and how to remove it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

RESOURCE_MANAGER = "Azure Resource Manager"
AZURE_ML = "Azure ML"
STORAGE = "the code upload to storage"

_WORKSPACE_CHILD = re.compile(r"/workspaces/[^/]+/(?P<rest>.+)$", re.IGNORECASE)
_CODE_VERSION = re.compile(r"^codes/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$", re.IGNORECASE)
_COMPONENT_VERSION = re.compile(
    r"^components/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$", re.IGNORECASE
)
_JOB = re.compile(r"^jobs/(?P<name>[^/]+)$", re.IGNORECASE)


@dataclass
class SentRequest:
    """One request, as the client's pipeline saw it (after its retries for Azure ML and Resource
    Manager, each try for storage).

    Attributes:
        service: ``RESOURCE_MANAGER``, ``AZURE_ML`` or ``STORAGE``.
        method: ``GET``, ``PUT``…
        url: the URL without its query (which may hold a SAS token).
        status: the answer's status; ``None`` while waiting, or when none came.
        error: the exception that ended the request without an answer.
        done: an answer or an error came.
    """

    service: str
    method: str
    url: str
    status: int | None = None
    error: BaseException | None = field(default=None, repr=False)
    done: bool = False

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.url).path)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        """``PUT https://host/.../jobs/x``."""
        return f"{self.method} {self.url}"


@dataclass(frozen=True)
class Leftovers:
    """What a submission's requests created before it failed or was stopped.

    Attributes:
        code: ``(name, version)`` of each code asset created.
        components: ``(name, version)`` of each component created.
        blobs: the URLs of the files uploaded to storage.
        job: the name of the pipeline job sent, ``None`` if none was.
        job_created: Azure ML answered the job's creation.
        job_unanswered: the job was sent but no answer came (it may exist).
    """

    code: tuple[tuple[str, str], ...] = ()
    components: tuple[tuple[str, str], ...] = ()
    blobs: tuple[str, ...] = ()
    job: str | None = None
    job_created: bool = False
    job_unanswered: bool = False

    @property
    def nothing(self) -> bool:
        return not (self.code or self.components or self.blobs or self.job_created)

    def upload_folder(self) -> str | None:
        """The common folder of the uploaded files (``container/LocalUpload/<id>``)."""
        if not self.blobs:
            return None
        paths = [urlsplit(url).path.strip("/").split("/") for url in self.blobs]
        # account-less path in Azure: /container/LocalUpload/<id>/...; Azurite adds the account.
        common: list[str] = []
        for parts in zip(*paths, strict=False):
            if len(set(parts)) != 1:
                break
            common.append(parts[0])
        return "/".join(common[:-1] if len(common) == len(paths[0]) else common) or None

    def describe(self, workspace_args: str) -> str:
        """What exists, and the commands that remove it (``workspace_args``: ``-w ws -g rg``)."""
        if self.nothing and not self.job_unanswered:
            return "Nothing was created in the workspace."
        parts = []
        if self.blobs:
            folder = self.upload_folder()
            where = f" under {folder}" if folder else ""
            parts.append(f"{len(self.blobs)} uploaded file(s){where} in the workspace storage")
        for name, version in self.code:
            parts.append(f"code asset {name}:{version}")
        if self.components:
            named = ", ".join(f"{name}:{version}" for name, version in self.components)
            parts.append(f"{len(self.components)} anonymous component(s) ({named})")
        said = "; ".join(parts)
        left = f"Left behind: {said}." if said else ""
        cleanup = []
        if self.code or self.blobs or self.components:
            cleanup.append(
                "the next submission of the same code and steps reuses them (they cost only "
                "storage); to remove them, archive each component (`az ml component archive "
                f"--name NAME --version VERSION {workspace_args}`) and delete the uploaded "
                "folder from the workspace's storage account (`az storage blob delete-batch`, "
                "or Studio > Data > Datastores > workspaceblobstore)"
            )
        if self.job_unanswered and self.job is not None:
            cleanup.append(
                f"pipeline job {self.job} was sent but not answered, so it may exist: check with "
                f"`az ml job show --name {self.job} {workspace_args}` and cancel it with `az ml "
                f"job cancel --name {self.job} {workspace_args}` if it is not wanted"
            )
        elif self.job_created and self.job is not None:
            cleanup.append(
                f"pipeline job {self.job} was created: cancel it with `az ml job cancel --name "
                f"{self.job} {workspace_args}` if it is not wanted"
            )
        return " ".join(part for part in (left, "; ".join(cleanup).capitalize() + ".") if part)


class RequestLog:
    """Every request of one command, in order; safe to use from the upload's threads."""

    def __init__(self) -> None:
        self._requests: list[SentRequest] = []
        self._lock = threading.Lock()

    def mark(self) -> int:
        """A position in the log: ``since(mark)`` are the requests sent after it."""
        with self._lock:
            return len(self._requests)

    def since(self, mark: int = 0) -> list[SentRequest]:
        with self._lock:
            return list(self._requests[mark:])

    def policy(self) -> RecordingPolicy:
        """An azure-core policy recording into this log (first in a pipeline: one record per
        request, after the retries)."""
        return RecordingPolicy(self)

    def storage_policy(self, connect_timeout: float) -> RecordingPolicy:
        """An azure-core policy recording storage requests into this log (one record per try),
        which also caps each request's connect timeout at ``connect_timeout`` (azure-ai-ml asks
        for four hours on each file it uploads)."""
        return RecordingPolicy(self, service=STORAGE, connect_timeout=connect_timeout)

    def start(self, service: str | None, method: str, url: str) -> SentRequest:
        bare = url.split("?", 1)[0]
        sent = SentRequest(service=service or _service(bare), method=method, url=bare)
        with self._lock:
            self._requests.append(sent)
        return sent

    def failure(self, mark: int = 0) -> SentRequest | None:
        """The last request since ``mark`` that ended without an answer, or (storage) with an
        error answer."""
        for sent in reversed(self.since(mark)):
            if sent.error is not None and not isinstance(sent.error, KeyboardInterrupt):
                return sent
            # a missing blob (404) is how the upload checks whether a file is there already
            status = sent.status or 0
            if sent.service == STORAGE and status >= 400 and status != 404:
                return sent
        return None

    def pending(self, mark: int = 0) -> list[SentRequest]:
        """The requests since ``mark`` without an answer yet (or stopped by Ctrl+C)."""
        return [
            sent
            for sent in self.since(mark)
            if not sent.done or isinstance(sent.error, KeyboardInterrupt)
        ]

    def leftovers(self, mark: int = 0) -> Leftovers:
        """What the requests since ``mark`` created."""
        code, components, blobs = [], [], []
        job, job_created, job_unanswered = None, False, False
        for sent in self.since(mark):
            if sent.service == STORAGE:
                if sent.method == "PUT" and sent.ok and sent.url not in blobs:
                    blobs.append(sent.url)
                continue
            child = _WORKSPACE_CHILD.search(sent.path)
            if child is None or sent.method != "PUT":
                continue
            rest = child["rest"]
            if (found := _CODE_VERSION.match(rest)) and sent.ok:
                code.append((found["name"], found["version"]))
            elif (found := _COMPONENT_VERSION.match(rest)) and sent.ok:
                components.append((found["name"], found["version"]))
            elif found := _JOB.match(rest):
                job = found["name"]
                job_created = sent.ok
                job_unanswered = sent.status is None
        return Leftovers(
            code=tuple(code),
            components=tuple(components),
            blobs=tuple(blobs),
            job=job,
            job_created=job_created,
            job_unanswered=job_unanswered,
        )


class RecordingPolicy:
    """An azure-core ``HTTPPolicy`` (duck-typed: ``send`` and ``next``, so that importing this
    module imports nothing of azure-core) that records each request in a ``RequestLog``."""

    next: Any

    def __init__(
        self, log: RequestLog, *, service: str | None = None, connect_timeout: float | None = None
    ) -> None:
        self._log = log
        self._service = service
        self._connect_timeout = connect_timeout

    def send(self, request: Any) -> Any:
        http = request.http_request
        if self._connect_timeout is not None:
            options = request.context.options
            asked = options.get("connection_timeout")
            if asked is None or asked > self._connect_timeout:
                options["connection_timeout"] = self._connect_timeout
        sent = self._log.start(self._service, http.method, http.url)
        try:
            response = self.next.send(request)
        except BaseException as exc:  # KeyboardInterrupt too: the request got no answer
            sent.error = exc
            sent.done = True
            raise
        sent.status = response.http_response.status_code
        sent.done = True
        return response


def _service(url: str) -> str:
    """Azure ML for what is inside a workspace (or on a data-plane host), Resource Manager for
    the workspace itself and above."""
    path = unquote(urlsplit(url).path)
    if _WORKSPACE_CHILD.search(path) or "/subscriptions/" not in path.lower():
        return AZURE_ML
    return RESOURCE_MANAGER
