"""The image's entrypoint serves qlrf.wsgi with gunicorn, and its health check tells healthy from not."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deploy.deploy_support import ROOT

ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
HEALTHCHECK = ROOT / "deploy" / "docker" / "healthcheck.py"


def load_healthcheck():
    spec = importlib.util.spec_from_file_location("qlrf_healthcheck", HEALTHCHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    """The entrypoint's `serve` role on the production profile, on a free loopback port; stopped by pid."""
    port = free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "APP_HOME": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "qlrf.settings.production",
        "QLRF_SECRET_KEY": "entrypoint-test-" + "s" * 50,
        "QLRF_ALLOWED_HOSTS": ".rf.example.com,other.example.com",
        "QLRF_VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "HOME": str(tmp_path),
    }
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(["sh", str(ENTRYPOINT), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield port, env, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_healthy(module, port: int, hosts: str, deadline: float = 20.0) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if module.check_web(str(port), hosts, timeout=1.0):
            return True
        time.sleep(0.2)
    return False


def test_serve_answers_healthz_to_an_allowed_host_only(gunicorn, tmp_path):
    port, env, process = gunicorn
    module = load_healthcheck()
    assert wait_healthy(module, port, env["QLRF_ALLOWED_HOSTS"]), (tmp_path / "gunicorn.log").read_text()
    assert module.check_web(str(port), "not-allowed.example.net") is False  # Django answers 400 DisallowedHost
    result = subprocess.run(
        [sys.executable, str(HEALTHCHECK), "web"], env={**env}, capture_output=True, text=True, timeout=10
    )
    assert result.returncode == 0, result.stderr
    assert process.poll() is None
    assert "Starting gunicorn" in (tmp_path / "gunicorn.log").read_text()


def test_probe_host_takes_the_first_usable_allowed_host():
    module = load_healthcheck()
    assert module.probe_host(".rf.example.com,other.example.com") == "rf.example.com"
    assert module.probe_host(" *, rf.example.com") == "rf.example.com"
    assert module.probe_host("") == "localhost"


def fake_proc(root: Path, cmdlines: dict[int, bytes]) -> Path:
    for pid, cmdline in cmdlines.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "cmdline").write_bytes(cmdline)
    (root / "self").mkdir()
    return root


def test_worker_check_wants_the_cluster_and_a_forked_child(tmp_path):
    module = load_healthcheck()
    qcluster = b"python\0manage.py\0qcluster\0"
    alone = fake_proc(tmp_path / "alone", {1: qcluster, 40: b"python\0/usr/local/bin/qlrf-healthcheck\0"})
    running = fake_proc(tmp_path / "running", {1: qcluster, 7: qcluster, 8: qcluster})
    web = fake_proc(tmp_path / "web", {1: b"/opt/venv/bin/python\0/opt/venv/bin/gunicorn\0qlrf.wsgi:application\0"})
    assert module.check_worker(alone) is False
    assert module.check_worker(running) is True
    assert module.detect_role(running) == "worker"
    assert module.detect_role(web) == "web"


def test_entrypoint_refuses_copy_static_without_collected_files(tmp_path):
    env = {"PATH": os.environ["PATH"], "APP_HOME": str(ROOT), "QLRF_VAR_DIR": str(tmp_path / "empty")}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "copy-static", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 1
    assert "no collected static files" in result.stderr
    (tmp_path / "empty" / "staticfiles" / "css").mkdir(parents=True)
    (tmp_path / "empty" / "staticfiles" / "css" / "portal.css").write_text("body{}")
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "copy-static", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "css" / "portal.css").read_text() == "body{}"


def copy_image_layout(app: Path) -> int:
    """Copy what the Dockerfile's COPY lines put under WORKDIR /app into ``app``; return how many sources."""
    text = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
    copied = 0
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, dest = line.split()
        if dest.startswith("/"):
            continue  # the entrypoint and health check go to /usr/local/bin
        for src in sources:
            target = app / (src if dest == "./" else dest)
            if (ROOT / src).is_dir():
                shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / src, target)
            copied += 1
    return copied


def test_the_image_layout_collects_static_files_and_exports_them(tmp_path):
    app = tmp_path / "app"
    assert copy_image_layout(app) == 8
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(app),
        "DJANGO_SETTINGS_MODULE": "qlrf.settings.production",
        "QLRF_VAR_DIR": str(app / "var"),
        "QLRF_SECRET_KEY": "collectstatic-build-only-not-a-secret",
        "QLRF_ALLOWED_HOSTS": "build.invalid",
        "APP_HOME": str(app),
    }
    build = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    assert (app / "var" / "staticfiles" / "css" / "portal.css").read_bytes() == (
        ROOT / "static" / "css" / "portal.css"
    ).read_bytes()
    assert (app / "var" / "staticfiles" / "admin" / "css" / "base.css").is_file()
    export = subprocess.run(
        ["sh", str(ENTRYPOINT), "copy-static", str(tmp_path / "export")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert export.returncode == 0, export.stderr
    assert (tmp_path / "export" / "css" / "portal.css").is_file()


def test_serve_writes_only_json_lines_and_the_access_line_carries_the_request_id(gunicorn, tmp_path):
    """Production profile: gunicorn's start-up and access lines are JSON like Django's, each with its request id."""
    import json
    import urllib.error
    import urllib.request

    port, env, process = gunicorn
    healthy = wait_healthy(load_healthcheck(), port, env["QLRF_ALLOWED_HOSTS"], deadline=90.0)  # a loaded CI machine
    assert healthy, (tmp_path / "gunicorn.log").read_text()
    headers = {"Host": "rf.example.com", "X-Forwarded-Proto": "https", "X-Request-ID": "gunicorn-json-1"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/no-such-endpoint", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=10)
    assert answer.value.code == 404
    assert answer.value.headers["X-Request-ID"] == "gunicorn-json-1"
    end = time.monotonic() + 10
    while time.monotonic() < end and "/api/v1/no-such-endpoint HTTP" not in (tmp_path / "gunicorn.log").read_text():
        time.sleep(0.1)
    lines = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines() if line.strip()]
    assert any(line["message"].startswith("Starting gunicorn") for line in lines)
    (access,) = [line for line in lines if line["logger"] == "gunicorn.access" and line["path"].startswith("/api/")]
    assert access["request_id"] == "gunicorn-json-1"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/v1/no-such-endpoint", "404")
    assert access["duration_ms"] >= 0
    (not_found,) = [line for line in lines if line["logger"] == "django.request"]
    assert not_found["request_id"] == "gunicorn-json-1"
    assert process.poll() is None
