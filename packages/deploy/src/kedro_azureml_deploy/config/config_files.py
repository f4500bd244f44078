"""The ``azureml.yml`` files of a project, read as written, to say in which file a problem is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_azureml_deploy.config.problems import KeyPath, has_key
from kedro_azureml_deploy.errors import ConfigError

_CONFIG_SUFFIXES = (".yml", ".yaml", ".json")


@dataclass(frozen=True)
class ConfigFile:
    """One file Kedro's config loader reads for ``azureml``.

    Attributes:
        name: its path relative to the project, e.g. ``conf/base/azureml.yml``.
        overrides: whether it belongs to the run environment, which overrides the base one.
        content: its YAML as written (interpolations not resolved), ``None`` when it is empty.
        syntax_error: why the file is not valid YAML, ``None`` when it is.
    """

    name: str
    overrides: bool
    content: Any = None
    syntax_error: str | None = None


class ConfigFiles:
    """The ``azureml.yml`` files of the base and the run environment, in the loader's order."""

    def __init__(
        self, project: Path, files: Sequence[ConfigFile], fallback: str, whole_sections: bool
    ) -> None:
        """
        Args:
            project: the project's folder, which file names are relative to.
            files: the files, base environment first.
            fallback: the file named when there is none: ``conf/<env>/azureml.yml``.
            whole_sections: whether the run environment's sections replace the base ones
                (Kedro's ``destructive`` merge strategy) instead of overriding them key by key.
        """
        self.project = project
        self.files = tuple(files)
        self.fallback = fallback
        self.whole_sections = whole_sections

    @classmethod
    def find(
        cls,
        conf_source: Path,
        *,
        base_env: str,
        run_env: str,
        patterns: Sequence[str],
        whole_sections: bool,
    ) -> ConfigFiles:
        """The files under ``conf_source/<env>`` that Kedro's ``patterns`` match."""
        conf_source = conf_source.resolve()
        envs = [base_env] if run_env == base_env else [base_env, run_env]
        files = [
            _read(path, conf_source.parent, overrides=env != base_env)
            for env in envs
            for path in _matching_files(conf_source / env, patterns)
        ]
        fallback = f"{conf_source.name}/{run_env}/azureml.yml"
        return cls(conf_source.parent, files, fallback, whole_sections)

    @property
    def names(self) -> list[str]:
        """Every file's name, or the fallback when there is no file."""
        return [file.name for file in self.files] or [self.fallback]

    def check_syntax(self, sections: Sequence[str]) -> None:
        """Raise a ``ConfigError`` naming each file that is not YAML, or not a mapping of
        ``sections`` at its top level."""
        problems = []
        for file in self.files:
            if file.syntax_error is not None:
                problems.append(f"{file.name}: {file.syntax_error}")
            elif file.content is not None and not isinstance(file.content, Mapping):
                problems.append(
                    f"{file.name}: expected a mapping of sections ({', '.join(sections)}) at the "
                    f"top level, got a {type(file.content).__name__}"
                )
        if problems:
            raise ConfigError("\n".join(problems))

    def defining(self, path: KeyPath) -> list[str]:
        """The files to edit to fix what is at ``path``: those holding the longest part of it.

        A key found in several files (a base value and an environment's override) names each;
        a key found nowhere (a missing key) names every file. When the environment's sections
        replace the base ones, a section the environment defines comes from its files only.
        """
        files = self.files
        if self.whole_sections and path:
            replacing = [f for f in files if f.overrides and _depth(f.content, path[:1])]
            files = tuple(replacing) or files
        depths = {file.name: _depth(file.content, path) for file in files}
        deepest = max(depths.values(), default=0)
        if deepest == 0:
            return [file.name for file in files] or [self.fallback]
        return [name for name, depth in depths.items() if depth == deepest]

    def relative(self, text: str) -> str:
        """``text`` (a message of Kedro's naming files) with paths relative to the project."""
        return text.replace(f"{self.project.as_posix()}/", "")


def _matching_files(folder: Path, patterns: Sequence[str]) -> list[Path]:
    """The config files of ``folder`` that match ``patterns``, skipping hidden ones, as Kedro."""
    found = {path for pattern in patterns for path in folder.glob(pattern)}
    return sorted(
        path
        for path in found
        if path.is_file()
        and path.suffix in _CONFIG_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _read(path: Path, project: Path, *, overrides: bool) -> ConfigFile:
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException
    from yaml import MarkedYAMLError

    name = path.relative_to(project).as_posix()
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        encoding = "UTF-16" if path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff") else "not UTF-8"
        return ConfigFile(
            name,
            overrides,
            syntax_error=f"line {line}: the file is {encoding} (byte 0x{exc.object[exc.start]:02x}); "
            "save it as UTF-8, the encoding Kedro reads",
        )
    try:
        content = OmegaConf.to_container(OmegaConf.create(text), resolve=False)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return ConfigFile(
            name, overrides, syntax_error=f"{where}{exc.problem}; fix the YAML syntax there"
        )
    except OmegaConfBaseException as exc:
        reason = str(getattr(exc, "msg", exc)).splitlines()[0]
        if "key type" in reason:
            reason += " (an empty key such as `~:` or `null:`; give every entry a name)"
        return ConfigFile(name, overrides, syntax_error=reason)
    return ConfigFile(name, overrides, content or None)


def _depth(content: Any, path: KeyPath) -> int:
    """How many leading segments of ``path`` ``content`` has."""
    depth = 0
    for segment in path:
        if not has_key(content, segment):
            break
        content = content[segment]
        depth += 1
    return depth
