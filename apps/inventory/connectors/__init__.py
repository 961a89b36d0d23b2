"""Platform connectors. Each module defines one ``@register_connector`` class; ``load_all`` imports them explicitly
(connectors are never registered by an import side effect of some unrelated module)."""

import importlib

CONNECTOR_MODULES = (
    "apps.inventory.connectors.aws",
    "apps.inventory.connectors.azure",
    "apps.inventory.connectors.gcp",
    "apps.inventory.connectors.vsphere",
    "apps.inventory.connectors.synthetic",
)


def load_all() -> None:
    """Import every connector module listed above (idempotent)."""
    for name in CONNECTOR_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a module not written yet is simply not registered
            if exc.name != name:
                raise
