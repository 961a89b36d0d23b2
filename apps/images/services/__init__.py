"""Writes of the image registry: register, add artifacts, publish, deprecate, revoke, promote (audited, evented)."""

from .artifact_rules import (
    RulesOutcome,
    artifact_rules_apply,
    discovered_image_register,
    discovered_images_link,
)
from .channels import channel_promote, channel_rollback
from .history import channel_history_import, channel_promotion_import
from .lifecycle import image_revocations_apply, image_version_deprecate, image_version_publish, image_version_revoke
from .registration import contract_check, image_artifact_add, image_version_register

__all__ = [
    "RulesOutcome",
    "artifact_rules_apply",
    "discovered_image_register",
    "discovered_images_link",
    "channel_history_import",
    "channel_promote",
    "channel_promotion_import",
    "channel_rollback",
    "contract_check",
    "image_artifact_add",
    "image_revocations_apply",
    "image_version_deprecate",
    "image_version_publish",
    "image_version_register",
    "image_version_revoke",
]
