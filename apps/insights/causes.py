"""Deterministic root causes: every drifted machine of the facts is attributed to exactly one cause, the most
specific that holds (stale → failing scope; unmanaged → unregistered image; outdated → revoked version, region
without a copy of the baseline, launch template pinned to an old image, else the channel's grace ended). Causes are
ranked by machines explained, then by the order of CAUSE_KINDS, then by key.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from .confidence import confidence, level

CAUSE_KINDS = (
    "revoked_version_running",
    "region_without_copy",
    "template_pinned_old_image",
    "connector_scope_failing",
    "unregistered_image_spreading",
    "grace_ended",
)
# What the portal calls each kind (the API and packs keep the stable kind)
CAUSE_TITLES = {
    "revoked_version_running": "Revoked version still running",
    "region_without_copy": "Region without a copy of the golden image",
    "template_pinned_old_image": "Launch template or scale set pinned to an old image",
    "connector_scope_failing": "Connector scope failing, machines stale",
    "unregistered_image_spreading": "Unregistered image spreading",
    "grace_ended": "Promoted, grace period ended",
}


def _days(later: str | None, earlier: str | None) -> int | None:
    if not later or not earlier:
        return None
    return (datetime.datetime.fromisoformat(later) - datetime.datetime.fromisoformat(earlier)).days


def _regions(facts: dict, label: str, platform: str) -> set[str] | None:
    """The regions holding a copy of ``label`` on ``platform``; None when its artifacts are not regional there."""
    rows = [a for a in facts["registry"].get(label, []) if a["platform"] == platform]
    if not rows or not all(a["region"] for a in rows):
        return None
    return {a["region"] for a in rows}


def _image_versions(facts: dict) -> dict[str, str]:
    return {a["image_ref"].lower(): label for label, rows in facts["registry"].items() for a in rows}


def _outdated_kind(facts: dict, machine: dict, images: dict[str, str]) -> tuple[str, tuple]:
    if machine["reason"] == "revoked":
        return "revoked_version_running", (machine["version"],)
    regions = _regions(facts, machine["baseline"], machine["platform"]) if machine["baseline"] else None
    if regions is not None and machine["region"] and machine["region"] not in regions:
        return "region_without_copy", (machine["baseline"], machine["platform"], machine["region"])
    template_image = (machine.get("template_image") or "").lower()
    if machine.get("template") and template_image:
        pinned_label = images.get(template_image)
        if template_image == machine["image_ref"].lower() or (pinned_label and pinned_label != machine["baseline"]):
            return "template_pinned_old_image", (machine["group"], machine["template"], machine["template_image"])
    return "grace_ended", (machine["environment"], machine["baseline"])


def attribute(facts: dict) -> dict[tuple, list[dict]]:
    """(kind, key) → the machines it explains; every drifted machine lands in exactly one group."""
    images = _image_versions(facts)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for machine in facts["machines"]:
        if machine["status"] == "stale":
            kind, key = "connector_scope_failing", (machine["connector_id"], machine["scope_key"])
        elif machine["status"] == "unmanaged":
            kind, key = "unregistered_image_spreading", (machine["image_ref"].lower(),)
        else:
            kind, key = _outdated_kind(facts, machine, images)
        groups[(kind, key)].append(machine)
    return groups


def _promotion(facts: dict, environment: str, label: str) -> dict | None:
    found = None
    for promotion in facts["changes"]["promotions"]:
        if promotion["environment"] == environment and promotion["to"] == label:
            found = promotion  # the latest (promotions are in time order)
    return found


def _evidence(facts: dict, kind: str, key: tuple, machines: list[dict]) -> tuple[dict, str]:
    at = facts["at"]
    versions = sorted({m["version"] for m in machines if m.get("version")})
    evidence: dict = {"versions": versions}
    if kind == "revoked_version_running":
        revoked = next((r for r in facts["changes"]["revocations"] if r["version"] == key[0]), None)
        evidence.update(version=key[0], revoked_at=revoked and revoked["revoked_at"])
        evidence["days_since_revocation"] = _days(at, evidence["revoked_at"])
        return evidence, f"Replace every machine running {key[0]}: rebuild them from the environment's golden image."
    if kind == "region_without_copy":
        label, platform, region = key
        evidence.update(
            baseline=label,
            platform=platform,
            region=region,
            regions_with_copy=sorted(_regions(facts, label, platform) or ()),
        )
        return evidence, f"Copy {label} to {region} ({platform}) and register the copy, then roll the machines there."
    if kind == "template_pinned_old_image":
        group, template, image = key
        evidence.update(group=group, template=template, template_image=image)
        return evidence, f"Point {group} at a template version that launches the golden image, then refresh it."
    if kind == "connector_scope_failing":
        connector_id, scope_key = key
        scans = facts["scans"].get(str(connector_id), {})
        evidence.update(
            connector_id=connector_id,
            scope=scope_key,
            latest_scan_id=scans.get("latest_scan_id"),
            scope_error=scans.get("failed_scopes", {}).get(scope_key, ""),
            last_seen=max(m["last_seen"] for m in machines),
        )
        return evidence, f"Fix the scan of scope {scope_key} (credentials, permissions, reachability) and rescan."
    if kind == "unregistered_image_spreading":
        image = machines[0]["image_ref"]
        evidence.update(
            image_ref=image,
            first_seen=min(m["first_seen"] for m in machines),
            accounts=sorted({m["account"] for m in machines}),
            regions=sorted({m["region"] for m in machines if m["region"]}),
        )
        return evidence, f"Register {image or 'the image'} as a version of its family, or replace the machines."
    environment, label = key
    promotion = _promotion(facts, environment, label)
    evidence.update(environment=environment, baseline=label)
    if promotion:
        evidence.update(
            promoted_at=promotion["assigned_at"],
            grace_until=promotion["grace_until"],
            days_since_promotion=_days(at, promotion["assigned_at"]),
            days_since_grace_end=_days(at, promotion["grace_until"]),
        )
    return evidence, f"Roll the machines of {environment} to {label}; the grace period is over."


def _age_hours(facts: dict, machines: list[dict]) -> float | None:
    ages = []
    for connector_id in {m["connector_id"] for m in machines}:
        scans = facts["scans"].get(str(connector_id))
        ages.append(scans["last_succeeded_age_hours"] if scans else None)
    if not ages or any(age is None for age in ages):
        return None
    return max(ages)


def rank_causes(facts: dict) -> list[dict]:
    """The ranked causes of the facts, each with its machines, share of the drift, evidence, remediation and
    confidence (with the terms it was computed from)."""
    totals = facts["totals"]
    drifted = len(facts["machines"])
    fleet = max(totals.get("total", 0), drifted, 1)
    stale_share = min(1.0, totals.get("stale", 0) / fleet)
    unmanaged_share = min(1.0, totals.get("unmanaged", 0) / fleet)
    causes = []
    for (kind, key), machines in attribute(facts).items():
        evidence, remediation = _evidence(facts, kind, key, machines)
        share = len(machines) / drifted
        age = _age_hours(facts, machines)
        value = confidence(share=share, stale_share=stale_share, age_hours=age, unmanaged_share=unmanaged_share)
        causes.append(
            {
                "kind": kind,
                "key": [str(part) for part in key],
                "machines": len(machines),
                "machine_ids": sorted(m["instance_id"] for m in machines),
                "share_pct": round(100.0 * share, 1),
                "evidence": evidence,
                "remediation": remediation,
                "confidence": value,
                "confidence_level": level(value),
                "confidence_terms": {
                    "share": round(share, 4),
                    "stale_share": round(stale_share, 4),
                    "scan_age_hours": age,
                    "unmanaged_share": round(unmanaged_share, 4),
                },
            }
        )
    causes.sort(key=lambda c: (-c["machines"], CAUSE_KINDS.index(c["kind"]), c["key"]))
    for rank, cause in enumerate(causes, 1):
        cause["rank"] = rank
    return causes
