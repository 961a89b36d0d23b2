"""The one door to tenant data: ``TenantQuerySet.restrict(user, action)``.

Rows are visible to a user only through django-guardian object permissions held on the row's Organization (or, for
project-scoped memberships, its Project). Global model permissions never decide row visibility
(``accept_global_perms=False``). Superusers are installation operators and see every tenant (ADR 008).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from qlrf.db_router import replica_reads_active

from .roles import permission_for


def _permitted(user, codename: str, model_name: str) -> models.QuerySet:
    """Primary keys of the Organization or Project objects on which ``user`` holds ``codename``."""
    from guardian.shortcuts import get_objects_for_user

    from .models import Organization, Project

    klass = Organization if model_name == "organization" else Project
    objects = get_objects_for_user(user, codename, klass=klass, accept_global_perms=False, with_superuser=False)
    return objects.values("pk")


def _path(prefix: str, suffix: str = "in") -> str:
    return f"{prefix}__{suffix}" if prefix else f"pk__{suffix}"


class TenantQuerySet(models.QuerySet):
    """A queryset whose user-facing entry point is ``restrict``; every tenant-owned model uses it."""

    def restrict(self, user, action: str = "view") -> TenantQuerySet:
        """Rows of this queryset that ``user`` may perform ``action`` on; nothing for anonymous or inactive users."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        model = self.model
        codename = permission_for(model.permission_scope, action)
        organizations = _permitted(user, codename, "organization")
        projects = _permitted(user, codename, "project")
        if replica_reads_active():
            # this query may run on a read replica: who may see never lags, so the grants are read on the primary now
            organizations = [row["pk"] for row in organizations]
            projects = [row["pk"] for row in projects]
        condition = Q(**{_path(model.tenant_path): organizations})
        if model.project_path is not None:
            condition |= Q(**{_path(model.project_path): projects})
        elif codename == "view_data":
            # A project-scoped member may read the organisation's shared rows (environments, sites…), but never what
            # needs an organisation-level grant (tokens, the audit trail).
            from .models import Project

            via_projects = Project.objects.filter(pk__in=projects).values("organization")
            if replica_reads_active():
                via_projects = [row["organization"] for row in via_projects]
            condition |= Q(**{_path(model.tenant_path): via_projects})
        return self.filter(condition)


class AppendOnlyQuerySet(TenantQuerySet):
    """History (audit events, snapshots, verification logs) is never updated or deleted in bulk."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model.__name__} is append-only")

    def delete(self):
        raise TypeError(f"{self.model.__name__} is append-only")

    def expire(self) -> int:
        """Retention, the one sanctioned deletion of history: remove these rows (and what cascades from them)."""
        return models.QuerySet.delete(self)[0]
