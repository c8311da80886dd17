from django.apps import AppConfig


class AuthsiteConfig(AppConfig):
    name = "authsite"
    verbose_name = "authsite"

    def ready(self) -> None:
        from authsite import (
            checks,  # noqa: F401  (registers the system checks)
            request_signals,
        )

        request_signals.install()
