"""A passkey challenge is bound to what asked for it (SPEC §17): a browser's
own binding (``web-login:<random>``, kept in its session), a second step, a
session. The binding is compared with the binary collation on every
database: under MariaDB's default collation (``utf8mb4_unicode_ci``)
``web-login:AbC`` was the same as ``web-login:abc`` and ``web-login:ÁbC``,
so a binding was worth less than its random part. (Trailing spaces are
ignored by MariaDB's ``utf8mb4_bin`` too, as by every PAD SPACE collation;
every binding is made by the server, without them.)"""

from __future__ import annotations

import pytest

from accounts.models import WebAuthnChallenge
from accounts.services import passkeys
from authsite.errors import PasskeyInvalid

pytestmark = pytest.mark.django_db

BINDING = "web-login:Q3vXk9LmZpR2aB7cD1eF4gH5"


@pytest.mark.parametrize(
    "other",
    [
        BINDING.lower(),
        BINDING.upper().replace("WEB-LOGIN", "web-login"),
        BINDING.replace("a", "á"),
    ],
    ids=["lower", "upper", "accent"],
)
def test_a_challenge_is_spent_only_with_its_own_binding(other):
    challenge = passkeys._challenge_new(
        ceremony=WebAuthnChallenge.Ceremony.LOGIN, user=None, bound_to=BINDING
    )
    with pytest.raises(PasskeyInvalid):
        passkeys._challenge_spend(
            signed=challenge, ceremony=WebAuthnChallenge.Ceremony.LOGIN, user=None, bound_to=other
        )
    # Still there for the browser it was made for.
    assert (
        passkeys._challenge_spend(
            signed=challenge,
            ceremony=WebAuthnChallenge.Ceremony.LOGIN,
            user=None,
            bound_to=BINDING,
        )
        == challenge
    )
