"""Helpers for the page tests: sign a browser in through the real page, and
find form controls without a label."""

from __future__ import annotations

from html.parser import HTMLParser

from conftest import STRONG_PASSWORD

LOGIN = "/accounts/login/"


def sign_in(client, identifier: str = "alice@example.com", password: str = STRONG_PASSWORD):
    response = client.post(LOGIN, {"identifier": identifier, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


class FormControls(HTMLParser):
    """Collects form controls and the labels that name them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"])
        if tag in ("input", "select", "textarea"):
            if tag == "input" and attributes.get("type") in ("hidden", "submit", "button"):
                return
            if "hidden" in attributes:
                return  # not shown (a password manager's username field)
            self.controls.append(attributes)

    def unlabeled(self) -> list[dict[str, str | None]]:
        return [
            control
            for control in self.controls
            if not control.get("aria-label")
            and not (control.get("id") and control["id"] in self.label_for)
        ]


def unlabeled_controls(html: str) -> list[dict[str, str | None]]:
    parser = FormControls()
    parser.feed(html)
    return parser.unlabeled()


def page_text(response) -> str:
    return response.content.decode()
