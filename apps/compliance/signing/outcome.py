"""The result type every signature check returns, so callers log and display one shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class VerificationOutcome:
    """Outcome of one signature check; `code` is a stable failure code ("" when verified), `reason` is for people.

    `identity`/`issuer` are what the signature material says (certificate SAN and Fulcio OIDC-issuer extension, or
    the key id for key-pair signatures), so a failed identity check shows who actually signed.
    """

    result: Literal["verified", "failed"]
    identity: str
    issuer: str
    reason: str
    code: str = ""
    key_id: str = ""

    @property
    def verified(self) -> bool:
        """True only for a fully verified signature."""
        return self.result == "verified"

    @classmethod
    def ok(cls, *, identity: str, issuer: str, reason: str, key_id: str = "") -> VerificationOutcome:
        """Build a verified outcome."""
        return cls("verified", identity, issuer, reason, "", key_id)

    @classmethod
    def fail(
        cls, code: str, reason: str, *, identity: str = "", issuer: str = "", key_id: str = ""
    ) -> VerificationOutcome:
        """Build a failed outcome with a stable code and a readable reason."""
        return cls("failed", identity, issuer, reason, code, key_id)
