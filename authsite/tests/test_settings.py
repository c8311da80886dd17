"""Start-up configuration: required secrets, system checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

ROOT = Path(__file__).resolve().parents[2]


def _start(
    env_overrides: dict[str, str | None], script: str = "import django; django.setup()"
) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY", "JWT_"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "authsite.settings.base"
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_without_secret_key_fails_naming_it():
    result = _start({"DEBUG": "false", "SECRET_KEY": None, "JWT_SIGNING_KEY": "x" * 40})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "required" in result.stderr


def test_start_up_without_jwt_signing_key_fails_naming_it():
    result = _start({"DEBUG": "false", "SECRET_KEY": "s" * 50, "JWT_SIGNING_KEY": None})
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY" in result.stderr


def test_debug_runs_without_secrets():
    result = _start({"DEBUG": "true", "SECRET_KEY": None, "JWT_SIGNING_KEY": None})
    assert result.returncode == 0, result.stderr


def test_exposing_codes_without_debug_is_a_system_check_error(settings):
    settings.DEBUG = False
    settings.OTP_EXPOSE_IN_RESPONSE = True
    with pytest.raises(SystemCheckError, match=r"authsite\.E001"):
        call_command("check")


def test_a_process_local_cache_without_debug_is_a_system_check_error(settings):
    settings.DEBUG = False
    settings.OTP_EXPOSE_IN_RESPONSE = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with pytest.raises(SystemCheckError, match=r"authsite\.E002"):
        call_command("check")


def test_redis_cache_without_debug_passes_our_checks(settings):
    settings.DEBUG = False
    settings.OTP_EXPOSE_IN_RESPONSE = False
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    settings.SILENCED_SYSTEM_CHECKS = []
    call_command("check")


@pytest.mark.django_db
def test_mysql_database_uses_utf8mb4(settings):
    from django.db import connection

    if connection.vendor != "mysql":
        pytest.skip("runs when DATABASE_URL points at MySQL/MariaDB (.ci/run does)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@character_set_database")
        assert cursor.fetchone()[0] == "utf8mb4"


def test_a_sqlite_file_database_runs_in_write_ahead_log_mode(tmp_path):
    """Readers do not wait for a writer, and a commit appends to the log: under
    concurrent requests the rollback journal made writers queue for it."""
    script = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA journal_mode')\n"
        "    print(c.fetchone()[0])\n"
    )
    database = f"sqlite:///{tmp_path / 'first-run.sqlite3'}"
    result = _start({"DEBUG": "true", "DATABASE_URL": database}, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


@pytest.mark.parametrize(
    ("overrides", "backend"),
    [
        ({"EMAIL_URL": "smtp+tls://u:p@smtp.example.com:587"}, "smtp.EmailBackend"),
        (
            {
                "EMAIL_URL": "consolemail://",
                "EMAIL_BACKEND": "anymail.backends.resend.EmailBackend",
                "ANYMAIL_RESEND_API_KEY": "re_test",
            },
            "anymail.backends.resend.EmailBackend",
        ),
    ],
    ids=["from-email-url", "anymail-provider"],
)
def test_the_email_backend_comes_from_email_url_or_email_backend(overrides, backend):
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.EMAIL_BACKEND, settings.ANYMAIL.get('RESEND_API_KEY', '-'))\n"
    )
    result = _start({"DEBUG": "true", "EMAIL_BACKEND": None, **overrides}, script)
    assert result.returncode == 0, result.stderr
    chosen, api_key = result.stdout.split()
    assert chosen.endswith(backend)
    assert api_key == overrides.get("ANYMAIL_RESEND_API_KEY", "-")


def test_start_up_with_zero_argon2_lanes_fails_naming_the_setting():
    result = _start({"DEBUG": "true", "ARGON2_PARALLELISM": "0"})
    assert result.returncode != 0
    assert "ARGON2_PARALLELISM" in result.stderr
