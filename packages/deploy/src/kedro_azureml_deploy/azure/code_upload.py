"""The code upload: a compiled job as azure-ai-ml's ``PipelineJob``, its steps' ``code`` a fresh copy
of the code snapshot (see ``kedro_azureml_deploy.snapshot``), which azure-ai-ml uploads when the job
or schedule is created, within the timeouts and retries of ``azure.network``
(``bounded_code_upload``)."""

from __future__ import annotations

import copy
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.azure.notifications import with_notifications

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob

    from kedro_azureml_deploy.azure.network import NetworkSettings
    from kedro_azureml_deploy.azure.request_log import RequestLog
    from kedro_azureml_deploy.compiler import CompiledJob
    from kedro_azureml_deploy.snapshot.code_snapshot import CodeSnapshot


@contextmanager
def pipeline_job_with_snapshot(
    compiled: CompiledJob, project_path: Path, snapshot: CodeSnapshot | None = None
) -> Iterator[tuple[PipelineJob, CodeSnapshot | None]]:
    """The compiled job as a ``PipelineJob`` whose steps' ``code`` is a fresh snapshot of the
    project's code folder, in a temporary folder that lives as long as the ``with`` block (the
    upload happens when the job or schedule is created inside it). In image mode there is no
    code to snapshot: the job is used as compiled, with ``None`` for the snapshot. Either way the
    job carries the compiled job's ``notifications`` (see ``azure.notifications``).

    Args:
        compiled: the compiled job.
        project_path: the project it was compiled from.
        snapshot: the code snapshot already taken for this command (by ``doctor``); taken here
            when ``None``.

    Raises:
        SubmitError: the code folder does not exist or has nothing to upload.
    """
    if compiled.code_directory is None:
        yield (
            with_notifications(compiled.to_pipeline_job(project_path), compiled.notifications),
            None,
        )
        return
    if snapshot is None:
        from kedro_azureml_deploy.snapshot.code_snapshot import code_snapshot

        snapshot = code_snapshot(project_path, compiled.code_directory)
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as temporary:
        # The folder's name becomes the last part of the upload's path in the workspace storage.
        folder = snapshot.copy_to(Path(temporary) / (snapshot.source.name or "code"))
        spec = copy.deepcopy(compiled.spec)
        for step in spec["jobs"].values():
            if "code" in step:
                step["code"] = "."
        pipeline_job = replace(compiled, spec=spec).to_pipeline_job(folder)
        yield with_notifications(pipeline_job, compiled.notifications), snapshot


@contextmanager
def bounded_code_upload(settings: NetworkSettings, requests: RequestLog) -> Iterator[None]:
    """Inside the block, the storage clients azure-ai-ml makes for a code upload get the
    timeouts and retries of ``settings``, record their requests in ``requests``, and end the
    upload with the first file that failed.

    azure-ai-ml builds its blob client itself (``get_storage_client``) with no way to pass
    client options, asks for a four-hour connect timeout on each file, and, when its progress bar
    is off, waits forever for a file whose upload failed in its thread pool (it counts uploaded
    files and sleeps until the count is complete). No option of azure-ai-ml or azure-storage-blob
    changes that, so the block swaps the class that function builds for a subclass that (1) makes
    bounded clients, and (2) raises the first failed file's error in the waiting thread instead
    of counting forever.
    """
    from azure.ai.ml._utils import _storage_utils

    original = _storage_utils.BlobStorageClient
    _storage_utils.BlobStorageClient = _bounded_blob_client_class(settings, requests)
    try:
        yield
    finally:
        _storage_utils.BlobStorageClient = original


def _bounded_blob_client_class(settings: NetworkSettings, requests: RequestLog) -> type:
    from azure.ai.ml._artifacts._blob_storage_helper import BlobStorageClient
    from azure.storage.blob import BlobServiceClient, ContainerClient

    def bounded(**kwargs: Any) -> dict[str, Any]:
        return {
            **kwargs,
            **settings.storage_kwargs(),
            "_additional_pipeline_policies": [requests.storage_policy(settings.connect_timeout)],
        }

    class _Bounded(BlobStorageClient):  # type: ignore[misc]
        def __init__(self, credential: str, account_url: str, container_name: str | None = None):
            self._upload_error: BaseException | None = None
            self._waiting_thread = threading.current_thread()
            super().__init__(credential, account_url, container_name)
            self.service_client = BlobServiceClient(
                **bounded(account_url=account_url, credential=credential)
            )
            if container_name:
                container = self.service_client.get_container_client(container=container_name)
            else:
                container = ContainerClient.from_container_url(**bounded(container_url=account_url))
            self.container_client = _FailureRecordingContainer(container, self)

        @property
        def uploaded_file_count(self) -> int:
            # azure-ai-ml's waiting loop reads this until it equals the number of files.
            waiting = threading.current_thread() is self._waiting_thread
            if self._upload_error is not None and waiting:
                raise self._upload_error
            return self._uploaded_file_count

        @uploaded_file_count.setter
        def uploaded_file_count(self, value: int) -> None:
            self._uploaded_file_count = value

    # azure-ai-ml tells its storage clients apart by class name.
    _Bounded.__name__ = _Bounded.__qualname__ = BlobStorageClient.__name__
    return _Bounded


class _FailureRecordingContainer:
    """A ``ContainerClient`` whose failed ``upload_blob`` is kept on its storage client."""

    def __init__(self, container: Any, owner: Any) -> None:
        self._container = container
        self._owner = owner

    def upload_blob(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._container.upload_blob(*args, **kwargs)
        except Exception as exc:
            if self._owner._upload_error is None:
                self._owner._upload_error = exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)
