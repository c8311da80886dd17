"""``manage.py runserver`` (``make run``): whitenoise's (static files served
by WhiteNoise, as in production), with persistent database connections off.

The development server answers each request in a thread of its own, and
nothing closes that thread's database connection: Django closes a connection
at the end of a request only once it is ``CONN_MAX_AGE`` old (60 s by
default, for gunicorn's long-lived threads), and a thread that ends leaves
its connection to the garbage collector. Every request left an open SQLite
file (or a MariaDB connection) behind, until the process ran out of file
descriptors (or MariaDB out of connections) and every request got 503.
Django's documentation says as much: the development server "negates the
effect of persistent connections. Don't enable them during development."
So under runserver each request closes its connection when it ends.
"""

from __future__ import annotations

from django.db import connections
from whitenoise.runserver_nostatic.management.commands.runserver import (
    Command as WhiteNoiseRunserver,
)


class Command(WhiteNoiseRunserver):
    def inner_run(self, *args, **options) -> None:
        # Read by every connection the request threads open (Django's
        # close_old_connections closes it at the end of its request).
        for alias in connections:
            connections.settings[alias]["CONN_MAX_AGE"] = 0
        super().inner_run(*args, **options)
