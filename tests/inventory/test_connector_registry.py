"""The connector registry: explicit, by decorator, one class per slug; an incomplete connector cannot exist."""

import pytest

from apps.inventory.connectors import CONNECTOR_MODULES
from apps.inventory.connectors.base import (
    BaseConnector,
    ConnectorError,
    get_connector_class,
    register_connector,
    registered_connectors,
)


def test_every_listed_module_registers_its_slug():
    registered = registered_connectors()
    assert sorted(registered) == sorted(CONNECTOR_MODULES)
    for slug, cls in registered.items():
        assert cls.slug == slug and cls.label and cls.config_schema.get("type") == "object"


def test_a_duplicate_slug_raises():
    aws = get_connector_class("aws")

    class Impostor(aws):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register_connector(Impostor)
    assert get_connector_class("aws") is aws


def test_unknown_platform_is_a_readable_error():
    with pytest.raises(ConnectorError, match="unknown connector platform 'ibm'"):
        get_connector_class("ibm")


def test_a_connector_missing_an_iterator_cannot_be_instantiated():
    class Half(BaseConnector):
        slug = "half"

        def scopes(self):
            return []

    with pytest.raises(TypeError):
        Half({})
