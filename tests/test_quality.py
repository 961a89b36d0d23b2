"""Project-wide checks that run with the tests: lint, Django checks, migrations, the OpenAPI schema, deploy settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*args, env=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=full_env, timeout=300)


def manage(*args, settings="qlrf.settings.test", env=None):
    return run(sys.executable, "manage.py", *args, env={"DJANGO_SETTINGS_MODULE": settings, **(env or {})})


def test_ruff_lint_is_clean():
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_django_system_check_is_clean():
    result = manage("check", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_missing_migrations():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_openapi_schema_validates_without_warnings(tmp_path):
    result = manage("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/api/v1/projects" in (tmp_path / "schema.yaml").read_text()


def test_production_settings_pass_check_deploy():
    env = {
        "QLRF_SECRET_KEY": "k" * 20 + "-production-secret-for-the-deploy-check-" + "z" * 20,
        "QLRF_ALLOWED_HOSTS": "rf.example.com",
        "QLRF_DATABASE_URL": os.environ.get("QLRF_DATABASE_URL", ""),
    }
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings="qlrf.settings.production",
        env={k: v for k, v in env.items() if v},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["QLRF_SECRET_KEY", "QLRF_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_required_settings(missing):
    env = {"QLRF_SECRET_KEY": "s" * 60, "QLRF_ALLOWED_HOSTS": "rf.example.com"}
    env.pop(missing)
    clean = {k: v for k, v in os.environ.items() if k not in ("QLRF_SECRET_KEY", "QLRF_ALLOWED_HOSTS")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "qlrf.settings.production"},
    )
    assert result.returncode != 0
    assert missing in result.stderr
