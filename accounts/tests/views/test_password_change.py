import pytest

from accounts.models import DeviceSession
from accounts.tests.views.pages import sign_in

pytestmark = pytest.mark.django_db

CHANGE = "/accounts/password/change/"
NEW_PASSWORD = "Brand-New-Horse-7"
OLD_PASSWORD = "Correct-Horse-9-Battery"


def change(client, current=OLD_PASSWORD, new=NEW_PASSWORD, again=None):
    return client.post(
        CHANGE, {"current_password": current, "new_password": new, "new_password2": again or new}
    )


def test_change_keeps_this_browser_and_signs_out_the_others(signed_in, make_browser, user):
    other = make_browser()
    sign_in(other)
    assert other.get("/profile/").status_code == 200
    key_before = signed_in.cookies["sessionid"].value
    kept = signed_in.session["_web_session_id"]

    response = change(signed_in)
    assert response["Location"] == "/profile/"
    page = signed_in.get("/profile/")
    assert page.status_code == 200
    assert "Your password has been changed." in page.content.decode()
    assert signed_in.cookies["sessionid"].value != key_before
    response = other.get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    live = DeviceSession.objects.filter(user=user, revoked_at__isnull=True)
    assert [str(s.pk) for s in live] == [kept]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_wrong_current_password_is_an_error_beside_it(signed_in):
    response = change(signed_in, current="Wrong-Horse-9-x")
    html = response.content.decode()
    assert 'id="id_current_password_error"' in html
    assert "The current password is incorrect." in html


def test_the_same_password_again_is_refused(signed_in):
    response = change(signed_in, new=OLD_PASSWORD)
    assert "The new password must be different from the current one." in response.content.decode()


def test_a_passwordless_account_is_sent_to_reset(make_user, make_browser):
    from accounts.tests.helpers import last_code_for

    make_user(email="bob@example.com", password=None)
    client = make_browser()
    client.post("/accounts/login/code/", {"identifier": "bob@example.com"})
    client.post("/accounts/login/code/verify/", {"otp": last_code_for("bob@example.com")})
    page = client.get(CHANGE).content.decode()
    assert "Your account has no password" in page
    assert 'href="/accounts/password/forgot/"' in page
