"""A job's ``notifications`` added to the pipeline job azure-ai-ml sends.

Azure ML's REST API takes a job's emails in ``properties.notificationSetting`` (``emails``,
``emailOn``). azure-ai-ml 1.35 has the models for it, its ``Notification`` entity and the REST
model's ``JobBaseProperties.notification_setting``, but its ``PipelineJob`` neither takes nor sends
one, and its YAML has no key for it. So this module keeps the SDK's own models and adds the one
missing link: the job's REST object, as that job builds it for ``jobs.create_or_update`` or for a
schedule's job definition, gets ``notification_setting`` from ``Notification._to_rest_object()``.
Everything else of the request is azure-ai-ml's, unchanged. Tests assert the field in the request
body the loopback fake records, for submissions and schedules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob

    from kedro_azureml_deploy.config.notifications import NotificationsConfig

#: Azure ML's names of the endings of a run (``EmailNotificationEnableType``).
EMAIL_ON = {"completed": "JobCompleted", "failed": "JobFailed", "canceled": "JobCancelled"}


def with_notifications(job: PipelineJob, notifications: NotificationsConfig | None) -> PipelineJob:
    """``job``, whose REST object carries ``notifications`` (unchanged when ``None``)."""
    if notifications is None:
        return job
    from azure.ai.ml.entities import Notification

    setting = Notification(
        email_on=[EMAIL_ON[ending] for ending in notifications.on],
        emails=list(notifications.emails),
    )
    to_rest_object = job._to_rest_object

    def _to_rest_object_with_notifications(*args: Any, **kwargs: Any) -> Any:
        rest = to_rest_object(*args, **kwargs)
        rest.properties.notification_setting = setting._to_rest_object()
        return rest

    job._to_rest_object = _to_rest_object_with_notifications  # type: ignore[method-assign]
    return job
