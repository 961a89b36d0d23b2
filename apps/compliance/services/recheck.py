"""Re-check after deploy: after each inventory scan, flag the running machines whose image has no valid signature."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count

from apps.images.models import ImageVersion
from apps.inventory.models import Asset
from apps.tenancy.services import audit_record

from ..selectors import versions_with_valid_signature

NOT_RUNNING = ("stopped", "deallocated", "suspended", "terminated", "stopping")


@transaction.atomic
def signature_recheck(*, organization, scan_run=None) -> dict[str, int]:
    """Count running machines per image version without a valid signature; record it in the audit trail.

    One GROUP BY over the fleet and one evidence lookup per distinct version in use (never per machine).
    """
    in_use = dict(
        Asset.objects.filter(organization=organization, removed_at__isnull=True, image_version__isnull=False)
        .exclude(state__in=NOT_RUNNING)
        .values_list("image_version")
        .annotate(n=Count("id"))
        .order_by()
    )
    versions = list(ImageVersion.objects.filter(pk__in=in_use).select_related("family"))
    valid = versions_with_valid_signature(versions)
    flagged = {str(v): in_use[v.pk] for v in sorted(versions, key=str) if v.pk not in valid}
    audit_record(
        organization=organization,
        actor=None,
        action="compliance.signature.recheck",
        obj=scan_run if scan_run is not None else organization,
        after={"unsigned_running_assets": sum(flagged.values()), "versions": flagged},
    )
    return flagged
