"""The public badge URL, mountable at the site root as ``/badges/`` (see docs/compliance.md)."""

from django.urls import path

from .views import badge_svg

urlpatterns = [
    path("<slug:organization>/<slug:family>/<str:version>/<str:badge>.svg", badge_svg, name="compliance-badge"),
]
