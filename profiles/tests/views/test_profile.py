"""The profile pages: view and edit, through the same profile service as the API."""

import pytest

from accounts.tests.views.pages import sign_in, unlabeled_controls
from profiles.models import Profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(user, web_client):
    sign_in(web_client)
    return web_client


def test_anonymous_visitors_are_sent_to_sign_in(web_client):
    for path in ("/profile/", "/profile/edit/"):
        response = web_client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


def test_the_profile_page_shows_the_account_and_the_profile(signed_in, user):
    Profile.objects.filter(user=user).update(first_name="Alice", city="Pune")
    page = signed_in.get("/profile/").content.decode()
    assert "Alice" in page
    assert "Pune" in page
    assert "alice@example.com" in page
    assert 'href="/profile/edit/"' in page


def test_edit_the_profile(signed_in, user):
    page = signed_in.get("/profile/edit/").content.decode()
    assert unlabeled_controls(page) == []
    response = signed_in.post(
        "/profile/edit/",
        {
            "first_name": " Alice ",
            "last_name": "Liddell",
            "company": "Wonderland Ltd",
            "city": "Oxford",
            "state": "",
            "country": "UK",
            "gender": "female",
            "date_of_birth": "1990-05-04",
            "bio": "Curious.",
            "preferences": "tea, croquet, , tea",
        },
    )
    assert response["Location"] == "/profile/"
    assert "Your profile has been saved." in signed_in.get("/profile/").content.decode()
    profile = Profile.objects.get(user=user)
    assert profile.first_name == "Alice"
    assert profile.gender == "female"
    assert profile.date_of_birth.isoformat() == "1990-05-04"
    assert profile.preferences == ["tea", "croquet"]
    # The form shows what is stored.
    page = signed_in.get("/profile/edit/").content.decode()
    assert 'value="1990-05-04"' in page
    assert 'value="tea, croquet"' in page


def test_a_date_of_birth_in_the_future_is_an_error_beside_it(signed_in, user):
    response = signed_in.post("/profile/edit/", {"date_of_birth": "2999-01-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_date_of_birth_error"' in html
    assert "The date of birth must be in the past." in html


def test_editing_keeps_the_attributes_the_form_does_not_show(signed_in, user):
    Profile.objects.filter(user=user).update(attributes={"religion": "none"})
    signed_in.post("/profile/edit/", {"first_name": "Alice"})
    assert Profile.objects.get(user=user).attributes == {"religion": "none"}
