"""The built-in health checks: instance state, runs-the-golden-version, TCP port, HTTP status/body, custom."""

from __future__ import annotations

import importlib
import socket

import requests
from django.conf import settings

from .base import BaseCheck, CheckContext, CheckOutcome, register_check

BODY_LIMIT = 64 * 1024  # an HTTP check reads at most this much of the body


@register_check
class InstanceStateCheck(BaseCheck):
    """The platform reports the machine running."""

    type = "instance_state"

    def probe(self, context: CheckContext) -> CheckOutcome:
        machine = context.provisioner.describe([context.machine.id])[0]
        return CheckOutcome(machine.state == "running", f"state {machine.state}")


@register_check
class GoldenVersionCheck(BaseCheck):
    """The machine's image resolves (as drift resolves it) to the golden version the drill recovered."""

    type = "golden_version"

    def probe(self, context: CheckContext) -> CheckOutcome:
        machine = context.provisioner.describe([context.machine.id])[0]
        version_id = context.version_of(machine.image_ref) if machine.image_ref else None
        if version_id is None:
            return CheckOutcome(False, f"image {machine.image_ref or '(none)'} matches no registered version")
        if version_id != context.golden_version_id:
            return CheckOutcome(False, f"image {machine.image_ref} is version #{version_id}, not the golden version")
        return CheckOutcome(True, f"image {machine.image_ref} is the golden version")


@register_check
class TcpCheck(BaseCheck):
    """A TCP connection to the port opens within the timeout."""

    type = "tcp"

    def probe(self, context: CheckContext) -> CheckOutcome:
        host, port = context.host(), int(context.spec["port"])
        if not host:
            return CheckOutcome(False, "the machine has no address yet")
        try:
            with socket.create_connection((host, port), timeout=context.timeout):
                return CheckOutcome(True, f"{host}:{port} open")
        except OSError as exc:
            return CheckOutcome(False, f"{host}:{port} {exc.strerror or type(exc).__name__}")


@register_check
class HttpCheck(BaseCheck):
    """An HTTP GET answers the expected status (and body text); only the verdict is kept, never the body."""

    type = "http"

    def probe(self, context: CheckContext) -> CheckOutcome:
        host, spec = context.host(), context.spec
        if not host:
            return CheckOutcome(False, "the machine has no address yet")
        url = f"{spec.get('scheme', 'http')}://{host}:{int(spec['port'])}{spec.get('path', '/')}"
        expected = int(spec.get("expect_status", 200))
        try:
            with requests.Session() as session:
                session.trust_env = False  # no ambient proxy between the worker and the recovered machine
                with session.get(url, timeout=context.timeout, allow_redirects=False, stream=True) as response:
                    body = response.raw.read(BODY_LIMIT, decode_content=True)
        except (requests.RequestException, OSError) as exc:
            return CheckOutcome(False, f"GET {url}: {type(exc).__name__}")
        if response.status_code != expected:
            return CheckOutcome(False, f"GET {url}: status {response.status_code}, expected {expected}")
        wanted = spec.get("expect_body")
        if wanted and wanted not in body.decode("utf-8", "replace"):
            return CheckOutcome(False, f"GET {url}: status {expected} but the body lacks the expected text")
        return CheckOutcome(True, f"GET {url}: status {expected}")


@register_check
class CustomCheck(BaseCheck):
    """A function named ``module:function`` under a module prefix the installation allows
    (``QLRF_DRILL_CUSTOM_CHECKS``); called with the context, returns ``(passed, detail)``."""

    type = "custom"

    def probe(self, context: CheckContext) -> CheckOutcome:
        entry_point = context.spec["entry_point"]
        if not custom_check_allowed(entry_point):
            return CheckOutcome(False, f"custom check {entry_point} is not allowed by QLRF_DRILL_CUSTOM_CHECKS")
        module_name, _, function_name = entry_point.partition(":")
        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError):
            return CheckOutcome(False, f"custom check {entry_point} cannot be imported")
        passed, detail = function(context)
        return CheckOutcome(bool(passed), str(detail)[:500])


def custom_check_allowed(entry_point: str) -> bool:
    """Whether a custom entry point's module lies under one of the installation's allowed prefixes."""
    module_name = entry_point.partition(":")[0]
    return any(
        module_name == prefix or module_name.startswith(prefix + ".")
        for prefix in getattr(settings, "QLRF_DRILL_CUSTOM_CHECKS", [])
    )
