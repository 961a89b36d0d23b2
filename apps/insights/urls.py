"""Portal routes of insights."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [path("insights/", views.WhyView.as_view(), name="why")]
