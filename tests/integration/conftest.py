"""Fixtures of the integration tests: a dedicated MariaDB database, Redis, and
the site under gunicorn with production settings."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration.support import DATABASE_PREFIX, MariaDB, manage, production_env


@pytest.fixture(scope="session")
def mariadb() -> MariaDB:
    """The MariaDB of ``DATABASE_URL`` (.ci/run points it at 127.0.0.1:3306)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("mysql://"):
        pytest.skip("integration tests need DATABASE_URL=mysql://… (.ci/run sets it)")
    server = MariaDB.from_url(url)
    if not server.is_up():
        pytest.fail(f"MariaDB at {server.host}:{server.port} does not answer")
    return server


@pytest.fixture(scope="module")
def work_dir(request):
    """Mail and logs of this module's servers; kept when a test failed, for the logs."""
    path = Path(tempfile.mkdtemp(prefix="authsite-hard-it-"))
    failed_before = request.session.testsfailed
    yield path
    if request.session.testsfailed == failed_before:
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"\nintegration logs and mail kept in {path}")


@pytest.fixture(scope="module")
def it_database(mariadb):
    """A database of its own (``authsite_hard_it_<random>``), migrated, dropped afterwards."""
    name = f"{DATABASE_PREFIX}{secrets.token_hex(4)}"
    mariadb.create_database(name)
    url = mariadb.url(name)
    try:
        manage(
            production_env(database_url=url, cache_url="locmemcache://", mail_dir=Path("/tmp")),
            "migrate",
            "--noinput",
            "--skip-checks",
        )
        yield url
    finally:
        mariadb.drop_database(name)
