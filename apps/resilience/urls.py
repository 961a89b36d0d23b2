"""Portal routes of the drills (mounted at /drills/)."""

from django.urls import path

from . import views

app_name = "resilience"

urlpatterns = [
    path("", views.DrillListView.as_view(), name="drill-list"),
    path("runs/<int:pk>/", views.DrillRunDetailView.as_view(), name="run-detail"),
]
