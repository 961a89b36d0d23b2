"""The deploy gate: every reason, both logs, end to end through the API with a CI token and through the CLI."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from apps.compliance.models import GateDecision, SignatureVerification
from apps.compliance.selectors import version_manifest
from apps.compliance.services import gate_check, signature_verify, signing_key_create, upload_store_and_parse
from apps.images.services import image_artifact_add, image_version_deprecate, image_version_revoke
from apps.tenancy.services import token_create
from tests.compliance.conftest import fixture_bytes, rhel_version, ubuntu_version

pytestmark = pytest.mark.django_db


def sarif(tool: str, levels: list[str]) -> bytes:
    results = [{"ruleId": f"R{i}", "level": level, "message": {"text": "finding"}} for i, level in enumerate(levels)]
    return json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": tool}}, "results": results}]}).encode()


def inspec(passed: int, failed: int) -> bytes:
    controls = [{"id": f"p{i}", "impact": 0.5, "results": [{"status": "passed"}]} for i in range(passed)]
    controls += [{"id": f"f{i}", "impact": 0.5, "results": [{"status": "failed"}]} for i in range(failed)]
    return json.dumps({"version": "5.22.0", "profiles": [{"name": "cis", "controls": controls}]}).encode()


def codes(decision) -> list[tuple[str, str]]:
    return [(r["code"], r["severity"]) for r in decision.reasons]


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_unsigned_version_is_denied_in_prod_and_allowed_with_warnings_in_dev_via_a_ci_token(tenant_a, envs):
    version = ubuntu_version(tenant_a)
    _, raw = token_create(actor=None, organization=tenant_a.organization, name="ci", role="engineer")
    ci = bearer(raw)
    prod = ci.post(reverse("gate-check"), {"image": "ubuntu-2204-base@1.0.0", "environment": "prod"}, format="json")
    assert prod.status_code == 200, prod.content
    body = prod.json()
    assert (body["allowed"], body["signature"], body["image"], body["environment"]) == (
        False,
        "missing",
        "ubuntu-2204-base@1.0.0",
        "prod",
    )
    assert [(r["code"], r["severity"]) for r in body["reasons"]] == [
        ("signature_missing", "deny"),
        ("sbom_missing", "deny"),
        ("scan_missing", "deny"),
        ("scan_missing", "deny"),
        ("scan_missing", "deny"),
    ]
    assert body["reasons"][2]["detail"] == "no result for the vulnerability scan (trivy)"
    dev = ci.post(reverse("gate-check"), {"image": "ubuntu-2204-base@1.0.0", "environment": "dev"}, format="json")
    assert dev.status_code == 200
    assert dev.json()["allowed"] is True
    assert [(r["code"], r["severity"]) for r in dev.json()["reasons"]] == [
        ("signature_missing", "warn"),
        ("sbom_missing", "warn"),
        ("scan_missing", "warn"),
        ("scan_missing", "warn"),
        ("scan_missing", "warn"),
    ]
    logged = SignatureVerification.objects.filter(version=version).order_by("id")
    assert [(v.environment.slug, v.result, v.via_gate, v.enforced, v.warned) for v in logged] == [
        ("prod", "missing", True, True, False),
        ("dev", "missing", True, False, True),
    ]
    decisions = GateDecision.objects.filter(version=version).order_by("id")
    assert [(d.environment.slug, d.allowed, d.actor.api_token.name) for d in decisions] == [
        ("prod", False, "ci"),
        ("dev", True, "ci"),
    ]
    assert [d.verification_id for d in decisions] == [v.pk for v in logged]
    listed = ci.get(reverse("gate-decision-list")).json()["results"]
    assert [(row["environment"], row["allowed"]) for row in listed] == [("dev", True), ("prod", False)]


def _compliant_rhel(tenant, signer):
    version = rhel_version(tenant, signer)
    signing_key_create(actor=None, organization=tenant.organization, name="ci", public_key_pem=signer.public_pem)
    signature_verify(actor=None, version=version, signature=signer.sign(version_manifest(version)))
    upload_store_and_parse(
        actor=None, version=version, kind="sbom", data=fixture_bytes("sbom/cyclonedx/valid-bom-1.6.json")
    )
    upload_store_and_parse(actor=None, version=version, kind="scan", data=sarif("grype", ["warning"] * 3))
    upload_store_and_parse(actor=None, version=version, kind="scan", data=inspec(99, 1))
    return version


def test_a_signed_scanned_version_with_an_sbom_is_allowed_in_prod_without_reasons(tenant_a, envs, signer):
    version = _compliant_rhel(tenant_a, signer)
    decision = gate_check(actor=tenant_a.users["viewer"], version=version, environment=envs[0])
    assert (decision.allowed, decision.reasons) == (True, [])
    assert (decision.verification.result, decision.verification.enforced) == ("verified", True)


def test_every_failing_reason_is_given_at_once(tenant_a, envs, signer):
    version = _compliant_rhel(tenant_a, signer)
    upload_store_and_parse(actor=None, version=version, kind="scan", data=fixture_bytes("sarif/grype-image.sarif"))
    upload_store_and_parse(
        actor=None, version=version, kind="scan", data=fixture_bytes("inspec/rhel8_sample_oneOfEachControlStatus.json")
    )
    image_artifact_add(actor=None, version=version, platform="aws", image_ref="ami-0new", region="us-east-1")
    version = image_version_deprecate(actor=None, version=version)
    decision = gate_check(actor=None, version=version, environment=envs[0])
    assert decision.allowed is False
    assert codes(decision) == [
        ("signature_stale", "deny"),
        ("version_deprecated", "deny"),
        ("vulnerability_above_threshold", "deny"),
        ("cis_below_threshold", "deny"),
    ]
    assert decision.reasons[2]["detail"] == (
        "vulnerability scan (grype): 1 critical (SARIF error) > max 0; 1 high (SARIF error) > max 0"
    )
    assert decision.reasons[3]["detail"] == "cis scan (inspec): CIS pass rate 33.3% is below 98.5%"
    assert decision.verification.result == "failed"


def test_failed_execution_is_not_a_clean_scan_and_revocation_denies(tenant_a, envs, signer):
    version = _compliant_rhel(tenant_a, signer)
    failed = fixture_bytes("sarif/catastrophic-execution-error.sarif").replace(b'"CodeScanner"', b'"grype"')
    upload_store_and_parse(actor=None, version=version, kind="scan", data=failed)
    image_version_revoke(actor=None, version=version, reason="CVE-2024-3094")
    decision = gate_check(actor=None, version=version, environment=envs[1])
    assert codes(decision) == [("version_revoked", "deny"), ("scan_execution_failed", "deny")]
    assert decision.allowed is False


def test_a_failed_signature_warns_in_dev(tenant_a, envs, signer):
    version = rhel_version(tenant_a, signer)
    signing_key_create(actor=None, organization=tenant_a.organization, name="ci", public_key_pem=signer.public_pem)
    signature_verify(actor=None, version=version, signature=signer.sign(b"something else"))
    decision = gate_check(actor=None, version=version, environment=envs[1])
    assert decision.reasons[0]["code"] == "signature_invalid" and decision.reasons[0]["severity"] == "warn"
    assert decision.reasons[0]["detail"].startswith("the latest signature check failed (invalid_signature)")
    assert (decision.verification.result, decision.verification.warned) == ("failed", True)


def test_gate_check_command_exits_1_on_deny_with_one_line_per_reason(tenant_a, envs, capsys):
    ubuntu_version(tenant_a)
    with pytest.raises(CommandError) as denied:
        call_command("gate_check", "--org", "alpha", "--image", "ubuntu-2204-base@1.0.0", "--env", "prod")
    assert denied.value.returncode == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ubuntu-2204-base@1.0.0 → prod: denied (decision ")
    assert lines[1:] == [
        "deny: signature_missing: no signature of this version's manifest has been verified",
        "deny: sbom_missing: the contract requires an SBOM; none uploaded",
        "deny: scan_missing: no result for the vulnerability scan (trivy)",
        "deny: scan_missing: no result for the cis scan (inspec)",
        "deny: scan_missing: no result for the secrets scan (gitleaks)",
    ]
    call_command("gate_check", "--org", "alpha", "--image", "ubuntu-2204-base@1.0.0", "--env", "dev", "--json")
    body = json.loads(capsys.readouterr().out)
    assert (body["allowed"], body["signature"], len(body["reasons"])) == (True, "missing", 5)
    assert GateDecision.objects.count() == 2


def test_gate_check_command_refuses_unknown_input_with_one_line(tenant_a, envs):
    with pytest.raises(CommandError, match="no image 'ubuntu-2204-base@9.9.9' in organization alpha"):
        call_command("gate_check", "--org", "alpha", "--image", "ubuntu-2204-base@9.9.9", "--env", "prod")
    with pytest.raises(CommandError, match="expected FAMILY@VERSION"):
        call_command("gate_check", "--org", "alpha", "--image", "ubuntu", "--env", "prod")
    assert GateDecision.objects.count() == 0


def test_gate_refuses_another_tenants_environment(tenant_a, tenant_b, envs):
    from tests.factories import EnvironmentFactory

    version = ubuntu_version(tenant_a)
    foreign = EnvironmentFactory(organization=tenant_b.organization, slug="prod")
    with pytest.raises(Exception, match="another organization"):
        gate_check(actor=None, version=version, environment=foreign)
    assert (GateDecision.objects.count(), SignatureVerification.objects.count()) == (0, 0)
