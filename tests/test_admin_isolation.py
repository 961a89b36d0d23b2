"""Every admin page, of every registered model, shows a member of another tenant nothing of the demo organisation."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from qlrf.demo import demo_load

pytestmark = pytest.mark.django_db

GLOBAL_MODELS = {
    "auth.group",
    "auth.user",
    "django_q.schedule",
    "django_q.success",
    "django_q.failure",
    "django_q.ormq",
    "guardian.userobjectpermission",
    "guardian.groupobjectpermission",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
}  # login lockout: superusers only


def _tenant_admins():
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower not in GLOBAL_MODELS:
            yield model, model_admin


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        demo_load()
    yield
    with django_db_blocker.unblock():
        from django.core.management import call_command

        call_command("flush", "--no-input", verbosity=0)


def test_every_registered_admin_is_tenant_scoped():
    from apps.tenancy.admin_base import TenantScopedAdmin

    unscoped = [m._meta.label_lower for m, a in _tenant_admins() if not isinstance(a, TenantScopedAdmin)]
    assert unscoped == []


def test_another_tenants_admin_sees_nothing_of_acme(client, demo):
    outsider = get_user_model().objects.get(username="globex-admin")
    client.force_login(outsider)
    checked = 0
    for model, _ in _tenant_admins():
        info = (model._meta.app_label, model._meta.model_name)
        try:
            url = reverse("admin:{}_{}_changelist".format(*info))
        except NoReverseMatch:
            continue
        response = client.get(url)
        assert response.status_code in (200, 403), url
        assert "acme" not in response.content.decode().lower(), url
        obj = (
            model._default_manager.filter(organization__slug="acme").first() if hasattr(model, "organization") else None
        )
        if obj is not None:
            change = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert change.status_code in (302, 403, 404), f"{url} change page of acme's {obj.pk}"
            assert "acme" not in change.content.decode().lower()
        checked += 1
    assert checked >= 15
    assert apps.get_model("tenancy", "Organization").objects.filter(slug="acme").exists()
