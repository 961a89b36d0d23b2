"""Who may read ``/api/schema/`` and ``/api/docs/``: anyone when ``QLRF_API_DOCS_PUBLIC``, else signed-in callers."""

from django.conf import settings
from rest_framework.permissions import BasePermission


class ApiDocsAccess(BasePermission):
    """Public in development; behind login (session or API token) in production, where the setting defaults off."""

    def has_permission(self, request, view) -> bool:
        return settings.QLRF_API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)
