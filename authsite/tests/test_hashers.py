"""The production password hasher (authsite.hashers)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.core.exceptions import ImproperlyConfigured

from authsite.hashers import Argon2idPasswordHasher
from authsite.settings import base
from authsite.tests.test_settings import _start

PASSWORD = "Correct-Horse-9-Battery"


def test_production_hashes_with_argon2id_first_and_keeps_pbkdf2_for_old_hashes():
    assert base.PASSWORD_HASHERS[0] == "authsite.hashers.Argon2idPasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS
    assert base.ARGON2_PARALLELISM == 1


@pytest.mark.parametrize("lanes", [1, 4])
def test_argon2id_with_djangos_costs_and_the_configured_lanes(settings, lanes):
    settings.ARGON2_PARALLELISM = lanes
    hasher = Argon2idPasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith(f"argon2$argon2id$v=19$m=102400,t=2,p={lanes}$")
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify("Correct-Horse-9-Batterz", encoded)
    assert not hasher.must_update(encoded)


def test_a_hash_made_by_djangos_hasher_verifies_and_is_upgraded(settings):
    settings.ARGON2_PARALLELISM = 1
    settings.PASSWORD_HASHERS = [
        "authsite.hashers.Argon2idPasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    old = Argon2PasswordHasher().encode(PASSWORD, "saltsaltsaltsalt")
    assert ",p=8$" in old
    upgraded = []
    assert check_password(PASSWORD, old, setter=upgraded.append)
    assert upgraded == [PASSWORD]  # rehashed with one lane at this sign-in
    assert ",p=1$" in make_password(PASSWORD)


# --- Costs as settings (SPEC §18.6) ----------------------------------------------------

LOGIN = "/api/v1/auth/login"


def test_the_costs_default_to_djangos_with_one_lane():
    configured = (base.ARGON2_TIME_COST, base.ARGON2_MEMORY_COST, base.ARGON2_PARALLELISM)
    djangos = (Argon2PasswordHasher.time_cost, Argon2PasswordHasher.memory_cost)
    assert djangos == (2, 102400)
    assert configured == (*djangos, 1)


def test_the_hasher_hashes_with_the_configured_costs(settings):
    settings.ARGON2_TIME_COST = 3
    settings.ARGON2_MEMORY_COST = 19456
    settings.ARGON2_PARALLELISM = 1
    hasher = Argon2idPasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=3,p=1$")
    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.must_update(encoded)
    settings.ARGON2_TIME_COST = 2  # the operator lowers the passes: the hash is out of date
    assert hasher.must_update(encoded)
    assert hasher.verify(PASSWORD, encoded)  # but still verifies


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ARGON2_TIME_COST", "0"),
        ("ARGON2_TIME_COST", "51"),
        ("ARGON2_MEMORY_COST", "1024"),
        ("ARGON2_MEMORY_COST", "100MiB"),
        ("ARGON2_PARALLELISM", "65"),
        ("ARGON2_PARALLELISM", ""),
    ],
)
def test_a_cost_out_of_range_is_a_clear_configuration_error(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    default = {"ARGON2_TIME_COST": 2, "ARGON2_MEMORY_COST": 102400, "ARGON2_PARALLELISM": 1}
    limits = {"ARGON2_TIME_COST": (1, 50), "ARGON2_MEMORY_COST": (7168, 4194304)}
    low, high = limits.get(name, (1, 64))
    with pytest.raises(ImproperlyConfigured, match=rf"^{name} must be a whole number between"):
        base._int_between(name, default[name], low, high)


def test_start_up_with_too_little_argon2_memory_fails_naming_the_setting():
    result = _start({"DEBUG": "true", "ARGON2_MEMORY_COST": "1024"})
    assert result.returncode != 0
    assert "ImproperlyConfigured: ARGON2_MEMORY_COST must be a whole number between 7168" in (
        result.stderr
    )


def test_start_up_reads_the_owasp_profile_from_the_environment():
    script = (
        "import django; django.setup()\n"
        "from django.contrib.auth.hashers import make_password\n"
        "print(make_password('x').split('$')[3])\n"
    )
    env = {"DEBUG": "true", "ARGON2_MEMORY_COST": "19456", "ARGON2_TIME_COST": "2"}
    result = _start({**env, "ARGON2_PARALLELISM": "1"}, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "m=19456,t=2,p=1"


class DjangosLanes(Argon2PasswordHasher):
    """Django's own Argon2 (8 lanes), with small costs to keep the test fast."""

    time_cost = 1
    memory_cost = 512


class OtherCosts(Argon2PasswordHasher):
    """An earlier cost setting of ours."""

    time_cost = 3
    memory_cost = 8192
    parallelism = 1


@pytest.mark.django_db
@pytest.mark.parametrize("old_hasher", [DjangosLanes, OtherCosts], ids=["lanes", "costs"])
def test_a_hash_with_other_parameters_is_upgraded_at_the_next_api_sign_in(
    settings, api_client, user, old_hasher
):
    settings.PASSWORD_HASHERS = [
        "authsite.hashers.Argon2idPasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    # Cheap but real costs, distinct from both old hashes.
    settings.ARGON2_TIME_COST = 2
    settings.ARGON2_MEMORY_COST = 7168
    settings.ARGON2_PARALLELISM = 1
    old = old_hasher().encode(PASSWORD, "saltsaltsaltsalt")
    type(user).objects.filter(pk=user.pk).update(password=old)

    response = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.password != old
    assert user.password.startswith("argon2$argon2id$v=19$m=7168,t=2,p=1$")
    assert check_password(PASSWORD, user.password)


@pytest.mark.django_db
def test_a_wrong_password_does_not_rehash_an_old_hash(settings, api_client, user):
    settings.PASSWORD_HASHERS = ["authsite.hashers.Argon2idPasswordHasher"]
    settings.ARGON2_MEMORY_COST = 7168
    old = DjangosLanes().encode(PASSWORD, "saltsaltsaltsalt")
    type(user).objects.filter(pk=user.pk).update(password=old)

    response = api_client.post(
        LOGIN, {"email": user.email, "password": PASSWORD + "x"}, format="json"
    )

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_credentials"
    user.refresh_from_db()
    assert user.password == old
