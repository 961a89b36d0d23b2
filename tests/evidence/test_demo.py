"""``rf evidence-pack generate`` on the demo organisation: a pack that verifies, and the same SHA-256 again."""

import hashlib
import time

import pytest

from apps.drift.services import drift_snapshot_write
from apps.evidence.models import EvidencePack
from apps.tenancy.models import Organization
from qlrf.cli import main
from qlrf.demo import demo_load

pytestmark = pytest.mark.django_db


def _wait_for_next_wall_clock_second():
    """The second generation must run at another wall-clock second, so equality cannot come from timing luck."""
    started = int(time.time())
    while int(time.time()) == started:
        time.sleep(0.05)


def test_demo_pack_verifies_and_regenerates_identically(tmp_path, settings, capsys):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    demo_load()
    drift_snapshot_write(organization=Organization.objects.get(slug="acme"), trigger="manual")
    first, second = tmp_path / "first.zip", tmp_path / "second.zip"
    assert main(["evidence-pack", "generate", "--org", "acme", "--env", "prod", "staging", "--out", str(first)]) == 0
    assert main(["evidence-pack", "verify", str(first)]) == 0
    _wait_for_next_wall_clock_second()
    assert main(["evidence-pack", "generate", "--org", "acme", "--env", "prod", "staging", "--out", str(second)]) == 0
    out = capsys.readouterr().out
    assert f"{first}: OK" in out
    packs = list(EvidencePack.objects.order_by("pk"))
    assert len(packs) == 2 and packs[0].sha256 == packs[1].sha256 and not packs[0].empty
    assert first.read_bytes() == second.read_bytes()
    assert hashlib.sha256(first.read_bytes()).hexdigest() == packs[0].sha256
    assert packs[0].filters["environments"] == ["prod", "staging"] and packs[0].member_count > 10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--org", "nope"], "unknown organization 'nope'"),
        (["--org", "acme", "--env", "moon"], "unknown environment 'moon'"),
        (["--org", "acme", "--from", "2024-02-02", "--to", "2024-02-01"], "from (2024-02-02) is after to (2024-02-01)"),
    ],
)
def test_cli_refusals_are_one_line_and_non_zero(argv, message, capsys):
    demo_org = Organization.objects.create(name="Acme Corp", slug="acme")
    from apps.tenancy.services import environment_create

    environment_create(actor=None, organization=demo_org, name="Production", slug="prod", tier="prod")
    assert main(["evidence-pack", "generate", *argv]) == 1
    assert message in capsys.readouterr().err
    assert EvidencePack.objects.count() == 0


def test_verify_of_a_file_that_is_no_zip_fails(tmp_path, capsys):
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip")
    assert main(["evidence-pack", "verify", str(bogus)]) == 1
    assert "not a readable ZIP" in capsys.readouterr().err
