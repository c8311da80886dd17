"""System checks that keep development shortcuts out of production."""

from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.checks import Error, Tags, register

SHARED_CACHE_BACKENDS = (
    "django_redis.cache.RedisCache",
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
)


@register(Tags.security, deploy=False)
def otp_not_exposed_in_production(app_configs, **kwargs):
    if getattr(settings, "OTP_EXPOSE_IN_RESPONSE", False) and not settings.DEBUG:
        return [
            Error(
                "OTP_EXPOSE_IN_RESPONSE is on while DEBUG is off.",
                hint="Codes would be returned in API responses. Unset OTP_EXPOSE_IN_RESPONSE.",
                id="authsite.E001",
            )
        ]
    return []


@register(Tags.caches)
def shared_cache_in_production(app_configs, **kwargs):
    backend = settings.CACHES["default"]["BACKEND"]
    if not settings.DEBUG and backend not in SHARED_CACHE_BACKENDS:
        return [
            Error(
                f"The default cache ({backend}) is not shared between processes.",
                hint=(
                    "Rate-limit and sign-in failure counters must be seen by every worker: "
                    "set CACHE_URL=redis://host:6379/0."
                ),
                id="authsite.E002",
            )
        ]
    return []


@register(Tags.staticfiles, deploy=True)
def static_files_collected(app_configs, **kwargs):
    """DEBUG off serves hashed files from ``STATIC_ROOT``: without
    ``collectstatic`` the pages render without their styles and script."""
    if settings.DEBUG:
        return []
    manifest = Path(settings.STATIC_ROOT or "") / "staticfiles.json"
    if manifest.exists():
        return []
    return [
        checks.Warning(
            f"collectstatic has not been run: {manifest} is missing.",
            hint="Run `manage.py collectstatic --noinput` (make serve does) before serving.",
            id="authsite.W001",
        )
    ]
