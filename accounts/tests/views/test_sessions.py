"""Signed-in devices, and everything that ends a browser's session at once:
revoking it, "sign out all", staff deactivation, the absolute lifetime."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import DeviceSession
from accounts.services.account import user_deactivate
from accounts.services.tokens import session_open, sessions_revoke_all
from accounts.tests.views.pages import sign_in
from authsite.client import ClientInfo

pytestmark = pytest.mark.django_db

SESSIONS = "/accounts/sessions/"


def signed_out(client) -> bool:
    response = client.get("/profile/")
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_list_shows_web_and_api_sessions_with_this_browser_marked(signed_in, user):
    session_open(user=user, client=ClientInfo(ip="10.0.0.9", user_agent="MobileApp/1.0"))
    page = signed_in.get(SESSIONS).content.decode()
    assert "Web browser" in page
    assert "API token" in page
    assert "MobileApp/1.0" in page
    assert page.count("This browser") == 1


def test_revoking_a_device_signs_that_browser_out_on_its_next_request(
    signed_in, make_browser, user
):
    other = make_browser(HTTP_USER_AGENT="OtherBrowser/2.0")
    sign_in(other)
    other_id = other.session["_web_session_id"]
    response = signed_in.post(f"/accounts/sessions/{other_id}/revoke/")
    assert response["Location"] == SESSIONS
    assert "That device has been signed out." in signed_in.get(SESSIONS).content.decode()

    response = other.get("/accounts/sessions/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/sessions/"
    assert "You have been signed out." in other.get(response["Location"]).content.decode()
    assert signed_out(other)
    assert signed_in.get("/profile/").status_code == 200


def test_revoking_someone_elses_session_does_nothing(signed_in, make_user):
    bob = make_user(email="bob@example.com")
    pair = session_open(user=bob, client=ClientInfo())
    signed_in.post(f"/accounts/sessions/{pair.session.pk}/revoke/")
    pair.session.refresh_from_db()
    assert pair.session.revoked_at is None


def test_revoking_this_browser_signs_it_out(signed_in):
    current = signed_in.session["_web_session_id"]
    response = signed_in.post(f"/accounts/sessions/{current}/revoke/")
    assert response["Location"] == "/accounts/login/"
    assert signed_out(signed_in)


def test_sign_out_all_other_devices(signed_in, make_browser, user):
    other = make_browser()
    sign_in(other)
    pair = session_open(user=user, client=ClientInfo())
    signed_in.post("/accounts/sessions/revoke-others/")
    assert "2 other devices have been signed out." in signed_in.get(SESSIONS).content.decode()
    assert signed_out(other)
    pair.session.refresh_from_db()
    assert pair.session.revoked_at is not None
    assert signed_in.get("/profile/").status_code == 200


def test_logout_everywhere_from_the_api_signs_browsers_out(signed_in, user):
    sessions_revoke_all(user=user, reason="logout")
    assert signed_out(signed_in)


def test_staff_deactivation_signs_the_browser_out(signed_in, user):
    user_deactivate(user=user)
    assert signed_out(signed_in)


def signed_in_deadline(client, settings) -> datetime:
    started = datetime.fromtimestamp(client.session["_web_signed_in_at"], tz=UTC)
    return started + timedelta(seconds=settings.SESSION_MAX_AGE)


def test_the_absolute_lifetime_signs_out(signed_in, clock, settings):
    deadline = signed_in_deadline(signed_in, settings)
    step = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT // 2)
    # Active all along (a request every half idle timeout) until just before it.
    while clock() + step < deadline - timedelta(seconds=60):
        clock.advance(step.total_seconds())
        assert signed_in.get("/profile/").status_code == 200
    clock.advance((deadline - clock()).total_seconds() - 60)
    assert signed_in.get("/profile/").status_code == 200
    clock.advance(61)
    response = signed_in.get("/profile/")
    assert response.status_code == 302
    page = signed_in.get(response["Location"]).content.decode()
    assert "Your session has expired. Sign in again." in page
    assert signed_out(signed_in)


def test_a_shorter_absolute_lifetime_setting_applies(signed_in, clock, settings):
    settings.SESSION_MAX_AGE = 120
    clock.advance(100)
    assert signed_in.get("/profile/").status_code == 200
    clock.advance(30)
    assert signed_out(signed_in)


def test_an_idle_browser_drops_out_of_the_device_list(
    signed_in, make_browser, user, clock, settings
):
    other = make_browser()
    sign_in(other)
    clock.advance(settings.SESSION_IDLE_TIMEOUT + 1)
    page = signed_in.get(SESSIONS)
    assert page.status_code == 302  # this browser idled out too
    sign_in(signed_in)
    page = signed_in.get(SESSIONS).content.decode()
    assert page.count("Web browser") == 1


def test_activity_keeps_the_web_session_alive(signed_in, user, clock, settings):
    for _ in range(3):
        clock.advance(settings.SESSION_IDLE_TIMEOUT // 2)
        assert signed_in.get("/profile/").status_code == 200
    row = DeviceSession.objects.get(user=user)
    assert row.last_used_at == clock()


def test_a_login_from_elsewhere_gets_its_own_row(admin_browser):
    assert admin_browser.get("/profile/").status_code == 200
    assert DeviceSession.objects.filter(kind=DeviceSession.WEB).count() == 1


@pytest.fixture
def admin_browser(user, make_browser):
    """A browser signed in with django.contrib.auth.login directly (like the
    admin's login form), without the sign-in page."""
    client = make_browser()
    client.force_login(user)
    return client


def test_the_live_check_is_one_query_per_request(signed_in, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in.get("/")  # the row was just touched: no write on the next requests
    with CaptureQueriesContext(connection) as queries:
        assert signed_in.get("/").status_code == 200
    device_queries = [q["sql"] for q in queries if "devicesession" in q["sql"].lower()]
    assert len(device_queries) == 1
    assert device_queries[0].lstrip().upper().startswith("SELECT")
