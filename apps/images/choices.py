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


class VersionSchemeChoices(models.TextChoices):
    """How a family numbers its versions (``apps.images.versioning``)."""

    SEMVER = "semver", "Semantic Versioning 2.0.0"
    PEP440 = "pep440", "PEP 440"
    CALVER = "calver", "Calendar versions (YYYY.MM[.DD][.MICRO])"
    DEBIAN = "debian", "Debian ([epoch:]upstream[-revision])"
