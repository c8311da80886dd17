"""Finding 1 of the MariaDB attack: a look-alike spelling of a verified
account's address found that account (the database's collation ignores
accents and folds the dotless i, the long s, the Kelvin sign and fullwidth letters) while the code went to the
typed spelling, which the attacker owns. SPEC §22.1.

Every spelling of ``corpus.LOOKALIKE_*`` is driven through every endpoint that
takes an address. None may send anything to the victim or reach the victim's
account; on MariaDB as on SQLite. The same-address spellings are the control:
they do reach the victim.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.attacks.conftest import codes_sent_elsewhere, sent_to
from tests.attacks.corpus import (
    ATTACKER_PASSWORD,
    LOOKALIKE_EMAILS,
    LOOKALIKE_PHONES,
    LOOKALIKE_USERNAMES,
    SAME_ADDRESS_EMAILS,
    SAME_ADDRESS_PHONES,
    VICTIM_EMAIL,
    VICTIM_PASSWORD,
    VICTIM_PHONE,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/auth"
EMAILS = pytest.mark.parametrize(
    "spelling", list(LOOKALIKE_EMAILS.values()), ids=list(LOOKALIKE_EMAILS)
)
PHONES = pytest.mark.parametrize(
    "spelling", list(LOOKALIKE_PHONES.values()), ids=list(LOOKALIKE_PHONES)
)


def _signed_in_user_id(response) -> int | None:
    if response.status_code != 200:
        return None
    return response.json()["data"]["user"]["id"]


def _victim_untouched(victim) -> None:
    victim.refresh_from_db()
    assert victim.email == VICTIM_EMAIL
    assert victim.check_password(VICTIM_PASSWORD)


# --- code sign-in ------------------------------------------------------------------------


@EMAILS
def test_code_signin_with_a_lookalike_email_never_reaches_the_victim(api_client, victim, spelling):
    response = api_client.post(f"{API}/otp/request", {"email": spelling}, format="json")
    assert response.status_code in (200, 400), response.content
    assert sent_to(VICTIM_EMAIL) == []
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        answer = api_client.post(
            f"{API}/otp/verify", {"email": spelling, "otp": code}, format="json"
        )
        assert _signed_in_user_id(answer) != victim.id
    _victim_untouched(victim)


@PHONES
def test_code_signin_with_a_lookalike_phone_never_reaches_the_victim(
    api_client, phone_victim, spelling
):
    response = api_client.post(f"{API}/otp/request", {"phone": spelling}, format="json")
    assert response.status_code in (200, 400), response.content
    assert sent_to(VICTIM_PHONE) == []
    for code in codes_sent_elsewhere(VICTIM_PHONE):
        answer = api_client.post(
            f"{API}/otp/verify", {"phone": spelling, "otp": code}, format="json"
        )
        assert _signed_in_user_id(answer) != phone_victim.id


# --- forgot → verify → reset ---------------------------------------------------------------


@EMAILS
def test_password_reset_with_a_lookalike_email_never_reaches_the_victim(
    api_client, victim, spelling
):
    response = api_client.post(f"{API}/password/forgot", {"email": spelling}, format="json")
    assert response.status_code in (200, 400), response.content
    assert sent_to(VICTIM_EMAIL) == []
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        api_client.post(
            f"{API}/password/forgot/verify", {"email": spelling, "otp": code}, format="json"
        )
        api_client.post(
            f"{API}/password/reset",
            {"email": spelling, "otp": code, "new_password": ATTACKER_PASSWORD},
            format="json",
        )
    _victim_untouched(victim)
    login = api_client.post(
        f"{API}/login", {"email": VICTIM_EMAIL, "password": ATTACKER_PASSWORD}, format="json"
    )
    assert login.status_code == 401


@PHONES
def test_password_reset_with_a_lookalike_phone_never_reaches_the_victim(
    api_client, phone_victim, spelling
):
    api_client.post(f"{API}/password/forgot", {"phone": spelling}, format="json")
    assert sent_to(VICTIM_PHONE) == []
    for code in codes_sent_elsewhere(VICTIM_PHONE):
        api_client.post(
            f"{API}/password/reset",
            {"phone": spelling, "otp": code, "new_password": ATTACKER_PASSWORD},
            format="json",
        )
    phone_victim.refresh_from_db()
    assert phone_victim.check_password(VICTIM_PASSWORD)


# --- sign-up and its verification -------------------------------------------------------------


@EMAILS
def test_signup_with_a_lookalike_email_never_reaches_the_victim(api_client, victim, spelling):
    response = api_client.post(
        f"{API}/signup", {"email": spelling, "password": ATTACKER_PASSWORD}, format="json"
    )
    assert response.status_code in (201, 400), response.content
    # A look-alike is another address: its owner is not the victim, who must
    # not even get the "someone tried to sign up with your address" notice.
    assert sent_to(VICTIM_EMAIL) == []
    token = (
        response.json().get("data", {}).get("signup_token") if response.status_code == 201 else None
    )
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        body = {"email": spelling, "otp": code}
        if token:
            body["signup_token"] = token
        answer = api_client.post(f"{API}/signup/verify", body, format="json")
        assert _signed_in_user_id(answer) != victim.id
    _victim_untouched(victim)


# --- password sign-in ------------------------------------------------------------------------


@EMAILS
def test_password_signin_with_a_lookalike_email_is_not_the_victims(api_client, victim, spelling):
    for body in ({"email": spelling}, {"identifier": spelling}):
        response = api_client.post(
            f"{API}/login", {**body, "password": VICTIM_PASSWORD}, format="json"
        )
        assert response.status_code in (400, 401), response.content


@PHONES
def test_password_signin_with_a_lookalike_phone_is_not_the_victims(
    api_client, phone_victim, spelling
):
    response = api_client.post(
        f"{API}/login", {"phone": spelling, "password": VICTIM_PASSWORD}, format="json"
    )
    assert response.status_code in (400, 401), response.content


@pytest.mark.parametrize(
    "spelling", list(LOOKALIKE_USERNAMES.values()), ids=list(LOOKALIKE_USERNAMES)
)
def test_password_signin_with_a_lookalike_username_is_not_the_victims(api_client, victim, spelling):
    for body in ({"username": spelling}, {"identifier": spelling}):
        response = api_client.post(
            f"{API}/login", {**body, "password": VICTIM_PASSWORD}, format="json"
        )
        assert response.status_code in (400, 401), response.content


# --- resend -------------------------------------------------------------------------------------


@EMAILS
@pytest.mark.parametrize("purpose", ["login", "password_reset", "signup"])
def test_resend_to_a_lookalike_email_sends_the_victim_nothing(
    api_client, victim, spelling, purpose
):
    api_client.post(f"{API}/otp/resend", {"email": spelling, "purpose": purpose}, format="json")
    assert sent_to(VICTIM_EMAIL) == []


# --- contact change ------------------------------------------------------------------------------


@EMAILS
def test_contact_change_to_a_lookalike_email_leaves_the_victim_alone(
    api_client, victim, attacker, spelling
):
    from accounts.services.tokens import session_open
    from authsite.client import ClientInfo

    pair = session_open(user=attacker, client=ClientInfo(ip="10.0.0.66"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    # A fresh authentication, for deployments that ask for one first.
    api_client.post(f"{API}/reauthenticate", {"password": ATTACKER_PASSWORD}, format="json")
    response = api_client.post(
        f"{API}/contact/change",
        {"email": spelling, "password": ATTACKER_PASSWORD},
        format="json",
    )
    assert response.status_code in (200, 400), response.content
    assert sent_to(VICTIM_EMAIL) == []
    for code in codes_sent_elsewhere(VICTIM_EMAIL):
        api_client.post(f"{API}/contact/verify", {"email": spelling, "otp": code}, format="json")
    attacker.refresh_from_db()
    assert attacker.email != VICTIM_EMAIL
    _victim_untouched(victim)


# --- the admin's sign-in --------------------------------------------------------------------------


@EMAILS
def test_admin_signin_with_a_lookalike_email_is_refused(web_client, make_user, spelling):
    make_user(email=VICTIM_EMAIL, password=VICTIM_PASSWORD, is_staff=True, is_superuser=True)
    response = web_client.post(
        "/admin/login/?next=/admin/",
        {"username": spelling, "password": VICTIM_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in web_client.session
    assert web_client.get("/admin/").status_code == 302  # still sent to the sign-in page


# --- the control: the victim's own address, spelled differently, still works ------------------


@pytest.mark.parametrize(
    "spelling", list(SAME_ADDRESS_EMAILS.values()), ids=list(SAME_ADDRESS_EMAILS)
)
def test_the_victims_own_address_in_another_case_still_signs_in(api_client, victim, spelling):
    response = api_client.post(
        f"{API}/login", {"email": spelling, "password": VICTIM_PASSWORD}, format="json"
    )
    assert _signed_in_user_id(response) == victim.id
    api_client.post(f"{API}/otp/request", {"email": spelling}, format="json")
    assert len(sent_to(VICTIM_EMAIL)) == 1


@pytest.mark.parametrize(
    "spelling", list(SAME_ADDRESS_PHONES.values()), ids=list(SAME_ADDRESS_PHONES)
)
def test_the_victims_own_phone_with_separators_still_signs_in(api_client, phone_victim, spelling):
    response = api_client.post(
        f"{API}/login", {"phone": spelling, "password": VICTIM_PASSWORD}, format="json"
    )
    assert _signed_in_user_id(response) == phone_victim.id


def test_an_idn_in_unicode_and_in_punycode_is_one_address(api_client, victim):
    """The attacker's own look-alike address, typed either way, is one account
    — and never the victim's."""
    unicode_form = LOOKALIKE_EMAILS["accent in domain"]
    punycode_form = LOOKALIKE_EMAILS["IDN in punycode"]
    api_client.post(f"{API}/otp/request", {"email": unicode_form}, format="json")
    (code,) = codes_sent_elsewhere(VICTIM_EMAIL)
    first = api_client.post(
        f"{API}/otp/verify", {"email": punycode_form, "otp": code}, format="json"
    )
    assert first.status_code == 200, first.content
    created = User.objects.get(pk=first.json()["data"]["user"]["id"])
    assert created.pk != victim.pk
    assert created.email == "kris.victim@xn--srvice-bva.example.com"
    assert sent_to(VICTIM_EMAIL) == []
