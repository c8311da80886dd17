"""Helpers for reading what a person would read: the codes we sent them."""

from __future__ import annotations

import re

from django.core import mail

CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def last_code_for(destination: str) -> str:
    """The code in the newest email or SMS sent to ``destination``."""
    from otp.delivery import sms

    if "@" in destination:
        messages = [m for m in mail.outbox if destination in m.to]
        assert messages, f"no email was sent to {destination}"
        body = messages[-1].body
    else:
        messages = [m for m in sms.outbox if m.to == destination]
        assert messages, f"no SMS was sent to {destination}"
        body = messages[-1].body
    match = CODE_RE.search(body)
    assert match, f"no code in the message to {destination}: {body!r}"
    return match.group(1)


def messages_to(destination: str) -> list[str]:
    from otp.delivery import sms

    if "@" in destination:
        return [m.subject + "\n" + m.body for m in mail.outbox if destination in m.to]
    return [m.body for m in sms.outbox if m.to == destination]


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert body["success"] is False
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


def assert_ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert body["success"] is True, body
    assert isinstance(body["message"], str)
    return body["data"]


def comparable_content(response) -> bytes:
    """The body byte for byte, but for the request's own id: every error
    envelope carries a fresh random ``request_id`` (the one in its
    ``X-Request-ID`` header, SPEC §20), which two answers never share."""
    request_id = response["X-Request-ID"].encode()
    return response.content.replace(request_id, b"<request-id>")


def comparable_json(response) -> dict:
    """The JSON body without its ``request_id`` (checked to be the header's)."""
    body = dict(response.json())
    if "request_id" in body:
        assert body.pop("request_id") == response["X-Request-ID"]
    return body


def with_second_factor(user):
    """Give an account a second factor (codes by SMS or email): what a staff
    account needs to reach the admin (MFA_REQUIRED_FOR_STAFF)."""
    from accounts.models import Authenticator, User

    Authenticator.objects.create(user=user, kind=Authenticator.Kind.CODE, confirmed=True)
    User.objects.filter(pk=user.pk).update(mfa_enabled=True)
    user.mfa_enabled = True
    return user


def give_old_password_hash(user, password: str, settings, *, browser=None) -> str:
    """Store ``password`` for ``user`` as a hash with old parameters (PBKDF2,
    still accepted), as after the Argon2 costs changed: the next right
    password remakes it. With ``browser``, that browser's session is made as
    if it had signed in while the old hash was stored. Returns the old hash."""
    from django.contrib.auth import HASH_SESSION_KEY
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from accounts.models import User

    pbkdf2 = "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    if pbkdf2 not in settings.PASSWORD_HASHERS:
        settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, pbkdf2]
    old = PBKDF2PasswordHasher().encode(password, "saltsalt", 1000)
    User.objects.filter(pk=user.pk).update(password=old)
    user.refresh_from_db()
    if browser is not None:
        session = browser.session
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
    return old
