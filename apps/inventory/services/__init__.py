"""Writes of the inventory: connectors, scans and the set-based sync."""

from .connectors import (
    connector_build,
    connector_config_check,
    connector_create,
    connector_delete,
    connector_test,
    connector_update,
)
from .guard import scan_removal_confirm
from .resolution import inventory_resolve_images
from .scans import ScanInProgress, scan_create, scan_execute, scan_request, scan_run_now
from .sync import inventory_sync

__all__ = [
    "ScanInProgress",
    "connector_build",
    "connector_config_check",
    "connector_create",
    "connector_delete",
    "connector_test",
    "connector_update",
    "inventory_resolve_images",
    "inventory_sync",
    "scan_create",
    "scan_execute",
    "scan_removal_confirm",
    "scan_request",
    "scan_run_now",
]
