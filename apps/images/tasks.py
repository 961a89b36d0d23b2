"""django-q2 entry points of the image registry."""

from qlrf.taskqueue import retry_on_lock

from .services import image_revocations_apply


@retry_on_lock
def image_revocations_apply_task() -> int:
    """Turn scheduled revocations whose time has come into revoked versions."""
    return image_revocations_apply()
