"""django-q2 entry points of the image registry."""

from .services import image_revocations_apply


def image_revocations_apply_task() -> int:
    """Turn scheduled revocations whose time has come into revoked versions."""
    return image_revocations_apply()
