from __future__ import annotations

import contextlib

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.identifiers import parse_identifier
from accounts.services import signin
from authsite.client import ClientInfo, client_info
from authsite.errors import InvalidCredentials, RateLimited


class IdentifierBackend(ModelBackend):
    """Django's authentication backend, by email, phone or username, through
    the sign-in pipeline's first factor and account state (SPEC §15): the
    lockout, the dummy hash for an unknown identifier and the failure events
    are the pipeline's. ``login()`` afterwards finalises (``accounts.receivers``).
    An account that must pass a second step is not signed in by a bare
    ``authenticate()``."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        client = client_info(request) if request is not None else ClientInfo()
        try:
            identifier = parse_identifier(str(username))
        except ValidationError:
            identifier = None
        if identifier is None:
            with contextlib.suppress(InvalidCredentials, RateLimited):
                signin.signin_password_unreadable(
                    raw=str(username), password=str(password), client=client
                )
            return None
        return signin.signin_authenticate(
            identifier=identifier, password=str(password), client=client
        )
