from django.urls import path

from accounts.api import views

app_name = "accounts_api"

urlpatterns = [
    path("auth/me", views.MeView.as_view(), name="me"),
]
