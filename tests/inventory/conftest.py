"""Inventory fixtures: connectors created through the service, environments and sites of tenant A."""

from apps.inventory.services import connector_create


def synthetic(tenant, name="fleet", **config):
    config = {"count": 40, "seed": 7, "regions": {"aws": ["eu-west-1", "us-east-1"]}, **config}
    return connector_create(
        actor=None, organization=tenant.organization, platform="synthetic", name=name, config=config
    )
