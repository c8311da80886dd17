"""Deleting the account from the page."""

import pytest

from accounts.models import DeviceSession, User
from accounts.tests.helpers import last_code_for, wrong_code
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

DELETE = "/accounts/delete/"


def test_delete_with_the_password(signed_in, user):
    response = signed_in.post(DELETE, {"password": STRONG_PASSWORD})
    assert response["Location"] == "/"
    assert "Your account has been deleted." in signed_in.get("/").content.decode()
    assert not User.objects.filter(pk=user.pk).exists()
    assert not DeviceSession.objects.exists()
    assert signed_in.get("/profile/").status_code == 302


def test_a_wrong_password_deletes_nothing(signed_in, user):
    response = signed_in.post(DELETE, {"password": "Wrong-Horse-9-x"})
    assert response.status_code == 200
    assert 'id="id_password_error"' in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_a_passwordless_account_confirms_with_a_code(make_user, make_browser):
    user = make_user(email="bob@example.com", password=None)
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": "bob@example.com"})
    client.post("/accounts/login/code/verify/", {"otp": last_code_for("bob@example.com")})
    page = client.get(DELETE).content.decode()
    assert "Send me a code" in page
    assert 'name="otp"' not in page

    # The sign-in code went out moments ago: the cooldown applies, on the page.
    response = client.post(DELETE, {"action": "send"})
    assert response["Location"] == DELETE
    page = client.get(DELETE).content.decode()
    assert "Please wait before requesting another code. Try again in" in page
    assert User.objects.filter(pk=user.pk).exists()


def test_a_passwordless_account_deletes_with_a_fresh_code(make_user, make_browser, clock):
    user = make_user(email="bob@example.com", password=None)
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": "bob@example.com"})
    client.post("/accounts/login/code/verify/", {"otp": last_code_for("bob@example.com")})
    clock.advance(31)
    response = client.post(DELETE, {"action": "send"})
    assert response["Location"] == DELETE
    page = client.get(DELETE).content.decode()
    assert "We sent a code to b***@example.com." in page
    assert 'autocomplete="one-time-code"' in page
    code = last_code_for("bob@example.com")
    response = client.post(DELETE, {"otp": wrong_code(code)})
    assert "Invalid or expired code." in response.content.decode()
    response = client.post(DELETE, {"otp": code})
    assert response["Location"] == "/"
    assert not User.objects.filter(pk=user.pk).exists()
