"""Log records kept for the tests that read what was logged."""

from __future__ import annotations

import logging


class Records(logging.Handler):
    """A handler that keeps every record it is given (``records``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
