"""Run one piece of work on many threads at once, or several pieces each on
a thread of its own (each thread with its own database connection), for the
tests that race requests against each other."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

from authsite.errors import AuthsiteError


def run_concurrently(target: Callable[[], Any], count: int = 10) -> list:
    """``target()`` on ``count`` threads released together; their results or errors."""
    barrier = threading.Barrier(count)
    results: list = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait(timeout=10)
            try:
                outcome = target()
            except AuthsiteError as exc:
                outcome = exc
            except Exception as exc:  # a database error would fail the test below
                outcome = exc
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def run_each_concurrently(*works: Callable[[], Any]) -> list:
    """Each of ``works`` on a thread of its own, released together; their
    results or errors, in the order they finished."""
    turns = itertools.cycle(works)
    lock = threading.Lock()

    def next_work() -> Any:
        with lock:
            work = next(turns)
        return work()

    return run_concurrently(next_work, count=len(works))


def held_until_all_arrive(count: int, work: Callable[..., Any]) -> Callable[..., Any]:
    """``work``, wrapped so that each call waits until ``count`` calls have
    arrived (or two seconds have passed) before it runs: the widest window a
    real burst of ``count`` requests can have. The wrapper's ``arrived``
    lists one entry per call."""
    arrived: list[int] = []
    lock = threading.Lock()
    everyone_in = threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        with lock:
            arrived.append(1)
            if len(arrived) == count:
                everyone_in.set()
        everyone_in.wait(timeout=2)
        return work(*args, **kwargs)

    held.arrived = arrived  # type: ignore[attr-defined]
    return held
