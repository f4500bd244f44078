"""The ignore file Azure ML applies to a code folder (``.amlignore``, else ``.gitignore``), applied as
azure-ai-ml applies it.

Patterns are matched with azure-ai-ml's own vendored gitwildmatch engine
(``azure/ai/ml/_utils/_pathspec.py``), loaded from its file on its own: importing it by name would
first import all of ``azure.ai.ml`` (over 2 s), which ``compile`` and the replay should not pay. Tests
compare the listing with azure-ai-ml's own, so a change of behaviour in a new release fails the
suite.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from kedro_azureml_deploy.errors import SubmitError

#: The ignore files Azure ML reads, the first one found winning.
IGNORE_FILES = (".amlignore", ".gitignore")


class IgnoreRules:
    """The patterns of the ignore file Azure ML applies to ``folder``, applied as azure-ai-ml's
    ``IgnoreFile.is_file_excluded`` applies them (the last matching pattern decides)."""

    def __init__(self, folder: Path) -> None:
        found = [folder / name for name in IGNORE_FILES if (folder / name).exists()]
        self.file = found[0].resolve() if found else None
        self._patterns: list[tuple[str, object]] = []
        if self.file is not None:
            pathspec = _azure_pathspec()
            with self.file.open(encoding="utf-8-sig") as lines:
                for line in lines:
                    pattern = pathspec.GitWildMatchPattern(line.rstrip())
                    if pattern.include is not None:
                        self._patterns.append((line.strip(), pattern))

    def rule_for(self, path: Path) -> str | None:
        """The pattern that leaves the file at ``path`` (absolute) out, ``None`` if none does."""
        if not self._patterns or self.file is None:
            return None
        relative = _azure_pathspec().normalize_file(os.path.relpath(path, self.file.parent))
        deciding = None
        for text, pattern in self._patterns:
            if pattern.match_file(relative) is not None:  # type: ignore[attr-defined]
                deciding = text if pattern.include else None  # type: ignore[attr-defined]
        return deciding

    def excludes(self, path: Path) -> bool:
        """Whether the file at ``path`` (absolute) is left out of the upload."""
        return self.rule_for(path) is not None


@functools.cache
def _azure_pathspec() -> ModuleType:
    """azure-ai-ml's vendored pathspec module, loaded from its file without importing
    ``azure.ai.ml`` (see the module docstring)."""
    package = importlib.util.find_spec("azure.ai.ml")
    if package is None or not package.submodule_search_locations:
        raise SubmitError(
            "azure-ai-ml is not installed: the code snapshot applies .amlignore as its code upload "
            "does. Reinstall kedro-azureml-deploy."
        )
    path = Path(next(iter(package.submodule_search_locations))) / "_utils" / "_pathspec.py"
    name = f"{__name__}._azure_pathspec"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SubmitError(f"cannot load {path}: reinstall azure-ai-ml.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module
