"""A step's catalog config as Kedro's ``OmegaConfigLoader`` gives it, without OmegaConf's round trip
for files that hold nothing for OmegaConf to resolve.

``OmegaConfigLoader["catalog"]`` loads every catalog file into an OmegaConf tree
(``OmegaConf.load``), merges the trees and turns the result back into plain dictionaries with
interpolations resolved. Building the trees costs about 55 µs an OmegaConf node: ~140 ms for 500
``AzureMLPipelineDataset`` entries (5 nodes each), most of what a step of a large project pays
before its node runs. When no file has an interpolation (``${...}``) or a missing value (``???``),
the round trip gives back what YAML parsed, so :class:`PlainCatalogMixin` returns that, parsed by
OmegaConf's own YAML loader. Everything else takes Kedro's path unchanged: interpolations anywhere
in the catalog, a value that is not plain YAML data, a key defined in two files of one environment
(Kedro's error), a merge strategy other than ``destructive`` (``soft`` is OmegaConf's), a remote
``conf_source``, a config loader class of the project's own that reads config differently.

The step still reads the project's whole ``conf/``: every catalog file, every entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kedro_azureml_runtime.project_settings import setting_replaced

CATALOG_KEY = "catalog"

#: What a project's loader class may define of ``OmegaConfigLoader``'s own and still read the
#: catalog here: its constructor (resolvers, patterns, defaults); a class overriding anything
#: else (how files are found, read, merged) keeps Kedro's path.
_MAY_OVERRIDE = frozenset(
    {"__init__", "__doc__", "__module__", "__qualname__", "__dict__", "__weakref__"}
    | {"__annotations__", "__firstlineno__", "__static_attributes__", "__orig_bases__"}
    | {"_abc_impl", "__abstractmethods__"}  # what ABCMeta gives every subclass
)


class PlainCatalogMixin:
    """A mixin for ``OmegaConfigLoader``: ``loader["catalog"]`` is read without OmegaConf when no
    catalog file needs it (see the module docstring), through Kedro otherwise."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key == CATALOG_KEY and key not in self:  # type: ignore[operator]
            config = plain_catalog_config(self)
            if config is not None:
                return config
        return super().__getitem__(key)  # type: ignore[misc, no-any-return]


def plain_catalog_config(loader: Any) -> dict[str, Any] | None:
    """What ``loader["catalog"]`` returns, or ``None`` when only Kedro's path can tell."""
    yaml_loader = _omegaconf_yaml_loader()
    if yaml_loader is None or getattr(loader, "_protocol", None) != "file":
        return None
    import yaml

    patterns = list(loader.config_patterns[CATALOG_KEY])
    run_env = loader.env or loader.default_run_env
    envs = [loader.base_env] if run_env == loader.base_env else [loader.base_env, run_env]
    merged: dict[str, Any] = {}
    read_any = False
    for index, env in enumerate(envs):
        folder = Path(loader.conf_source) / env
        if not folder.is_dir():
            return None  # Kedro's MissingConfigException
        env_config: dict[str, Any] = {}
        for path in _config_files(loader, folder, patterns):
            read_any = True
            try:  # decoded as Kedro decodes it (UTF-8 only), then parsed as OmegaConf parses
                data = yaml.load(path.read_bytes().decode("utf8"), Loader=yaml_loader)
            except Exception:  # Kedro's own error message
                return None
            if data is None:
                data = {}
            if not isinstance(data, dict) or not _plain(data):
                return None
            if any(not name.startswith("_") and name in env_config for name in data):
                return None  # a key in two files: Kedro's "Duplicate keys found" error
            env_config.update(data)
        env_config = {k: v for k, v in env_config.items() if not k.startswith("_")}
        if not index:
            merged = env_config
            continue
        strategy = loader.merge_strategy.get(CATALOG_KEY, "destructive")
        if not isinstance(strategy, str) or strategy.upper() != "DESTRUCTIVE":
            return None  # soft (OmegaConf's merge) or not a strategy (Kedro's error)
        # Kedro's own merge of the run environment over base, its debug line included
        merged = loader._merge_configs(merged, env_config, CATALOG_KEY, str(folder))
    return merged if read_any else None


def _config_files(loader: Any, folder: Path, patterns: list[str]) -> list[Path]:
    """The config files of ``folder`` Kedro's loader reads for ``patterns``, found as it finds
    them (``load_and_merge_dir_config`` / ``_read_dir_configs``; Kedro 1.0 has no
    ``ignore_hidden`` and always skips hidden files)."""
    paths = []
    for pattern in patterns:
        for each in loader._fs.glob(Path(f"{folder!s}/{pattern}").as_posix()):
            if not getattr(loader, "ignore_hidden", True) or not loader._is_hidden(each):
                paths.append(Path(each))
    return [path for path in set(paths) if loader._is_valid_config_path(path)]


def _plain(value: Any) -> bool:
    """Whether OmegaConf gives ``value`` back unchanged: YAML scalars, lists, and mappings with
    string keys, no string an interpolation or a missing value."""
    if isinstance(value, str):
        return "${" not in value and not value.endswith("???")
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(k) and _plain(v) for k, v in value.items())
    return False


def _omegaconf_yaml_loader() -> Any:
    """The YAML loader ``OmegaConf.load`` parses with (its module moved in OmegaConf 2.4)."""
    try:
        from omegaconf._yaml import get_yaml_loader
    except ImportError:
        try:
            from omegaconf._utils import get_yaml_loader
        except ImportError:
            return None
    return get_yaml_loader()


def with_plain_catalog(loader_class: type) -> type:
    """``loader_class`` (the project's ``CONFIG_LOADER_CLASS``) with :class:`PlainCatalogMixin`,
    when it is Kedro's ``OmegaConfigLoader`` or a subclass that reads config as it does."""
    from kedro.config import OmegaConfigLoader

    if not isinstance(loader_class, type) or not issubclass(loader_class, OmegaConfigLoader):
        return loader_class
    if issubclass(loader_class, PlainCatalogMixin):
        return loader_class
    kedro_names = {name for klass in OmegaConfigLoader.__mro__ for name in vars(klass)}
    for klass in loader_class.__mro__[: loader_class.__mro__.index(OmegaConfigLoader)]:
        if (set(vars(klass)) & kedro_names) - _MAY_OVERRIDE:
            return loader_class
    return type(
        loader_class.__name__,
        (PlainCatalogMixin, loader_class),
        {"__module__": loader_class.__module__},
    )


@contextmanager
def plain_catalog_reading() -> Iterator[None]:
    """Within, the config loaders Kedro makes read the catalog with :class:`PlainCatalogMixin`;
    ``CONFIG_LOADER_CLASS`` is restored on the way out."""
    with setting_replaced("CONFIG_LOADER_CLASS", with_plain_catalog):
        yield
