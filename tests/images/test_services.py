"""Image registry services: registration, lifecycle, revocation inheritance, channels and their history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.events.models import OutboxEvent
from apps.images.models import ChannelAssignment, ImageArtifact, ImageVersion
from apps.images.selectors import channel_baseline_at
from apps.images.services import (
    channel_promote,
    channel_rollback,
    image_artifact_add,
    image_revocations_apply,
    image_version_deprecate,
    image_version_publish,
    image_version_register,
    image_version_revoke,
)
from apps.tenancy.models import AuditEvent
from qlrf.errors import DocumentRejected
from tests.factories.images import register

pytestmark = pytest.mark.django_db

AMI = {"platform": "aws", "image_ref": "ami-0abc", "account": "111122223333", "region": "eu-west-1"}


def test_register_is_idempotent_and_conflicts_on_a_different_contract(tenant_a, ubuntu_contract):
    first, created = image_version_register(
        actor=None, organization=tenant_a.organization, contract=ubuntu_contract, version="1.0.0", artifacts=[AMI]
    )
    again, created_again = image_version_register(
        actor=None, organization=tenant_a.organization, contract=ubuntu_contract, version="1.0.0", artifacts=[AMI]
    )
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk and first.family.slug == "ubuntu-2204-base"
    assert ImageArtifact.objects.filter(version=first).count() == 1
    changed = ubuntu_contract.replace("max_high: 3", "max_high: 4")
    with pytest.raises(ValidationError) as excinfo:
        image_version_register(actor=None, organization=tenant_a.organization, contract=changed, version="1.0.0")
    assert excinfo.value.error_dict["contract"][0].code == "version_conflict"
    assert ImageVersion.objects.count() == 1


def test_invalid_contract_is_rejected_with_paths_and_nothing_written(tenant_a, ubuntu_contract):
    bad = ubuntu_contract.replace("level: 1", "level: 3")
    with pytest.raises(DocumentRejected) as excinfo:
        image_version_register(actor=None, organization=tenant_a.organization, contract=bad, version="1.0.0")
    assert excinfo.value.errors[0]["path"] == "/hardening/cis/level"
    assert excinfo.value.errors[0]["line"] == ubuntu_contract.splitlines().index("    level: 1") + 1
    assert ImageVersion.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_artifact_for_an_untargeted_platform_is_refused(tenant_a, ubuntu_contract):
    version = register(tenant_a, ubuntu_contract, "1.0.0")
    with pytest.raises(ValidationError) as excinfo:
        image_artifact_add(actor=None, version=version, platform="vsphere", image_ref="vm-template-1")
    assert excinfo.value.error_dict["platform"][0].code == "platform_not_targeted"
    assert version.artifacts.count() == 0


def test_azure_artifact_refs_compare_case_insensitively(tenant_a, ubuntu_contract):
    v1, v2 = register(tenant_a, ubuntu_contract, "1.0.0"), register(tenant_a, ubuntu_contract, "1.1.0")
    ref = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/images/I/versions/1.0.0"
    image_artifact_add(actor=None, version=v1, platform="azure", image_ref=ref)
    assert image_artifact_add(actor=None, version=v1, platform="azure", image_ref=ref.lower()).version == v1
    with pytest.raises(ValidationError) as excinfo:
        image_artifact_add(actor=None, version=v2, platform="azure", image_ref=ref.upper())
    assert excinfo.value.error_dict["image_ref"][0].code == "artifact_conflict"


def test_illegal_transitions_are_refused(tenant_a, ubuntu_contract, prod):
    draft = register(tenant_a, ubuntu_contract, "1.0.0", publish=False)
    with pytest.raises(ValidationError) as excinfo:
        channel_promote(actor=None, version=draft, environment=prod)
    assert excinfo.value.code == "illegal_transition"
    with pytest.raises(ValidationError):
        image_version_deprecate(actor=None, version=draft)
    image_version_revoke(actor=None, version=draft, reason="bad build")
    with pytest.raises(ValidationError):
        image_version_publish(actor=None, version=draft)
    with pytest.raises(ValidationError):
        image_version_revoke(actor=None, version=draft, reason="again")
    assert ChannelAssignment.objects.count() == 0


def test_revoking_a_parent_revokes_its_descendants_with_events_and_audit(tenant_a, ubuntu_contract):
    base = register(tenant_a, ubuntu_contract, "1.0.0")
    child = register(tenant_a, ubuntu_contract, "1.1.0", parent="1.0.0")
    grandchild = register(tenant_a, ubuntu_contract, "1.2.0", parent="ubuntu-2204-base@1.1.0")
    unrelated = register(tenant_a, ubuntu_contract, "2.0.0")
    revoked = image_version_revoke(actor=tenant_a.users["engineer"], version=base, reason="CVE-2024-3094")
    assert [v.version for v in revoked] == ["1.0.0", "1.1.0", "1.2.0"]
    for version in (base, child, grandchild):
        version.refresh_from_db()
        assert version.status == "revoked"
    child.refresh_from_db()
    assert child.revoked_via == base and "CVE-2024-3094" in child.revocation_reason
    unrelated.refresh_from_db()
    assert unrelated.status == "published"
    events = OutboxEvent.objects.filter(type="image.version.revoked").order_by("occurred_at")
    assert [e.payload["version"] for e in events] == ["1.0.0", "1.1.0", "1.2.0"]
    assert [e.payload["inherited_from"] for e in events] == [None, "ubuntu-2204-base@1.0.0", "ubuntu-2204-base@1.0.0"]
    audits = AuditEvent.objects.filter(action="images.imageversion.revoke")
    assert audits.count() == 3 and {a.actor_repr for a in audits} == {"alpha-engineer"}
    # a version built later from a revoked parent is born revoked
    late = register(tenant_a, ubuntu_contract, "1.3.0", parent="1.2.0", publish=False)
    assert late.status == "revoked" and late.revoked_via == base


def test_scheduled_revocation_takes_effect_later(tenant_a, ubuntu_contract):
    version = register(tenant_a, ubuntu_contract, "1.0.0")
    when = timezone.now() + datetime.timedelta(days=3)
    image_version_revoke(actor=None, version=version, reason="EOL", effective_at=when)
    version.refresh_from_db()
    assert version.status == "published" and version.revoked_at == when
    assert image_revocations_apply(now=when - datetime.timedelta(seconds=1)) == 0
    assert image_revocations_apply(now=when) == 1
    version.refresh_from_db()
    assert version.status == "revoked"


def test_channel_history_answers_golden_version_on_any_date(tenant_a, ubuntu_contract, prod, monkeypatch):
    v1, v2, v3 = (register(tenant_a, ubuntu_contract, v) for v in ("1.0.0", "1.1.0", "1.2.0"))
    t0 = timezone.now()
    clock = {"now": t0}
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock["now"])

    def at_day(day, promote, **kwargs):
        clock["now"] = t0 + datetime.timedelta(days=day)
        return promote(actor=None, **kwargs)

    at_day(0, channel_promote, version=v1, environment=prod, grace_days=7)
    at_day(10, channel_promote, version=v2, environment=prod)
    at_day(20, channel_promote, version=v3, environment=prod)
    channel = ChannelAssignment.objects.first().channel
    at_day(25, channel_rollback, channel=channel)  # back to 1.1.0

    def golden(day):
        return channel_baseline_at(channel, t0 + datetime.timedelta(days=day))

    assert golden(-1).version is None
    assert golden(5).version == v1 and golden(5).previous is None
    assert golden(12).version == v2 and golden(12).previous == v1  # within 7 days of grace
    assert golden(18).version == v2 and golden(18).previous is None  # grace over
    assert golden(21).version == v3 and golden(21).previous == v2
    assert golden(26).version == v2 and golden(26).previous == v3
    history = list(ChannelAssignment.objects.filter(channel=channel).order_by("assigned_at"))
    assert [(h.from_version and h.from_version.version, h.to_version.version, h.is_rollback) for h in history] == [
        (None, "1.0.0", False),
        ("1.0.0", "1.1.0", False),
        ("1.1.0", "1.2.0", False),
        ("1.2.0", "1.1.0", True),
    ]
    assert OutboxEvent.objects.filter(type="image.channel.promoted").count() == 4


def test_project_scoped_engineer_acts_on_its_projects_images_only(tenant_a, ubuntu_contract):
    from apps.tenancy.services import membership_add
    from tests.factories import ProjectFactory, UserFactory

    version = register(tenant_a, ubuntu_contract, "1.0.0", publish=False)
    project = ProjectFactory(organization=tenant_a.organization)
    engineer = UserFactory()
    membership_add(actor=None, organization=tenant_a.organization, user=engineer, role="engineer", project=project)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):  # the family belongs to no project: an organisation-level grant is needed
        image_version_publish(actor=engineer, version=version)
    version.family.project = project
    version.family.save()
    assert image_version_publish(actor=engineer, version=version).status == "published"


def test_a_past_promotion_is_recorded_at_its_date_and_drives_grace(tenant_a, ubuntu_contract, prod):
    v1, v2 = (register(tenant_a, ubuntu_contract, v) for v in ("1.0.0", "1.1.0"))
    now = timezone.now()
    ImageVersion.objects.filter(pk__in=[v1.pk, v2.pk]).update(released_at=now - datetime.timedelta(days=90))
    first = channel_promote(
        actor=None, version=v1, environment=prod, grace_days=7, promoted_at=now - datetime.timedelta(days=60)
    )
    second = channel_promote(actor=None, version=v2, environment=prod, promoted_at=now - datetime.timedelta(days=30))
    assert first.assigned_at == now - datetime.timedelta(days=60) and first.grace_until == first.assigned_at
    assert second.grace_until == now - datetime.timedelta(days=23)  # 7 days of grace from the past promotion
    baseline = channel_baseline_at(second.channel, now - datetime.timedelta(days=45))
    assert baseline.version == v1


@pytest.mark.parametrize(
    ("days", "code"),
    [(+1, "in_future"), (-100, "before_release"), (-40, "out_of_order")],
)
def test_a_past_promotion_out_of_time_is_refused_and_changes_nothing(tenant_a, ubuntu_contract, prod, days, code):
    v1, v2 = (register(tenant_a, ubuntu_contract, v) for v in ("1.0.0", "1.1.0"))
    now = timezone.now()
    ImageVersion.objects.filter(pk__in=[v1.pk, v2.pk]).update(released_at=now - datetime.timedelta(days=90))
    channel_promote(actor=None, version=v1, environment=prod, promoted_at=now - datetime.timedelta(days=30))
    before = ChannelAssignment.objects.count()
    with pytest.raises(ValidationError) as raised:
        channel_promote(actor=None, version=v2, environment=prod, promoted_at=now + datetime.timedelta(days=days))
    assert code in str(raised.value.error_dict["promoted_at"][0].code)
    assert ChannelAssignment.objects.count() == before


def test_a_past_promotion_needs_a_time_zone(tenant_a, ubuntu_contract, prod):
    v1 = register(tenant_a, ubuntu_contract, "1.0.0")
    with pytest.raises(ValidationError) as raised:
        channel_promote(actor=None, version=v1, environment=prod, promoted_at=datetime.datetime(2026, 1, 1))
    assert raised.value.error_dict["promoted_at"][0].code == "naive_datetime"
