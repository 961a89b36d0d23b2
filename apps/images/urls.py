"""Portal routes of the image registry."""

from django.urls import path

from . import views

app_name = "images"

urlpatterns = [
    path("", views.ImageCatalogueView.as_view(), name="catalogue"),
    path("<int:pk>/", views.ImageVersionDetailView.as_view(), name="version-detail"),
]
