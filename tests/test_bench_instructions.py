"""bench.instructions' request loop — gunicorn's parser, environ, response and
access log around the site's WSGI application — answers what a server would.
(Counting the loop's instructions needs valgrind and minutes: make
bench-instructions.)"""

from __future__ import annotations

import sys

import pytest

from authsite.testing import env_absent
from bench import instructions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gunicorn_conf(monkeypatch, tmp_path):
    # The loop reads gunicorn.conf.py, which sets these in the environment.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    env_absent(monkeypatch, "REQUEST_LOG")
    monkeypatch.setattr(sys, "argv", list(sys.argv))


def test_the_loop_serves_healthz_through_gunicorns_request_path(gunicorn_conf, capsys):
    assert instructions.child("healthz", 3, "") == 0
    # gunicorn's access line for each request (warm-up included), with the
    # view the site left in the environ.
    lines = [line for line in capsys.readouterr().out.splitlines() if "GET /healthz" in line]
    assert len(lines) == instructions.WARM_UP + 3
    assert lines[-1].endswith("view=healthz user=-")


def test_a_request_that_is_not_answered_200_stops_the_count(gunicorn_conf, tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("not-a-token\n")
    with pytest.raises(SystemExit, match=r"me: .*401"):
        instructions.child("me", 1, str(tokens))


def test_each_refresh_sends_its_own_body():
    raw = instructions._raw_requests("refresh", 2, ['{"refresh": "a"}', '{"refresh": "b"}'])
    assert [r.split(b"\r\n\r\n", 1)[1] for r in raw] == [b'{"refresh": "a"}', b'{"refresh": "b"}']
    assert b"Content-Length: 16\r\n" in raw[0]
