"""The client's failures: each is one readable line and a stable exit status (0 ok, 1 denied/failed, 2 usage)."""

from __future__ import annotations

OK, FAILED, USAGE = 0, 1, 2


class ClientError(Exception):
    """A failure to print as one line (``rf: error: …``) with its exit status."""

    exit_code = FAILED

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(ClientError):
    """The command line is wrong or the client is not configured: exit 2."""

    exit_code = USAGE


class ApiError(ClientError):
    """The service answered an error: the API's stable ``code`` and its ``detail`` in one line."""

    def __init__(self, method: str, path: str, status: int, code: str, detail: str, errors: list | None = None):
        self.status, self.code, self.detail, self.errors = status, code, detail, errors or []
        where = ""
        if self.errors and self.errors[0].get("path") not in (None, "", "/"):
            where = f" (at {self.errors[0]['path']})"
        super().__init__(f"{method} {path}: HTTP {status} {code}: {detail}{where}")
