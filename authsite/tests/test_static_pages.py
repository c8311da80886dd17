"""Pages in production when ``collectstatic`` was skipped or is out of date:
they render (without the missing file), the error pages too; a check says so."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory, override_settings

from authsite import checks, views

pytestmark = pytest.mark.django_db

PRODUCTION_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "authsite.storage.StaticStorage"},
}


@pytest.fixture
def empty_manifest(tmp_path):
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1"}))
    # Django's setting_changed receivers rebuild the storage from these.
    with override_settings(STORAGES=PRODUCTION_STATIC, STATIC_ROOT=str(tmp_path)):
        yield tmp_path


def test_a_page_renders_when_a_file_is_missing_from_the_manifest(client, empty_manifest):
    # Django's manifest storage would raise here, and the 404 page too.
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "/static/favicon.svg" in response.content.decode()
    assert client.get("/accounts/login/").status_code == 200


def test_the_500_page_falls_back_to_plain_words(monkeypatch):
    def broken(name):
        raise ValueError("the template cannot render")

    monkeypatch.setattr(views.loader, "get_template", broken)
    response = views.server_error(RequestFactory().get("/accounts/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_the_check_says_when_collectstatic_has_not_run(tmp_path, settings):
    settings.DEBUG = False
    settings.STATIC_ROOT = str(tmp_path)
    assert [m.id for m in checks.static_files_collected(None)] == ["authsite.W001"]
    (tmp_path / "staticfiles.json").write_text("{}")
    assert checks.static_files_collected(None) == []
