"""DRF authentication for CI pipelines: ``Authorization: Bearer <token>``."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from qlrf.api.throttling import bad_token_check, bad_token_record

from .services.tokens import token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Authenticates a request as the token's service account; a bad, expired or revoked token is a 401."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("malformed Authorization header", code="invalid_token")
        bad_token_check(request)  # an address that sent too many bad tokens is refused before any lookup
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            bad_token_record(request)
            raise exceptions.AuthenticationFailed("malformed token", code="invalid_token") from None
        token = token_authenticate(raw)
        if token is None:
            bad_token_record(request)
            raise exceptions.AuthenticationFailed("invalid, expired or revoked token", code="invalid_token")
        return token.service_user, token

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.tenancy.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An organisation API token (qlrf_…)."}
