from django.urls import path

from profiles.api import views

app_name = "profiles_api"

urlpatterns = [
    path("profile", views.ProfileView.as_view(), name="profile"),
]
