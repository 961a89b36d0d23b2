"""Drill definitions: the shipped examples validate; bad documents fail whole with JSON-pointer faults; names
resolve only inside the organisation; the schedule follows the definition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django_q.models import Schedule

from apps.resilience.definitions import validate_drill, validate_drill_file
from apps.resilience.models import DrillDefinition
from qlrf.cli import main
from qlrf.errors import DocumentRejected

from .conftest import DOCUMENT, document, save

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "contracts" / "examples" / "drills").glob("*.yaml"))


def faults(text: str) -> list[tuple[str, int | None, str]]:
    return [(f.pointer, f.line, f.code) for f in validate_drill(text).faults]


def test_three_examples_are_valid():
    assert len(EXAMPLES) == 3
    for path in EXAMPLES:
        result = validate_drill_file(path)
        assert result.valid, [str(f) for f in result.faults]
        assert result.kind == "DrillDefinition" and len(result.digest) == 64


def test_template_document_is_valid():
    assert validate_drill(json.dumps(DOCUMENT)).valid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kind: DrillDefinition\napiVersion: qlrf.io/v1\n",
            [
                ("", 1, "missing_key"),
                ("", 1, "missing_key"),
                ("", 1, "missing_key"),
                ("", 1, "missing_key"),
                ("", 1, "missing_key"),
                ("", 1, "missing_key"),
                ("", 1, "missing_key"),
            ],
        ),
        ("- just\n- a list\n", [("", 1, "wrong_type")]),
        ("a: &x [1]\nb: *x\n", [("", 2, "yaml_alias")]),
        ("metadata: {name: [unclosed\n", [("", 2, "invalid_yaml")]),
    ],
)
def test_malformed_documents(text, expected):
    assert faults(text) == expected


def _yaml(doc) -> str:
    return json.dumps(doc, indent=1)  # JSON is YAML: each key on its own line, so lines are asserted too


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["pilot_light"].update(count=0), [("/pilot_light/count", "out_of_range")]),
        (lambda d: d["pilot_light"].pop("instance_type"), [("/pilot_light", "missing_key")]),
        (lambda d: d["pilot_light"].update(cpus=2), [("/pilot_light/cpus", "not_applicable")]),
        (lambda d: d["target"].update(platform="azure"), [("/target/platform", "bad_enum")]),
        (
            lambda d: d["target"].update(vsphere={"datacenter": "DC0", "cluster": "C0"}),
            [("/target", "schema_violation")],
        ),
        (lambda d: d["target"]["aws"].update(region="mars"), [("/target/aws/region", "pattern_mismatch")]),
        (lambda d: d["target"]["aws"].update(acount="1"), [("/target/aws/acount", "unknown_key")]),
        (lambda d: d["health_checks"].append({"name": "x", "type": "tcp"}), [("/health_checks/2", "missing_key")]),
        (lambda d: d["health_checks"].append({"name": "x", "type": "ping"}), [("/health_checks/2/type", "bad_enum")]),
        (
            lambda d: d["health_checks"].append({"name": "running", "type": "instance_state"}),
            [("/health_checks/2/name", "duplicate")],
        ),
        (lambda d: d["health_checks"][0].update(port=22), [("/health_checks/0/port", "unknown_key")]),
        (
            lambda d: d["health_checks"].append({"name": "h", "type": "http", "port": 70000}),
            [("/health_checks/2/port", "out_of_range")],
        ),
        (
            lambda d: d["health_checks"].append({"name": "c", "type": "custom", "entry_point": "os.system"}),
            [("/health_checks/2/entry_point", "pattern_mismatch")],
        ),
        (lambda d: d["objectives"].update(rto_minutes=0), [("/objectives/rto_minutes", "out_of_range")]),
        (lambda d: d["objectives"].update(rpo_minutes="1h"), [("/objectives/rpo_minutes", "wrong_type")]),
        (lambda d: d.update(recovery_point={"source": "snapshot_tag"}), [("/recovery_point", "missing_key")]),
        (lambda d: d.update(schedule={"cron": "61 * * * *"}), [("/schedule/cron", "bad_format")]),
        (lambda d: d.update(schedule={"cron": "daily"}), [("/schedule/cron", "pattern_mismatch")]),
        (lambda d: d.update(teardown={"policy": "never"}), [("/teardown/policy", "bad_enum")]),
        (lambda d: d.update(kind="ImageContract"), [("/kind", "bad_enum")]),
    ],
)
def test_each_fault_is_reported_at_its_pointer(change, expected):
    doc = document()
    change(doc)
    result = validate_drill(_yaml(doc))
    assert not result.valid
    assert [(f.pointer, f.code) for f in result.faults] == expected
    assert all(f.line is not None for f in result.faults)


def test_size_limit_and_encoding():
    assert faults(b"a: " + b"x" * 70000) == [("", 1, "too_large")]
    assert faults(b"a: \xff\n") == [("", 1, "invalid_encoding")]


def test_cli_validate_reports_file_line_pointer(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    doc = document()
    doc["pilot_light"]["count"] = 11
    bad.write_text(_yaml(doc))
    assert main(["drill", "validate", str(EXAMPLES[0]), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert f"{EXAMPLES[0]}: valid DrillDefinition (sha256 " in out
    line = next(i for i, text in enumerate(_yaml(doc).splitlines(), 1) if '"count": 11' in text)
    assert f"{bad}:{line}: /pilot_light/count: 11 is greater than the maximum of 10" in err
    assert "rf: error: 1 of 2 drill definition file(s) invalid" in err


@pytest.mark.django_db
class TestSave:
    def test_saved_definition_columns_and_schedule(self, world, tenant_a):
        definition = save(tenant_a, document())
        assert (definition.name, definition.platform, definition.region) == ("web-dr", "aws", "eu-west-1")
        assert (definition.rto_objective_seconds, definition.rpo_objective_seconds) == (1800, 2592000)
        assert definition.connector == world.connector
        schedule = Schedule.objects.get(name=definition.schedule_name)
        assert (schedule.func, schedule.args, schedule.schedule_type, schedule.cron) == (
            "apps.resilience.tasks.drill_scheduled_task",
            f"({definition.pk},)",
            Schedule.CRON,
            "0 3 * * 1",
        )
        again = save(tenant_a, document(schedule={"cron": "0 4 * * *", "enabled": False}))
        assert again.pk == definition.pk
        assert not Schedule.objects.filter(name=definition.schedule_name).exists()

    @pytest.mark.parametrize(
        ("change", "pointer", "code"),
        [
            (lambda d: d["workload"].update(family="nope"), "/workload/family", "not_found"),
            (lambda d: d["workload"].update(environment="qa"), "/workload/environment", "not_found"),
            (lambda d: d["target"].update(connector="other"), "/target/connector", "not_found"),
            (lambda d: d["metadata"].update(project="ghost"), "/metadata/project", "not_found"),
            (
                lambda d: d["health_checks"].append({"name": "c", "type": "custom", "entry_point": "os:system"}),
                "/health_checks/2/entry_point",
                "not_allowed",
            ),
        ],
    )
    def test_unknown_names_are_refused_whole(self, world, tenant_a, change, pointer, code):
        doc = document()
        change(doc)
        with pytest.raises(DocumentRejected) as caught:
            save(tenant_a, doc)
        assert [(e["path"], e["code"]) for e in caught.value.errors] == [(pointer, code)]
        assert DrillDefinition.objects.count() == 0

    def test_another_tenants_family_and_connector_are_not_found(self, world, tenant_a, tenant_b):
        with pytest.raises(DocumentRejected) as caught:
            save(tenant_b, document())  # tenant B has no such family, environment or connector: A's do not count
        assert caught.value.errors[0]["path"] == "/workload/family"
        assert DrillDefinition.objects.count() == 0

    def test_viewer_may_not_save(self, world, tenant_a):
        from django.core.exceptions import PermissionDenied

        from apps.resilience.services import drill_definition_save

        with pytest.raises(PermissionDenied):
            drill_definition_save(
                actor=tenant_a.users["operator"], organization=tenant_a.organization, data=json.dumps(DOCUMENT)
            )
        assert DrillDefinition.objects.count() == 0
