"""gunicorn entry point of the cached-report experiment: ``qlrf.wsgi`` with ``GET /api/v1/drift`` served from a cache.

Measured by ``bench/drift.py`` only; the project does not use it. The rendered JSON of a live report (no ``as_of``) is
kept per (organisation, filters) and reused while one cheap query says nothing it depends on has changed: the latest
finished scan, the channel assignments, the artifacts, the versions' revocations, the environments and sites. An entry
also expires at the next grace-period end or scheduled revocation (verdicts change then without any write) and after
``TTL`` seconds (drift ages count days). Authentication and the organisation check (``restrict``) still run on every
request. The proposed change in ``docs/performance.md`` replaces the query with a generation counter the services bump.
"""

from __future__ import annotations

import os
from dataclasses import asdict

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qlrf.settings.production")
application = get_wsgi_application()

from django.core.cache import cache  # noqa: E402 - Django is set up by the line above
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.renderers import JSONRenderer  # noqa: E402

from apps.drift.api import views  # noqa: E402
from apps.drift.selectors import drift_report_build  # noqa: E402

TTL = 60
STAMP_SQL = """
SELECT
    (SELECT max(id) FROM inventory_scanrun
      WHERE organization_id = %(org)s AND status IN ('succeeded', 'partial', 'failed')),
    (SELECT max(id) FROM images_channelassignment WHERE organization_id = %(org)s),
    (SELECT count(*) || ':' || coalesce(max(id), 0) FROM images_imageartifact WHERE organization_id = %(org)s),
    (SELECT md5(coalesce(string_agg(id || ':' || coalesce(revoked_at::text, '-'), ',' ORDER BY id), ''))
       FROM images_imageversion WHERE organization_id = %(org)s),
    (SELECT md5(coalesce(string_agg(id || ':' || slug, ',' ORDER BY id), ''))
       FROM tenancy_environment WHERE organization_id = %(org)s),
    (SELECT md5(coalesce(string_agg(id || ':' || slug, ',' ORDER BY id), ''))
       FROM tenancy_site WHERE organization_id = %(org)s),
    (SELECT min(t) FROM (
        SELECT min(grace_until) AS t FROM images_channelassignment
         WHERE organization_id = %(org)s AND grace_until > now()
        UNION ALL
        SELECT min(revoked_at) FROM images_imageversion WHERE organization_id = %(org)s AND revoked_at > now()) b)
"""


original_get = views.DriftReportView.get


def stamp_for(organization_id: int) -> tuple[list, object]:
    """What the live report depends on (compared for equality), and the next moment its verdicts change by time."""
    with connection.cursor() as cursor:
        cursor.execute(STAMP_SQL, {"org": organization_id})
        *stamp, boundary = cursor.fetchone()
    return stamp, boundary


def cached_get(self, request):
    """``DriftReportView.get`` answering a live report from the cached rendered body while its stamp matches."""
    if request.query_params.get("as_of"):
        return original_get(self, request)
    organization = self.organization(request)
    filters = self.filters(request)
    filters.validate(organization)
    stamp, boundary = stamp_for(organization.pk)
    key = f"bench-drift-report:{organization.pk}:{filters.environment}:{filters.platform}:{filters.site}"
    hit = cache.get(key)
    if hit is None or hit[0] != stamp:
        report = drift_report_build(organization, filters=filters)
        hit = (stamp, JSONRenderer().render({"organization": organization.slug, **asdict(report)}))
        timeout = TTL if boundary is None else max(1, min(TTL, int((boundary - timezone.now()).total_seconds())))
        cache.set(key, hit, timeout)
    return HttpResponse(hit[1], content_type="application/json")


views.DriftReportView.get = cached_get
