"""``rf`` local mode on the server: the operator account by default, ``--as`` a member, one line when it cannot run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from apps.tenancy.models import AuditEvent, Environment
from qlrf.cli_local import OPERATOR
from tests.client.conftest import run_rf
from tests.factories.images import register

pytestmark = pytest.mark.django_db


def test_the_operator_account_acts_by_default_and_cannot_log_in(tenant_a, tenant_b):
    done = run_rf("--org", "alpha", "env", "create", "qa", "--tier", "staging")
    assert done.code == 0 and done.out == "created environment qa (staging, signature policy warn)\n", done
    operator = get_user_model().objects.get(username=OPERATOR)
    assert operator.is_superuser and not operator.has_usable_password() and not operator.is_staff
    event = AuditEvent.objects.get(object_type__iendswith="environment", object_id=str(Environment.objects.get().pk))
    assert event.actor_id == operator.pk and event.organization == tenant_a.organization
    assert Environment.objects.get(slug="qa").organization == tenant_a.organization


def test_several_organizations_need_org_and_an_unknown_account_is_refused(tenant_a, tenant_b):
    done = run_rf("env", "list")
    assert done.code == 2
    assert done.err == "rf: error: local mode sees several organizations: give --org SLUG (or QLRF_ORG)\n"
    done = run_rf("--as", "nobody", "env", "list")
    assert done.code == 2 and done.err == "rf: error: --as nobody: no active account of that name\n"


def test_a_member_acts_with_their_own_rights(tenant_a, tenant_b, ubuntu_contract):
    register(tenant_b, ubuntu_contract, "1.0.0")
    done = run_rf("--as", "alpha-viewer", "image", "show", "ubuntu-2204-base@1.0.0")
    assert done.code == 1 and done.err == "rf: error: no image 'ubuntu-2204-base@1.0.0'\n"
    done = run_rf("--as", "alpha-viewer", "env", "create", "qa", "--tier", "dev")
    assert done.code == 1 and "HTTP 403 permission_denied" in done.err
    assert not Environment.objects.filter(slug="qa").exists()


def test_the_server_command_forms_still_work(tenant_a, envs, ubuntu_contract):
    register(tenant_a, ubuntu_contract, "1.0.0")
    done = run_rf("gate", "check", "--org", "alpha", "--image", "ubuntu-2204-base@1.0.0", "--env", "dev")
    assert done.code in (0, 1) and done.out.startswith("ubuntu-2204-base@1.0.0 → dev: ")
    assert run_rf("drift", "--org", "alpha", "--env", "prod").out.startswith("Drift of alpha (live, ")


@pytest.mark.parametrize("url", ["sqlite:////nonexistent/qlrf/db.sqlite3", "postgres://postgres@127.0.0.1:1/qlrf"])
def test_local_mode_without_a_database_is_one_line(url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QLRF_", "DJANGO_"))}
    done = subprocess.run([sys.executable, "-m", "qlrf_client", "env", "list"], capture_output=True, text=True,
                          env={**env, "QLRF_DATABASE_URL": url}, timeout=120)  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rf: error: "), done.stderr


def test_the_operator_promotes_where_two_organizations_share_an_environment_slug(tenant_a, tenant_b, ubuntu_contract):
    from apps.images.models import Channel
    from tests.factories import EnvironmentFactory

    prod = EnvironmentFactory(organization=tenant_a.organization, slug="prod", tier="prod")
    EnvironmentFactory(organization=tenant_b.organization, slug="prod", tier="prod")
    register(tenant_a, ubuntu_contract, "1.0.0")
    register(tenant_b, ubuntu_contract, "1.0.0")
    done = run_rf("--org", "alpha", "image", "promote", "ubuntu-2204-base@1.0.0", "--env", "prod")
    assert done.code == 0 and done.out.startswith("promoted ubuntu-2204-base@1.0.0 to prod (from nothing"), done
    assert list(Channel.objects.values_list("environment", flat=True)) == [prod.pk]
