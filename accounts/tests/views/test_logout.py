import pytest

from accounts.models import DeviceSession, SecurityEvent
from accounts.tests.views.pages import sign_in

pytestmark = pytest.mark.django_db


def test_get_does_not_sign_out(signed_in):
    response = signed_in.get("/accounts/logout/")
    assert response.status_code == 200
    assert "Sign out of this browser?" in response.content.decode()
    assert signed_in.get("/profile/").status_code == 200


def test_post_signs_out_on_the_server(signed_in, user, make_browser):
    old_cookie = signed_in.cookies["sessionid"].value
    response = signed_in.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "You have been signed out." in signed_in.get("/").content.decode()
    session = DeviceSession.objects.get(user=user)
    assert session.revoked_at is not None
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.LOGOUT).exists()
    # The old cookie, replayed by another browser, is anonymous.
    replay = make_browser()
    replay.cookies["sessionid"] = old_cookie
    response = replay.get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_anonymous_logout_just_goes_home(browser):
    assert browser.get("/accounts/logout/")["Location"] == "/"
    assert browser.post("/accounts/logout/")["Location"] == "/"


def test_signing_in_as_someone_else_ends_the_first_web_session(browser, make_user):
    alice = make_user(email="alice@example.com")
    make_user(email="bob@example.com")
    sign_in(browser, "alice@example.com")
    first = DeviceSession.objects.get(user=alice)
    response = browser.post(
        "/accounts/login/",
        {"identifier": "bob@example.com", "password": "Correct-Horse-9-Battery"},
    )
    # A signed-in browser posting the form again is still a sign-in.
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.revoked_at is not None
