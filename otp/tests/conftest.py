"""Fixtures for the otp tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from otp import services
from otp.signals import delivery_failed

EMAIL = "alice@example.com"
PHONE = "+919876543210"


@pytest.fixture
def issue(django_capture_on_commit_callbacks):
    """``otp_issue`` as a request would run it: committed, then delivered.

    pytest-django's transaction never commits, so on_commit callbacks (the
    delivery) are captured and executed when the call returns.
    """

    def _issue(**kwargs):
        kwargs.setdefault("purpose", services.LOGIN)
        kwargs.setdefault("destination", EMAIL)
        with django_capture_on_commit_callbacks(execute=True):
            return services.otp_issue(**kwargs)

    return _issue


@pytest.fixture
def failures():
    """Every ``delivery_failed`` signal sent during the test, as (sender, kwargs)."""
    received = []

    def receiver(sender, **kwargs):
        kwargs.pop("signal", None)
        received.append((sender, kwargs))

    delivery_failed.connect(receiver, weak=False)
    yield received
    delivery_failed.disconnect(receiver)


class StubTwilio:
    """A real HTTP server on 127.0.0.1 standing in for Twilio's REST API."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 201
        self.body: dict = {"sid": "SM0123456789", "status": "queued"}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length).decode()
                stub.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "form": {k: v[0] for k, v in parse_qs(raw).items()},
                    }
                )
                payload = json.dumps(stub.body).encode()
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def twilio(settings):
    stub = StubTwilio()
    stub.start()
    settings.SMS_BACKEND = "otp.delivery.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = "AC0123456789abcdef"
    settings.TWILIO_AUTH_TOKEN = "stub-auth-token"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_API_BASE = stub.url
    settings.TWILIO_TIMEOUT = 5
    yield stub
    stub.stop()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
