"""The bare baseline of ``make bench``: a minimal Django project in one module.

Settings (``DJANGO_SETTINGS_MODULE=bench.bare``), URLconf and view: no
installed app, no middleware, no database, one view at ``/healthz`` that
answers what the site's ``/healthz`` answers. ``make bench`` serves it with
the same gunicorn configuration as the site (``gunicorn.conf.py``: workers,
threads, access log) as ``bench.bare:application``, and measures it in the
same run, so ``/healthz ÷ bare`` is what the site's stack — its middleware,
request id, metrics and request line — costs on every request, apart from
what gunicorn and Django themselves cost.
"""

import os

from django.http import HttpRequest, JsonResponse
from django.urls import path

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-bare-only")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
ROOT_URLCONF = "bench.bare"
USE_TZ = True
# Read by gunicorn.conf.py's access log (the client IP, as the site's is).
TRUSTED_PROXY_COUNT = 0


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"success": True, "message": "ok", "data": {"status": "ok"}})


urlpatterns = [path("healthz", healthz)]


def _application():
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare"
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def __getattr__(name: str):
    # ``application`` is made on first access (gunicorn's import of
    # ``bench.bare:application``), not when Django imports this module as the
    # settings or the URLconf.
    if name == "application":
        globals()["application"] = app = _application()
        return app
    raise AttributeError(name)
