"""``rf``: the command-line interface for operators and CI pipelines.

A thin dispatcher: ``rf <group> <verb> ARGS`` runs the management command ``<group>_<verb>`` (``rf token create`` →
``token_create``), and ``rf <name> ARGS`` runs ``<name>`` (``rf scan``), so every subcommand calls the same services
as the management commands. Failures print one readable line and exit non-zero, never a stack trace.
"""

from __future__ import annotations

import os
import sys

USAGE = "usage: rf <command> [<verb>] [args…]   (rf help lists the commands)"


def _commands() -> dict[str, str]:
    from django.core.management import get_commands

    return {name: app for name, app in get_commands().items() if app.startswith("apps.")}


def resolve(argv: list[str], commands: dict[str, str]) -> tuple[str, list[str]] | None:
    """Map ``rf`` arguments to a (management command, remaining args) pair."""
    if len(argv) >= 2 and f"{argv[0]}_{argv[1]}".replace("-", "_") in commands:
        return f"{argv[0]}_{argv[1]}".replace("-", "_"), argv[2:]
    if argv and argv[0].replace("-", "_") in commands:
        return argv[0].replace("-", "_"), argv[1:]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qlrf.settings.development")
    try:
        import django

        django.setup()
        commands = _commands()
        if not argv or argv[0] in ("help", "-h", "--help"):
            print(USAGE)
            print("commands: " + ", ".join(sorted(name.replace("_", " ") for name in commands)))
            return 0
        resolved = resolve(argv, commands)
        if resolved is None:
            print(f"rf: unknown command {' '.join(argv[:2])!r}; {USAGE}", file=sys.stderr)
            return 2
        from django.core.management import call_command
        from django.core.management.base import CommandError

        name, rest = resolved
        try:
            call_command(name, *rest)
        except CommandError as exc:
            print(f"rf: error: {exc}", file=sys.stderr)
            return exc.returncode if exc.returncode else 1
        return 0
    except SystemExit as exc:  # argparse's own usage errors
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("rf: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one readable line for the user, never a traceback
        hint = _database_hint(exc)
        if hint:
            print(f"rf: error: {hint}", file=sys.stderr)
            return 1
        print(f"rf: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _database_hint(exc: Exception) -> str | None:
    """What to do when the database is missing or not migrated (``rf`` before ``./scripts/up``), else None."""
    from django.db import OperationalError, ProgrammingError

    if not isinstance(exc, (OperationalError, ProgrammingError)):
        return None
    text = str(exc)
    if "unable to open database file" in text or "no such table" in text or "does not exist" in text:
        from django.conf import settings

        name = settings.DATABASES["default"].get("NAME")
        return (
            f"the database ({name}) is not set up: run ./scripts/up once (or `manage.py migrate`), "
            f"or point QLRF_DATABASE_URL at the service's database"
        )
    if "could not connect" in text or "Connection refused" in text:
        return f"cannot reach the database: {text.splitlines()[0]} (check QLRF_DATABASE_URL)"
    return None


if __name__ == "__main__":
    sys.exit(main())
