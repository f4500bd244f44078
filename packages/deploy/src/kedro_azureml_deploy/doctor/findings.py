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
    """The findings for one job."""

    job: str
    findings: tuple[Finding, ...]

    def blocking(self, *, strict: bool) -> list[Finding]:
        """The findings that stop ``compile`` and ``run``."""
        return [f for f in self.findings if strict or f.severity is Severity.ERROR]

    def report(self) -> str:
        if not self.findings:
            return f"job {self.job!r}: no problem found."
        lines = "\n".join(f"  {finding.line()}" for finding in self.findings)
        return f"job {self.job!r}: {len(self.findings)} finding(s):\n{lines}"
