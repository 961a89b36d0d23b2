"""The demo organisation the README's first command loads: each app contributes a loader, run in order."""

from __future__ import annotations

import importlib

from django.db import transaction

DEMO_LOADERS = [
    "apps.tenancy.demo.load",
    "apps.compliance.demo.load_keys",
    "apps.images.demo.load",
    "apps.compliance.demo.load",
    "apps.inventory.demo.load",
    "apps.drift.demo.load",
    "apps.resilience.demo.load",
]


@transaction.atomic
def demo_load() -> list[str]:
    """Load every app's demo data (idempotent); return the lines to print (logins and what was created)."""
    lines: list[str] = []
    context: dict = {}
    for dotted in DEMO_LOADERS:
        module_name, _, func_name = dotted.rpartition(".")
        loader = getattr(importlib.import_module(module_name), func_name)
        lines.extend(loader(context))
    return lines
