"""The project's URLs plus views that fail on purpose, for envelope tests."""

from django.db import OperationalError
from django.urls import path
from rest_framework.views import APIView

from authsite.urls import urlpatterns as project_urlpatterns


class BoomView(APIView):
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("secret detail: SELECT password FROM users; SECRET_KEY=abc")


class DatabaseDownView(APIView):
    authentication_classes: list = []

    def get(self, request):
        raise OperationalError("(2002, \"Can't connect to MySQL server on '127.0.0.1'\")")


class EchoView(APIView):
    authentication_classes: list = []

    def post(self, request):
        from authsite.api import success

        return success(request.data)


urlpatterns = [
    path("api/v1/test/echo", EchoView.as_view()),
    path("api/v1/test/boom", BoomView.as_view()),
    path("api/v1/test/db-down", DatabaseDownView.as_view()),
    *project_urlpatterns,
]

handler404 = "authsite.views.page_not_found"
handler500 = "authsite.views.server_error"
