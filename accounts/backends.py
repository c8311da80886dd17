from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts import selectors
from accounts.identifiers import parse_identifier


class IdentifierBackend(ModelBackend):
    """Django's authentication backend, by email, phone or username.

    Used where Django itself calls ``authenticate()`` (the admin login). Like
    ``ModelBackend`` it runs the password hasher once for an unknown
    identifier, so timing does not tell whether an account exists.
    """

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = None
        try:
            identifier = parse_identifier(str(username))
        except ValidationError:
            identifier = None
        if identifier is not None:
            user = selectors.user_by_identifier(identifier)
        if user is None:
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
