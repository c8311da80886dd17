from django.utils.translation import gettext as _
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import UserSerializer
from authsite.api import success
from authsite.schema import api_doc


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @api_doc(
        summary="The signed-in user",
        data=UserSerializer,
        errors={401: "not_authenticated, token_invalid"},
    )
    def get(self, request: Request) -> Response:
        return success(UserSerializer(request.user).data, message=_("Your account."))
