"""Helpers of the deploy tests: the repository root, documented QLRF_* variables, and offline chart rendering."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "qlrf"
RELEASE = "rf"
NAMESPACE = "qlrf"

INGRESS_VALUES = {
    "allowedHosts": ["rf.example.org", ".internal.example.org"],
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "70m"},
        "hosts": [{"host": "rf.example.org", "paths": [{"path": "/", "pathType": "Prefix"}]}],
        "tls": [{"secretName": "rf-example-org-tls", "hosts": ["rf.example.org"]}],
    },
    "media": {"existingClaim": "qlrf-media"},
    "worker": {"replicaCount": 2, "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}},
    "config": {"QLRF_VAULT_ADDR": "https://vault.example.org:8200"},
}


def documented_variables() -> set[str]:
    """Every `QLRF_*` name docs/configuration.md documents."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    return {f"QLRF_{name}" for name in re.findall(r"`QLRF_([A-Z0-9_]+)`", text)}


def render(values: dict | None) -> dict[str, list[dict]]:
    """Render the chart offline with helm-python-sdk; template path → parsed Kubernetes objects."""
    import helm_python as helm

    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return {
        path: [doc for doc in yaml.safe_load_all(text) if doc]
        for path, text in manifests.items()
        if path.endswith(".yaml")
    }


def objects(rendered: dict[str, list[dict]]) -> dict[tuple[str, str], dict]:
    """The rendered objects keyed by (kind, name)."""
    return {(doc["kind"], doc["metadata"]["name"]): doc for docs in rendered.values() for doc in docs}
