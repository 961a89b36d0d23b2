"""The coverage gate of `.ci/run` and the ci workflow: per-app figures, and a non-zero exit under the threshold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[1]


def _measure(tmp_path: Path, calls: int) -> Path:
    """Measure a six-statement module in its own package, calling ``calls`` of its two functions."""
    package = tmp_path / "apps" / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "code.py").write_text("def a():\n    return 1\n\n\ndef b():\n    x = 2\n    y = x * 2\n    return y\n")
    data = tmp_path / ".coverage.test"
    script = (
        f"import coverage, sys; sys.path.insert(0, '.'); cov = coverage.Coverage(data_file={str(data)!r}, "
        f"source=['apps']); cov.start(); import apps.demo.code as m; [f() for f in [m.a, m.b][:{calls}]]; "
        "cov.stop(); cov.save()"
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True)
    return data


def _report(tmp_path: Path, data: Path, threshold: int) -> subprocess.CompletedProcess:
    tool = ROOT / "tools" / "coverage_report.py"
    return subprocess.run(
        [sys.executable, str(tool), "--data-file", str(data), "--fail-under", str(threshold)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )


def test_the_gate_passes_at_or_over_the_threshold_and_prints_each_app(tmp_path):
    done = _report(tmp_path, _measure(tmp_path, 2), 80)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == ["apps/demo", "6", "statements", "100.0", "%"]


def test_the_gate_fails_under_the_threshold(tmp_path):
    done = _report(tmp_path, _measure(tmp_path, 1), 80)  # b()'s body never runs: 3 of 6 statements
    assert done.returncode == 1
    assert "50.0 %" in done.stdout and done.stderr.strip() == "coverage: 50.0 % is under 80 %"


def test_no_data_is_a_failure_not_a_pass(tmp_path):
    empty = tmp_path / ".coverage.empty"
    coverage.Coverage(data_file=str(empty)).get_data().write()
    assert _report(tmp_path, empty, 80).returncode == 2
