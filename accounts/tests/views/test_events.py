"""Security activity and "this wasn't me"."""

import pytest

from accounts.models import DeviceSession, SecurityEvent
from accounts.tests.helpers import last_code_for
from accounts.tests.views.pages import LOGIN, sign_in

pytestmark = pytest.mark.django_db

ACTIVITY = "/accounts/activity/"
NEW_PASSWORD = "Brand-New-Horse-7"


def test_the_activity_page_lists_the_users_events(signed_in, user, make_user):
    bob = make_user(email="bob@example.com")
    SecurityEvent.objects.create(kind=SecurityEvent.LOGIN_FAILURE, user=bob)
    page = signed_in.get(ACTIVITY).content.decode()
    assert "Signed in" in page
    assert "Failed sign-in" not in page
    assert "This wasn&#x27;t me" in page or "This wasn't me" in page


def test_the_activity_page_is_paginated(signed_in, user):
    SecurityEvent.objects.bulk_create(
        [SecurityEvent(kind=SecurityEvent.CODE_SENT, user=user) for _ in range(30)]
    )
    page = signed_in.get(ACTIVITY).content.decode()
    assert "Page 1 of 2" in page
    assert signed_in.get(ACTIVITY + "?page=2").status_code == 200


def test_this_wasnt_me_signs_out_everywhere_and_starts_a_reset(signed_in, make_browser, user):
    other = make_browser()
    sign_in(other)
    event = SecurityEvent.objects.filter(user=user).first()
    response = signed_in.post(f"/accounts/activity/{event.pk}/not-me/")
    assert response["Location"] == "/accounts/password/forgot/verify/"
    page = signed_in.get(response["Location"]).content.decode()
    assert "Every session of your account has been signed out." in page
    assert "al***@example.com" in page
    assert not DeviceSession.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert other.get("/profile/").status_code == 302
    assert signed_in.get("/profile/").status_code == 302
    # The reset code that went out finishes the flow.
    response = signed_in.post(
        "/accounts/password/forgot/verify/", {"otp": last_code_for(user.email)}
    )
    assert response["Location"] == "/accounts/password/reset/"
    response = signed_in.post(
        "/accounts/password/reset/",
        {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response["Location"] == LOGIN
    sign_in(signed_in, user.email, NEW_PASSWORD)


def test_this_wasnt_me_on_someone_elses_event_is_404(signed_in, make_user):
    bob = make_user(email="bob@example.com")
    event = SecurityEvent.objects.create(kind=SecurityEvent.LOGIN_FAILURE, user=bob)
    assert signed_in.post(f"/accounts/activity/{event.pk}/not-me/").status_code == 404
    assert signed_in.get("/profile/").status_code == 200


def test_this_wasnt_me_is_post_only(signed_in, user):
    event = SecurityEvent.objects.filter(user=user).first()
    assert signed_in.get(f"/accounts/activity/{event.pk}/not-me/").status_code == 405
    assert signed_in.get("/profile/").status_code == 200
