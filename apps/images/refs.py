"""Image references compared the way each platform does (regional copies, Azure id case, GCP self-links)."""

from __future__ import annotations

import re

_GCP_PREFIX = re.compile(r"^(https?://[^/]+/compute/(v1|beta|alpha)/)")


def normalise_image_ref(platform: str, image_ref: str) -> str:
    """The key an image reference is matched on: Azure ids lower-cased; GCP links reduced to
    ``projects/<p>/global/images/<name>``; AMI ids and vSphere ids as they are (already canonical)."""
    ref = (image_ref or "").strip()
    if platform == "azure":
        return ref.lower().rstrip("/")
    if platform == "gcp":
        ref = _GCP_PREFIX.sub("", ref).lstrip("/")
        return ref
    return ref
