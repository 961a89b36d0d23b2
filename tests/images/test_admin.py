"""Admin of the image registry: tenant isolation, lifecycle actions through the services, CSV import/export."""

import pytest
import tablib
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.events.models import OutboxEvent
from apps.images.models import ChannelAssignment, ImageArtifact, ImageVersion
from apps.images.resources import ImageArtifactResource
from apps.images.services import channel_promote
from apps.tenancy.models import AuditEvent
from tests.factories import EnvironmentFactory
from tests.factories.images import register

pytestmark = pytest.mark.django_db

AMI = {"platform": "aws", "account": "111122223333", "region": "eu-west-1"}
CHANGELIST = "admin:images_imageversion_changelist"
HEADER = "family,version,platform,account,region,image_ref\n"


@pytest.fixture
def alpha(tenant_a, ubuntu_contract):
    """alpha: 1.0.0 published with an AMI, 1.1.0 draft; a prod environment."""
    published = register(tenant_a, ubuntu_contract, "1.0.0", artifacts=[{**AMI, "image_ref": "ami-0alpha100"}])
    draft = register(tenant_a, ubuntu_contract, "1.1.0", publish=False)
    prod = EnvironmentFactory(organization=tenant_a.organization, name="Alpha prod", slug="prod", tier="prod")
    return published, draft, prod


@pytest.fixture
def bravo(tenant_b, ubuntu_contract):
    version = register(tenant_b, ubuntu_contract, "5.0.0", artifacts=[{**AMI, "image_ref": "ami-0bravo500"}])
    env = EnvironmentFactory(organization=tenant_b.organization, name="Bravo prod", slug="prod", tier="prod")
    channel_promote(actor=None, version=version, environment=env)
    return version, env


def _action(client, user, action, versions, **extra):
    client.force_login(user)
    data = {"action": action, ACTION_CHECKBOX_NAME: [v.pk for v in versions], **extra}
    return client.post(reverse(CHANGELIST), data)


def _messages(response):
    return [str(m) for m in response.wsgi_request._messages]


@pytest.mark.parametrize("model", ["imagefamily", "imageversion", "channel", "imageartifact"])
def test_changelists_show_only_own_tenant(client, tenant_a, alpha, bravo, model):
    channel_promote(actor=None, version=alpha[0], environment=alpha[2])
    client.force_login(tenant_a.users["admin"])
    response = client.get(reverse(f"admin:images_{model}_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha" in body
    assert "Bravo" not in body and "bravo" not in body and "5.0.0" not in body
    assert response.context["cl"].result_count == {"imagefamily": 1, "imageversion": 2, "channel": 1}.get(model, 1)


def test_version_detail_is_read_only_with_artifacts_and_channel_history(client, tenant_a, alpha):
    published, _, prod = alpha
    channel_promote(actor=tenant_a.users["engineer"], version=published, environment=prod)
    client.force_login(tenant_a.users["engineer"])
    url = reverse("admin:images_imageversion_change", args=[published.pk])
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "ami-0alpha100" in body and "Channel assignment history" in body and "ubuntu-2204-base/prod" in body
    assert "<pre>{\n  &quot;apiVersion&quot;: &quot;qlrf.io/v1&quot;," in body
    assert 'name="_save"' not in body  # viewed, never edited by hand
    assert client.post(url, {"version": "6.6.6"}).status_code == 403
    assert ImageVersion.objects.get(pk=published.pk).version == "1.0.0"
    assert client.get(reverse("admin:images_imageversion_add")).status_code == 403


def test_other_tenants_version_page_is_not_found(client, tenant_a, bravo):
    client.force_login(tenant_a.users["admin"])
    response = client.get(reverse("admin:images_imageversion_change", args=[bravo[0].pk]))
    assert response.status_code == 302
    assert "bravo" not in client.get(response["Location"]).content.decode().lower()


def test_publish_and_deprecate_go_through_the_services(client, tenant_a, alpha):
    published, draft, _ = alpha
    engineer = tenant_a.users["engineer"]
    response = _action(client, engineer, "publish_selected", [draft])
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "published" and draft.released_at is not None
    audit = AuditEvent.objects.get(action="images.imageversion.publish", object_id=str(draft.pk))
    assert audit.actor == engineer
    assert OutboxEvent.objects.filter(type="image.version.published").count() == 2
    _action(client, engineer, "deprecate_selected", [published])
    published.refresh_from_db()
    assert published.status == "deprecated"
    assert AuditEvent.objects.filter(action="images.imageversion.deprecate", actor=engineer).count() == 1


def test_service_errors_become_admin_messages(client, tenant_a, alpha):
    published, draft, _ = alpha
    response = _action(client, tenant_a.users["engineer"], "deprecate_selected", [draft, published])
    assert response.status_code == 302
    messages = _messages(response)
    assert messages == [
        "ubuntu-2204-base@1.1.0: ubuntu-2204-base@1.1.0 is draft; only a published version can be deprecated",
        "Deprecated 1 version.",
    ]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_viewer_gets_no_actions_and_changes_nothing(client, tenant_a, alpha):
    _, draft, prod = alpha
    viewer = tenant_a.users["viewer"]
    client.force_login(viewer)
    assert "publish_selected" not in client.get(reverse(CHANGELIST)).content.decode()
    before = AuditEvent.objects.count()
    for action, extra in [
        ("publish_selected", {}),
        ("revoke_selected", {"apply": "yes", "reason": "x"}),
        ("promote_selected", {"apply": "yes", "environment": prod.pk}),
    ]:
        response = _action(client, viewer, action, [draft], **extra)
        assert response.status_code == 200  # the changelist again: the action is not offered to a viewer
    draft.refresh_from_db()
    assert (draft.status, draft.revoked_at) == ("draft", None)
    assert AuditEvent.objects.count() == before
    assert ChannelAssignment.objects.count() == 0


def test_revoke_asks_for_a_reason_then_revokes_through_the_service(client, tenant_a, alpha):
    published, _, _ = alpha
    engineer = tenant_a.users["engineer"]
    response = _action(client, engineer, "revoke_selected", [published])
    assert response.status_code == 200
    body = response.content.decode()
    assert '<label for="id_reason" class="required">Reason</label>' in body and "ubuntu-2204-base@1.0.0" in body
    response = _action(client, engineer, "revoke_selected", [published], apply="yes", reason="  ")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    published.refresh_from_db()
    assert published.revoked_at is None
    response = _action(client, engineer, "revoke_selected", [published], apply="yes", reason="CVE-2024-6387")
    assert response.status_code == 302
    published.refresh_from_db()
    assert (published.status, published.revocation_reason) == ("revoked", "CVE-2024-6387")
    audit = AuditEvent.objects.get(action="images.imageversion.revoke", object_id=str(published.pk))
    assert audit.actor == engineer


def test_promote_offers_only_own_environments_and_uses_the_service(client, tenant_a, alpha, bravo):
    published, draft, prod = alpha
    engineer = tenant_a.users["engineer"]
    response = _action(client, engineer, "promote_selected", [published])
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha prod" in body and "Bravo prod" not in body
    response = _action(client, engineer, "promote_selected", [published], apply="yes", environment=bravo[1].pk)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert ChannelAssignment.objects.filter(organization=tenant_a.organization).count() == 0
    response = _action(
        client, engineer, "promote_selected", [published, draft], apply="yes", environment=prod.pk, grace_days=5
    )
    assert response.status_code == 302
    assert _messages(response) == [
        "ubuntu-2204-base@1.1.0: ubuntu-2204-base@1.1.0 is draft; only a published version can be promoted",
        "Promoted 1 version.",
    ]
    assignment = ChannelAssignment.objects.get(organization=tenant_a.organization)
    assert (assignment.to_version, assignment.assigned_by, assignment.channel.grace_days) == (published, engineer, 5)
    assert AuditEvent.objects.filter(action="images.channel.promote", actor=engineer).count() == 1


def test_actions_ignore_other_tenants_rows(client, tenant_a, alpha, bravo):
    response = _action(client, tenant_a.users["admin"], "deprecate_selected", [bravo[0]])
    assert response.status_code == 302
    bravo[0].refresh_from_db()
    assert bravo[0].status == "published"
    assert not AuditEvent.objects.filter(action="images.imageversion.deprecate").exists()


def _upload(client, user, csv_text):
    client.force_login(user)
    upload = SimpleUploadedFile("artifacts.csv", csv_text.encode(), content_type="text/csv")
    return client.post(reverse("admin:images_imageartifact_import"), {"format": "0", "import_file": upload})


def test_import_dry_run_previews_and_writes_nothing(client, tenant_a, alpha):
    csv_text = HEADER + "ubuntu-2204-base,1.0.0,aws,111122223333,us-east-1,ami-0alpha100use1\n"
    before = (ImageArtifact.objects.count(), AuditEvent.objects.count(), OutboxEvent.objects.count())
    response = _upload(client, tenant_a.users["engineer"], csv_text)
    assert response.status_code == 200
    result = response.context["result"]
    assert (result.has_errors(), result.has_validation_errors(), result.totals["new"]) == (False, False, 1)
    assert "ami-0alpha100use1" in response.content.decode()
    assert response.context["confirm_form"] is not None
    assert (ImageArtifact.objects.count(), AuditEvent.objects.count(), OutboxEvent.objects.count()) == before


def test_confirmed_import_writes_through_the_service(client, tenant_a, alpha):
    engineer = tenant_a.users["engineer"]
    csv_text = (
        HEADER
        + "ubuntu-2204-base,1.0.0,aws,111122223333,us-east-1,ami-0alpha100use1\n"
        + "ubuntu-2204-base,1.0.0,aws,111122223333,eu-west-1,ami-0alpha100\n"
        + "ubuntu-2204-base,1.1.0,gcp,acme-golden-images,global,projects/acme-golden-images/global/images/u-1-1-0\n"
    )
    preview = _upload(client, engineer, csv_text)
    assert preview.context["result"].totals["skip"] == 1  # the AMI already recorded is a no-op
    confirm = preview.context["confirm_form"].initial
    response = client.post(reverse("admin:images_imageartifact_process_import"), confirm)
    assert response.status_code == 302
    rows = ImageArtifact.objects.filter(organization=tenant_a.organization).order_by("image_ref")
    assert [(a.version.version, a.platform, a.region, a.image_ref) for a in rows] == [
        ("1.0.0", "aws", "eu-west-1", "ami-0alpha100"),
        ("1.0.0", "aws", "us-east-1", "ami-0alpha100use1"),
        ("1.1.0", "gcp", "global", "projects/acme-golden-images/global/images/u-1-1-0"),
    ]
    audits = AuditEvent.objects.filter(action="images.imageartifact.add", actor=engineer)
    assert audits.count() == 2
    assert OutboxEvent.objects.filter(type="image.artifact.added").count() == 3


def test_import_of_another_tenants_version_is_an_error_and_writes_nothing(client, tenant_a, alpha, bravo):
    csv_text = (
        HEADER
        + "ubuntu-2204-base,1.0.0,aws,111122223333,us-east-1,ami-0alpha100use1\n"
        + "ubuntu-2204-base,5.0.0,aws,111122223333,us-east-1,ami-0sneaky\n"
    )
    before = (ImageArtifact.objects.count(), AuditEvent.objects.count())
    response = _upload(client, tenant_a.users["admin"], csv_text)
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    assert [row.number for row in result.invalid_rows] == [2]
    assert "no image version ubuntu-2204-base@5.0.0 that you may change" in response.content.decode()
    assert response.context.get("confirm_form") is None
    assert (ImageArtifact.objects.count(), AuditEvent.objects.count()) == before


def test_a_non_dry_run_import_with_one_bad_row_writes_nothing(tenant_a, alpha):
    dataset = tablib.Dataset(headers=["family", "version", "platform", "account", "region", "image_ref"])
    dataset.append(["ubuntu-2204-base", "1.0.0", "aws", "111122223333", "us-east-1", "ami-0good"])
    dataset.append(["ubuntu-2204-base", "1.0.0", "vsphere", "vc", "DC1", "5012-template"])  # not targeted
    result = ImageArtifactResource(user=tenant_a.users["engineer"]).import_data(dataset, dry_run=False)
    assert result.has_validation_errors()
    assert [row.error.message_dict for row in result.invalid_rows][0]["platform"][0].startswith("the contract of")
    assert not ImageArtifact.objects.filter(image_ref="ami-0good").exists()
    assert not AuditEvent.objects.filter(action="images.imageartifact.add", actor__isnull=False).exists()


def test_viewer_may_not_import(client, tenant_a, alpha):
    response = _upload(client, tenant_a.users["viewer"], HEADER + "ubuntu-2204-base,1.0.0,aws,1,us-east-1,ami-0v\n")
    assert response.status_code == 403
    assert not ImageArtifact.objects.filter(image_ref="ami-0v").exists()


def test_export_contains_only_own_tenant(client, tenant_a, alpha, bravo):
    client.force_login(tenant_a.users["viewer"])
    fields = {f"imageartifactresource_{name}": "on" for name in ImageArtifactResource.Meta.fields}
    response = client.post(reverse("admin:images_imageartifact_export"), {"format": "0", **fields})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines() == [
        "family,version,platform,account,region,image_ref",
        "ubuntu-2204-base,1.0.0,aws,111122223333,eu-west-1,ami-0alpha100",
    ]
