"""``./scripts/up --port N`` / ``QLRF_PORT``: a bad port is refused at once, before anything is installed or run."""

import os
import subprocess
from pathlib import Path

import pytest

UP = Path(__file__).resolve().parent.parent / "scripts" / "up"


def _up(*args: str, port_env: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "QLRF_PORT"}
    if port_env is not None:
        env["QLRF_PORT"] = port_env
    return subprocess.run(["bash", str(UP), *args], capture_output=True, text=True, timeout=30, env=env, check=False)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--port", "abc"], None, "not 'abc'"),
        (["--port=0"], None, "not '0'"),
        (["--port", "70000"], None, "not '70000'"),
        (["--port"], None, "usage: scripts/up [--port N]"),
        (["--bogus"], None, "unknown argument: --bogus"),
        ([], "80; rm -rf /", "not '80; rm -rf /'"),
    ],
)
def test_a_bad_port_is_refused_with_one_line_and_exit_2(args, env, message):
    result = _up(*args, port_env=env)

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_help_names_the_option_and_the_variable():
    result = _up("--help")

    assert result.returncode == 0
    assert "--port N" in result.stdout and "QLRF_PORT" in result.stdout
