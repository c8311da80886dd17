"""Test helpers for the password-hashing bulkhead (``authsite/hashers.py``):
fill it from other threads and wait for states, with deadlines, no timing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.conf import settings

from authsite.hashers import HashBulkhead


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


class bulkhead_full:
    """Every slot of the bulkhead taken and its queue full (by threads) inside
    the block; everything released, and every thread finished, at its end."""

    def __init__(self, bulkhead: HashBulkhead) -> None:
        self.bulkhead = bulkhead
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []

    def _hold(self) -> None:
        with self.bulkhead.slot():
            self.release.wait(timeout=30)

    def __enter__(self) -> HashBulkhead:
        for _ in range(settings.PASSWORD_HASH_CONCURRENCY):
            self._start(self._hold)
        wait_for(lambda: self.bulkhead.running == settings.PASSWORD_HASH_CONCURRENCY, "holders")
        for _ in range(settings.PASSWORD_HASH_QUEUE):
            self._start(self._hold)
        wait_for(lambda: self.bulkhead.waiting == settings.PASSWORD_HASH_QUEUE, "a full queue")
        return self.bulkhead

    def _start(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target)
        thread.start()
        self.threads.append(thread)

    def __exit__(self, *exc_info: object) -> bool:
        self.release.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in self.threads)
        return False
