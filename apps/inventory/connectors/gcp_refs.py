"""Pure helpers of the GCP connector: resource references, zones, states and versions.

Compute Engine names the same resource several ways (a full ``https://…/compute/v1/…`` selfLink, a project-relative
``projects/p/…`` path, a project-less ``global/…`` path). Drift matching compares image references as strings, so
every reference the connector reports goes through one canonical form: ``projects/<p>/…`` with no host or API version.
"""

from __future__ import annotations

import re

__all__ = [
    "image_family_of",
    "image_ref_or_empty",
    "is_family_ref",
    "last_segment",
    "normalise_image_ref",
    "normalise_resource_ref",
    "normalise_state",
    "parse_image_version",
    "project_of",
    "region_of_zone",
]

_PREFIX_RE = re.compile(r"^(?:https?://[^/]+)?/*(?:compute/(?:v1|beta|alpha)/)?")
_IMAGE_RE = re.compile(r"^projects/(?P<project>[^/]+)/global/images/(?P<rest>(?:family/)?[^/]+)$")
_PROJECTLESS_IMAGE_RE = re.compile(r"^global/images/(?P<rest>(?:family/)?[^/]+)$")
_VERSION_LABELS = ("version", "image-version", "image_version")
_NAME_VERSION_RE = re.compile(r"-v(?P<version>\d+(?:-\d+)*)$")
_LABEL_VERSION_RE = re.compile(r"^v?(?P<version>\d+(?:[-_]\d+)*)$")

# Compute Engine instance statuses → the inventory's normalised states (base.DiscoveredAsset.state). Transitional
# states count as the state being entered, so a machine that is stopping is not reported as running.
_STATES = {
    "PROVISIONING": "running",
    "STAGING": "running",
    "RUNNING": "running",
    "REPAIRING": "running",
    "STOPPING": "stopped",
    "PENDING_STOP": "stopped",
    "STOPPED": "stopped",
    "TERMINATED": "stopped",
    "SUSPENDING": "suspended",
    "SUSPENDED": "suspended",
}


def _strip_prefix(ref: str) -> str:
    return _PREFIX_RE.sub("", ref.strip()).split("?", 1)[0]


def normalise_resource_ref(ref: str) -> str:
    """Return a Compute resource reference without host and API version (``projects/p/zones/z/instances/i``)."""
    return _strip_prefix(ref) if ref else ""


def normalise_image_ref(ref: str, *, project: str = "") -> str:
    """Return the canonical ``projects/<p>/global/images/<name>`` form of any image reference.

    Accepts full selfLinks (any host, v1/beta/alpha), ``projects/p/global/images/x`` and ``global/images/x`` (which
    needs ``project``). Family references keep their ``…/images/family/<family>`` shape so callers can tell them apart
    (see ``is_family_ref``). Raises ValueError for anything that is not an image reference.
    """
    path = _strip_prefix(ref or "")
    match = _IMAGE_RE.match(path)
    if match:
        return f"projects/{match['project']}/global/images/{match['rest']}"
    match = _PROJECTLESS_IMAGE_RE.match(path)
    if match:
        if not project:
            raise ValueError(f"image reference {ref!r} names no project and no default project was given")
        return f"projects/{project}/global/images/{match['rest']}"
    raise ValueError(f"not a Compute Engine image reference: {ref!r}")


def image_ref_or_empty(ref: str, *, project: str = "") -> str:
    """``normalise_image_ref`` for values read from the API: ``""`` when absent or not an image reference."""
    try:
        return normalise_image_ref(ref, project=project) if ref else ""
    except ValueError:
        return ""


def is_family_ref(ref: str) -> bool:
    """True when an image reference names an image family (``…/global/images/family/<family>``), not an image."""
    return "/global/images/family/" in f"/{_strip_prefix(ref or '')}"


def image_family_of(ref: str) -> str:
    """The family name of a family reference (``""`` for a concrete image reference)."""
    return last_segment(ref) if is_family_ref(ref) else ""


def project_of(ref: str) -> str:
    """The project id of a ``projects/<p>/…`` reference in any form (``""`` when it names none)."""
    parts = _strip_prefix(ref or "").split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "projects" else ""


def last_segment(ref: str) -> str:
    """The last path segment of a URL or path: a zone URL gives the zone name, a selfLink the resource name."""
    return _strip_prefix(ref or "").rsplit("/", 1)[-1]


def region_of_zone(zone: str) -> str:
    """The region of a zone name or URL: ``us-east1-b`` → ``us-east1`` (a region name is returned unchanged)."""
    name = last_segment(zone)
    head, sep, tail = name.rpartition("-")
    return head if sep and len(tail) == 1 and tail.isalpha() else name


def normalise_state(status: str) -> str:
    """Map a Compute Engine instance status to running | stopped | suspended | unknown."""
    return _STATES.get((status or "").upper(), "unknown")


def parse_image_version(name: str, labels: dict[str, str]) -> str:
    """The version an image states: a ``version`` label, else a ``-v<digits>[-<digits>…]`` name suffix.

    Neither image names nor label values may contain dots, so dashes/underscores between digit groups become dots:
    ``golden-web-v1-4-2`` and a label ``version=1_4_2`` mean 1.4.2, ``debian-9-stretch-v20190514`` means 20190514.
    A label that is not digit groups is returned as it is. ``""`` when neither is present.
    """
    for key in _VERSION_LABELS:
        value = labels.get(key, "")
        if value:
            match = _LABEL_VERSION_RE.match(value)
            return re.sub(r"[-_]", ".", match["version"]) if match else value
    match = _NAME_VERSION_RE.search(name or "")
    return match["version"].replace("-", ".") if match else ""
