"""Finding 8: token responses and signed-in pages carried no
``Cache-Control: no-store`` (SPEC §22.8), so a shared cache or the browser's
history could keep a token, a code or personal data."""

from __future__ import annotations

import pytest

from tests.attacks.corpus import VICTIM_EMAIL, VICTIM_PASSWORD

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_token_responses_are_not_stored(api_client, victim):
    login = api_client.post(
        "/api/v1/auth/login", {"email": VICTIM_EMAIL, "password": VICTIM_PASSWORD}, format="json"
    )
    assert login.status_code == 200 and _no_store(login)
    data = login.json()["data"]
    refresh = api_client.post(
        "/api/v1/auth/token/refresh", {"refresh": data["refresh"]}, format="json"
    )
    assert refresh.status_code == 200 and _no_store(refresh)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {data['access']}")
    for path in ("/api/v1/auth/me", "/api/v1/profile", "/api/v1/auth/sessions"):
        assert _no_store(api_client.get(path)), path


def test_api_errors_are_not_stored(api_client):
    response = api_client.post("/api/v1/auth/login", {}, format="json")
    assert response.status_code == 400 and _no_store(response)


def test_signed_in_pages_are_not_stored(web_client, victim):
    web_client.post("/accounts/login/", {"identifier": VICTIM_EMAIL, "password": VICTIM_PASSWORD})
    for path in ("/", "/profile/", "/accounts/sessions/", "/accounts/activity/"):
        response = web_client.get(path)
        assert response.status_code == 200, path
        assert _no_store(response), path
