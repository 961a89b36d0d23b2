"""Id filters are no oracle: another tenant's id answers exactly as an id that does not exist (issue #20).

The endpoints come from the API router and the id filters from each endpoint's filterset, so a new filter is held to
this without anyone listing it here; a filter on a model with no ``FOREIGN_ROWS`` entry fails until one is added.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django_filters.filters import QuerySetRequestMixin

from apps.tenancy.filtersets import TenantFilterSet
from qlrf.api.urls import router
from tests.conftest import client_for
from tests.factories import EnvironmentFactory, ProjectFactory, SiteFactory
from tests.factories.images import UBUNTU, register
from tests.inventory.conftest import synthetic

pytestmark = pytest.mark.django_db

FOREIGN_ROWS = {
    "images.imageversion": lambda tenant: register(tenant, UBUNTU, "2024.1.1"),
    "images.imagefamily": lambda tenant: register(tenant, UBUNTU, "2024.1.1").family,
    "inventory.connector": lambda tenant: synthetic(tenant, name="foreign", count=1),
    "tenancy.environment": lambda tenant: EnvironmentFactory(organization=tenant.organization),
    "tenancy.project": lambda tenant: ProjectFactory(organization=tenant.organization),
    "tenancy.site": lambda tenant: SiteFactory(organization=tenant.organization),
}


def _id_filters():
    """(basename, filter name, related model) for every id filter of every filtered API endpoint."""
    found = []
    for _, viewset, basename in router.registry:
        filterset_class = getattr(viewset, "filterset_class", None)
        if filterset_class is None:
            continue
        for name, filter_ in filterset_class.base_filters.items():
            if isinstance(filter_, QuerySetRequestMixin):
                model = filterset_class._meta.model._meta.get_field(filter_.field_name.split("__")[0]).related_model
                found.append((basename, name, model._meta.label_lower))
    return sorted(found)


ID_FILTERS = _id_filters()


def test_every_filterset_is_a_tenant_filterset():
    for app in ("compliance", "images", "inventory", "tenancy"):
        importlib.import_module(f"apps.{app}.filtersets")
    for _, viewset, basename in router.registry:
        filterset_class = getattr(viewset, "filterset_class", None)
        assert filterset_class is None or issubclass(filterset_class, TenantFilterSet), basename
    assert {"upload", "scan-run", "gate-decision"} <= {basename for basename, _, _ in ID_FILTERS}


@pytest.mark.parametrize(("basename", "name", "label"), ID_FILTERS)
def test_foreign_id_answers_like_a_missing_id(tenant_a, tenant_b, basename, name, label):
    assert label in FOREIGN_ROWS, f"add a FOREIGN_ROWS entry for {label}"
    foreign = FOREIGN_ROWS[label](tenant_b)
    own = FOREIGN_ROWS[label](tenant_a)
    model = django_apps.get_model(label)
    missing = model.objects.order_by("-pk").first().pk + 1000
    client = client_for(tenant_a.users["admin"])
    url = reverse(f"{basename}-list")
    as_foreign = client.get(url, {name: foreign.pk})
    as_missing = client.get(url, {name: missing})
    assert as_foreign.status_code == as_missing.status_code == 400
    body = as_missing.json()
    assert as_foreign.json() == {**body, "detail": body["detail"].replace(str(missing), str(foreign.pk))}
    # Hostile counterpart: the filter still works for the caller's own rows.
    assert client.get(url, {name: own.pk}).status_code == 200


def test_installation_exports_choose_ids_within_the_filtered_organisation(tenant_a, tenant_b):
    from apps.compliance.filtersets import UploadFilterSet
    from apps.compliance.models import Upload

    foreign = register(tenant_b, UBUNTU, "2024.1.1")
    own = register(tenant_a, UBUNTU, "2024.1.1")
    queryset = Upload.objects.filter(organization=tenant_a.organization)
    org = tenant_a.organization
    assert UploadFilterSet({"version": own.pk}, queryset=queryset, organization=org).is_valid()
    assert not UploadFilterSet({"version": foreign.pk}, queryset=queryset, organization=org).is_valid()
    assert not UploadFilterSet({"version": own.pk}, queryset=queryset).is_valid()
    assert not UploadFilterSet({"version": own.pk}, queryset=queryset, user=tenant_b.users["admin"]).is_valid()
