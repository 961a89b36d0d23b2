"""The project's URLs plus views that fail on purpose, for the unhandled-exception tests (tests/test_logging.py)."""

from __future__ import annotations

import logging

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from qlrf.urls import handler400, handler403, handler404, handler500
from qlrf.urls import urlpatterns as project_urlpatterns

logger = logging.getLogger("qlrf.tests.failing")
SECRET = "db password hunter2 leaked into the exception"


def fail(request):
    logger.warning("about to fail")
    raise RuntimeError(SECRET)


class FailingApiView(APIView):
    """A DRF view: DRF's exception handler answers None for a plain exception, so Django's handler500 answers."""

    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request):
        logger.warning("about to fail")
        raise KeyError(SECRET)


urlpatterns = [
    path("api/v1/test-failure", fail),
    path("api/v1/test-failure-drf", FailingApiView.as_view()),
    path("test-failure", fail),
    *project_urlpatterns,
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
