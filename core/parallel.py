"""Run a read-only check over ranges of rows in forked worker processes (verify_audit --jobs).

Each worker opens its own database connection (the parent's are closed before forking, as Django needs:
a connection must never be shared across processes) and returns a picklable result per range; the results
come back in the order of the ranges, so a parallel run reports exactly what a serial run reports.

Written by hand rather than with a task queue: verification must run where Celery does not (a nightly
cron, an auditor's laptop against a restored backup), and it only needs "split, fork, join".

Falls back to running the ranges one after the other in this process when parallelism cannot see the
same data: an in-memory SQLite database (a fork would open an empty one), or a caller inside a transaction
(the workers would not see its uncommitted rows)."""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from django.db import connection, connections


def split(lo, hi, parts):
    """`parts` consecutive half-open ranges (a, b] covering (lo, hi], of near-equal width; fewer when the span
    is shorter than `parts`."""
    span = hi - lo
    if span <= 0:
        return []
    parts = max(1, min(parts, span))
    bounds = [lo + span * i // parts for i in range(parts + 1)]
    return list(zip(bounds, bounds[1:], strict=False))


def in_memory():
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


def can_fork():
    return not connection.in_atomic_block and not in_memory() and "fork" in multiprocessing.get_all_start_methods()


def _run(func, item):
    try:
        return func(*item)
    finally:
        connections.close_all()


def map_ranges(func, ranges, jobs):
    """[func(a, b) for (a, b) in ranges], over `jobs` forked processes when that sees the same data."""
    if jobs <= 1 or len(ranges) <= 1 or not can_fork():
        return [func(a, b) for a, b in ranges]
    connections.close_all()
    with ProcessPoolExecutor(max_workers=min(jobs, len(ranges)),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_run, [func] * len(ranges), ranges))
