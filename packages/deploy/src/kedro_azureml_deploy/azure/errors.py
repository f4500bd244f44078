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
    from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget


@contextmanager
def azure_call(
    action: str, target: WorkspaceTarget, *, workspace_lookup: bool = False
) -> Iterator[None]:
    """Run the block, turning the Azure errors it raises into one ``SubmitError``.

    Args:
        action: what the block does, for the message ("creating the pipeline job 'train'").
        target: the workspace it talks to.
        workspace_lookup: the block reads the workspace itself, so a 404 means the workspace (or
            its resource group) does not exist.
    """
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    try:
        yield
    except SubmitError:
        raise
    except HttpResponseError as exc:
        if exc.status_code is None and isinstance(exc, ClientAuthenticationError):
            raise SubmitError(
                f"could not sign in to Azure while {action}: {_first_line(str(exc))}. To sign "
                f"in, {HOW_TO_SIGN_IN}."
            ) from exc
        raise SubmitError(
            http_error_message(exc, action, target, workspace_lookup=workspace_lookup)
        ) from exc
    except ServiceRequestError as exc:
        raise SubmitError(
            f"cannot reach Azure ML while {action} ({_first_line(str(exc))}): check the network "
            f"and proxy settings (HTTPS_PROXY), and workspace.{target.entry}.cloud in azureml.yml."
        ) from exc
    except ServiceResponseError as exc:
        raise SubmitError(
            f"the connection to Azure ML broke while {action} ({_first_line(str(exc))}); retry "
            "later."
        ) from exc
    except Exception as exc:
        message = _sdk_refusal(exc)
        if message is None:
            raise
        raise SubmitError(f"Azure ML refused {action}: {message}") from exc


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
