"""Azure's errors, as one clear ``SubmitError`` each.

The Azure SDK raises ``HttpResponseError`` (and its subclasses) with the service's answer,
``ServiceRequestError`` when the service cannot be reached, and azure-ai-ml's own exceptions when
it refuses a job before sending it. :func:`azure_call` turns each into a message that says what
failed, where, and what to do; ``--verbose`` still shows the original traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.azure.credentials import HOW_TO_SIGN_IN
from kedro_azureml_deploy.errors import SubmitError

if TYPE_CHECKING:
    from kedro_azureml_deploy.azure.network import NetworkSettings
    from kedro_azureml_deploy.azure.request_log import RequestLog, SentRequest
    from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget


@contextmanager
def azure_call(
    action: str,
    target: WorkspaceTarget,
    *,
    workspace_lookup: bool = False,
    requests: RequestLog | None = None,
    network: NetworkSettings | None = None,
) -> Iterator[None]:
    """Run the block, turning the Azure errors it raises into one ``SubmitError``.

    Args:
        action: what the block does, for the message ("creating the pipeline job 'train'").
        target: the workspace it talks to.
        workspace_lookup: the block reads the workspace itself, so a 404 means the workspace (or
            its resource group) does not exist.
        requests: the log the block's clients record their requests in: a request that got no
            answer (or a storage request that failed) is named, with its service.
        network: the timeouts and retries the block's clients use, for the message.
    """
    mark = requests.mark() if requests is not None else 0
    try:
        yield
    except SubmitError:
        raise
    except Exception as exc:
        failed = requests.failure(mark) if requests is not None else None
        if failed is not None and _caused_by(exc, failed):
            attempts = (
                sum(
                    1
                    for sent in requests.since(mark)
                    if (sent.method, sent.url) == (failed.method, failed.url)
                )
                if requests is not None
                else 1
            )
            raise SubmitError(
                network_error_message(failed, action, target, network, attempts=attempts)
            ) from exc
        error = _sdk_error(exc, action, target, workspace_lookup)
        if error is None:
            raise
        raise error from exc


def _sdk_error(
    exc: Exception, action: str, target: WorkspaceTarget, workspace_lookup: bool
) -> SubmitError | None:
    """The ``SubmitError`` for an exception of the Azure SDK; ``None`` for any other."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, HttpResponseError):
        if exc.status_code is None and isinstance(exc, ClientAuthenticationError):
            return SubmitError(
                f"could not sign in to Azure while {action}: {_first_line(str(exc))}. To sign "
                f"in, {HOW_TO_SIGN_IN}."
            )
        return SubmitError(
            http_error_message(exc, action, target, workspace_lookup=workspace_lookup)
        )
    if isinstance(exc, ServiceRequestError):
        return SubmitError(
            f"cannot reach Azure ML while {action} ({_first_line(str(exc))}): check the network "
            f"and proxy settings (HTTPS_PROXY), and workspace.{target.entry}.cloud in azureml.yml."
        )
    if isinstance(exc, ServiceResponseError):
        return SubmitError(
            f"the connection to Azure ML broke while {action} ({_first_line(str(exc))}); retry "
            "later."
        )
    message = _sdk_refusal(exc)
    if message is None:
        return None
    return SubmitError(f"Azure ML refused {action}: {message}")


def _caused_by(exc: BaseException, failed: SentRequest) -> bool:
    """Whether ``exc`` comes from the request ``failed``: it is (or was raised while handling)
    that request's error or any connection error; any error once a storage request failed (the
    upload ends with it, whatever azure-ai-ml wraps it in)."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    from kedro_azureml_deploy.azure.request_log import STORAGE

    if failed.service == STORAGE:
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current is failed.error or isinstance(
            current, (ServiceRequestError, ServiceResponseError)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def network_error_message(
    failed: SentRequest,
    action: str,
    target: WorkspaceTarget,
    network: NetworkSettings | None = None,
    *,
    attempts: int = 1,
) -> str:
    """The message for request ``failed``, which got no answer (a stall, a refused or broken
    connection) or, to storage, an error answer: which service, what to do."""
    from azure.core.exceptions import (
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseTimeoutError,
    )

    from kedro_azureml_deploy.azure.network import (
        READ_TIMEOUT_VARIABLE,
        RETRIES_VARIABLE,
        NetworkSettings,
    )
    from kedro_azureml_deploy.azure.request_log import AZURE_ML, RESOURCE_MANAGER

    network = network or NetworkSettings.from_environment()
    subject = f"{failed.service} ({failed.host})"
    subject = subject[0].upper() + subject[1:]
    request = f"{failed.method} {failed.url}"
    tries = f"{attempts} attempt(s)" if attempts > 1 else f"limits: {network.describe()}"
    error = failed.error
    text = str(error) if error is not None else ""
    if error is not None and (
        isinstance(error, (ServiceResponseTimeoutError, ServiceRequestTimeoutError))
        or "timed out" in text.lower()
    ):
        what = (
            f"{subject} stalled while {action}: no answer to {request} within "
            f"{network.read_timeout:g} s ({tries})"
        )
    elif isinstance(error, ServiceRequestError):
        what = (
            f"{subject} cannot be reached while {action}: {_first_line(text)} ({request}, {tries})"
        )
    elif error is not None:
        what = (
            f"{subject} broke the connection while {action}: {_first_line(text)} ({request}, "
            f"{tries})"
        )
    else:
        what = f"{subject} answered {failed.status} while {action} ({request})"
    stalled = "stalled" in what
    slow = (
        f"; if it is only slow, raise {READ_TIMEOUT_VARIABLE} (now {network.read_timeout:g} s) or "
        f"{RETRIES_VARIABLE} (now {network.retries})"
        if stalled
        else ""
    )
    if failed.service == RESOURCE_MANAGER:
        advice = (
            "Check this machine's network and proxy settings (HTTPS_PROXY, NO_PROXY) and "
            f"workspace.{target.entry}.cloud in azureml.yml, and Azure's status "
            f"(https://azure.status.microsoft){slow}."
        )
    elif failed.service == AZURE_ML:
        advice = (
            f"Azure ML may be degraded in the region of {target.describe()}: retry later (status: "
            f"https://azure.status.microsoft){slow}."
        )
    else:
        advice = (
            "Azure ML did not refuse anything: check that this machine can reach the workspace's "
            f"storage account {failed.host} (its firewall or private endpoint, HTTPS_PROXY, "
            f"NO_PROXY), then retry{slow}."
        )
    return f"{what}. {advice}"


def http_error_message(
    exc: Any, action: str, target: WorkspaceTarget, *, workspace_lookup: bool = False
) -> str:
    """The message for Azure's HTTP answer ``exc`` (an ``HttpResponseError``)."""
    status = exc.status_code
    code, detail = service_error(exc)
    answer = f"{status} {code}" if code else str(status)
    if status == 401:
        return (
            f"Azure refused the credentials while {action} ({answer}: {detail}). The token may "
            f"be for another tenant or expired: {HOW_TO_SIGN_IN}."
        )
    if status == 403:
        return (
            f"not allowed while {action} in {target.describe()} ({answer}: {detail}). Ask for a "
            "role on the workspace that allows it (for example AzureML Data Scientist), or sign "
            "in as an identity that has one."
        )
    if status == 404 and workspace_lookup:
        return f"{target.not_found()} ({answer})."
    if status == 404:
        return (
            f"Azure ML found no such resource while {action} in {target.describe()} ({answer}: "
            f"{detail}). Check the names azureml.yml refers to (compute cluster, environment, "
            "data assets)."
        )
    if status == 409:
        return (
            f"Azure ML reports a conflict while {action} ({answer}: {detail}): the resource "
            "exists in a state that does not allow this change, or another operation on it is "
            "in progress. Wait for it to finish and retry, or change the name."
        )
    if status == 429:
        return f"Azure ML is throttling requests while {action} ({answer}); retry later."
    if status is not None and status >= 500:
        return f"Azure ML answered {status} while {action}; retry later ({detail})."
    return f"Azure ML rejected {action} ({answer}: {detail})."


def service_error(exc: Any) -> tuple[str | None, str]:
    """The error code and first line of the message in Azure's answer ``exc``."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None)
    if not message:
        try:
            body = exc.response.json()
            code = code or body.get("error", {}).get("code")
            message = body.get("error", {}).get("message")
        except Exception:  # an answer without a JSON error body
            message = None
    return code, _first_line(message or getattr(exc, "reason", None) or str(exc))


def _sdk_refusal(exc: Exception) -> str | None:
    """The message of an azure-ai-ml exception (it refused the job before sending it)."""
    from azure.ai.ml.exceptions import MlException
    from marshmallow import ValidationError  # azure-ai-ml's schemas raise it

    if isinstance(exc, MlException):
        return _validation_errors(exc.message or str(exc))
    if isinstance(exc, ValidationError):
        return _validation_errors(str(exc))
    return None


def _validation_errors(text: str) -> str:
    """azure-ai-ml's validation report (JSON with a list of ``errors``, each a ``path``, a
    ``message`` and a ``value``) on one line; any other text, its first line."""
    try:
        report = json.loads(text)
    except ValueError:
        return _first_line(text)
    errors = report.get("errors") if isinstance(report, dict) else None
    if not errors:
        return _first_line(text)
    described = []
    for error in errors:
        value = f" (value {error['value']})" if error.get("value") else ""
        described.append(f"{error.get('path')}: {_first_line(error.get('message'))}{value}")
    return (
        "; ".join(described) + ". Check the names azureml.yml refers to (compute cluster_name, "
        "environment name) exist in the workspace"
    )


def _first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else "no details"
