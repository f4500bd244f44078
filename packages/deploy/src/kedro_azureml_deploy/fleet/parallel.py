"""Many repositories at once: ``fleet update`` in up to ``jobs`` processes.

Copier changes the working directory of its process while it updates, so parallel updates run
in separate processes, never in threads.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from kedro_azureml_deploy.fleet.repositories import Repository
from kedro_azureml_deploy.fleet.update import UpdateOptions, UpdateResult, update_repository


def update_fleet(
    repositories: Sequence[Repository],
    options: UpdateOptions,
    *,
    jobs: int = 1,
    on_result: Callable[[UpdateResult], None] | None = None,
) -> list[UpdateResult]:
    """Update every repository; the results in the order of ``repositories``."""
    results: list[UpdateResult] = []
    if jobs <= 1 or len(repositories) <= 1:
        for repository in repositories:
            results.append(update_repository(repository, options))
            if on_result:
                on_result(results[-1])
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [
            pool.submit(update_repository, repository, options) for repository in repositories
        ]
        for future in futures:
            results.append(future.result())
            if on_result:
                on_result(results[-1])
    return results
