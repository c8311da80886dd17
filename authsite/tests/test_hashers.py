"""The production password hasher (authsite.hashers)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password

from authsite.hashers import Argon2idPasswordHasher
from authsite.settings import base

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
