"""gunicorn settings for authsite: ``make serve``, the benchmarks and the
integration tests all start gunicorn with ``-c gunicorn.conf.py``.

Command-line flags win over this file (``make serve`` passes ``--bind``).
The environment (or ``.env``) it reads, besides the site's own settings:

- ``WEB_CONCURRENCY``: worker processes (default 2: one per core).
- ``GUNICORN_THREADS``: threads per worker (default 8; gthread workers, or
  sync workers with 1). A thread waiting for a password hash (the bulkhead of
  ``authsite/hashers.py``) leaves the others to serve token calls; README,
  "gunicorn", says how to size them.
- ``GUNICORN_URGENT_THREADS``: threads of each worker kept for the urgent
  lane (``GET /auth/me``, refresh and the probes; default 2, from 0 to one
  less than ``GUNICORN_THREADS``): other requests run on the rest. The
  worker class (``authsite/serving.py``) takes urgent requests first and
  never blocks its main thread closing a connection.
- ``GUNICORN_ACCESS_LOG``: where the access log goes ("-" = stdout, the
  default; a file path; empty = no access log). While it is on, the site
  writes no request line of its own (``REQUEST_LOG=false``, unless the
  environment sets it): the access line has the same fields, the view's
  URL name and the user id included. The file decides this from
  ``GUNICORN_ACCESS_LOG`` alone: with ``--access-logfile`` or
  ``--access-logformat`` on gunicorn's command line (or in
  ``GUNICORN_CMD_ARGS``), set ``REQUEST_LOG`` yourself.
- ``LOG_FORMAT`` (text|json) and ``LOG_LEVEL``, as for the site: with json,
  gunicorn's own lines and the access log are JSON objects too.
- ``TRUSTED_PROXY_COUNT``: the access log shows the client IP the site uses
  (``authsite.client``), not the proxy's address, and the request id the site
  gave the request (``X-Request-ID``).
- ``PROMETHEUS_MULTIPROC_DIR``: where the workers keep their metrics so that
  ``/metrics`` adds them up. Cleared when the server starts; when unset, a
  private temporary directory is made (in /dev/shm when there is one) and
  removed when the server stops.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from gunicorn import glogging

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # gunicorn reads this file before it changes directory
    sys.path.insert(0, str(ROOT))

import environ  # noqa: E402

from authsite.logging import JsonFormatter, iso_time, path_redacted, printable  # noqa: E402

# The variables below may come from .env too, as the site's settings do (real
# environment variables win); read before any worker starts, so the master and
# every worker see the same.
if (ROOT / ".env").is_file():
    environ.Env.read_env(ROOT / ".env", overwrite=False)

wsgi_app = "authsite.wsgi:application"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# gthread with an urgent lane for the token calls and probes (authsite/serving.py).
worker_class = "authsite.serving.LanedThreadWorker" if threads > 1 else "sync"
if threads > 1:
    from authsite.serving import urgent_threads

    try:
        urgent_threads(threads)  # checked here, before any worker starts
    except ValueError as exc:
        raise SystemExit(f"gunicorn.conf.py: {exc}") from None
timeout = 60
graceful_timeout = 10
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
if accesslog:
    # The access line is the request line: the site does not write its own
    # as well (REQUEST_LOG; authsite.middleware.RequestIdMiddleware), unless
    # the environment says so.
    os.environ.setdefault("REQUEST_LOG", "false")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").lower()
# Path without the query string (which may hold anything a client put there),
# no referer; the client IP and request id as the site sees them.
access_log_format = (
    '%(client_ip)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" '
    "request_id=%(request_id)s view=%({authsite.view}e)s user=%({authsite.user_id}e)s"
)
# No control socket: several servers on one machine (tests, benchmarks) would
# all claim the same $HOME/.gunicorn/gunicorn.ctl.
control_socket_disable = True
# Memory, not disk, for what changes on every request: a worker touches its
# heartbeat file at every turn of its event loop, and the metrics are files
# written through mmap. On a disk-backed /tmp each is a filesystem write.
SHM = Path("/dev/shm")  # noqa: S108 - gunicorn and mkdtemp make private files in it
if SHM.is_dir() and os.access(SHM, os.W_OK):
    worker_tmp_dir = str(SHM)

# --- metrics across workers ------------------------------------------------------------

_created_metrics_dir: str | None = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _created_metrics_dir = tempfile.mkdtemp(
        prefix="authsite-metrics-", dir=worker_tmp_dir if "worker_tmp_dir" in globals() else None
    )
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _created_metrics_dir
METRICS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server) -> None:
    """Start from zero: files left by an earlier server would be added in."""
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in METRICS_DIR.glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    """A worker ended: its counters stay counted, its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _created_metrics_dir is not None:
        shutil.rmtree(_created_metrics_dir, ignore_errors=True)


# --- logs -------------------------------------------------------------------------------


def _client_ip(environ: dict) -> str:
    """The client IP exactly as the site decided it (``TRUSTED_PROXY_COUNT``):
    the site leaves it in the environ; a request it never saw gets it worked
    out the same way here."""
    if "authsite.client_ip" in environ:
        return environ["authsite.client_ip"] or "-"
    try:
        from authsite.client import client_ip

        return client_ip(SimpleNamespace(META=environ)) or "-"
    except Exception:  # settings not loaded (a request the app never saw)
        return environ.get("REMOTE_ADDR") or "-"


def _response_header(resp, name: str) -> str | None:
    for key, value in resp.headers or ():
        if key.lower() == name:
            return value
    return None


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\")


def _request_line(environ: dict) -> str:
    return f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"


class Atoms:
    """The atoms of one access line, each worked out when the format asks
    for it; the same values, and the same rules, as gunicorn's
    ``SafeAtoms(logger.atoms(...))``.

    gunicorn's ``atoms()`` makes every atom for every request, with each
    request header, response header and environ entry under its
    ``{name}i``, ``{name}o`` and ``{name}e`` key, and ``SafeAtoms`` copies
    them all escaping their quotes: some 60 entries, for a line that prints
    twelve (README, "What else came off the hot paths"). Here: a ``{name}``
    atom is found case-insensitively as there (the last of equal names wins,
    as in gunicorn's dict; an environ key spelt as the atom is wins outright),
    an atom that does not exist prints "-", a text value has its quotes
    escaped, and the site's own atoms (``AccessLogger.EXTRA``) win. How each
    atom of the format is made is worked out once (``getter``).
    """

    __slots__ = ("environ", "logger", "req", "request_time", "resp")

    # gunicorn's atoms (gunicorn.glogging.Logger.atoms), by name.
    BASE = {
        "h": lambda a: a.environ.get("REMOTE_ADDR", "-"),
        "l": lambda a: "-",
        "u": lambda a: a.logger._get_user(a.environ) or "-",
        "t": lambda a: a.logger.now(),
        "r": lambda a: _request_line(a.environ),
        "s": lambda a: (
            a.resp.status.split(None, 1)[0] if isinstance(a.resp.status, str) else a.resp.status
        ),
        "m": lambda a: a.environ.get("REQUEST_METHOD"),
        "U": lambda a: a.environ.get("PATH_INFO"),
        "q": lambda a: a.environ.get("QUERY_STRING"),
        "H": lambda a: a.environ.get("SERVER_PROTOCOL"),
        "b": lambda a: str(a.resp.sent) if getattr(a.resp, "sent", None) is not None else "-",
        "B": lambda a: getattr(a.resp, "sent", None),
        "f": lambda a: a.environ.get("HTTP_REFERER", "-"),
        "a": lambda a: a.environ.get("HTTP_USER_AGENT", "-"),
        "T": lambda a: a.request_time.seconds,
        "D": lambda a: a.request_time.seconds * 1000000 + a.request_time.microseconds,
        "M": lambda a: a.request_time.seconds * 1000 + int(a.request_time.microseconds / 1000),
        "L": lambda a: f"{a.request_time.seconds}.{a.request_time.microseconds:06d}",
        "p": lambda a: f"<{os.getpid()}>",
    }
    _MISSING = object()

    def __init__(self, logger, resp, req, environ: dict, request_time) -> None:
        self.logger, self.resp, self.req = logger, resp, req
        self.environ, self.request_time = environ, request_time

    def __getitem__(self, key: str):
        getters = self.logger.atom_getters
        get = getters.get(key)
        if get is None:
            get = getters[key] = self.getter(self.logger, key)
        value = get(self)
        if value is self._MISSING:
            return "-"
        return value.replace('"', '\\"') if isinstance(value, str) else value

    @classmethod
    def getter(cls, logger, key: str) -> Callable[[Atoms], Any]:
        """How atom ``key`` is worked out: worked out once per key (the
        logger keeps it), used for every line."""
        extra = logger.EXTRA.get(key)
        if extra is not None:
            return extra
        if key.startswith("{"):
            lowered = key.lower()
            if lowered.endswith(("}i", "}o", "}e")):
                return functools.partial(cls.named, name=lowered[1:-2], kind=lowered[-1])
        return cls.BASE.get(key) or cls.missing

    def missing(self):
        return self._MISSING

    def named(self, name: str, kind: str):
        """A ``{name}i``, ``{name}o`` or ``{name}e`` atom (``name`` lowercased)."""
        if kind == "e":
            # The WSGI keys are case-sensitive, gunicorn's atoms are not: a
            # key spelt as the atom is, else any key equal but for case.
            value = self.environ.get(name, self._MISSING)
            if value is not self._MISSING:
                return value
            pairs = self.environ.items()
        elif kind == "o":
            pairs = self.resp.headers or ()
        else:
            pairs = getattr(self.req, "headers", self.req)
        if hasattr(pairs, "items"):
            pairs = pairs.items()
        found, size = self._MISSING, len(name)
        for pair_name, pair_value in pairs:
            if len(pair_name) == size and pair_name.lower() == name:
                found = pair_value
        return found


class AccessLogger(glogging.Logger):
    """gunicorn's logger, with the site's client IP and request id in the access
    log, and JSON lines when ``LOG_FORMAT=json``."""

    # The site's atoms, over gunicorn's: (the atoms of one line) -> value.
    EXTRA = {
        "client_ip": lambda a: _client_ip(a.environ),
        "request_id": lambda a: _response_header(a.resp, "x-request-id") or "-",
        # The path and the user agent are the client's, inside quotes.
        # gunicorn escapes their quotes (SafeAtoms, Atoms); their
        # backslashes are escaped here, or 'x\\" user=42 "' would end the
        # field after all and write fields of its own.
        # A "this wasn't me" link's token is not shown (authsite.logging).
        "U": lambda a: _escaped(path_redacted(printable(a.environ.get("PATH_INFO") or ""))),
        "a": lambda a: _escaped(printable(a.environ.get("HTTP_USER_AGENT") or "-", 300)),
    }

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # Atoms.getter's answers, by atom.
        self.atom_getters: dict[str, Callable[[Atoms], Any]] = {}
        if LOG_FORMAT == "json":
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        """Every atom, as gunicorn's ``atoms()`` (its API); the access line
        itself takes only the atoms its format names (``Atoms``)."""
        atoms = super().atoms(resp, req, environ, request_time)
        one = Atoms(self, resp, req, environ, request_time)
        for key, extra in self.EXTRA.items():
            atoms[key] = extra(one)
        return atoms

    _now: tuple[int, str] = (-1, "")

    def now(self) -> str:
        """gunicorn's time stamp, made once a second rather than once a request."""
        second = int(time.time())
        made, text = self._now
        if made != second:
            text = time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(second))
            self._now = (second, text)
        return text

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        if LOG_FORMAT != "json":
            # gunicorn's access(), with the atoms the format names only: the
            # line is formatted here, so the logger gets it without arguments.
            try:
                line = self.cfg.access_log_format % Atoms(self, resp, req, environ, request_time)
                self.access_log.info(line)
            except Exception:
                self.exception("access log")
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        with contextlib.suppress(TypeError, ValueError):
            status = int(status)
        method = environ.get("REQUEST_METHOD")
        path = path_redacted(printable(environ.get("PATH_INFO") or ""))
        entry = {
            "time": iso_time(time.time()),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{method} {path} {status}",
            "pid": os.getpid(),
            "request_id": _response_header(resp, "x-request-id"),
            "client_ip": _client_ip(environ),
            "method": method,
            "path": path,
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "view": environ.get("authsite.view"),
            "user_id": environ.get("authsite.user_id"),
            "user_agent": printable(environ.get("HTTP_USER_AGENT") or "", 300),
        }
        try:
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:
            self.exception("access log")


logger_class = AccessLogger
