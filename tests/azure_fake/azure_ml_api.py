"""A loopback HTTPS fake of the Azure Resource Manager and Azure ML REST API, for tests.

It answers what an unmodified ``azure.ai.ml.MLClient`` sends to submit a pipeline job and to
create, list, disable and delete schedules, keeps what it was sent, and records every request
(method, path, query, JSON body). Tests assert on the recorded requests and can script failures
(``fail``), network faults (``hang``: an answer that comes late or never; ``drop``: a connection
closed without an answer) and the statuses a job goes through (``job_statuses``).

What it serves, under ``/subscriptions/{sub}/resourceGroups/{rg}/providers/
Microsoft.MachineLearningServices/workspaces/{ws}``:

- the workspace (``GET``), with the ``discoveryUrl`` and ``mlFlowTrackingUri`` MLClient reads;
  ``GET /discovery`` answers with the data-plane service URLs (all the fake itself);
- ``datastores`` (``GET`` one or the list, ``POST .../listSecrets``): ``workspaceblobstore`` is the
  Azurite container;
- ``computes/{name}`` (``GET``): every name exists, as an AmlCompute cluster;
- versioned assets, ``codes``, ``environments``, ``components``, ``data``, ``models``: ``PUT`` and
  ``GET`` of a version, ``GET`` of the version list (filtered by ``hash`` for code, newest first);
  ``POST codes/{name}/versions/{version}/startPendingUpload`` hands out a SAS URL into Azurite;
- ``jobs/{name}`` (``PUT``, ``GET``, ``POST .../cancel``) and the job list: a created job is
  ``NotStarted``, then each ``GET`` moves it along ``job_statuses``;
- pipeline jobs with child jobs (``add_pipeline_run``): the job, its steps' components, and under
  ``/history/v1.0/...`` the run history ``runs/{id}/children`` and ``runs/{id}/details`` (times,
  error, ``logFiles``), each log file a URL of the fake (``/fake-logs/...``) answering plain text;
- ``schedules/{name}`` (``PUT``, ``GET``, ``DELETE``) and the schedule list (``listViewType``):
  ``PUT`` and ``DELETE`` are long-running operations (``201``/``202`` with an
  ``Azure-AsyncOperation`` URL that the SDK polls).

Unknown workspaces answer ``404 ResourceNotFound`` as ARM does; anything else unknown answers
``404`` and is recorded, so a test sees what the SDK asked for.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import re
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from azure_fake.certificate import Certificate
from azure_fake.key_vault import FakeKeyVault

PROVIDER = "Microsoft.MachineLearningServices"
LOCATION = "westeurope"
_WORKSPACE_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/"
    r"microsoft\.machinelearningservices/workspaces/(?P<ws>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_OPERATION_PATH = re.compile(r"^/fake-operations/(?P<id>[^/]+)$")
_VERSIONED = ("codes", "environments", "components", "data", "models")
_HISTORY_PREFIX = "/history/v1.0"
_LOGS_PREFIX = "/fake-logs/"
_FINAL_JOB_STATUSES = {"Completed", "Failed", "Canceled", "NotResponding", "Paused"}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received.

    Attributes:
        method: ``GET``, ``PUT``…
        path: the URL path, percent-decoded.
        query: the query parameters.
        body: the JSON body, ``None`` without one.
        headers: the request headers (names lower-cased).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    """An answer the fake gives instead of the real one (see ``FakeAzureML.fail``)."""

    status: int
    method: str | None
    path: re.Pattern[str]
    times: int | None
    code: str
    message: str


@dataclass
class NetworkFault:
    """A request the fake answers late, or never (see ``FakeAzureML.hang`` and ``drop``)."""

    kind: str  # "hang" or "drop"
    method: str | None
    path: re.Pattern[str]
    times: int | None
    seconds: float
    on_request: Any = None


@dataclass(frozen=True)
class StorageAccount:
    """Where the workspace's blob storage lives (Azurite in tests).

    Attributes:
        blob_endpoint: the account's blob URL, e.g. ``http://127.0.0.1:10000/devstoreaccount1``.
        account_name: the storage account name.
        account_key: its key, to sign SAS tokens.
        container: the workspace blob store's container.
    """

    blob_endpoint: str
    account_name: str
    account_key: str
    container: str = "azureml-blobstore-fake"


@dataclass
class FakeStepRun:
    """A child job of a pipeline job the fake holds (see ``FakeAzureML.add_pipeline_run``).

    Attributes:
        step: the step's name in the pipeline job.
        command: its component's command (``kedro azureml execute ... --node ...``).
        display_name: the child job's display name (the step's).
        status: Azure ML's status of the child job (``NotStarted``, ``Running``, ``Failed``…).
        compute: the compute it runs on.
        log: the text of its ``user_logs/std_log.txt``; change it to make the log grow.
        started, ended: when it started and ended (ISO 8601, UTC), if it did.
        error: the error message the run history records, if it failed.
        run_id: the child job's name (a fresh GUID, as Azure ML's).
    """

    step: str
    command: str
    display_name: str | None = None
    status: str = "NotStarted"
    compute: str = "cpu-cluster"
    log: str = ""
    started: str | None = None
    ended: str | None = None
    error: str | None = None
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class _Workspace:
    subscription_id: str
    resource_group: str
    name: str
    workspace_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class FakeAzureML:
    """The fake Azure REST API, served on ``https://127.0.0.1:<port>/`` while started.

    Args:
        certificate: the TLS certificate to serve.
        storage: the workspace's blob storage; code uploads go there.
        workspaces: ``(subscription_id, resource_group, name)`` of each existing workspace.
        key_vault: when given, the server also answers as Key Vault (requests to
            ``<vault>.vault.azure.net``) and as a compute's managed identity endpoint (see
            ``key_vault.py``).
    """

    def __init__(
        self,
        certificate: Certificate,
        *,
        storage: StorageAccount | None = None,
        workspaces: tuple[tuple[str, str, str], ...] = (),
        key_vault: FakeKeyVault | None = None,
    ) -> None:
        self.certificate = certificate
        self.key_vault = key_vault
        self.storage = storage
        self.requests: list[RecordedRequest] = []
        self.job_statuses: list[str] = ["Running", "Completed"]
        self._workspaces = {
            (s.lower(), r.lower(), n.lower()): _Workspace(s, r, n) for s, r, n in workspaces
        }
        self._resources: dict[str, dict[str, Any]] = {}
        self._job_progress: dict[str, int] = {}
        self.child_runs: dict[str, list[FakeStepRun]] = {}  # by pipeline job name
        self._held_jobs: set[str] = set()
        self._faults: list[Fault] = []
        self._network_faults: list[NetworkFault] = []
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        assert self._server is not None, "the fake is not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The Resource Manager endpoint: ``https://127.0.0.1:<port>/``."""
        return f"https://127.0.0.1:{self.port}/"

    def start(self) -> FakeAzureML:
        handler = type("Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate.cert_file, self.certificate.key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # hanging answers end now
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAzureML:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- test controls

    def add_workspace(self, subscription_id: str, resource_group: str, name: str) -> None:
        key = (subscription_id.lower(), resource_group.lower(), name.lower())
        self._workspaces[key] = _Workspace(subscription_id, resource_group, name)

    def add_environment(self, name: str, version: str, *, image: str) -> None:
        """Register environment ``name:version`` (a Docker image) in every workspace."""
        for workspace in self._workspaces.values():
            prefix = _workspace_prefix(workspace)
            key = f"{prefix}/environments/{name}/versions/{version}".lower()
            body = {"properties": {"image": image, "isAnonymous": False, "osType": "Linux"}}
            self._store(key, body, prefix, "environments", name, version)

    def put_schedule(self, name: str, properties: dict[str, Any]) -> None:
        """Store a schedule as if someone else had created it, in the first workspace."""
        workspace = next(iter(self._workspaces.values()))
        prefix = _workspace_prefix(workspace)
        self._resources[f"{prefix}/schedules/{name}".lower()] = {
            "id": f"{prefix}/schedules/{name}",
            "name": name,
            "type": f"{PROVIDER}/workspaces/schedules",
            "properties": copy.deepcopy(properties),
            "systemData": _system_data(),
        }

    def fail(
        self,
        status: int,
        *,
        method: str | None = None,
        path: str = ".*",
        times: int | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer ``status`` to requests whose method is ``method`` (any when ``None``) and whose
        path matches the regular expression ``path`` (searched, case-insensitive), ``times``
        times (always when ``None``)."""
        self._faults.append(
            Fault(
                status=status,
                method=method,
                path=re.compile(path, re.IGNORECASE),
                times=times,
                code=code or _DEFAULT_ERROR_CODES.get(status, "ServiceError"),
                message=message or f"The fake answers {status} as the test asked.",
            )
        )

    def hang(
        self,
        *,
        method: str | None = None,
        path: str = ".*",
        seconds: float = 120.0,
        times: int | None = None,
        on_request: Any = None,
    ) -> None:
        """Hold the answer to matching requests (as ``fail``) for ``seconds`` before giving it,
        as a service that stalls; the request is recorded, and not acted on before the delay
        ends. ``on_request`` is called (in the server's thread) when such a request arrives."""
        self._network_faults.append(
            NetworkFault(
                "hang", method, re.compile(path, re.IGNORECASE), times, seconds, on_request
            )
        )

    def drop(
        self, *, method: str | None = None, path: str = ".*", times: int | None = None
    ) -> None:
        """Close the connection of matching requests (as ``fail``) without answering (a TCP
        reset), as a proxy or load balancer that drops connections."""
        self._network_faults.append(
            NetworkFault("drop", method, re.compile(path, re.IGNORECASE), times, 0.0)
        )

    def take_network_fault(self, request: RecordedRequest) -> NetworkFault | None:
        """Record ``request``; the network fault to apply to it, if any (used by the handler)."""
        with self._lock:
            for fault in self._network_faults:
                if fault.times == 0 or fault.method not in (None, request.method):
                    continue
                if not fault.path.search(request.path):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                self.requests.append(request)
                return fault
        return None

    def wait_released(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the fake stops."""
        self._released.wait(seconds)

    def requests_to(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """The recorded requests with ``method`` whose path matches ``path_pattern`` (searched,
        case-insensitive)."""
        pattern = re.compile(path_pattern, re.IGNORECASE)
        return [r for r in self.requests if r.method == method and pattern.search(r.path)]

    def bodies(self, method: str, path_pattern: str) -> list[Any]:
        return [request.body for request in self.requests_to(method, path_pattern)]

    # ---------------------------------------------------------------- dispatch

    def handle(
        self, request: RecordedRequest, *, recorded: bool = False
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if not recorded:
                self.requests.append(request)
            fault = self._take_fault(request)
            if fault is not None:
                return _error(fault.status, fault.code, fault.message)
            host = request.headers.get("host", "")
            if self.key_vault is not None and self.key_vault.serves(host, request.path):
                return self.key_vault.handle(host, request.path, request.query, request.headers)
            if request.path == "/discovery":
                return 200, self._discovery(), {}
            operation = _OPERATION_PATH.match(request.path)
            if operation:
                return 200, {"status": "Succeeded", "name": operation["id"]}, {}
            if request.path.startswith(_LOGS_PREFIX):
                return self._log_file(request.path[len(_LOGS_PREFIX) :])
            history = request.path.startswith(_HISTORY_PREFIX)
            path = request.path[len(_HISTORY_PREFIX) :] if history else request.path
            match = _WORKSPACE_PATH.match(path)
            if not match:
                return _error(404, "NotFound", f"The fake does not serve {request.path}.")
            workspace = self._workspaces.get(
                (match["sub"].lower(), match["rg"].lower(), match["ws"].lower())
            )
            if workspace is None:
                return _error(
                    404,
                    "ResourceNotFound",
                    f"The Resource '{PROVIDER}/workspaces/{match['ws']}' under resource group "
                    f"'{match['rg']}' was not found.",
                )
            prefix = path[: len(path) - len(match["rest"] or "")]
            rest = [unquote(part) for part in (match["rest"] or "").strip("/").split("/") if part]
            if history:
                return self._history(rest)
            return self._workspace_request(request, workspace, prefix, rest)

    def _take_fault(self, request: RecordedRequest) -> Fault | None:
        for fault in self._faults:
            if fault.times == 0:
                continue
            if fault.method not in (None, request.method):
                continue
            if not fault.path.search(request.path):
                continue
            if fault.times is not None:
                fault.times -= 1
            return fault
        return None

    def _workspace_request(
        self, request: RecordedRequest, workspace: _Workspace, prefix: str, rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        method = request.method
        if not rest:
            if method == "GET":
                return 200, self._workspace_body(workspace, prefix), {}
            return _error(405, "MethodNotAllowed", f"{method} on a workspace is not faked.")
        kind = rest[0].lower()
        if kind == "datastores":
            return self._datastores(request, prefix, rest[1:])
        if kind == "computes" and len(rest) == 2 and method == "GET":
            return 200, self._compute_body(prefix, rest[1]), {}
        if kind in _VERSIONED:
            return self._versioned(request, prefix, kind, rest[1:])
        if kind == "jobs":
            return self._jobs(request, workspace, prefix, rest[1:])
        if kind == "schedules":
            return self._schedules(request, prefix, rest[1:])
        return _error(404, "NotFound", f"The fake does not serve {request.path}.")

    # ---------------------------------------------------------------- workspace

    def _discovery(self) -> dict[str, str]:
        base = self.base_url.rstrip("/")
        services = ("api", "catalog", "experimentation", "gallery", "history", "hyperdrive")
        services += ("labeling", "modelmanagement", "pipelines")
        return {**{name: base for name in services}, "studio": "https://ml.azure.com"}

    def _workspace_body(self, workspace: _Workspace, prefix: str) -> dict[str, Any]:
        resource_group_id = (
            f"/subscriptions/{workspace.subscription_id}/resourceGroups/{workspace.resource_group}"
        )
        return {
            "id": prefix,
            "name": workspace.name,
            "type": f"{PROVIDER}/workspaces",
            "location": LOCATION,
            "kind": "Default",
            "sku": {"name": "Basic", "tier": "Basic"},
            "identity": {
                "type": "SystemAssigned",
                "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, prefix)),
                "tenantId": "00000000-0000-0000-0000-000000000000",
            },
            "properties": {
                "friendlyName": workspace.name,
                "workspaceId": workspace.workspace_id,
                "provisioningState": "Succeeded",
                "discoveryUrl": f"{self.base_url}discovery",
                "mlFlowTrackingUri": (f"azureml://{LOCATION}.api.azureml.ms/mlflow/v1.0{prefix}"),
                "storageAccount": f"{resource_group_id}/providers/Microsoft.Storage/storageAccounts/fakestorage",
                "keyVault": f"{resource_group_id}/providers/Microsoft.KeyVault/vaults/fakevault",
                "applicationInsights": f"{resource_group_id}/providers/microsoft.insights/components/fakeinsights",
                "publicNetworkAccess": "Enabled",
                "hbiWorkspace": False,
                "v1LegacyMode": False,
            },
            "systemData": _system_data(),
        }

    def _datastores(
        self, request: RecordedRequest, prefix: str, rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        if self.storage is None:
            return _error(404, "NotFound", "This fake has no storage account.")
        if not rest and request.method == "GET":
            return 200, {"value": [self._datastore_body(prefix)]}, {}
        if rest and rest[0] != "workspaceblobstore":
            return _error(404, "UserError", f"Datastore {rest[0]} not found.")
        if len(rest) == 1 and request.method == "GET":
            return 200, self._datastore_body(prefix), {}
        if len(rest) == 2 and rest[1].lower() == "listsecrets" and request.method == "POST":
            return 200, {"secretsType": "AccountKey", "key": self.storage.account_key}, {}
        return _error(404, "NotFound", f"The fake does not serve {request.path}.")

    def _datastore_body(self, prefix: str) -> dict[str, Any]:
        assert self.storage is not None
        return {
            "id": f"{prefix}/datastores/workspaceblobstore",
            "name": "workspaceblobstore",
            "type": f"{PROVIDER}/workspaces/datastores",
            "properties": {
                "datastoreType": "AzureBlob",
                "accountName": self.storage.account_name,
                "containerName": self.storage.container,
                "endpoint": "core.windows.net",
                "protocol": "https",
                "credentials": {"credentialsType": "AccountKey"},
                "isDefault": True,
                "serviceDataAccessAuthIdentity": "None",
                "tags": {},
                "properties": {},
            },
            "systemData": _system_data(),
        }

    def _compute_body(self, prefix: str, name: str) -> dict[str, Any]:
        return {
            "id": f"{prefix}/computes/{name}",
            "name": name,
            "type": f"{PROVIDER}/workspaces/computes",
            "location": LOCATION,
            "properties": {
                "computeType": "AmlCompute",
                "computeLocation": LOCATION,
                "provisioningState": "Succeeded",
                "properties": {
                    "vmSize": "STANDARD_DS3_V2",
                    "vmPriority": "Dedicated",
                    "scaleSettings": {"maxNodeCount": 4, "minNodeCount": 0},
                },
            },
            "systemData": _system_data(),
        }

    # ---------------------------------------------------------------- versioned assets

    def _versioned(
        self, request: RecordedRequest, prefix: str, kind: str, rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        method = request.method
        if len(rest) == 2 and rest[1].lower() == "versions" and method == "GET":
            return 200, {"value": self._versions(prefix, kind, rest[0], request.query)}, {}
        if len(rest) == 1 and method == "GET":
            versions = self._versions(prefix, kind, rest[0], {})
            if not versions:
                return _error(404, "UserError", f"{kind} {rest[0]} not found.")
            return 200, self._container_body(prefix, kind, rest[0], versions), {}
        if len(rest) == 3 and rest[1].lower() == "versions":
            key = f"{prefix}/{kind}/{rest[0]}/versions/{rest[2]}".lower()
            if method == "PUT":
                existed = key in self._resources
                body = self._store(key, request.body, prefix, kind, rest[0], rest[2])
                return (200 if existed else 201), body, {}
            if method == "GET":
                if key not in self._resources:
                    return _error(404, "UserError", f"{kind} {rest[0]}:{rest[2]} not found.")
                return 200, self._resources[key], {}
        if (
            len(rest) == 4
            and kind == "codes"
            and rest[3].lower() == "startpendingupload"
            and method == "POST"
        ):
            return 200, self._pending_upload(), {}
        return _error(404, "NotFound", f"The fake does not serve {request.path}.")

    def _store(
        self, key: str, body: Any, prefix: str, kind: str, name: str, version: str
    ) -> dict[str, Any]:
        resource = copy.deepcopy(body) if isinstance(body, dict) else {}
        properties = resource.setdefault("properties", {})
        properties.setdefault("provisioningState", "Succeeded")
        resource.update(
            id=f"{prefix}/{kind}/{name}/versions/{version}",
            name=version,
            type=f"{PROVIDER}/workspaces/{kind}/versions",
            systemData=_system_data(),
        )
        self._resources[key] = resource
        return resource

    def _versions(
        self, prefix: str, kind: str, name: str, query: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        wanted_hash = (query.get("hash") or [None])[0]
        if wanted_hash is not None:
            # Anonymous code gets a fresh random name on each upload: Azure ML finds an earlier
            # upload of the same content by its hash, whatever its name.
            start = f"{prefix}/{kind}/".lower()
            found = [
                value
                for key, value in self._resources.items()
                if key.startswith(start)
                and (value.get("properties", {}).get("properties") or {}).get("hash_sha256")
                == wanted_hash
            ]
        else:
            start = f"{prefix}/{kind}/{name}/versions/".lower()
            found = [value for key, value in self._resources.items() if key.startswith(start)]
        return list(reversed(found))

    def _container_body(
        self, prefix: str, kind: str, name: str, versions: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "id": f"{prefix}/{kind}/{name}",
            "name": name,
            "type": f"{PROVIDER}/workspaces/{kind}",
            "properties": {"latestVersion": versions[0]["name"], "nextVersion": None},
            "systemData": _system_data(),
        }

    def _pending_upload(self) -> dict[str, Any]:
        if self.storage is None:
            raise AssertionError("a code upload needs the fake to have a storage account")
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        upload_id = str(uuid.uuid4())
        blob_uri = f"{self.storage.blob_endpoint}/{self.storage.container}/LocalUpload/{upload_id}"
        sas = generate_container_sas(
            account_name=self.storage.account_name,
            container_name=self.storage.container,
            account_key=self.storage.account_key,
            permission=ContainerSasPermissions(
                read=True, add=True, create=True, write=True, list=True
            ),
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )
        return {
            "blobReferenceForConsumption": {
                "blobUri": blob_uri,
                "storageAccountArmId": "/subscriptions/fake/resourceGroups/fake/providers/"
                "Microsoft.Storage/storageAccounts/fakestorage",
                "credential": {"credentialType": "SAS", "sasUri": f"{blob_uri}?{sas}"},
            },
            "pendingUploadId": upload_id,
            "pendingUploadType": "TemporaryBlobReference",
        }

    # ---------------------------------------------------------------- jobs

    def _jobs(
        self, request: RecordedRequest, workspace: _Workspace, prefix: str, rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        method = request.method
        if not rest and method == "GET":
            jobs = [
                v for k, v in self._resources.items() if k.startswith(f"{prefix}/jobs/".lower())
            ]
            return 200, {"value": jobs}, {}
        if not rest:
            return _error(404, "NotFound", f"The fake does not serve {request.path}.")
        name = rest[0]
        key = f"{prefix}/jobs/{name}".lower()
        if len(rest) == 1 and method == "PUT":
            existed = key in self._resources
            job = copy.deepcopy(request.body) if isinstance(request.body, dict) else {}
            properties = job.setdefault("properties", {})
            properties["status"] = "NotStarted"
            properties["services"] = {
                "Studio": {
                    "jobServiceType": "Studio",
                    "endpoint": f"https://ml.azure.com/runs/{name}?wsid={prefix}",
                }
            }
            job.update(
                id=f"{prefix}/jobs/{name}",
                name=name,
                type=f"{PROVIDER}/workspaces/jobs",
                systemData=_system_data(),
            )
            self._resources[key] = job
            self._job_progress[key] = 0
            return (200 if existed else 201), job, {}
        if key not in self._resources:
            return _error(404, "UserError", f"Job {name} not found in workspace {workspace.name}.")
        job = self._resources[key]
        if len(rest) == 1 and method == "GET":
            self._advance(key, job)
            return 200, job, {}
        if len(rest) == 2 and rest[1].lower() == "cancel" and method == "POST":
            job["properties"]["status"] = "Canceled"
            return 202, None, {"Location": f"{self.base_url}fake-operations/{uuid.uuid4()}"}
        return _error(404, "NotFound", f"The fake does not serve {request.path}.")

    def _advance(self, key: str, job: dict[str, Any]) -> None:
        status = job["properties"]["status"]
        if status in _FINAL_JOB_STATUSES or not self.job_statuses or key in self._held_jobs:
            return
        step = self._job_progress[key]
        job["properties"]["status"] = self.job_statuses[min(step, len(self.job_statuses) - 1)]
        self._job_progress[key] = step + 1

    # ---------------------------------------------------------------- schedules

    def _schedules(
        self, request: RecordedRequest, prefix: str, rest: list[str]
    ) -> tuple[int, Any, dict[str, str]]:
        method = request.method
        start = f"{prefix}/schedules/".lower()
        if not rest and method == "GET":
            view = (request.query.get("listViewType") or ["EnabledOnly"])[0].lower()
            schedules = [v for k, v in self._resources.items() if k.startswith(start)]
            if view == "enabledonly":
                schedules = [s for s in schedules if s["properties"].get("isEnabled", True)]
            elif view == "disabledonly":
                schedules = [s for s in schedules if not s["properties"].get("isEnabled", True)]
            return 200, {"value": schedules}, {}
        if len(rest) != 1:
            return _error(404, "NotFound", f"The fake does not serve {request.path}.")
        name = rest[0]
        key = f"{start}{name}".lower()
        polling = {
            "Azure-AsyncOperation": f"{self.base_url}fake-operations/{uuid.uuid4()}",
            "Retry-After-Ms": "10",
        }
        if method == "PUT":
            existed = key in self._resources
            schedule = copy.deepcopy(request.body) if isinstance(request.body, dict) else {}
            properties = schedule.setdefault("properties", {})
            properties["provisioningState"] = "Succeeded"
            properties.setdefault("isEnabled", True)  # the service's default
            schedule.update(
                id=f"{prefix}/schedules/{name}",
                name=name,
                type=f"{PROVIDER}/workspaces/schedules",
                systemData=_system_data(),
            )
            self._resources[key] = schedule
            return (200 if existed else 201), schedule, polling
        if key not in self._resources:
            return _error(404, "UserError", f"Schedule {name} not found.")
        if method == "GET":
            return 200, self._resources[key], {}
        if method == "DELETE":
            del self._resources[key]
            return 202, None, {**polling, "Location": polling["Azure-AsyncOperation"]}
        return _error(404, "NotFound", f"The fake does not serve {request.path}.")

    # ---------------------------------------------------------------- pipeline child jobs, logs

    def add_pipeline_run(
        self,
        name: str,
        steps: list[FakeStepRun],
        *,
        status: str = "Running",
        experiment: str = "demo",
        workspace: tuple[str, str, str] | None = None,
    ) -> None:
        """Hold pipeline job ``name`` of ``steps``, as if it had been submitted and run so far:
        its ARM job (steps referring to anonymous components), the components (with each step's
        command) and its child jobs in the run history. Change a ``FakeStepRun`` to move it on."""
        with self._lock:
            held = _Workspace(*workspace) if workspace else next(iter(self._workspaces.values()))
            prefix = _workspace_prefix(held)
            jobs = {}
            for step in steps:
                version = str(uuid.uuid4())
                component_id = f"{prefix}/components/azureml_anonymous/versions/{version}"
                self._resources[component_id.lower()] = {
                    "id": component_id,
                    "name": version,
                    "type": f"{PROVIDER}/workspaces/components/versions",
                    "systemData": _system_data(),
                    "properties": {
                        "provisioningState": "Succeeded",
                        "isAnonymous": True,
                        "componentSpec": {
                            "$schema": "https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json",
                            "name": "azureml_anonymous",
                            "version": version,
                            "type": "command",
                            "display_name": step.display_name or step.step,
                            "command": step.command,
                            "environment": "azureml:kedro-env:3",
                            "is_deterministic": True,
                        },
                    },
                }
                jobs[step.step] = {
                    "type": "command",
                    "name": step.step,
                    "display_name": step.display_name or step.step,
                    "componentId": component_id,
                    "computeId": f"{prefix}/computes/{step.compute}",
                }
            key = f"{prefix}/jobs/{name}".lower()
            self._resources[key] = {
                "id": f"{prefix}/jobs/{name}",
                "name": name,
                "type": f"{PROVIDER}/workspaces/jobs",
                "systemData": _system_data(),
                "properties": {
                    "jobType": "Pipeline",
                    "displayName": name,
                    "experimentName": experiment,
                    "status": status,
                    "settings": {},
                    "inputs": {},
                    "outputs": {},
                    "jobs": jobs,
                    "services": {
                        "Studio": {
                            "jobServiceType": "Studio",
                            "endpoint": f"https://ml.azure.com/runs/{name}?wsid={prefix}",
                        }
                    },
                },
            }
            self._job_progress[key] = 0
            self._held_jobs.add(key)  # keeps its status until set_job_status
            self.child_runs[name] = steps

    def set_job_status(self, name: str, status: str) -> None:
        """Set the status of pipeline job ``name`` (``Completed``, ``Failed``…)."""
        with self._lock:
            self.jobs()[name]["properties"]["status"] = status

    def _child(self, run_id: str) -> tuple[str, FakeStepRun] | None:
        for parent, children in self.child_runs.items():
            for child in children:
                if child.run_id == run_id:
                    return parent, child
        return None

    def _history(self, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        """The run history's ``runs/{id}/children`` and ``runs/{id}/details``."""
        if len(rest) != 3 or rest[0].lower() != "runs":
            return _error(404, "NotFound", f"The fake's run history does not serve {rest}.")
        run_id, what = rest[1], rest[2].lower()
        if what == "children":
            if run_id not in self.child_runs:
                return _error(404, "UserError", f"Run {run_id} not found.")
            runs = [self._run_body(run_id, child) for child in self.child_runs[run_id]]
            return 200, {"value": runs, "nextLink": None, "continuationToken": None}, {}
        found = self._child(run_id)
        if what == "details" and found is not None:
            parent, child = found
            details: dict[str, Any] = {
                "runId": child.run_id,
                "parentRunId": parent,
                "status": child.status,
                "target": child.compute,
                "startTimeUtc": child.started,
                "endTimeUtc": child.ended,
                "logFiles": (
                    {
                        "user_logs/std_log.txt": f"{self.base_url}fake-logs/{child.run_id}/std_log.txt"
                    }
                    if child.status not in ("NotStarted", "Queued", "Preparing")
                    else {}
                ),
            }
            if child.error:
                details["error"] = {"error": {"code": "UserError", "message": child.error}}
            return 200, details, {}
        return _error(404, "UserError", f"Run {run_id} not found.")

    def _run_body(self, parent: str, child: FakeStepRun) -> dict[str, Any]:
        return {
            "runId": child.run_id,
            "parentRunId": parent,
            "rootRunId": parent,
            "displayName": child.display_name or child.step,
            "status": child.status,
            "runType": "azureml.StepRun",
            "startTimeUtc": child.started,
            "endTimeUtc": child.ended,
            "compute": {"target": child.compute},
            "properties": {"azureml.nodeid": child.step},
            "tags": {},
            "createdUtc": child.started,
        }

    def _log_file(self, path: str) -> tuple[int, Any, dict[str, str]]:
        run_id = path.split("/", 1)[0]
        found = self._child(run_id)
        if found is None:
            return 404, b"BlobNotFound", {}
        return 200, found[1].log.encode(), {}

    def schedules(self) -> dict[str, dict[str, Any]]:
        """The schedules the fake holds, by name."""
        return {
            value["name"]: value for key, value in self._resources.items() if "/schedules/" in key
        }

    def jobs(self) -> dict[str, dict[str, Any]]:
        """The jobs the fake holds, by name."""
        return {value["name"]: value for key, value in self._resources.items() if "/jobs/" in key}


_DEFAULT_ERROR_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "ResourceNotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def _workspace_prefix(workspace: _Workspace) -> str:
    return (
        f"/subscriptions/{workspace.subscription_id}/resourceGroups/{workspace.resource_group}"
        f"/providers/{PROVIDER}/workspaces/{workspace.name}"
    )


def _error(status: int, code: str, message: str) -> tuple[int, Any, dict[str, str]]:
    # Retry-After-Ms keeps the SDK's retries of 5xx answers short in tests; the SDK honours it.
    headers = {"x-ms-failure-cause": "service", "Retry-After-Ms": "10"}
    return status, {"error": {"code": code, "message": message}}, headers


def _system_data() -> dict[str, str]:
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    return {
        "createdAt": now,
        "createdBy": "tester@example.com",
        "createdByType": "User",
        "lastModifiedAt": now,
        "lastModifiedBy": "tester@example.com",
        "lastModifiedByType": "User",
    }


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into ``FakeAzureML.handle`` calls and its answers into responses."""

    fake: FakeAzureML
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the fake records requests
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query),
            body=body,
            headers={name.lower(): value for name, value in self.headers.items()},
        )
        fault = self.fake.take_network_fault(request)
        if fault is not None:
            if fault.on_request is not None:
                fault.on_request(request)
            if fault.kind == "drop":
                self._reset_connection()
                return
            self.fake.wait_released(fault.seconds)
        status, payload, headers = self.fake.handle(request, recorded=fault is not None)
        text = isinstance(payload, bytes)  # a log file, as blob storage serves it
        data = b"" if payload is None else payload if text else json.dumps(payload).encode()
        self.send_response(status)
        if text:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        elif payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reset_connection(self) -> None:
        """Close the connection at once with a TCP reset (``SO_LINGER`` 0), no answer sent."""
        import socket
        import struct

        self.close_connection = True
        raw = self.connection
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            raw.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve
