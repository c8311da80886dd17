"""Password validators added to Django's own (SPEC §5.3, §18.2)."""

from __future__ import annotations

import hashlib
import http.client
import logging
import re
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class ComplexityValidator:
    """Upper case, lower case, a digit and a symbol (seed 001's rule), while
    ``PASSWORD_REQUIRE_COMPLEXITY`` is on (read at call time)."""

    def validate(self, password: str, user=None) -> None:
        if not getattr(settings, "PASSWORD_REQUIRE_COMPLEXITY", True):
            return
        missing = []
        if not any(c.isupper() for c in password):
            missing.append(_("an upper-case letter"))
        if not any(c.islower() for c in password):
            missing.append(_("a lower-case letter"))
        if not any(c.isdigit() for c in password):
            missing.append(_("a digit"))
        if all(c.isalnum() for c in password):
            missing.append(_("a symbol"))
        if missing:
            raise ValidationError(
                _("This password must contain %(missing)s.") % {"missing": ", ".join(missing)},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        if not getattr(settings, "PASSWORD_REQUIRE_COMPLEXITY", True):
            return ""
        return _("Your password must contain upper- and lower-case letters, a digit and a symbol.")


class MaximumLengthValidator:
    """Passwords are accepted up to ``PASSWORD_MAX_LENGTH`` characters (1024 by
    default; SPEC asks for at least 128). Longer ones are refused with a
    reason before any hashing happens."""

    def validate(self, password: str, user=None) -> None:
        limit = getattr(settings, "PASSWORD_MAX_LENGTH", 1024)
        if len(password) > limit:
            raise ValidationError(
                _("This password is too long: at most %(limit)d characters.") % {"limit": limit},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        limit = getattr(settings, "PASSWORD_MAX_LENGTH", 1024)
        return _("Your password can be up to %(limit)d characters long.") % {"limit": limit}


# --- Breached passwords (SPEC §18.2) ----------------------------------------------------

BREACH_CHECK_MODES = ("off", "fail_open", "fail_closed")
BREACH_CHECK_USER_AGENT = "authsite-password-check"
# A padded answer is about 1,000 lines of 40 bytes; anything far larger is not one.
_RANGE_MAX_BYTES = 1 << 20
_RANGE_LINE = re.compile(r"([0-9A-Fa-f]{35}):(\d+)")

logger = logging.getLogger("authsite.accounts.breaches")


class BreachCheckUnavailable(Exception):
    """The range API gave no usable answer. The message says why in a few words
    and holds nothing of the password (not even the hash prefix)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could take the prefix somewhere we did not configure (or to
    # plain HTTP): treat it as an unusable answer instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _range_fetch(*, prefix: str) -> bytes:
    """GET ``<PASSWORD_BREACH_API_URL>/range/<prefix>`` with padding asked for.

    ``PASSWORD_BREACH_TIMEOUT`` bounds the connection and each read, and the
    whole answer must arrive within it too (checked between reads)."""
    timeout = float(settings.PASSWORD_BREACH_TIMEOUT)
    url = f"{settings.PASSWORD_BREACH_API_URL.rstrip('/')}/range/{prefix}"
    # The scheme is http(s), checked at start-up (authsite/settings/base.py).
    request = urllib.request.Request(  # noqa: S310
        url, headers={"Add-Padding": "true", "User-Agent": BREACH_CHECK_USER_AGENT}
    )
    deadline = time.monotonic() + timeout
    try:
        with _opener.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise BreachCheckUnavailable(f"HTTP {response.status}")
            chunks, size = [], 0
            while chunk := response.read1(16384):
                size += len(chunk)
                if size > _RANGE_MAX_BYTES:
                    raise BreachCheckUnavailable("answer too large")
                if time.monotonic() > deadline:
                    raise BreachCheckUnavailable("timed out")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:  # 4xx, 5xx, and refused redirects
        raise BreachCheckUnavailable(f"HTTP {exc.code}") from None
    except TimeoutError:
        raise BreachCheckUnavailable("timed out") from None
    except urllib.error.URLError as exc:
        reason = "timed out" if isinstance(exc.reason, TimeoutError) else "connection failed"
        raise BreachCheckUnavailable(f"{reason} ({type(exc.reason).__name__})") from None
    except (OSError, http.client.HTTPException) as exc:
        raise BreachCheckUnavailable(f"connection failed ({type(exc).__name__})") from None
    return b"".join(chunks)


def _range_count(*, body: bytes, suffix: str) -> int:
    """The count on ``suffix``'s line of a range answer, 0 when absent.

    Every line must be ``<35 hex>:<count>``; padding lines carry count 0 and
    so never match as a breach. Anything else is not an answer."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise BreachCheckUnavailable("unreadable answer") from None
    count, lines = 0, 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _RANGE_LINE.fullmatch(line)
        if match is None:
            raise BreachCheckUnavailable("unreadable answer")
        lines += 1
        if match.group(1).upper() == suffix:
            count = int(match.group(2))
    if not lines:
        raise BreachCheckUnavailable("empty answer")
    return count


def password_breach_count(*, password: str) -> int:
    """How many times Have I Been Pwned has seen ``password`` in breaches (0:
    never). k-anonymity: only the first five hex digits of its SHA-1 leave the
    machine; the rest is compared here. Raises ``BreachCheckUnavailable``."""
    # SHA-1 because the range API is keyed by it; it stores nothing here.
    digest = hashlib.sha1(password.encode("utf-8", "surrogatepass"), usedforsecurity=False)
    digest = digest.hexdigest().upper()
    return _range_count(body=_range_fetch(prefix=digest[:5]), suffix=digest[5:])


class BreachedPasswordValidator:
    """Refuse a password that appears in a known data breach (SPEC §18.2).

    ``PASSWORD_BREACH_CHECK`` (read at call time): ``off``; ``fail_open``
    (an outage of the range API lets the password through, with a warning
    in the log); ``fail_closed`` (an outage refuses it, with its own reason).

    Django runs every validator and collects their errors, so being listed
    last is not enough to spare the network: this one first runs the other
    configured validators itself and asks the API only for a password they
    all accept (a refused one gets their reasons, without a round trip).
    """

    def validate(self, password: str, user=None) -> None:
        mode = settings.PASSWORD_BREACH_CHECK
        if mode == "off" or not self._other_rules_accept(password, user):
            return
        try:
            count = password_breach_count(password=password)
        except BreachCheckUnavailable as exc:
            outcome = "refused (fail_closed)" if mode == "fail_closed" else "accepted unchecked"
            logger.warning("Breached-password check unavailable: %s; password %s.", exc, outcome)
            if mode == "fail_closed":
                raise ValidationError(
                    _(
                        "We could not check this password against known data breaches "
                        "right now. Please try again in a few minutes."
                    ),
                    code="password_breach_check_unavailable",
                ) from None
            return
        if count > 0:
            raise ValidationError(
                _(
                    "This password has appeared in a data breach, so attackers try it "
                    "early. Please choose a different one."
                ),
                code="password_breached",
            )

    def _other_rules_accept(self, password: str, user) -> bool:
        others = [
            validator
            for validator in password_validation.get_default_password_validators()
            if not isinstance(validator, BreachedPasswordValidator)
        ]
        try:
            password_validation.validate_password(password, user, password_validators=others)
        except ValidationError:
            return False
        return True

    def get_help_text(self) -> str:
        if settings.PASSWORD_BREACH_CHECK == "off":
            return ""
        return _("Your password cannot be one that has appeared in a known data breach.")
