"""The canonical manifest is byte-stable whatever the key or artifact order."""

from __future__ import annotations

import pytest

from apps.compliance.signing import canonical_manifest

ARTIFACTS = [
    {"name": "sbom.spdx.json", "sha256": "b" * 64, "kind": "sbom"},
    {"name": "scan.sarif", "sha256": "a" * 64, "kind": "sarif"},
]


def test_exact_bytes() -> None:
    manifest = canonical_manifest(
        family="ubuntu-22.04", version="2024.06.1", contract_digest="sha256:" + "c" * 64, artifacts=ARTIFACTS
    )
    assert manifest == (
        b'{"artifacts":[{"kind":"sarif","name":"scan.sarif","sha256":"' + b"a" * 64 + b'"},'
        b'{"kind":"sbom","name":"sbom.spdx.json","sha256":"' + b"b" * 64 + b'"}],'
        b'"contract_digest":"sha256:' + b"c" * 64 + b'","family":"ubuntu-22.04",'
        b'"schema":"qlrf.manifest/v1","version":"2024.06.1"}'
    )


def test_order_of_keys_and_artifacts_does_not_matter() -> None:
    shuffled = [dict(reversed(list(a.items()))) for a in reversed(ARTIFACTS)]
    first = canonical_manifest(family="f", version="1", contract_digest="d", artifacts=ARTIFACTS)
    second = canonical_manifest(family="f", version="1", contract_digest="d", artifacts=shuffled)
    assert first == second


def test_non_ascii_is_utf8_not_escaped() -> None:
    manifest = canonical_manifest(family="f", version="1", contract_digest="d", artifacts=[{"name": "résumé"}])
    assert "résumé".encode() in manifest


@pytest.mark.parametrize(
    "kwargs",
    [
        {"family": "", "version": "1", "contract_digest": "d", "artifacts": []},
        {"family": "f", "version": "1", "contract_digest": "d", "artifacts": [{"a": 1}, {"a": 1}]},
        {"family": "f", "version": "1", "contract_digest": "d", "artifacts": ["x"]},
    ],
)
def test_invalid_input_is_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        canonical_manifest(**kwargs)
