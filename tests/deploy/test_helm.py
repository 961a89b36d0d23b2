"""The Helm chart renders, lints strictly, validates against Kubernetes schemas, and states the facts we rely on."""

from __future__ import annotations

import helm_python as helm
import kubernetes_validate
import pytest

from tests.deploy.deploy_support import CHART, INGRESS_VALUES, documented_variables, objects, render

K8S_VERSION = "1.33.0"
FULLNAME = "rf-qlrf"
DEFAULT_KINDS = [
    ("ConfigMap", "rf-qlrf-config"),
    ("ConfigMap", "rf-qlrf-nginx"),
    ("Deployment", "rf-qlrf-web"),
    ("Deployment", "rf-qlrf-worker"),
    ("Job", "rf-qlrf-migrate"),
    ("NetworkPolicy", "rf-qlrf-no-ingress"),
    ("NetworkPolicy", "rf-qlrf-web"),
    ("PodDisruptionBudget", "rf-qlrf-web"),
    ("Service", "rf-qlrf-web"),
    ("ServiceAccount", "rf-qlrf"),
]
SECRET_VARIABLES = ["QLRF_SECRET_KEY", "QLRF_DATABASE_URL", "QLRF_REDIS_URL", "QLRF_VAULT_TOKEN"]


def pod_spec(objs: dict, kind: str, name: str) -> dict:
    return objs[(kind, name)]["spec"]["template"]["spec"]


def container(objs: dict, kind: str, name: str, container_name: str) -> dict:
    (found,) = [c for c in pod_spec(objs, kind, name)["containers"] if c["name"] == container_name]
    return found


@pytest.mark.parametrize("values", [None, INGRESS_VALUES], ids=["default", "ingress"])
def test_chart_lints_clean_in_strict_mode(values):
    report = helm.lint(CHART, values, strict=True, kube_version="v" + K8S_VERSION)
    assert report["total_charts_linted"] == 1
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_default_render_has_exactly_the_expected_objects(default_objects):
    assert sorted(default_objects) == DEFAULT_KINDS


def test_ingress_render_adds_the_ingress_and_the_worker_budget(ingress_objects):
    assert sorted(ingress_objects) == sorted(
        [*DEFAULT_KINDS, ("Ingress", FULLNAME), ("PodDisruptionBudget", "rf-qlrf-worker")]
    )


@pytest.mark.parametrize("fixture", ["default_objects", "ingress_objects"])
def test_every_manifest_validates_against_kubernetes_schemas(fixture, request):
    objs = request.getfixturevalue(fixture)
    validated = {key: kubernetes_validate.validate(doc, K8S_VERSION, strict=True) for key, doc in objs.items()}
    assert set(validated.values()) == {"1.33"}
    assert len(validated) == (10 if fixture == "default_objects" else 12)


def test_schema_validation_catches_a_broken_manifest(default_objects):
    broken = {**default_objects[("Service", "rf-qlrf-web")], "spec": {"ports": [{"port": "eighty"}]}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_web_probes_hit_health_endpoints_with_an_allowed_host(default_objects, ingress_objects):
    web = container(default_objects, "Deployment", "rf-qlrf-web", "web")
    assert web["livenessProbe"]["httpGet"] == {
        "path": "/healthz",
        "port": 8000,
        "httpHeaders": [{"name": "Host", "value": "rf.example.com"}],
    }
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["readinessProbe"]["httpGet"]["port"] == 8000
    assert web["args"] == ["serve"]
    ingress_web = container(ingress_objects, "Deployment", "rf-qlrf-web", "web")
    assert ingress_web["readinessProbe"]["httpGet"]["httpHeaders"] == [{"name": "Host", "value": "rf.example.org"}]


def test_migrate_job_is_a_pre_install_and_pre_upgrade_hook(default_objects):
    job = default_objects[("Job", "rf-qlrf-migrate")]
    assert job["metadata"]["annotations"] == {
        "helm.sh/hook": "pre-install,pre-upgrade",
        "helm.sh/hook-weight": "0",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
    }
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    assert "serviceAccountName" not in spec  # the release's ServiceAccount does not exist yet at pre-install
    (migrate,) = spec["containers"]
    assert migrate["args"] == ["migrate"]
    assert "envFrom" not in migrate  # nor does the ConfigMap: the Job carries its env inline
    env = {item["name"]: item.get("value") for item in migrate["env"]}
    assert env["QLRF_ALLOWED_HOSTS"] == "rf.example.com"
    assert set(SECRET_VARIABLES) <= set(env)


@pytest.mark.parametrize("fixture", ["default_objects", "ingress_objects"])
def test_every_pod_runs_as_non_root_with_a_read_only_root(fixture, request):
    objs = request.getfixturevalue(fixture)
    workloads = [key for key in objs if key[0] in ("Deployment", "Job")]
    assert len(workloads) == 3
    for key in workloads:
        spec = pod_spec(objs, *key)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
        assert spec["automountServiceAccountToken"] is False
        for item in [*spec.get("initContainers", []), *spec["containers"]]:
            assert item["securityContext"]["readOnlyRootFilesystem"] is True, (key, item["name"])
            assert item["securityContext"]["allowPrivilegeEscalation"] is False
            assert item["securityContext"]["capabilities"] == {"drop": ["ALL"]}
            assert item["resources"]["requests"], (key, item["name"])
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        assert volumes["var"] == {"name": "var", "emptyDir": {}}
        app = spec["containers"][0]
        assert {"name": "var", "mountPath": "/app/var"} in app["volumeMounts"]


def test_static_files_reach_nginx_through_the_var_empty_dir(default_objects):
    spec = pod_spec(default_objects, "Deployment", "rf-qlrf-web")
    (init,) = spec["initContainers"]
    assert init["args"] == ["copy-static", "/mnt/var/staticfiles"]
    assert init["volumeMounts"] == [{"name": "var", "mountPath": "/mnt/var"}]
    static = container(default_objects, "Deployment", "rf-qlrf-web", "static")
    assert {"name": "var", "mountPath": "/srv/var", "readOnly": True} in static["volumeMounts"]
    assert static["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    nginx_conf = default_objects[("ConfigMap", "rf-qlrf-nginx")]["data"]["default.conf"]
    assert "alias /srv/var/staticfiles/;" in nginx_conf
    assert "proxy_pass http://127.0.0.1:8000;" in nginx_conf
    service = default_objects[("Service", "rf-qlrf-web")]
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_without_the_static_proxy_the_service_reaches_gunicorn():
    objs = objects(render({"staticProxy": {"enabled": False}}))
    assert ("ConfigMap", "rf-qlrf-nginx") not in objs
    spec = pod_spec(objs, "Deployment", "rf-qlrf-web")
    assert [c["name"] for c in spec["containers"]] == ["web"]
    assert spec["containers"][0]["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_secrets_come_only_from_the_existing_secret(default_objects):
    assert not [key for key in default_objects if key[0] == "Secret"]
    web = container(default_objects, "Deployment", "rf-qlrf-web", "web")
    refs = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in web["env"] if "valueFrom" in item}
    assert refs == {
        "QLRF_SECRET_KEY": {"name": "qlrf-secrets", "key": "QLRF_SECRET_KEY"},
        "QLRF_DATABASE_URL": {"name": "qlrf-secrets", "key": "QLRF_DATABASE_URL"},
        "QLRF_REDIS_URL": {"name": "qlrf-secrets", "key": "QLRF_REDIS_URL"},
        "QLRF_VAULT_TOKEN": {"name": "qlrf-secrets", "key": "QLRF_VAULT_TOKEN", "optional": True},
    }
    assert web["envFrom"] == [{"configMapRef": {"name": "rf-qlrf-config"}}]


def test_an_empty_existing_secret_refuses_to_render():
    with pytest.raises(helm.HelmValuesError, match="at '/existingSecret': minLength: got 0, want 1"):
        render({"existingSecret": ""})


def test_config_map_holds_only_documented_non_secret_variables(default_objects, ingress_objects):
    data = default_objects[("ConfigMap", "rf-qlrf-config")]["data"]
    assert len(data) == 15
    assert data["QLRF_ALLOWED_HOSTS"] == "rf.example.com"
    assert data["QLRF_VAR_DIR"] == "/app/var"
    assert "QLRF_VAULT_ADDR" not in data  # empty values are left out
    ingress_data = ingress_objects[("ConfigMap", "rf-qlrf-config")]["data"]
    assert ingress_data["QLRF_ALLOWED_HOSTS"] == "rf.example.org,.internal.example.org"
    assert ingress_data["QLRF_VAULT_ADDR"] == "https://vault.example.org:8200"
    assert set(ingress_data) - documented_variables() == set()
    assert set(ingress_data) & set(SECRET_VARIABLES) == set()


def test_ingress_routes_the_host_to_the_web_service_with_tls(ingress_objects):
    spec = ingress_objects[("Ingress", FULLNAME)]["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"secretName": "rf-example-org-tls", "hosts": ["rf.example.org"]}]
    (rule,) = spec["rules"]
    assert rule["host"] == "rf.example.org"
    assert rule["http"]["paths"] == [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "rf-qlrf-web", "port": {"name": "http"}}}}
    ]


def test_media_claim_is_shared_by_web_and_worker(ingress_objects):
    for name in ("rf-qlrf-web", "rf-qlrf-worker"):
        volumes = {v["name"]: v for v in pod_spec(ingress_objects, "Deployment", name)["volumes"]}
        assert volumes["media"] == {"name": "media", "persistentVolumeClaim": {"claimName": "qlrf-media"}}


def test_worker_runs_qcluster_with_exec_liveness_and_readiness_probes(default_objects):
    worker = container(default_objects, "Deployment", "rf-qlrf-worker", "worker")
    assert worker["args"] == ["worker"]
    assert worker["livenessProbe"]["exec"]["command"] == ["python", "/usr/local/bin/qlrf-healthcheck", "worker"]
    assert worker["readinessProbe"]["exec"]["command"] == ["python", "/usr/local/bin/qlrf-healthcheck", "worker"]
    budget = default_objects[("PodDisruptionBudget", "rf-qlrf-web")]["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"]["matchLabels"]["app.kubernetes.io/component"] == "web"


EVENTS_VALUES = {"events": {"relay": {"enabled": True, "replicaCount": 2}, "consumer": {"enabled": True}}}


def test_event_relay_and_consumer_deployments_render_behind_their_flags(default_objects):
    assert not [key for key in default_objects if "events" in key[1]]  # off by default
    objs = objects(render(EVENTS_VALUES))
    relay = container(objs, "Deployment", "rf-qlrf-events-relay", "events-relay")
    consumer = container(objs, "Deployment", "rf-qlrf-events-consumer", "events-consumer")
    assert relay["args"] == ["manage", "events_relay"]
    assert consumer["args"] == ["manage", "events_consume"]
    assert objs[("Deployment", "rf-qlrf-events-relay")]["spec"]["replicas"] == 2
    for name in ("rf-qlrf-events-relay", "rf-qlrf-events-consumer"):
        doc = objs[("Deployment", name)]
        assert kubernetes_validate.validate(doc, K8S_VERSION, strict=True) == "1.33"
        assert pod_spec(objs, "Deployment", name)["securityContext"]["runAsNonRoot"] is True
    report = helm.lint(CHART, EVENTS_VALUES, strict=True, kube_version="v" + K8S_VERSION)
    assert report["errors"] == [] and [m for m in report["messages"] if m["severity"] >= 2] == []


def test_event_processes_are_probed_on_their_heartbeat_files():
    objs = objects(render(EVENTS_VALUES))
    for component, age in (("relay", "90"), ("consumer", "90")):
        spec = container(objs, "Deployment", f"rf-qlrf-events-{component}", f"events-{component}")
        probe = ["python", "-m", "apps.events.heartbeat"]
        alive = [*probe, f"/tmp/qlrf/{component}.alive", "--max-age", age]
        assert spec["livenessProbe"]["exec"]["command"] == alive
        assert spec["startupProbe"]["exec"]["command"] == alive
        assert spec["readinessProbe"]["exec"]["command"] == [*probe, f"/tmp/qlrf/{component}.ready", "--max-age", "120"]
        assert {"name": "QLRF_EVENTS_HEARTBEAT_DIR", "value": "/tmp/qlrf"} in spec["env"]
        assert {"name": "tmp", "mountPath": "/tmp"} in spec["volumeMounts"]  # writable: an emptyDir


MONITORING_VALUES = {"monitoring": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}}


@pytest.mark.django_db
def test_monitoring_objects_render_and_every_alert_and_panel_uses_an_exported_metric(default_objects, client):
    import json
    import re
    from pathlib import Path

    assert not [key for key in default_objects if key[0] in ("ServiceMonitor", "PrometheusRule")]  # off by default
    objs = objects(render(MONITORING_VALUES))
    monitor = objs[("ServiceMonitor", FULLNAME)]["spec"]
    assert monitor["endpoints"][0]["path"] == "/metrics" and monitor["endpoints"][0]["port"] == "http"
    service = objs[("Service", "rf-qlrf-web")]
    assert all(service["metadata"]["labels"].get(k) == v for k, v in monitor["selector"]["matchLabels"].items())
    rules = [r for g in objs[("PrometheusRule", "rf-qlrf-event-bus")]["spec"]["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} >= {"QlrfEventsBacklogOld", "QlrfEventsDeadLettersGrowing",
                                         "QlrfWebhookDeliveriesFailing"}  # fmt: skip
    body = client.get("/metrics").content.decode()
    exported = set(re.findall(r"^([a-z_]+)(?:\{| )", body, re.M))
    exported |= set(re.findall(r"^# TYPE (\w+) ", body, re.M))  # families without samples yet
    exported |= {f"{name}_total" for name in re.findall(r"^# TYPE (\w+) counter$", body, re.M)}
    dashboard = json.loads((Path(CHART).parents[1] / "monitoring" / "event-bus-dashboard.json").read_text())
    expressions = [r["expr"] for r in rules] + [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for expr in expressions for name in re.findall(r"\bqlrf_\w+", expr)}
    assert used and used <= exported, used - exported
    report = helm.lint(CHART, MONITORING_VALUES, strict=True, kube_version="v" + K8S_VERSION)
    assert report["errors"] == [] and [m for m in report["messages"] if m["severity"] >= 2] == []
