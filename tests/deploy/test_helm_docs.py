"""The chart README documents every leaf key of values.yaml (helm-docs style table), and the table is current."""

from __future__ import annotations

import re

import yaml

from tests.deploy.deploy_support import CHART, ROOT
from tools.helm_values_table import leaves, readme_with_table, table

ROW = re.compile(r"^\| ([A-Za-z0-9_.-]+) \| (\w+) \| `(.*)` \| (.+) \|$", re.M)


def documented_rows() -> dict[str, tuple[str, str, str]]:
    return {key: (kind, default, text) for key, kind, default, text in ROW.findall((CHART / "README.md").read_text())}


def test_every_leaf_key_of_values_yaml_has_a_row_with_a_description():
    keys = [path for path, _ in leaves(yaml.safe_load((CHART / "values.yaml").read_text()))]
    rows = documented_rows()
    assert len(keys) == 153
    assert [key for key in keys if key not in rows] == []
    assert [key for key in keys if not rows[key][2].strip()] == []
    assert set(rows) == set(keys)  # and nothing that is not a key


def test_the_table_states_types_and_defaults():
    rows = documented_rows()
    assert rows["web.replicaCount"][:2] == ("int", "2")
    assert rows["postgresql.enabled"][:2] == ("bool", "false")
    assert rows["image.repository"][:2] == ("string", '"qlrf"')
    assert rows["allowedHosts"][:2] == ("list", '["rf.example.com"]')
    assert rows["podAnnotations"][:2] == ("object", "{}")
    assert rows["podSecurityContext.runAsUser"][2] == "Security context of the application pods"


def test_the_readme_table_is_generated_from_the_current_values_yaml():
    readme = (CHART / "README.md").read_text()
    assert readme_with_table(readme) == readme, "run: python tools/helm_values_table.py --write"
    assert table() in readme


def test_a_new_undocumented_key_is_caught(tmp_path):
    (tmp_path / "values.yaml").write_text(
        (CHART / "values.yaml").read_text() + "extra:\n  # -- Said\n  said: 1\n  unsaid: 2\n"
    )
    rows = {key: text for key, _, _, text in ROW.findall(table(tmp_path))}
    assert rows["extra.said"] == "Said"
    assert "extra.unsaid" not in rows  # its row has no description, so the first test would name it


def test_the_deployment_guide_shows_the_one_command_install():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    assert "helm upgrade --install rf deploy/helm/qlrf" in guide
    assert "postgresql.enabled=true" in guide and "redis.enabled=true" in guide
