import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["success"] is True


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_cache_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["data"] == {"database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_envelope_when_the_database_is_unreachable(client, monkeypatch):
    from django.db import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    # The connection itself fails, as it does when the server is down.
    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False
    assert body["code"] == "service_unavailable"
    assert body["data"]["database"] == "unavailable"
    assert "connection refused" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/admin/login/", "/api/v1/docs", "/api/v1/schema"])
def test_the_first_pages_a_newcomer_opens_answer(client, path):
    response = client.get(path)
    assert response.status_code == 200, path


@pytest.mark.django_db
def test_swagger_ui_assets_are_served_by_the_site_not_a_cdn(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
