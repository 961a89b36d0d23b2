"""Where ``rf`` sends its calls: flags, then environment variables, then a profile of ~/.config/qlrf/config.toml.

A profile file looks like::

    default = "prod"            # the profile used when neither --profile nor QLRF_PROFILE is given

    [profiles.prod]
    url = "https://rf.example.org"
    token = "qlrf_…"            # or token_env = "RF_PROD_TOKEN" to keep the secret out of the file
    organization = "acme"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError


@dataclass(frozen=True)
class Target:
    """Remote (url and token) or local (neither): the mode every command of one run uses."""

    url: str | None = None
    token: str | None = None
    organization: str | None = None
    profile: str | None = None

    @property
    def remote(self) -> bool:
        return bool(self.url)


def config_path(environ=os.environ) -> Path:
    if environ.get("QLRF_CONFIG"):
        return Path(environ["QLRF_CONFIG"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "qlrf" / "config.toml"


def _profile(name: str | None, path: Path, environ) -> dict:
    if not path.exists():
        if name:
            raise UsageError(f"profile {name!r}: no configuration file {path}")
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not a readable TOML file: {exc}") from None
    profiles = document.get("profiles") or {}
    chosen = name or document.get("default")
    if not chosen:
        return {}
    profile = profiles.get(chosen)
    if not isinstance(profile, dict):
        raise UsageError(f"{path}: no profile {chosen!r} (profiles: {', '.join(sorted(profiles)) or 'none'})")
    profile = {**profile, "name": chosen}
    if profile.get("token_env"):
        profile["token"] = environ.get(profile["token_env"])
    return profile


def resolve(*, url=None, token=None, profile=None, organization=None, environ=os.environ) -> Target:
    """The target of this run. A URL without a token (or the reverse) is a usage error, not a silent local run."""
    name = profile or environ.get("QLRF_PROFILE") or None
    url = url or environ.get("QLRF_URL") or None
    token = token or environ.get("QLRF_TOKEN") or None
    chosen = {} if (url and token) else _profile(name, config_path(environ), environ)
    url = url or chosen.get("url")
    token = token or chosen.get("token")
    organization = organization or environ.get("QLRF_ORG") or chosen.get("organization") or None
    if bool(url) != bool(token):
        missing = "a token (--token or QLRF_TOKEN)" if url else "a URL (--url or QLRF_URL)"
        raise UsageError(f"remote mode needs {missing}")
    if url and not url.startswith(("http://", "https://")):
        raise UsageError(f"the service URL must start with http:// or https://, not {url!r}")
    return Target(url=url.rstrip("/") if url else None, token=token, organization=organization,
                  profile=chosen.get("name"))  # fmt: skip
