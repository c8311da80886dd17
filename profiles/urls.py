from django.urls import path  # noqa: F401  (pages are added by the Pages issue)

app_name = "profiles"

urlpatterns: list = []
