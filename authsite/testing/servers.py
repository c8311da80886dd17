"""The site under gunicorn, as ``make serve`` runs it, for the integration
tests (``tests/integration``), ``make bench`` and ``make soak``.

``GunicornServer`` starts ``gunicorn -c gunicorn.conf.py`` (the same
configuration file as ``make serve``) on a port of 127.0.0.1 in its own
process group, waits until ``/healthz`` answers, and stops the whole group
(master and workers) on ``stop`` — also when it is used as a context manager
and the block fails. Every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "gunicorn.conf.py"
HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """gunicorn did not start, or exited."""


def free_port(host: str = HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def gunicorn_path() -> Path:
    """gunicorn of the interpreter running us, else of the project's virtualenv."""
    beside = Path(sys.executable).with_name("gunicorn")
    return beside if beside.exists() else ROOT / ".venv" / "bin" / "gunicorn"


class GunicornServer:
    """``gunicorn -c gunicorn.conf.py authsite.wsgi:application`` on ``host:port``.

    ``env`` is the server's whole environment (nothing of the caller's leaks
    in unless it is passed); ``args`` are extra gunicorn flags, which win over
    the configuration file. stdout and stderr go to ``log`` (appended).
    ``app`` is the WSGI application (``make bench`` also serves its bare
    baseline, ``bench.bare:application``, with the same configuration).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        log: Path,
        workers: int = 2,
        port: int | None = None,
        host: str = HOST,
        args: Sequence[str] = (),
        gunicorn: Path | None = None,
        app: str = "authsite.wsgi:application",
    ) -> None:
        self.env = dict(env)
        self.log = Path(log)
        self.workers = workers
        self.host = host
        self.port = port or free_port(host)
        self.args = list(args)
        self.gunicorn = gunicorn or gunicorn_path()
        self.app = app
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            str(self.gunicorn),
            "--config",
            str(CONFIG),
            self.app,
            f"--bind={self.host}:{self.port}",
            f"--workers={self.workers}",
            *self.args,
        ]

    def start(self, *, timeout: float = 60) -> GunicornServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.wait_ready(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, *, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServerError(f"gunicorn exited (code {code}):\n{self.log_tail()}")
            if self.healthy():
                return
            time.sleep(0.2)
        raise ServerError(f"gunicorn did not answer /healthz within {timeout:.0f} s")

    def healthy(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self, *, timeout: float = 15) -> None:
        """SIGTERM to the process group, SIGKILL after ``timeout`` s. Idempotent."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")
        return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
