"""Drill provisioners: one module per platform, registered by slug (same shape as the inventory connectors)."""

from .base import (
    TAG_KEY,
    BaseProvisioner,
    Machine,
    ProvisionError,
    RecoveryPoint,
    get_provisioner_class,
    register_provisioner,
    registered_provisioners,
)

__all__ = [
    "TAG_KEY",
    "BaseProvisioner",
    "Machine",
    "ProvisionError",
    "RecoveryPoint",
    "get_provisioner_class",
    "load_provisioners",
    "register_provisioner",
    "registered_provisioners",
]


def load_provisioners() -> None:
    """Import every provisioner module once (explicitly, not by import side effect of an unrelated module)."""
    from . import aws, vsphere  # noqa: F401
