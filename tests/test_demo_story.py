"""The demo tells the whole story (#19): every badge state, signatures that verify, SBOM diffs with real upgrades,
drift ages from days to months, a red cell, and a scan that did not finish. One load, checked from every side."""

import base64
import datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from apps.compliance.demo import DEMO_KEY_NAME
from apps.compliance.models import ProvenanceDocument, SignatureVerification, SigningKey
from apps.compliance.selectors import sbom_diff, version_badges_for, version_manifest, versions_with_valid_signature
from apps.compliance.signing import verify_cosign_signature
from apps.drift.engine import drift_evaluate
from apps.drift.reports import rag_for
from apps.images.models import ChannelAssignment, ImageVersion
from apps.inventory.models import ScanRun
from apps.tenancy.models import Organization
from qlrf.demo import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_shows_the_whole_product():
    lines = demo_load()
    acme = Organization.objects.get(slug="acme")
    versions = list(ImageVersion.objects.filter(organization=acme).select_related("family"))
    by_ref = {f"{v.family.slug}@{v.version}": v for v in versions}

    # badges: every state appears, and each badge differs between versions
    badges = version_badges_for(versions)
    states = {badge.status for rows in badges.values() for badge in rows}
    assert states == {"pass", "fail", "warn", "unknown"}
    for key in ("cis", "slsa", "signed", "vulnerabilities"):
        assert len({b.status for rows in badges.values() for b in rows if b.key == key}) >= 2, key
    assert {b.label for rows in badges.values() for b in rows if b.key == "slsa"} >= {"none", "L1", "L2", "L3"}

    # signatures: the demo key is registered, and its signatures verify against the manifests as they are now
    key = SigningKey.objects.get(organization=acme, name=DEMO_KEY_NAME)
    valid = versions_with_valid_signature(versions)
    assert {by_ref["rhel-9-appserver@2026.10.1"].pk, by_ref["ubuntu-2204-k8s-node@2.2.0"].pk} <= valid
    assert by_ref["windows-2022-core@2026.11.10"].pk not in valid  # unsigned
    assert by_ref["ubuntu-2204-k8s-node@2.1.0"].pk not in valid  # a copy added after signing: stale
    check = SignatureVerification.objects.filter(version=by_ref["rhel-9-appserver@2026.10.1"]).latest("id")
    assert (check.result, check.key_id) == ("verified", key.key_id)
    foreign = SignatureVerification.objects.filter(version=by_ref["ubuntu-2204-base@1.2.0"]).latest("id")
    assert foreign.result == "failed"  # a real Sigstore bundle over another artifact

    # the check is real: a signature over the manifest by another key does not verify with the registered key
    other = ec.generate_private_key(ec.SECP256R1())
    forged = base64.b64encode(
        other.sign(version_manifest(by_ref["rhel-9-appserver@2026.10.1"]), ec.ECDSA(hashes.SHA256()))
    )
    outcome = verify_cosign_signature(
        artifact=version_manifest(by_ref["rhel-9-appserver@2026.10.1"]),
        signature_b64=forged,
        public_key_pem=key.public_key_pem.encode(),
    )
    assert not outcome.verified

    # SBOM diffs: real upgrades between the Alpine-based SBOMs, real additions on RHEL
    diff = sbom_diff(by_ref["ubuntu-2204-base@1.1.0"], by_ref["ubuntu-2204-base@1.2.0"])
    changed = {change.name: (change.before, change.after) for change in diff["changed"]}
    assert changed["busybox"] == (("1.35.0-r17",), ("1.36.1-r2",))
    assert diff["added"] and diff["removed"]
    assert sbom_diff(by_ref["rhel-9-appserver@2026.09.1"], by_ref["rhel-9-appserver@2026.10.1"])["added"]
    assert set(ProvenanceDocument.objects.filter(version__organization=acme).values_list("slsa_level", flat=True)) == {
        1,
        2,
        3,
    }

    # history: releases and promotions over about six months, none in the future
    now = timezone.now()
    released = [v.released_at for v in versions if v.released_at]
    assert now - min(released) > datetime.timedelta(days=150) and max(released) < now
    promoted = ChannelAssignment.objects.filter(organization=acme).values_list("assigned_at", flat=True)
    assert now - min(promoted) > datetime.timedelta(days=150) and max(promoted) <= now

    # drift: ages in days and in months, and at least one red cell (the legacy site's production)
    evaluation = drift_evaluate(acme)
    ages = [(now - cell.oldest_drift).days for cell in evaluation.cells.values() if cell.oldest_drift]
    assert max(ages) >= 60 and min(ages) >= 1
    rags = {key: rag_for(acme, cell.coverage_pct) for key, cell in evaluation.cells.items()}
    assert "red" in rags.values()
    prod = acme.environments.get(slug="prod")
    assert any(rag == "red" for (env, _, _), rag in rags.items() if env == prod.pk)

    # a scan that did not finish cleanly, said so
    assert ScanRun.objects.filter(organization=acme, status="partial").exists()
    assert any(line.startswith("Supply chain: 5 versions signed") for line in lines)
