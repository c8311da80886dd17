"""Helpers for the admin tests."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def changelist_queries(client: Client, url: str) -> tuple[int, int]:
    """(queries, rows shown) of a changelist request.

    The first request is a warm-up: it may do one-off work (the browser's
    web-session row is attached on its first request after sign-in).
    """
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries), len(response.context["cl"].result_list)


def action(client: Client, url: str, name: str, pks) -> object:
    return client.post(
        url, {"action": name, "_selected_action": [str(pk) for pk in pks]}, follow=True
    )


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]
