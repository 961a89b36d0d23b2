"""One organisation, four platforms: AWS (moto), Azure (local ARM), GCP (local Compute API) and vSphere (vcsim).

Connectors are created through ``connector_create`` and scanned with ``scan_run_now``; the asset API lists every
platform with each machine's golden version, and a scope that fails loses nothing.
"""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials

from apps.drift.scenarios.load import VSPHERE_TARGET
from apps.inventory.connectors.base import Scope
from apps.inventory.models import Asset, ScanRun
from apps.inventory.services import connector_build, connector_create, scan_run_now
from apps.inventory.services.seen import Sightings
from tests.conftest import client_for
from tests.factories.images import register

pytestmark = pytest.mark.django_db

SUB_A = "00000000-0000-0000-0000-0000000000aa"
SUB_B = "00000000-0000-0000-0000-0000000000bb"
ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
GALLERY = f"/subscriptions/{SUB_A}/resourceGroups/rg-images/providers/Microsoft.Compute"
GALLERY += "/galleries/goldGallery/images/ubuntu-22/versions/"  # as published; machines report it lower-cased
ARM_A = f"/subscriptions/{SUB_A}/resourcegroups"
ARM_B = f"/subscriptions/{SUB_B}/resourcegroups"
COMPUTE = "providers/microsoft.compute"
UBUNTU, APP = "ubuntu-2204-base", "app-base"
U100, U110, U230, APP301 = f"{UBUNTU}@1.0.0", f"{UBUNTU}@1.1.0", f"{UBUNTU}@2.3.0", f"{APP}@3.0.1"
AZURE_DENIED = "The client does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read'."
GCP_DENIED = "Required 'compute.instanceGroupManagers.list' permission for 'projects/acme-edge'"
EC2_DENIED = "You are not authorized to perform this operation."
TEMPLATE = "42000000-0000-4000-8000-0000000f0001"  # the vSphere golden template's instanceUuid


# -- set-up helpers --------------------------------------------------------------------------------------------------
def register_golden(tenant, contract: str, *, moto=None, compute=None, vcenter=None) -> None:
    """Register the golden versions; every artifact is an image a fake world exposes (ids copied from the worlds)."""
    # ubuntu-2204-base 1.0.0 / 1.1.0: Azure gallery versions, GCP images, the vSphere template (1.1.0's vSphere machines
    # state it by annotation); 2.3.0: an AMI and its eu-west-1 copy; app-base 3.0.1: account B's AMI.
    ubuntu = contract.rstrip("\n") + "\n" + VSPHERE_TARGET
    app = contract.replace(f"  family: {UBUNTU}\n", f"  family: {APP}\n", 1)
    artifacts: dict[str, list[dict]] = {
        "1.0.0": [{"platform": "azure", "image_ref": f"{GALLERY}1.0.0", "account": SUB_A, "region": "westeurope"}],
        "1.1.0": [{"platform": "azure", "image_ref": f"{GALLERY}1.1.0", "account": SUB_A, "region": "westeurope"}],
        "2.3.0": [],
        "3.0.1": [],
    }
    if compute is not None:
        for version, image in (("1.0.0", "v100"), ("1.1.0", "v110")):
            ref = compute.world[image]["selfLink"]
            artifacts[version].append({"platform": "gcp", "image_ref": ref, "account": "acme-images"})
    if vcenter is not None:
        artifacts["1.0.0"].append({"platform": "vsphere", "image_ref": TEMPLATE, "account": vcenter.account})
    if moto is not None:
        world = moto.world
        artifacts["2.3.0"] += [
            {"platform": "aws", "image_ref": world.ami_web, "account": ACCOUNT_A, "region": "us-east-1"},
            {"platform": "aws", "image_ref": world.ami_web_copy, "account": ACCOUNT_A, "region": "eu-west-1"},
        ]
        artifacts["3.0.1"].append(
            {"platform": "aws", "image_ref": world.ami_app, "account": ACCOUNT_B, "region": "us-east-1"}
        )
    for version, found in artifacts.items():
        register(tenant, app if version == "3.0.1" else ubuntu, version, artifacts=found)


def aws_config(moto) -> dict:
    return moto.kit.connector_config(endpoint_url=moto.endpoint)


def azure_config(arm, subscriptions: list[str]) -> dict:
    return {
        "auth": "client_secret",
        "tenant_id": "11111111-1111-1111-1111-111111111111",
        "client_id": "22222222-2222-2222-2222-222222222222",
        "subscriptions": subscriptions,
        "base_url": arm.base_url,
        "connection_verify": False,
        "connection_timeout": 5,
        "read_timeout": 5,
        "retry_total": 2,
        "retry_backoff_factor": 0.01,
    }


def gcp_config(compute, projects: list[str]) -> dict:
    return {
        "projects": projects,
        "image_projects": ["acme-images"],
        "api_endpoint": compute.endpoint,
        "timeout": 5,
        "retry_deadline": 0.5,
    }


def vsphere_config(*vcenters) -> dict:
    entries = [{"host": v.host, "port": v.port, "user": "qlrf-svc", "verify_ssl": False} for v in vcenters]
    return {"vcenters": entries, "timeout": 10}


def create(tenant, platform: str, name: str, config: dict, credential_ref: str):
    return connector_create(
        actor=None,
        organization=tenant.organization,
        platform=platform,
        name=name,
        config=config,
        credential_ref=credential_ref,
    )


def scan(connector, **kwargs) -> ScanRun:
    return scan_run_now(actor=None, connector=connector, trigger="cli", **kwargs)


def counts(run: ScanRun) -> tuple:
    return run.status, run.discovered, run.new, run.updated, run.unchanged, run.removed, run.failed_scopes


def snapshot_of(connector) -> dict[str, tuple]:
    """instance id → what a rescan must not change (scope, removal, last seen, last scan, version).

    Last seen and last scan are the effective ones (the row's, or its scope's later complete sighting: ADR 026).
    """
    sightings = Sightings([connector.organization_id])
    rows = Asset.objects.filter(connector=connector).values_list(
        "instance_id", "scope_key", "removed_at", "last_seen", "last_scan_id", "image_version_id", "fingerprint"
    )
    snapshot = {}
    for instance_id, scope_key, removed_at, last_seen, last_scan_id, version, fingerprint in rows:
        seen = sightings.of(
            connector_id=connector.pk,
            scope_key=scope_key,
            last_seen=last_seen,
            removed_at=removed_at,
            last_scan_id=last_scan_id,
        )
        snapshot[instance_id] = (scope_key, removed_at, seen.at, seen.scan_id, version, fingerprint)
    return snapshot


def versions_in(connector, scope_key: str) -> dict[str, str | None]:
    """instance id → resolved golden version (family@version, None = unmanaged) of one scope's live assets."""
    assets = Asset.objects.filter(connector=connector, scope_key=scope_key, removed_at__isnull=True)
    return {a.instance_id: (str(a.image_version) if a.image_version else None) for a in assets}


def assert_nothing_lost(connector, failed_scope: str, before: dict, first: ScanRun, second: ScanRun) -> None:
    """The failed scope's assets are untouched (not removed, not re-seen); the healthy scopes' were seen again."""
    after = snapshot_of(connector)
    assert set(after) == set(before)
    failed = {i for i, row in after.items() if row[0] == failed_scope}
    assert failed  # the scope held machines before it failed
    for instance_id, (_, removed_at, last_seen, last_scan, version, fingerprint) in after.items():
        assert removed_at is None
        assert (version, fingerprint) == (before[instance_id][4], before[instance_id][5])
        if instance_id in failed:
            assert (last_seen, last_scan) == (before[instance_id][2], first.pk)
        else:
            assert (last_seen, last_scan) == (second.started_at, second.pk)


# -- the one inventory ---------------------------------------------------------------------------------------------
def expected_inventory(moto, compute, worlds) -> dict[tuple[str, str], tuple[str, str, str | None]]:
    """(platform, instance id) → (name, state, golden version) for every machine of the four worlds, by hand."""
    aws, gcp, vs = moto.world, compute.world, worlds.VSPHERE_UUIDS
    web_vmss = f"{ARM_A}/rg-web/{COMPUTE}/virtualmachinescalesets/web-vmss/virtualmachines"
    return {
        ("aws", aws.web_1): ("web-1", "running", U230),
        ("aws", aws.asg_members[0]): ("", "running", U230),
        ("aws", aws.asg_members[1]): ("", "running", U230),
        ("aws", aws.web_eu_1): ("web-eu-1", "running", U230),  # on the eu-west-1 copy of the AMI
        ("aws", aws.batch_1): ("batch-1", "stopped", None),  # base-linux AMI: not in the registry
        ("aws", aws.app_1): ("app-1", "running", APP301),  # account B
        ("azure", f"{web_vmss}/0"): ("web-vmss_0", "running", U100),  # model on "latest", exactVersion 1.0.0
        ("azure", f"{web_vmss}/1"): ("web-vmss_1", "running", U110),  # model on "latest", exactVersion 1.1.0
        ("azure", f"{ARM_A}/rg-api/{COMPUTE}/virtualmachinescalesets/api-vmss/virtualmachines/3"): (
            "api-vmss_3",
            "stopped",
            U110,  # the image *definition* in other letter case
        ),
        ("azure", f"{ARM_A}/rg-db/{COMPUTE}/virtualmachines/db-01"): ("db-01", "deallocated", U100),
        ("azure", f"{ARM_A}/rg-flex/{COMPUTE}/virtualmachines/flex-01"): ("flex-01", "running", U110),
        ("azure", f"{ARM_A}/rg-ci/{COMPUTE}/virtualmachines/build-01"): ("build-01", "running", None),  # marketplace
        ("gcp", gcp["web-1"]["id"]): ("web-1", "running", U100),  # MIG template names the family
        ("gcp", gcp["web-2"]["id"]): ("web-2", "running", U110),  # same MIG, disk from the newer image
        ("gcp", gcp["legacy-1"]["id"]): ("legacy-1", "suspended", U110),  # disk names the family: sourceImageId
        ("gcp", gcp["db-1"]["id"]): ("db-1", "stopped", U100),  # TERMINATED
        ("gcp", gcp["scratch-1"]["id"]): ("scratch-1", "running", None),
        ("vsphere", vs["web-1"]): ("web-1", "running", U100),  # cloned from the registered template
        ("vsphere", vs["web-2"]): ("web-2", "running", U100),
        ("vsphere", vs["db-1"]): ("db-1", "stopped", U110),  # annotation qlrf.image=ubuntu-2204-base@1.1.0
        ("vsphere", vs["app-1"]): ("app-1", "running", APP301),  # extraConfig qlrf.image.family/version
        ("vsphere", vs["legacy-1"]): ("legacy-1", "running", None),  # states no image
        ("vsphere", vs["rogue-1"]): ("rogue-1", "running", None),  # annotation names an unregistered version
    }


def test_one_organisation_lists_four_platforms_with_exact_golden_versions(
    tenant_a, ubuntu_contract, moto, arm, compute, vcenter, credential_env, azure_credential, worlds
):
    register_golden(tenant_a, ubuntu_contract, moto=moto, compute=compute, vcenter=vcenter)
    worlds.serve_subscription_a(arm)
    connectors = {
        "aws": create(tenant_a, "aws", "aws-prod", aws_config(moto), credential_env["aws"]),
        "azure": create(tenant_a, "azure", "azure-prod", azure_config(arm, [SUB_A]), credential_env["azure"]),
        "gcp": create(tenant_a, "gcp", "gcp-prod", gcp_config(compute, ["acme-prod"]), credential_env["gcp"]),
        "vsphere": create(tenant_a, "vsphere", "vsphere-dc", vsphere_config(vcenter), credential_env["vsphere"]),
    }
    injected = {"azure": {"credential": azure_credential}, "gcp": {"credentials": AnonymousCredentials()}}

    def scan_all() -> dict[str, tuple]:
        runs = {p: scan(c, connector_kwargs=injected.get(p)) for p, c in connectors.items()}
        return {platform: counts(run) for platform, run in runs.items()}

    assert scan_all() == {
        "aws": ("succeeded", 6, 6, 0, 0, 0, []),
        "azure": ("succeeded", 6, 6, 0, 0, 0, []),
        "gcp": ("succeeded", 5, 5, 0, 0, 0, []),
        "vsphere": ("succeeded", 6, 6, 0, 0, 0, []),
    }

    response = client_for(tenant_a.users["viewer"]).get("/api/v1/assets", {"limit": 100})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 23
    listed = {(a["platform"], a["instance_id"]): (a["name"], a["state"], a["image_version"]) for a in body["results"]}
    assert {platform for platform, _ in listed} == {"aws", "azure", "gcp", "vsphere"}
    assert listed == expected_inventory(moto, compute, worlds)
    unmanaged = sorted((platform, name) for (platform, _), (name, _, version) in listed.items() if version is None)
    assert unmanaged == [
        ("aws", "batch-1"),
        ("azure", "build-01"),
        ("gcp", "scratch-1"),
        ("vsphere", "legacy-1"),
        ("vsphere", "rogue-1"),
    ]
    assert all(a["removed_at"] is None for a in body["results"])

    # the traps, by the reference each machine was resolved through
    refs = {(a["platform"], a["name"]): (a["image_ref"], a["reported_version"], a["region"]) for a in body["results"]}
    assert refs[("aws", "web-eu-1")] == (moto.world.ami_web_copy, "", "eu-west-1")
    gallery = f"/subscriptions/{SUB_A}/resourcegroups/rg-images/{COMPUTE}/galleries/goldgallery/images/ubuntu-22"
    assert refs[("azure", "web-vmss_0")] == (f"{gallery}/versions/1.0.0", "1.0.0", "westeurope")
    assert refs[("azure", "api-vmss_3")] == (f"{gallery}/versions/1.1.0", "1.1.0", "westeurope")
    assert refs[("gcp", "legacy-1")] == ("projects/acme-images/global/images/golden-web-v1-1-0", "", "us-central1")
    assert refs[("gcp", "web-1")] == ("projects/acme-images/global/images/golden-web-v1-0-0", "", "us-central1")
    assert refs[("vsphere", "web-2")] == (TEMPLATE, "1.0.0", "DC0")
    assert refs[("vsphere", "db-1")] == (f"vsphere:{UBUNTU}@1.1.0", "1.1.0", "DC0")
    assert refs[("vsphere", "app-1")] == (f"vsphere:{APP}@3.0.1", "3.0.1", "DC0")
    assert refs[("vsphere", "rogue-1")] == (f"vsphere:{UBUNTU}@9.9.9", "9.9.9", "DC0")

    assert scan_all() == {
        "aws": ("succeeded", 6, 0, 0, 6, 0, []),
        "azure": ("succeeded", 6, 0, 0, 6, 0, []),
        "gcp": ("succeeded", 5, 0, 0, 5, 0, []),
        "vsphere": ("succeeded", 6, 0, 0, 6, 0, []),
    }
    assert Asset.objects.filter(organization=tenant_a.organization, removed_at__isnull=True).count() == 23


# -- faults: one scope fails, the run is partial, nothing of that scope is lost ---------------------------------------
def test_aws_scope_refused_by_ec2_ends_partial_and_loses_nothing(tenant_a, ubuntu_contract, moto, credential_env):
    register_golden(tenant_a, ubuntu_contract, moto=moto)
    connector = create(tenant_a, "aws", "aws-prod", aws_config(moto), credential_env["aws"])
    first = scan(connector)
    assert counts(first) == ("succeeded", 6, 6, 0, 0, 0, [])
    assert versions_in(connector, f"{ACCOUNT_A}/eu-west-1") == {moto.world.web_eu_1: U230}
    before = snapshot_of(connector)

    impl = connector_build(connector)  # the registry's connector, with the refusal hooked into one scope's client
    denied = moto.kit.canned_response(403, moto.kit.ec2_error_xml("UnauthorizedOperation", EC2_DENIED))
    impl._client("ec2", Scope(ACCOUNT_A, "eu-west-1")).meta.events.register("before-send.ec2.DescribeInstances", denied)
    second = scan(connector, connector_impl=impl)

    failed = f"{ACCOUNT_A}/eu-west-1"
    assert counts(second) == ("partial", 5, 0, 0, 5, 0, [failed])
    reason = f"UnauthorizedOperation in DescribeInstances: {EC2_DENIED}"
    assert second.scopes[failed] == {"status": "failed", "discovered": 0, "error": reason}
    assert second.error == f"{failed}: {reason}"
    assert {key: scope["status"] for key, scope in second.scopes.items()} == {
        f"{ACCOUNT_A}/us-east-1": "succeeded",
        failed: "failed",
        f"{ACCOUNT_B}/us-east-1": "succeeded",
        f"{ACCOUNT_B}/eu-west-1": "succeeded",
    }
    assert_nothing_lost(connector, failed, before, first, second)
    assert versions_in(connector, failed) == {moto.world.web_eu_1: U230}  # the regional copy, still resolved


def test_azure_subscription_answering_403_ends_partial_and_loses_nothing(
    tenant_a, ubuntu_contract, arm, credential_env, azure_credential, worlds
):
    register_golden(tenant_a, ubuntu_contract)
    worlds.serve_subscription_a(arm)
    worlds.serve_subscription_b(arm)
    config = azure_config(arm, [SUB_A, SUB_B])
    connector = create(tenant_a, "azure", "azure-prod", config, credential_env["azure"])
    injected = {"credential": azure_credential}
    first = scan(connector, connector_kwargs=injected)
    assert counts(first) == ("succeeded", 8, 8, 0, 0, 0, [])
    on_b = {
        f"{ARM_B}/rg-edge/{COMPUTE}/virtualmachines/edge-01": U110,  # on "latest", exactVersion 1.1.0
        f"{ARM_B}/rg-edge/{COMPUTE}/virtualmachines/edge-02": U100,
    }
    assert versions_in(connector, SUB_B) == on_b
    before = snapshot_of(connector)

    arm.server.clear()
    worlds.serve_subscription_a(arm)
    worlds.refuse_subscription(arm, SUB_B, AZURE_DENIED)
    second = scan(connector, connector_kwargs=injected)

    assert counts(second) == ("partial", 6, 0, 0, 6, 0, [SUB_B])
    reason = f"access refused (HTTP 403): AuthorizationFailed: {AZURE_DENIED}"
    assert second.scopes[SUB_B] == {"status": "failed", "discovered": 0, "error": reason}
    assert second.scopes[SUB_A]["status"] == "succeeded"
    assert second.error == f"{SUB_B}: {reason}"
    assert_nothing_lost(connector, SUB_B, before, first, second)
    assert versions_in(connector, SUB_B) == on_b

    arm.server.clear()  # both subscriptions refused: the run failed, and still nothing is removed
    worlds.refuse_subscription(arm, SUB_A, AZURE_DENIED)
    worlds.refuse_subscription(arm, SUB_B, AZURE_DENIED)
    third = scan(connector, connector_kwargs=injected)
    assert counts(third) == ("failed", 0, 0, 0, 0, 0, [SUB_A, SUB_B])
    assert third.error == f"{SUB_A}: {reason}; {SUB_B}: {reason}"
    assert Asset.objects.filter(connector=connector, removed_at__isnull=True).count() == 8


def test_gcp_project_answering_403_ends_partial_and_loses_nothing(tenant_a, ubuntu_contract, compute, credential_env):
    register_golden(tenant_a, ubuntu_contract, compute=compute)
    config = gcp_config(compute, ["acme-prod", "acme-edge"])
    connector = create(tenant_a, "gcp", "gcp-prod", config, credential_env["gcp"])
    injected = {"credentials": AnonymousCredentials()}
    first = scan(connector, connector_kwargs=injected)
    assert counts(first) == ("succeeded", 7, 7, 0, 0, 0, [])
    on_edge = {compute.world["edge-1"]["id"]: U110, compute.world["edge-2"]["id"]: U100}
    assert versions_in(connector, "acme-edge") == on_edge
    before = snapshot_of(connector)

    compute.fail(r"/projects/acme-edge/", 403, GCP_DENIED)
    second = scan(connector, connector_kwargs=injected)

    assert counts(second) == ("partial", 5, 0, 0, 5, 0, ["acme-edge"])
    reason = f"HTTP 403 Forbidden on GET /compute/v1/projects/acme-edge/aggregated/instanceGroupManagers: {GCP_DENIED}"
    assert second.scopes["acme-edge"] == {"status": "failed", "discovered": 0, "error": reason}
    assert {key: scope["status"] for key, scope in second.scopes.items()} == {
        "acme-prod": "succeeded",
        "acme-edge": "failed",
        "acme-images": "succeeded",  # an image-only project: no machines, nothing to remove
    }
    assert second.error == f"acme-edge: {reason}"
    assert compute.count(r"/acme-edge/aggregated/instanceGroupManagers$") == 2  # once per scan: 403 is not retried
    assert_nothing_lost(connector, "acme-edge", before, first, second)
    assert versions_in(connector, "acme-edge") == on_edge


def test_vsphere_vcenter_on_a_closed_port_ends_partial_and_loses_nothing(
    tenant_a, ubuntu_contract, vcenter, edge_vcenter, credential_env, worlds
):
    register_golden(tenant_a, ubuntu_contract, vcenter=vcenter)
    config = vsphere_config(vcenter, edge_vcenter)
    connector = create(tenant_a, "vsphere", "vsphere-dc", config, credential_env["vsphere"])
    first = scan(connector)
    assert counts(first) == ("succeeded", 8, 8, 0, 0, 0, [])
    on_edge = {worlds.VSPHERE_UUIDS["edge-1"]: U110, worlds.VSPHERE_UUIDS["edge-2"]: U100}  # by annotation
    assert versions_in(connector, edge_vcenter.account) == on_edge
    before = snapshot_of(connector)

    edge_vcenter.stop()  # the second vCenter's port now refuses connections
    second = scan(connector)

    failed = edge_vcenter.account
    assert counts(second) == ("partial", 6, 0, 0, 6, 0, [failed])
    reason = f"connection refused by {failed} (nothing listens on that port)"
    assert second.scopes[failed] == {"status": "failed", "discovered": 0, "error": reason}
    assert second.scopes[vcenter.account]["status"] == "succeeded"
    assert second.error == f"{failed}: {reason}"
    assert_nothing_lost(connector, failed, before, first, second)
    assert versions_in(connector, failed) == on_edge
