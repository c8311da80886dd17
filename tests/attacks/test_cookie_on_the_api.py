"""CSRF against the API: a page on another site makes the victim's browser
send requests to ``/api/`` — with the victim's web session cookie, which the
browser attaches by itself (a form POST, an ``<img>`` GET; ``SameSite=Lax``
still lets a top-level GET through), but never a bearer token.

The API answers each one ``not_authenticated`` and nothing changes: the API
authenticates by the ``Authorization`` header only, and the pages-only block
of the middleware (session, user, CSRF cookie) does not run for ``/api/``.
CORS gives no credentialed reads either (``CORS_ALLOW_CREDENTIALS`` is false:
``tests/developers/test_cors.py``).

Guard (the property holds): it fails when both are undone — DRF's
``SessionAuthentication`` added to ``DEFAULT_AUTHENTICATION_CLASSES`` and the
session middleware run for ``/api/`` — checked by doing so. Either alone is
not enough to fail it, which is the point of keeping both.
"""

from __future__ import annotations

import pytest

from accounts.models import DeviceSession
from accounts.tests.views.pages import sign_in
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
EVIL = "https://evil.example.net"

# What a cross-site page could have the browser send, and what it would do.
REQUESTS = [
    ("get", f"{API}/me", None),
    ("get", f"{API}/account/export", None),
    ("get", f"{API}/sessions", None),
    ("post", f"{API}/logout", {"all": True}),
    (
        "post",
        f"{API}/password/change",
        {"current_password": STRONG_PASSWORD, "new_password": "x" * 20},
    ),
    ("post", f"{API}/contact/change", {"email": "thief@evil.example", "password": STRONG_PASSWORD}),
    ("post", f"{API}/mfa/code", {}),
    ("delete", f"{API}/account", {"password": STRONG_PASSWORD}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS]
)
def test_the_web_session_cookie_alone_authenticates_no_api_call(
    web_client, user, method, path, body
):
    sign_in(web_client)
    assert web_client.cookies.get("sessionid") is not None
    assert DeviceSession.objects.filter(
        user=user, kind=DeviceSession.WEB, revoked_at__isnull=True
    ).exists()

    send = getattr(web_client, method)
    kwargs = {"HTTP_ORIGIN": EVIL, "HTTP_REFERER": f"{EVIL}/trap"}
    if body is None:
        response = send(path, **kwargs)
    else:
        # A form post, as a cross-site page can make without a preflight, and JSON.
        response = send(path, body, **kwargs) if method == "post" else send(path, **kwargs)
        assert response.status_code == 401, response.content
        response = send(path, body, content_type="application/json", **kwargs)

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "not_authenticated"
    assert "Access-Control-Allow-Origin" not in response
    user.refresh_from_db()
    assert (
        user.is_active
        and user.email == "alice@example.com"
        and user.check_password(STRONG_PASSWORD)
    )
    assert DeviceSession.objects.filter(
        user=user, kind=DeviceSession.WEB, revoked_at__isnull=True
    ).exists()
