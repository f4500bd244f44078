"""Parameters in the catalog as ``MemoryDataset``s with an explicit copy mode.

Kedro puts every parameter (``parameters``, ``params:a``, ``params:a.b``, ...) in the catalog with
``catalog[name] = value``, which wraps it in ``MemoryDataset(data=value)``. Without a
``copy_mode``, ``MemoryDataset`` infers one on every save and load (``_infer_copy_mode``), and that
inference imports pandas, numpy and ibis to ask whether the value is one of their tables or arrays:
with pandas installed, about half a second of imports in a process whose nodes may never use it.

A value can only be a pandas ``DataFrame``, a numpy ``ndarray`` or an ibis ``Table`` if its module
is already imported, so :func:`parameter_copy_mode` answers as Kedro would, reading
``sys.modules`` instead of importing. ``explicit_parameter_copy_mode`` gives Kedro a catalog class
that passes that answer to ``MemoryDataset``; every other dataset is left as Kedro makes it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from kedro_azureml_runtime.project_settings import setting_replaced

CopyMode = Literal["copy", "assign", "deepcopy"]


def parameter_copy_mode(value: Any) -> CopyMode:
    """The copy mode Kedro's ``MemoryDataset`` would infer for ``value``, without importing
    pandas, numpy or ibis (see the module docstring).

    Kedro (``kedro.io.memory_dataset._infer_copy_mode``, the same from 1.0 on): ``"copy"`` for a
    pandas ``DataFrame`` or a numpy ``ndarray``, ``"assign"`` for any other class named
    ``DataFrame`` (polars, Spark) or an ibis ``Table``, ``"deepcopy"`` for everything else, which
    is every value YAML or ``--params`` can give.
    """
    pandas, numpy, ibis = (sys.modules.get(name) for name in ("pandas", "numpy", "ibis"))
    if _is_instance(value, pandas, "DataFrame") or _is_instance(value, numpy, "ndarray"):
        return "copy"
    if type(value).__name__ == "DataFrame" or _is_instance(value, ibis, "Table"):
        return "assign"
    return "deepcopy"


def _is_instance(value: Any, module: Any, name: str) -> bool:
    cls = getattr(module, name, None) if module is not None else None
    return isinstance(cls, type) and isinstance(value, cls)


class ExplicitParameterCopyModeMixin:
    """A catalog mixin: raw values set with ``catalog[name] = value`` (Kedro's parameters) become
    ``MemoryDataset``s with the copy mode of :func:`parameter_copy_mode`."""

    def __setitem__(self, key: str, value: Any) -> None:
        from kedro.io import AbstractDataset, MemoryDataset

        if not isinstance(value, AbstractDataset) and type(value).__name__ != "_LazyDataset":
            value = MemoryDataset(data=value, copy_mode=parameter_copy_mode(value))
        super().__setitem__(key, value)  # type: ignore[misc]


def with_explicit_parameter_copy_mode(catalog_class: type) -> type:
    """``catalog_class`` (the project's ``DATA_CATALOG_CLASS``) with
    :class:`ExplicitParameterCopyModeMixin`, and Kedro's ``CatalogCommandsMixin`` when it is
    Kedro's ``DataCatalog``, as ``KedroContext`` composes it."""
    from kedro.io import DataCatalog

    if issubclass(catalog_class, ExplicitParameterCopyModeMixin):
        return catalog_class
    bases: tuple[type, ...] = (ExplicitParameterCopyModeMixin, catalog_class)
    if catalog_class is DataCatalog:
        from kedro.framework.context.catalog_mixins import CatalogCommandsMixin

        bases += (CatalogCommandsMixin,)
    return type(catalog_class.__name__, bases, {"__module__": catalog_class.__module__})


@contextmanager
def explicit_parameter_copy_mode() -> Iterator[None]:
    """Within, the catalogs Kedro makes (``KedroSession.run``, ``KedroContext.catalog``) are of
    the project's ``DATA_CATALOG_CLASS`` with :class:`ExplicitParameterCopyModeMixin`.

    ``DATA_CATALOG_CLASS`` is the one setting through which Kedro lets a project choose the
    catalog class; the setting is restored on the way out.
    """
    with setting_replaced("DATA_CATALOG_CLASS", with_explicit_parameter_copy_mode):
        yield
