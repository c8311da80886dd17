"""Changing or adding an email address or phone number from the page."""

import pytest

from accounts.tests.helpers import last_code_for, messages_to, wrong_code
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

CONTACT = "/accounts/contact/"
VERIFY = "/accounts/contact/verify/"


def test_change_the_email_with_a_code_to_the_new_address(signed_in, user):
    response = signed_in.post(
        CONTACT, {"identifier": "New@Example.com", "password": STRONG_PASSWORD}
    )
    assert response["Location"] == VERIFY
    page = signed_in.get(VERIFY).content.decode()
    assert '<strong class="address">new@example.com</strong>' in page
    response = signed_in.post(VERIFY, {"otp": last_code_for("new@example.com")})
    assert response["Location"] == "/profile/"
    assert "Your address has been updated." in signed_in.get("/profile/").content.decode()
    user.refresh_from_db()
    assert user.email == "new@example.com" and user.email_verified
    assert messages_to("alice@example.com")  # the old address got a notice


def test_add_a_phone_number(signed_in, user, sms_outbox):
    signed_in.post(CONTACT, {"identifier": "+919876543210", "password": STRONG_PASSWORD})
    signed_in.post(VERIFY, {"otp": last_code_for("+919876543210")})
    user.refresh_from_db()
    assert user.phone == "+919876543210" and user.phone_verified
    assert user.email == "alice@example.com"


def test_the_current_password_is_needed(signed_in, user):
    response = signed_in.post(CONTACT, {"identifier": "new@example.com", "password": "Wrong-9-x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_password_error"' in html
    assert "The current password is incorrect." in html


def test_a_wrong_code_changes_nothing(signed_in, user):
    signed_in.post(CONTACT, {"identifier": "new@example.com", "password": STRONG_PASSWORD})
    response = signed_in.post(VERIFY, {"otp": wrong_code(last_code_for("new@example.com"))})
    assert "Invalid or expired code." in response.content.decode()
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_the_same_address_is_an_error_beside_the_field(signed_in, user):
    response = signed_in.post(CONTACT, {"identifier": user.email, "password": STRONG_PASSWORD})
    html = response.content.decode()
    assert 'id="id_identifier_error"' in html
    assert "This is already the address of your account." in html


def test_a_password_whose_hash_is_upgraded_keeps_this_browser_signed_in(signed_in, user, settings):
    from accounts.models import User
    from accounts.tests.helpers import give_old_password_hash

    old = give_old_password_hash(user, STRONG_PASSWORD, settings, browser=signed_in)
    response = signed_in.post(
        CONTACT, {"identifier": "new@example.com", "password": STRONG_PASSWORD}
    )
    assert response["Location"] == VERIFY
    assert User.objects.get(pk=user.pk).password != old  # upgraded
    assert signed_in.get(VERIFY).status_code == 200
