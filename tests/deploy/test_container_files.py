"""The Dockerfile, the compose file and the env example: documented variables only, expected services, sane build."""

from __future__ import annotations

import fnmatch
import re

import yaml

from tests.deploy.deploy_support import ROOT, documented_variables

DOCKER = ROOT / "deploy" / "docker"
COMPOSE = ROOT / "deploy" / "compose"
QLRF_NAME = re.compile(r"\bQLRF_[A-Z0-9_]+\b")


def compose() -> dict:
    return yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())


def test_dockerfile_compose_env_and_entrypoint_use_only_documented_variables():
    documented = documented_variables()
    for path in [
        DOCKER / "Dockerfile",
        DOCKER / "entrypoint.sh",
        DOCKER / "healthcheck.py",
        COMPOSE / "docker-compose.yml",
        COMPOSE / ".env.example",
    ]:
        used = set(QLRF_NAME.findall(path.read_text()))
        assert used, path
        assert sorted(used - documented) == [], path.name


def test_dockerfile_is_multi_stage_slim_non_root_with_a_healthcheck():
    text = (DOCKER / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in text
    assert re.findall(r"^FROM \$\{PYTHON_IMAGE\} AS (\w+)$", text, re.M) == ["build", "runtime"]
    assert "requirements/base.txt" in text and "requirements/dev.txt" not in text
    assert re.search(r"^USER \$\{APP_UID\}:\$\{APP_UID\}$", text, re.M)
    assert re.search(r"^ARG APP_UID=10001$", text, re.M)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert package in text
    assert 'HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["python", ' in text
    assert "QLRF_SECRET_KEY=collectstatic-build-only-not-a-secret" in text
    assert "manage.py collectstatic --no-input" in text
    assert 'ENTRYPOINT ["/usr/local/bin/qlrf-entrypoint"]' in text
    # the compose volumes mounted at these paths must start owned by the unprivileged user
    assert "chown -R qlrf:qlrf /app/var /data/media /srv/static" in text


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes (directories include what is below them)."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        direct = bare == "**" or fnmatch.fnmatch(path, bare) or path.startswith(bare + "/")
        anywhere = bare.startswith("**/") and any(fnmatch.fnmatch(part, bare[3:]) for part in path.split("/"))
        if direct or anywhere:
            result = not negate
    return result


def test_every_copied_path_exists_and_survives_the_dockerignore():
    text = (DOCKER / "Dockerfile").read_text()
    patterns = [
        line.strip()
        for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [src for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M) for src in line.split()[:-1]]
    assert len(sources) == 11
    for src in sources:
        assert (ROOT / src).exists(), src
        assert not ignored(src.rstrip("/"), patterns), src
    assert ignored(".venv/bin/python", patterns)
    assert ignored("qlrf/__pycache__/urls.cpython-311.pyc", patterns)
    assert ignored("requirements/dev.txt", patterns)


def test_compose_has_the_expected_services_and_healthchecks():
    services = compose()["services"]
    assert sorted(services) == ["events-relay", "postgres", "proxy", "redis", "web", "worker"]
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
    assert services["web"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert services["web"]["image"] == services["worker"]["image"] == "${APP_IMAGE:-qlrf:latest}"
    assert services["web"]["build"] == {"context": "../..", "dockerfile": "deploy/docker/Dockerfile"}
    assert services["worker"]["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert services["events-relay"]["command"] == ["manage", "events_relay"]
    assert services["events-relay"]["image"] == services["web"]["image"]
    assert services["events-relay"]["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert services["events-relay"]["healthcheck"]["test"] == [
        "CMD", "python", "-m", "apps.events.heartbeat", "/app/var/run/relay.alive", "--max-age", "90"
    ]  # fmt: skip
    assert services["web"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_compose_wires_the_required_production_variables():
    services = compose()["services"]
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "qlrf.settings.production"
        assert env["QLRF_DATABASE_URL"].startswith("postgres://qlrf:${POSTGRES_PASSWORD:?")
        assert env["QLRF_DATABASE_URL"].endswith("@postgres:5432/qlrf")
        assert env["QLRF_REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["env_file"] == ".env"
        assert "media:/data/media" in services[name]["volumes"]
    example = (COMPOSE / ".env.example").read_text()
    set_in_example = set(re.findall(r"^(QLRF_[A-Z0-9_]+)=", example, re.M))
    assert {"QLRF_SECRET_KEY", "QLRF_ALLOWED_HOSTS"} <= set_in_example
    assert "POSTGRES_PASSWORD=" in example


def test_nginx_front_serves_the_exported_static_files():
    services = compose()["services"]
    assert services["web"]["environment"]["STATIC_EXPORT_DIR"] == "/srv/static"
    assert "static:/srv/static" in services["web"]["volumes"]
    assert "static:/srv/static:ro" in services["proxy"]["volumes"]
    conf = (COMPOSE / "nginx.conf").read_text()
    assert "alias /srv/static/;" in conf
    assert (ROOT / "static" / "css" / "portal.css").exists()  # the proxy's healthcheck fetches it
