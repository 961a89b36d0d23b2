"""Schemathesis against the app, with every role's token: the schema must describe what the API answers.

For every operation of the generated schema and every role (an organisation with data), a fixed, derandomized set of
examples is sent through the WSGI app; half the cases name a real object of the caller's organisation in the path.
Checks: no server error, every response body conforms to its documented schema, no undocumented status code.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api.support import ROLES, openapi_document, operations, path_values

# (METHOD, path, role) → reason, or (reason, database vendor) for a fault of one database only. Each is a strict
# xfail: it turns red the day the fault is fixed; then delete it.
KNOWN_FAILURES: dict[tuple[str, str, str], str | tuple[str, str]] = {}  # none today

DOCUMENT = openapi_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
SCHEMA.app = get_wsgi_application()
EXAMPLES_PER_OPERATION = 5
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# Not fuzzed, with the reason:
EXCLUDED: dict[tuple[str, str], str] = {}


def _params():
    for method, path in operations(DOCUMENT):
        if (method, path) in EXCLUDED:
            continue
        for role in ROLES:
            marks = []
            known = KNOWN_FAILURES.get((method, path, role))
            if known is not None:
                reason, vendor = (known, None) if isinstance(known, str) else known
                if vendor in (None, connection.vendor):
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
            yield pytest.param(method, path, role, marks=marks, id=f"{method} {path} {role}")


@pytest.fixture
def tenant_with_tokens(seeded, db, keep_connection):
    return seeded["alpha"]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "role"), list(_params()))
def test_operation_conforms_to_schema(method, path, role, tenant_with_tokens):
    tenant, tokens = tenant_with_tokens
    operation = SCHEMA[path][method]
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    strategy = operation.as_strategy()
    real = path_values(path, tenant.organization)
    if real:
        strategy = st.one_of(operation.as_strategy(path_parameters=real), strategy)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    run()
