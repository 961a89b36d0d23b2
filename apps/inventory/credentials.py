"""Credential references: a connector stores *where* its secret lives, never the secret (DESIGN.md invariant 7).

``env:NAME`` reads an environment variable, ``file:/path`` reads a file (trailing newline stripped), and
``vault:path#key`` reads HashiCorp Vault's KV v2 API at ``QLRF_VAULT_ADDR`` with ``QLRF_VAULT_TOKEN``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request

from qlrf.conf import env_str

REFERENCE_RE = re.compile(r"^(env|file|vault):(.+)$")
VAULT_TIMEOUT_SECONDS = 5


class CredentialError(Exception):
    """The reference is malformed or does not resolve; the message never contains the secret."""


def validate_reference(reference: str) -> None:
    """Raise CredentialError unless ``reference`` has one of the supported forms (or is empty)."""
    if reference and not REFERENCE_RE.match(reference):
        raise CredentialError("credential reference must look like env:NAME, file:/path or vault:path#key")


def resolve_secret(reference: str) -> str | None:
    """Return the secret a reference points to; ``""``/``None`` means ambient credentials (returns None)."""
    if not reference:
        return None
    validate_reference(reference)
    scheme, target = REFERENCE_RE.match(reference).groups()
    if scheme == "env":
        value = os.environ.get(target)
        if value is None:
            raise CredentialError(f"environment variable {target} is not set")
        return value
    if scheme == "file":
        try:
            with open(target, encoding="utf-8") as fh:
                return fh.read().rstrip("\n")
        except OSError as exc:
            raise CredentialError(f"cannot read credential file {target}: {exc.strerror}") from None
    return _resolve_vault(target)


def _resolve_vault(target: str) -> str:
    addr = env_str("VAULT_ADDR")
    token = env_str("VAULT_TOKEN", "")
    if not addr:
        raise CredentialError("vault: references need QLRF_VAULT_ADDR")
    path, _, key = target.partition("#")
    mount, _, rest = path.strip("/").partition("/")
    url = f"{addr.rstrip('/')}/v1/{mount}/data/{rest}"
    request = urllib.request.Request(url, headers={"X-Vault-Token": token})  # noqa: S310 - operator-configured URL
    try:
        with urllib.request.urlopen(request, timeout=VAULT_TIMEOUT_SECONDS) as response:  # noqa: S310 - operator URL
            data = json.load(response)["data"]["data"]
    except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
        raise CredentialError(f"vault secret {path} could not be read: {exc}") from None
    if key:
        if key not in data:
            raise CredentialError(f"vault secret {path} has no key {key}")
        return str(data[key])
    if len(data) != 1:
        raise CredentialError(f"vault secret {path} has several keys; name one with #key")
    return str(next(iter(data.values())))
