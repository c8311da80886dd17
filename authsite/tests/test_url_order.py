"""The URLconf is tried in order, pattern by pattern (Django's resolver): the
hot paths must be found without walking the rest (issue 21). A miss inside an
``include`` also builds the list of every pattern it tried, so a path that is
not under ``/api/v1/auth/`` must be refused by that one prefix."""

import pytest
from django.urls import resolve


def _tried(path: str) -> int:
    return len(resolve(path).tried)


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/me", "/api/v1/auth/token/refresh", "/api/v1/auth/login"]
)
def test_the_token_calls_and_the_sign_in_are_found_first(path):
    # Only the patterns before it in its own include (the hot paths first).
    assert _tried(path) <= 5


@pytest.mark.parametrize("path", ["/api/v1/profile", "/api/v1/config"])
def test_the_rest_of_the_api_skips_the_auth_patterns_by_their_prefix(path):
    assert _tried(path) <= 4


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_come_right_after_the_api(path):
    # ``tried`` ends with the pattern that matched.
    assert _tried(path) <= 4
