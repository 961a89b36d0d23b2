"""The sweep of stored originals no row names (ADR 016): the storage half of "no file without its row".

``upload_store_and_parse`` already deletes the original it wrote when it fails itself. What it cannot see is a row
rolled back *after* it returned (an outer transaction of a caller, a signature check whose verification row failed,
a worker killed between the storage write and the commit). Those files are found here: every name under
``uploads/`` that no ``FileField`` of any model names and that is older than ``QLRF_UPLOAD_SWEEP_GRACE_MINUTES``
is deleted. The grace covers a write whose row is not committed yet (a slow import, a queued upload job).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)

PREFIX = "uploads"


def upload_originals_sweep(*, grace: timedelta | None = None, now: datetime | None = None) -> list[str]:
    """Delete stored originals under ``uploads/`` that no row names and that are older than ``grace``; their names."""
    if grace is None:
        grace = timedelta(minutes=settings.QLRF_UPLOAD_SWEEP_GRACE_MINUTES)
    cutoff = (now or timezone.now()) - grace
    candidates = [name for name in _stored_names(PREFIX) if _older_than(name, cutoff)]
    if not candidates:
        return []
    referenced = _referenced_names(f"{PREFIX}/")
    deleted = []
    for name in candidates:
        if name in referenced or is_referenced(name):  # re-checked just before deleting: a row may be newer
            continue
        default_storage.delete(name)
        deleted.append(name)
    if deleted:
        logger.info("upload sweep: %d stored original(s) without a row deleted", len(deleted))
    return deleted


def _stored_names(directory: str) -> list[str]:
    """Every file below ``directory`` in the default storage (an absent directory has none)."""
    try:
        directories, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return []
    names = [f"{directory}/{name}" for name in files]
    for child in directories:
        names.extend(_stored_names(f"{directory}/{child}"))
    return names


def _older_than(name: str, cutoff: datetime) -> bool:
    """Last modified before ``cutoff``; a storage that cannot tell, or a file gone meanwhile, counts as fresh."""
    try:
        modified = default_storage.get_modified_time(name)
    except (NotImplementedError, FileNotFoundError, OSError):
        return False
    if timezone.is_naive(modified):
        modified = timezone.make_aware(modified, timezone.get_default_timezone())
    return modified < cutoff


def _file_fields():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                yield model, field.attname


def _referenced_names(prefix: str) -> set[str]:
    """Every storage name under ``prefix`` a row of any model names (not only ``Upload``: a later model counts too)."""
    names: set[str] = set()
    for model, attname in _file_fields():
        rows = model._base_manager.filter(**{f"{attname}__startswith": prefix})
        names.update(rows.values_list(attname, flat=True))
    return names


def is_referenced(name: str) -> bool:
    """Whether any row of any model names the stored file ``name``."""
    return any(model._base_manager.filter(**{attname: name}).exists() for model, attname in _file_fields())
