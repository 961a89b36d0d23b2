"""A generator connector: a deterministic synthetic fleet for the demo organisation and the benchmarks.

It speaks the same interface as the real connectors, so the demo and ``bench/`` exercise the real sync path. Every
asset is a pure function of (seed, scope, index): a re-scan with the same config reports the same fleet unchanged.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any, ClassVar

from .base import BaseConnector, DiscoveredAsset, DiscoveredImage, Scope, ScopeFailed, register_connector

DEFAULT_REGIONS = {
    "aws": ["eu-west-1", "us-east-1"],
    "azure": ["westeurope"],
    "gcp": ["europe-west1"],
    "vsphere": ["dc-frankfurt"],
}


@register_connector
class SyntheticConnector(BaseConnector):
    """Yields ``count`` machines spread over platforms × accounts × regions, drawing images from weighted refs."""

    slug = "synthetic"
    label = "Synthetic fleet (demo, benchmarks)"
    config_schema: ClassVar[dict[str, Any]] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": ["count"],
        "properties": {
            "count": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
            "seed": {"type": "integer"},
            "accounts": {"type": "integer", "minimum": 1, "maximum": 1000},
            "regions": {
                "type": "object",
                "propertyNames": {"enum": ["aws", "azure", "gcp", "vsphere"]},
                "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            },
            "image_refs": {
                "type": "object",
                "description": "platform → [[image_ref, weight], …]; weights need not sum to 1.",
                "additionalProperties": {
                    "type": "array",
                    "items": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]},
                },
            },
            "environments": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "unmanaged_ratio": {"type": "number", "minimum": 0, "maximum": 1},
            "stopped_ratio": {"type": "number", "minimum": 0, "maximum": 1},
            "fail_scopes": {"type": "array", "items": {"type": "string"}},
            "asset_delay_ms": {
                "type": "number",
                "minimum": 0,
                "maximum": 1000,
                "description": "A pause per machine listed: a slow cloud API, for the fan-out and killed-worker tests.",
            },
        },
    }

    def _regions(self) -> dict[str, list[str]]:
        return self.config.get("regions") or DEFAULT_REGIONS

    def scopes(self) -> list[Scope]:
        accounts = self.config.get("accounts", 1)
        return [
            Scope(account=f"{platform}-{n:03d}", region=region)
            for platform, regions in sorted(self._regions().items())
            for n in range(accounts)
            for region in regions
        ]

    def test_connection(self) -> str:
        return f"synthetic fleet of {self.config['count']} machines over {len(self.scopes())} scopes"

    def iter_images(self, scope: Scope) -> Iterator[DiscoveredImage]:
        return iter(())

    def _share(self, scope: Scope) -> int:
        scopes = self.scopes()
        base, extra = divmod(self.config["count"], len(scopes))
        return base + (1 if scopes.index(scope) < extra else 0)

    def iter_assets(self, scope: Scope) -> Iterator[DiscoveredAsset]:
        if scope.key in self.config.get("fail_scopes", []):
            raise ScopeFailed(scope, "simulated failure (fail_scopes)")
        platform = scope.account.split("-")[0]
        rng = random.Random(f"{self.config.get('seed', 0)}:{scope.key}")  # noqa: S311 - a fleet, not a secret
        refs = self.config.get("image_refs", {}).get(platform) or [[f"{platform}-image-0", 1.0]]
        choices, weights = [r[0] for r in refs], [r[1] for r in refs]
        environments = self.config.get("environments", ["dev", "staging", "prod"])
        delay = self.config.get("asset_delay_ms", 0) / 1000
        for index in range(self._share(scope)):
            if delay:
                time.sleep(delay)
            unmanaged = rng.random() < self.config.get("unmanaged_ratio", 0.0)
            ref = f"unregistered-{platform}-image-{rng.randrange(5)}" if unmanaged else rng.choices(choices, weights)[0]
            state = "stopped" if rng.random() < self.config.get("stopped_ratio", 0.0) else "running"
            environment = environments[rng.randrange(len(environments))]
            instance_id = f"{platform}-{scope.account}-{scope.region}-{index:07d}"
            yield DiscoveredAsset(
                platform=platform,
                account=scope.account,
                region=scope.region,
                instance_id=instance_id,
                name=f"{environment}-{platform}-{index:05d}",
                state=state,
                image_ref=ref,
                site_hint=scope.region,
                tags={"Environment": environment, "Team": rng.choice(["web", "data", "payments", "platform"])},
            )
