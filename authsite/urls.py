from django.contrib import admin
from django.urls import include, path, re_path

from accounts import wellknown
from accounts.admin_views import admin_login
from accounts.api.config import ConfigView
from authsite import metrics, views

api_v1 = [
    path("auth/", include("accounts.api.urls")),
    path("", include("profiles.api.urls")),
    path("config", ConfigView.as_view(), name="config"),
    # drf-spectacular's, their errors in the envelope (authsite.views).
    path("schema", views.SchemaView.as_view(), name="schema"),
    path("docs", views.DocsView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    # The API first: Django tries the patterns in order, and most requests are
    # API calls (issue 21); none of the patterns overlap.
    path("api/v1/", include(api_v1)),
    # Last under /api/: whatever no route above matched is a JSON 404 (SPEC §19.1).
    re_path(r"^api/", views.api_not_found, name="api_not_found"),
    # Then the probes, asked every few seconds.
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("", views.home, name="home"),
    path("language/", views.language_set, name="language_set"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path(".well-known/assetlinks.json", wellknown.assetlinks, name="assetlinks"),
    path(
        ".well-known/apple-app-site-association",
        wellknown.apple_app_site_association,
        name="apple_app_site_association",
    ),
    path("accounts/", include("accounts.urls")),
    path("profile/", include("profiles.urls")),
    # The admin's sign-in under the same rate limits and lockout as the API's.
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]

handler400 = "authsite.views.bad_request"
handler403 = "authsite.views.permission_denied"
handler404 = "authsite.views.page_not_found"
handler500 = "authsite.views.server_error"
