"""What a command that sends jobs to Azure ML reports: one outcome per job, in order.

Submissions (``submission.Submission``) and schedules (``schedules.ScheduledJob``) are both a
``JobOutcome``; a ``JobsReport`` of them says which failed and raises the right error once every
job has been tried (a job that fails never stops the next ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kedro_azureml_deploy.errors import KedroAzureMLError, SubmitError


@dataclass(frozen=True, kw_only=True)
class JobOutcome:
    """What happened to one job of ``azureml.yml`` sent to Azure ML.

    Attributes:
        job_name: the job's name in ``azureml.yml``.
        error: why it failed, ``None`` if it did not.
        exception: the exception behind ``error``.
    """

    job_name: str
    error: str | None = None
    exception: KedroAzureMLError | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def failure(self) -> str:
        """Why the job did not succeed, in one sentence."""
        return self.error or f"job {self.job_name!r} did not succeed"


Outcome = TypeVar("Outcome", bound=JobOutcome)


@dataclass(frozen=True)
class JobsReport(Generic[Outcome]):
    """One outcome per job, in the order the jobs were given."""

    results: tuple[Outcome, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(result for result in self.results if not result.ok)

    def summary(self) -> str:
        """``N of M job(s) failed:`` and one line per failed job."""
        lines = [f"{len(self.failed)} of {len(self.results)} job(s) failed:"]
        lines += [f"  - {result.job_name}: {result.failure()}" for result in self.failed]
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise nothing if every job succeeded; else the error of a single job, or one
        ``SubmitError`` with the ``summary`` of several.

        Raises:
            KedroAzureMLError: a job failed.
        """
        failed = self.failed
        if not failed:
            return
        if len(self.results) == 1:
            if failed[0].exception is not None:
                raise failed[0].exception
            raise SubmitError(failed[0].failure())
        raise SubmitError(self.summary())
