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


class ArtifactRuleKindChoices(models.TextChoices):
    """How an artifact rule recognises a discovered image as a regional copy of a registered version."""

    TAGS = "tags", "By tags (family tag + version tag)"
    NAME_PATTERN = "name_pattern", "By name pattern (a regex with a version group)"
    COPY_SOURCE = "copy_source", "By copy source (copied from a registered image)"
