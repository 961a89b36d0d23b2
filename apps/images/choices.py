"""Choices of the image registry."""

from django.db import models


class ImageVersionStatusChoices(models.TextChoices):
    """draft → published → deprecated; any non-draft state → revoked (final)."""

    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    DEPRECATED = "deprecated", "Deprecated"
    REVOKED = "revoked", "Revoked"


class OsFamilyChoices(models.TextChoices):
    LINUX = "linux", "Linux"
    WINDOWS = "windows", "Windows"
