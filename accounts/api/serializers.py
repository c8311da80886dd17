"""Output shapes shared by several API views."""

from rest_framework import serializers

from accounts.services.tokens import TokenPair


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    username = serializers.CharField(allow_null=True)
    email_verified = serializers.BooleanField()
    phone_verified = serializers.BooleanField()


class TokenSessionSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()
    session_id = serializers.UUIDField()
    user = UserSerializer()


def token_session_data(pair: TokenPair) -> dict:
    return TokenSessionSerializer(
        {
            "access": pair.access,
            "refresh": pair.refresh,
            "token_type": "Bearer",
            "expires_at": pair.expires_at,
            "refresh_expires_at": pair.refresh_expires_at,
            "session_id": pair.session.pk,
            "user": pair.session.user,
        }
    ).data
