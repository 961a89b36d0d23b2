"""Config schema, secret parsing and error wording for the AWS connector (kept apart from the scanning logic)."""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.parsers import ResponseParserError

from .base import ConnectorError

__all__ = [
    "CONFIG_SCHEMA",
    "SDK_ERRORS",
    "THROTTLING_CODES",
    "check_role_accounts",
    "compile_name_pattern",
    "describe_error",
    "parse_secret",
]

ACCOUNT_ID = r"^[0-9]{12}$"
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]+$")

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Amazon Web Services connector",
    "type": "object",
    "additionalProperties": False,
    "required": ["accounts", "regions"],
    "properties": {
        "accounts": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["account_id"],
                "properties": {
                    "account_id": {"type": "string", "pattern": ACCOUNT_ID},
                    "role_arn": {"type": "string", "pattern": ROLE_ARN_RE.pattern},
                    "external_id": {"type": "string", "minLength": 2, "maxLength": 1224},
                    "session_name": {"type": "string", "pattern": r"^[\w+=,.@-]{2,64}$"},
                },
            },
        },
        "regions": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"},
        },
        "endpoint_url": {"type": "string", "pattern": r"^https?://"},
        "version_tag": {"type": "string", "minLength": 1, "default": "Version"},
        "version_name_pattern": {"type": "string", "pattern": r"\(\?P<version>"},
        "image_owners": {
            "type": "array",
            "uniqueItems": True,
            "default": [],
            "items": {"type": "string", "pattern": r"^([0-9]{12}|amazon|aws-marketplace)$"},
        },
        "include_shared_images": {"type": "boolean", "default": False},
        "connect_timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 300, "default": 5},
        "read_timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 900, "default": 30},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
    },
}

# What a scope turns into ScopeFailed: botocore's own errors, API errors, and bodies botocore could not parse.
SDK_ERRORS = (BotoCoreError, ClientError, ResponseParserError)

# Error codes AWS uses for "slow down" (botocore's standard retry mode treats these as throttling too).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "SlowDown",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
    }
)


def parse_secret(secret: str) -> dict[str, str]:
    """Split "ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]" into boto3 keyword arguments."""
    parts = secret.strip().split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise ConnectorError("the AWS secret must look like ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]")
    credentials = {"aws_access_key_id": parts[0], "aws_secret_access_key": parts[1]}
    if len(parts) == 3:
        credentials["aws_session_token"] = parts[2]
    return credentials


def compile_name_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """Compile ``version_name_pattern``; it must be a valid regex with a named group ``version``."""
    if not pattern:
        return None
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConnectorError(f"version_name_pattern is not a valid regular expression: {exc}") from None
    if "version" not in compiled.groupindex:
        raise ConnectorError("version_name_pattern needs a named group (?P<version>...)")
    return compiled


def check_role_accounts(accounts: list[dict[str, Any]]) -> None:
    """Refuse a role ARN that lives in another account than the one it scans (its assets would be mislabelled)."""
    for account in accounts:
        arn = account.get("role_arn")
        if not arn:
            continue
        match = ROLE_ARN_RE.match(arn)
        if match is None:
            raise ConnectorError(f"role_arn {arn!r} is not an IAM role ARN")
        if match.group(1) != account["account_id"]:
            raise ConnectorError(f"role_arn {arn} belongs to account {match.group(1)}, not {account['account_id']}")


def describe_error(exc: BotoCoreError | ClientError | ResponseParserError, *, max_attempts: int) -> str:
    """A one-line, secret-free reason for a botocore failure, naming throttling and timeouts explicitly."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error") or {}
        code = error.get("Code") or "UnknownError"
        if code in THROTTLING_CODES:
            retries = (exc.response.get("ResponseMetadata") or {}).get("RetryAttempts")
            attempts = retries + 1 if isinstance(retries, int) else max_attempts
            return f"throttled after {attempts} attempts ({code} in {exc.operation_name})"
        message = error.get("Message") or ""
        return f"{code} in {exc.operation_name}: {message}" if message else f"{code} in {exc.operation_name}"
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return f"timed out: {exc}"
    if isinstance(exc, BotoConnectionError):
        return f"unreachable: {exc}"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: set a credential reference or configure boto3's default chain"
    if isinstance(exc, ResponseParserError):  # its message quotes the whole body: keep the first line only
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        first = first.split(", invalid XML received")[0].removeprefix("Unable to parse response ").strip("() :")
        return f"unparseable response (not a real AWS answer): {first[:200]}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"
