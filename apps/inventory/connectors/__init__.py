"""Platform connectors. Each module defines one ``@register_connector`` class. Modules are imported explicitly, by
slug, when needed: a scan imports only its own platform's SDK (each SDK costs tens of MB)."""

import importlib

CONNECTOR_MODULES = {
    "aws": "apps.inventory.connectors.aws",
    "azure": "apps.inventory.connectors.azure",
    "gcp": "apps.inventory.connectors.gcp",
    "vsphere": "apps.inventory.connectors.vsphere",
    "synthetic": "apps.inventory.connectors.synthetic",
}


def load(slug: str) -> None:
    """Import the connector module of ``slug`` (registering its class); unknown slugs import nothing."""
    if slug in CONNECTOR_MODULES:
        importlib.import_module(CONNECTOR_MODULES[slug])


def load_all() -> None:
    """Import every connector module (idempotent)."""
    for slug in CONNECTOR_MODULES:
        load(slug)
