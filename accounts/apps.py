from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from accounts import receivers  # noqa: F401  (signal receivers)

        # The sign-in pipeline records last_login (accounts.services.signin);
        # Django's own receiver would write it a second time.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
