"""A parallel map for the recipe stages: spawned single-threaded workers."""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


@contextlib.contextmanager
def _single_torch_thread() -> Iterator[None]:
    """Run the block with one torch thread (same numerics in-process and in workers)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def run_parallel(func: Callable[[T], R], jobs: Sequence[T], nj: int) -> list[R]:
    """``[func(j) for j in jobs]``, in ``nj`` spawned single-threaded workers when ``nj`` > 1.

    ``func`` must be a module-level function (it is pickled by name).
    """
    if nj <= 1 or len(jobs) <= 1:
        with _single_torch_thread():
            return [func(job) for job in jobs]
    workers = min(nj, len(jobs))
    context = multiprocessing.get_context("spawn")  # fork after torch/OpenMP start-up can hang
    with context.Pool(workers, initializer=_init_worker) as pool:
        return pool.map(func, jobs, chunksize=max(1, len(jobs) // (4 * workers)))
