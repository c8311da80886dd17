from django.urls import path

from profiles import views

app_name = "profiles"

urlpatterns = [
    path("", views.ProfileView.as_view(), name="detail"),
    path("edit/", views.ProfileEditView.as_view(), name="edit"),
]
