"""Image references compared the way each platform does (regional copies, Azure id case, GCP self-links)."""

from __future__ import annotations

import re

_GCP_PREFIX = re.compile(r"^(https?://[^/]+/compute/(v1|beta|alpha)/)", re.IGNORECASE)


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_AMI = re.compile(r"^ami-[0-9a-f]{8,17}$", re.IGNORECASE)


def canonical_uuid(value: str) -> str:
    """A UUID (vSphere instance/BIOS UUIDs, content-library item ids) in lower case; anything else unchanged."""
    value = (value or "").strip()
    return value.lower() if _UUID.match(value) else value


def normalise_image_ref(platform: str, image_ref: str) -> str:
    """The key an image reference is matched on, compared the way its platform compares it — the one place:

    - AWS: AMI ids are lower-case hex (``AMI-0ABC…`` is the same image as ``ami-0abc…``).
    - Azure: resource ids are case-insensitive: lower-cased, no trailing slash.
    - GCP: any selfLink host and API version (``https://www.googleapis.com/compute/v1/``,
      ``https://compute.googleapis.com/compute/beta/``…) is dropped to ``projects/<p>/global/images/<name>``;
      resource names are lower-case by rule, so the key is lower-cased too.
    - vSphere: instance/BIOS UUIDs and library item ids are case-insensitive (lower-cased);
      ``vsphere:<family>@<version>`` names and other refs stay as they are.
    """
    ref = (image_ref or "").strip()
    if platform == "aws":
        return ref.lower() if _AMI.match(ref) else ref
    if platform == "azure":
        return ref.lower().rstrip("/")
    if platform == "gcp":
        return _GCP_PREFIX.sub("", ref).lstrip("/").split("?", 1)[0].lower()
    if platform == "vsphere":
        return canonical_uuid(ref)
    return ref
