"""Versioned narrative templates (YAML files beside this module): id + version are stored with every insight."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

DIRECTORY = Path(__file__).resolve().parent
DEFAULT = "explain.v1"


@lru_cache(maxsize=8)
def template(name: str = DEFAULT) -> dict:
    data = yaml.safe_load((DIRECTORY / f"{name}.yaml").read_text(encoding="utf-8"))
    if f"{data['id']}.v{data['version']}" != name:
        raise ValueError(f"narrative template {name}: id/version inside say {data['id']}.v{data['version']}")
    return data
