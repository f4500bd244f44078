"""A finding of ``doctor`` (how bad, about what, what goes wrong, the fix) and the diagnosis of a job."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem: how bad, about what, what goes wrong, and the fix."""

    severity: Severity
    subject: str
    problem: str
    fix: str

    def line(self) -> str:
        return f"{self.severity}: {self.subject}: {self.problem}. Fix: {self.fix}."


@dataclass(frozen=True)
class Diagnosis:
    """The findings for one job, and ``code``: what its code snapshot uploads and never uploads,
    as the dry run describes it (``None`` in image mode)."""

    job: str
    findings: tuple[Finding, ...]
    code: str | None = None

    def blocking(self, *, strict: bool) -> list[Finding]:
        """The findings that stop ``compile`` and ``run``."""
        return [f for f in self.findings if strict or f.severity is Severity.ERROR]

    def report(self) -> str:
        code = f"\n  code: {self.code}" if self.code is not None else ""
        if not self.findings:
            return f"job {self.job!r}: no problem found.{code}"
        lines = "\n".join(f"  {finding.line()}" for finding in self.findings)
        return f"job {self.job!r}: {len(self.findings)} finding(s):\n{lines}{code}"
