"""Every documented values combination of the chart renders, lints strictly and validates against Kubernetes 1.33;
autoscaling, TLS both ways, NetworkPolicies, the optional data services and the values schema do what they say."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.deploy.deploy_support import CHART, INGRESS_VALUES, ROOT, objects, render

K8S_VERSION = "1.33.0"
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}  # Prometheus Operator CRDs: not in the Kubernetes schemas
APP_COMPONENTS = {"web", "worker", "migrate", "events-relay", "events-consumer"}

HPA = {
    "web": {"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 12}},
    "worker": {
        "autoscaling": {
            "enabled": True,
            "maxReplicas": 8,
            "queueDepth": {"enabled": True, "selector": {"queue": "qlrf"}, "targetAverageValue": "15"},
        }
    },
}
CERT_MANAGER = {
    "allowedHosts": ["rf.example.org", "api.rf.example.org"],
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "hosts": [
            {"host": "rf.example.org", "paths": [{"path": "/", "pathType": "Prefix"}]},
            {"host": "api.rf.example.org", "paths": [{"path": "/api", "pathType": "Prefix"}]},
        ],
        "certManager": {"enabled": True, "clusterIssuer": "letsencrypt-prod"},
    },
}
POSTGRESQL = {"postgresql": {"enabled": True}}
REDIS = {"redis": {"enabled": True}}
KAFKA = {"kafka": {"enabled": True}}
EXTERNAL_KAFKA = {"config": {"QLRF_EVENTS_TRANSPORT": "kafka", "QLRF_EVENTS_KAFKA_BOOTSTRAP": "kafka.example:9093"}}
EVENTS = {"events": {"relay": {"enabled": True}, "consumer": {"enabled": True}}}
MONITORING = {"monitoring": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}}
ALL_IN = {**POSTGRESQL, **REDIS, **KAFKA, **EVENTS, **HPA}


def production() -> dict:
    return yaml.safe_load((ROOT / "deploy" / "helm" / "values-production.yaml").read_text())


# Every combination docs/deployment.md and the chart README document.
COMBINATIONS = {
    "defaults": None,
    "production": production(),
    "hpa": HPA,
    "hpa-pods-metric": {"worker": {"autoscaling": {"enabled": True, "queueDepth": {"enabled": True, "type": "Pods"}}}},
    "tls-existing-secret": INGRESS_VALUES,
    "tls-cert-manager": CERT_MANAGER,
    "tls-cert-manager-issuer-and-secret": {
        "ingress": {
            "enabled": True,
            "tls": [{"secretName": "mine", "hosts": ["rf.example.com"]}],
            "certManager": {"enabled": True, "issuer": "local-ca"},
        }
    },
    "no-network-policy": {"networkPolicy": {"enabled": False}},
    "network-policy-from-ingress-namespace": {
        "networkPolicy": {
            "webIngressFrom": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}},
            ]
        }
    },
    "postgresql": POSTGRESQL,
    "redis": REDIS,
    "kafka": KAFKA,
    "external-kafka": EXTERNAL_KAFKA,
    "events": EVENTS,
    "monitoring": MONITORING,
    "no-static-proxy": {"staticProxy": {"enabled": False}},
    "all-in-one": ALL_IN,
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict]:
    return {name: objects(render(values)) for name, values in COMBINATIONS.items()}


WORKLOADS = ("Deployment", "StatefulSet", "Job")


def pod_specs(objs: dict) -> dict[tuple[str, str], dict]:
    return {key: doc["spec"]["template"]["spec"] for key, doc in objs.items() if key[0] in WORKLOADS}


def env_of(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_every_combination_lints_and_validates(name, rendered):
    report = helm.lint(CHART, COMBINATIONS[name], strict=True, kube_version="v" + K8S_VERSION)
    assert report["errors"] == [], report
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
    objs = rendered[name]
    checked = [key for key in objs if key[0] not in CRD_KINDS]
    for key in checked:
        assert kubernetes_validate.validate(objs[key], K8S_VERSION, strict=True) == "1.33", key
    assert len(checked) >= 8  # the smallest set: no NetworkPolicies, or no nginx ConfigMap


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_every_container_has_requests_limits_and_probes(name, rendered):
    for key, spec in pod_specs(rendered[name]).items():
        for item in [*spec.get("initContainers", []), *spec["containers"]]:
            assert {"cpu", "memory"} <= set(item["resources"]["requests"]), (key, item["name"])
            assert "memory" in item["resources"]["limits"], (key, item["name"])
        if key[0] == "Job":
            continue  # a run-to-completion Job has nothing to probe; init containers cannot have probes
        for item in spec["containers"]:
            assert item.get("livenessProbe") and item.get("readinessProbe"), (key, item["name"])


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_env_references_point_at_variables_defined_before_them(name, rendered):
    """Kubernetes expands $(VAR) only from variables listed earlier in the same container."""
    for key, spec in pod_specs(rendered[name]).items():
        for item in [*spec.get("initContainers", []), *spec["containers"]]:
            seen: set[str] = set()
            for entry in item.get("env", []):
                for ref in re.findall(r"\$\((\w+)\)", entry.get("value", "")):
                    assert ref in seen, (key, item["name"], entry["name"], ref)
                seen.add(entry["name"])
            texts = [*item.get("args", []), *item.get("command", [])]
            for ref in re.findall(r"\$\((\w+)\)", " ".join(texts)):
                assert ref in seen, (key, item["name"], ref)


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_every_service_selects_pods_of_the_release_by_a_named_port(name, rendered):
    objs = rendered[name]
    workloads = [doc for key, doc in objs.items() if key[0] in ("Deployment", "StatefulSet")]
    for key, doc in objs.items():
        if key[0] != "Service":
            continue
        selector = doc["spec"]["selector"]
        matches = [w for w in workloads if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matches) == 1, key
        containers = matches[0]["spec"]["template"]["spec"]["containers"]
        ports = {p["name"] for c in containers for p in c.get("ports", [])}
        assert {p["targetPort"] for p in doc["spec"]["ports"]} <= ports, key


# -- autoscaling --------------------------------------------------------------------------------------------------
def test_autoscalers_target_the_deployments_on_cpu_and_queue_depth(rendered):
    objs = rendered["hpa"]
    web = objs[("HorizontalPodAutoscaler", "rf-qlrf-web")]["spec"]
    assert web["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rf-qlrf-web"}
    assert (web["minReplicas"], web["maxReplicas"]) == (3, 12)
    assert web["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]
    worker = objs[("HorizontalPodAutoscaler", "rf-qlrf-worker")]["spec"]
    assert worker["scaleTargetRef"]["name"] == "rf-qlrf-worker"
    assert (worker["minReplicas"], worker["maxReplicas"]) == (1, 8)
    assert worker["metrics"][1] == {
        "type": "External",
        "external": {
            "metric": {"name": "qlrf_task_queue_depth", "selector": {"matchLabels": {"queue": "qlrf"}}},
            "target": {"type": "AverageValue", "averageValue": "15"},
        },
    }
    for name in ("rf-qlrf-web", "rf-qlrf-worker"):
        assert "replicas" not in objs[("Deployment", name)]["spec"]  # the autoscaler owns the count
    pods_metric = rendered["hpa-pods-metric"][("HorizontalPodAutoscaler", "rf-qlrf-worker")]["spec"]["metrics"][1]
    assert pods_metric["type"] == "Pods" and pods_metric["pods"]["metric"] == {"name": "qlrf_task_queue_depth"}
    assert ("HorizontalPodAutoscaler", "rf-qlrf-web") not in rendered["hpa-pods-metric"]
    defaults = rendered["defaults"]
    assert not [key for key in defaults if key[0] == "HorizontalPodAutoscaler"]
    assert defaults[("Deployment", "rf-qlrf-web")]["spec"]["replicas"] == 2


def test_an_autoscaler_with_max_under_min_refuses_to_render():
    with pytest.raises(helm.HelmRenderError, match="web.autoscaling.maxReplicas must be at least minReplicas"):
        render({"web": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}}})


# -- TLS ----------------------------------------------------------------------------------------------------------
def test_tls_from_an_existing_secret_has_no_cert_manager_annotation(rendered):
    ingress = rendered["tls-existing-secret"][("Ingress", "rf-qlrf")]
    assert ingress["spec"]["tls"] == [{"secretName": "rf-example-org-tls", "hosts": ["rf.example.org"]}]
    assert ingress["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/proxy-body-size": "70m"}


def test_tls_from_cert_manager_covers_every_host(rendered):
    ingress = rendered["tls-cert-manager"][("Ingress", "rf-qlrf")]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    assert ingress["spec"]["tls"] == [{"secretName": "rf-qlrf-tls", "hosts": ["rf.example.org", "api.rf.example.org"]}]
    own = rendered["tls-cert-manager-issuer-and-secret"][("Ingress", "rf-qlrf")]
    assert own["metadata"]["annotations"] == {"cert-manager.io/issuer": "local-ca"}
    assert own["spec"]["tls"] == [{"secretName": "mine", "hosts": ["rf.example.com"]}]


def test_cert_manager_needs_exactly_one_issuer():
    with pytest.raises(helm.HelmValuesError, match="/ingress/certManager/clusterIssuer"):
        render({"ingress": {"enabled": True, "certManager": {"enabled": True}}})
    both = {"enabled": True, "clusterIssuer": "a", "issuer": "b"}
    with pytest.raises(helm.HelmRenderError, match="give clusterIssuer or issuer, not both"):
        render({"ingress": {"enabled": True, "certManager": both}})


# -- NetworkPolicy ------------------------------------------------------------------------------------------------
def selects(policy: dict, labels: dict) -> bool:
    selector = policy["spec"]["podSelector"]
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    return all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", []))


@pytest.mark.parametrize("name", ["defaults", "all-in-one", "events"])
def test_every_pod_is_covered_by_exactly_one_network_policy(name, rendered):
    objs = rendered[name]
    policies = [doc for key, doc in objs.items() if key[0] == "NetworkPolicy"]
    for key, doc in objs.items():
        if key[0] in ("Deployment", "StatefulSet", "Job"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert len([p for p in policies if selects(p, labels)]) == 1, key


def test_network_policies_open_only_the_web_port_and_the_data_services_to_the_app(rendered):
    objs = rendered["all-in-one"]
    web = objs[("NetworkPolicy", "rf-qlrf-web")]["spec"]
    assert web["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    assert objs[("NetworkPolicy", "rf-qlrf-no-ingress")]["spec"]["ingress"] == []
    for service, port in (("postgresql", 5432), ("redis", 6379), ("kafka", 9092)):
        (rule,) = objs[("NetworkPolicy", f"rf-qlrf-{service}")]["spec"]["ingress"]
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}]
        (peer,) = rule["from"]
        assert set(peer["podSelector"]["matchExpressions"][0]["values"]) == APP_COMPONENTS
        assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "rf"
    restricted = rendered["network-policy-from-ingress-namespace"][("NetworkPolicy", "rf-qlrf-web")]["spec"]
    assert restricted["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    assert not [key for key in rendered["no-network-policy"] if key[0] == "NetworkPolicy"]


# -- optional data services ---------------------------------------------------------------------------------------
def app_env(objs: dict, kind: str, name: str) -> dict[str, dict]:
    spec = objs[(kind, name)]["spec"]["template"]["spec"]
    return env_of(spec["containers"][0])


def test_external_stores_come_from_the_secret_and_the_migrate_hook_runs_before_install(rendered):
    objs = rendered["defaults"]
    env = app_env(objs, "Deployment", "rf-qlrf-web")
    assert env["QLRF_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "qlrf-secrets", "key": "QLRF_DATABASE_URL"}
    assert env["QLRF_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {"name": "qlrf-secrets", "key": "QLRF_REDIS_URL"}
    assert not [key for key in objs if key[0] == "StatefulSet"]
    job = objs[("Job", "rf-qlrf-migrate")]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "initContainers" not in job["spec"]["template"]["spec"]
    assert "initContainers" not in objs[("Deployment", "rf-qlrf-worker")]["spec"]["template"]["spec"]


def test_in_chart_postgresql_is_what_every_app_container_uses(rendered):
    objs = rendered["postgresql"]
    url = "postgres://qlrf:$(POSTGRES_PASSWORD)@rf-qlrf-postgresql:5432/qlrf"
    for kind, name in [("Deployment", "rf-qlrf-web"), ("Deployment", "rf-qlrf-worker"), ("Job", "rf-qlrf-migrate-1")]:
        env = app_env(objs, kind, name)
        assert env["QLRF_DATABASE_URL"] == {"name": "QLRF_DATABASE_URL", "value": url}, name
        password = env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": "qlrf-secrets", "key": "POSTGRES_PASSWORD"}
        assert "valueFrom" in env["QLRF_REDIS_URL"]  # Redis stays external
    events = app_env(rendered["all-in-one"], "Deployment", "rf-qlrf-events-relay")
    assert events["QLRF_DATABASE_URL"]["value"] == url
    server = objs[("StatefulSet", "rf-qlrf-postgresql")]["spec"]
    assert server["serviceName"] == "rf-qlrf-postgresql" and server["replicas"] == 1
    (pg,) = server["template"]["spec"]["containers"]
    assert pg["image"] == "postgres:15-bookworm"
    assert env_of(pg)["POSTGRES_USER"]["value"] == "qlrf" and env_of(pg)["POSTGRES_DB"]["value"] == "qlrf"
    assert env_of(pg)["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "POSTGRES_PASSWORD"
    assert pg["readinessProbe"]["exec"]["command"][:1] == ["pg_isready"]
    assert server["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert objs[("Service", "rf-qlrf-postgresql")]["spec"]["clusterIP"] == "None"
    # The database is created by the release itself, so the migrate Job is no hook (a post-install hook would
    # deadlock `helm install --wait`): an ordinary Job per revision that waits for the database, and the pods wait
    # for its migrations.
    assert ("Job", "rf-qlrf-migrate") not in objs
    job = objs[("Job", "rf-qlrf-migrate-1")]
    assert "annotations" not in job["metadata"]
    (wait,) = job["spec"]["template"]["spec"]["initContainers"]
    assert wait["name"] == "wait-for-stores" and wait["command"][3:] == ["rf-qlrf-postgresql:5432"]
    for name in ("rf-qlrf-web", "rf-qlrf-worker"):
        inits = objs[("Deployment", name)]["spec"]["template"]["spec"]["initContainers"]
        (gate,) = [c for c in inits if c["name"] == "wait-for-migrations"]
        assert "python manage.py migrate --check" in gate["command"][2]
        assert env_of(gate)["QLRF_DATABASE_URL"]["value"] == url


def test_with_in_chart_stores_each_upgrade_gets_its_own_migrate_job():
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(POSTGRESQL, name="rf", namespace="qlrf", revision=7, is_upgrade=True)
    job = yaml.safe_load(manifests["qlrf/templates/migrate-job.yaml"])
    assert job["metadata"]["name"] == "rf-qlrf-migrate-7"  # a Job's pod template is immutable: a new one per revision
    assert "annotations" not in job["metadata"]


def test_in_chart_redis_is_what_every_app_container_uses(rendered):
    objs = rendered["redis"]
    url = "redis://:$(REDIS_PASSWORD)@rf-qlrf-redis:6379/0"
    for kind, name in [("Deployment", "rf-qlrf-web"), ("Deployment", "rf-qlrf-worker"), ("Job", "rf-qlrf-migrate-1")]:
        env = app_env(objs, kind, name)
        assert env["QLRF_REDIS_URL"] == {"name": "QLRF_REDIS_URL", "value": url}, name
        assert "valueFrom" in env["QLRF_DATABASE_URL"]  # PostgreSQL stays external
    (redis,) = objs[("StatefulSet", "rf-qlrf-redis")]["spec"]["template"]["spec"]["containers"]
    assert redis["args"][-2:] == ["--requirepass", "$(REDIS_PASSWORD)"]
    assert redis["args"][:3] == ["redis-server", "--appendonly", "yes"]
    password = env_of(redis)["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert password == {"name": "qlrf-secrets", "key": "REDIS_PASSWORD"}
    job = objs[("Job", "rf-qlrf-migrate-1")]
    assert "annotations" not in job["metadata"]
    assert job["spec"]["template"]["spec"]["initContainers"][0]["command"][3:] == ["rf-qlrf-redis:6379"]
    (gate,) = objs[("Deployment", "rf-qlrf-worker")]["spec"]["template"]["spec"]["initContainers"]
    assert gate["name"] == "wait-for-migrations"  # the Job is created with the pods here too


def test_in_chart_kafka_switches_the_event_transport_to_it(rendered):
    objs = rendered["kafka"]
    config = objs[("ConfigMap", "rf-qlrf-config")]["data"]
    assert config["QLRF_EVENTS_TRANSPORT"] == "kafka"
    assert config["QLRF_EVENTS_KAFKA_BOOTSTRAP"] == "rf-qlrf-kafka:9092"
    (kafka,) = objs[("StatefulSet", "rf-qlrf-kafka")]["spec"]["template"]["spec"]["containers"]
    env = {k: v.get("value") for k, v in env_of(kafka).items()}
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://rf-qlrf-kafka:9092"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["CLUSTER_ID"] == "5L6g3nShT-eMCtK--X86sw"
    external = rendered["external-kafka"][("ConfigMap", "rf-qlrf-config")]["data"]
    assert external["QLRF_EVENTS_KAFKA_BOOTSTRAP"] == "kafka.example:9093"
    assert "QLRF_EVENTS_TRANSPORT" not in rendered["defaults"][("ConfigMap", "rf-qlrf-config")]["data"]
    overridden = objects(render({**KAFKA, **EXTERNAL_KAFKA}))[("ConfigMap", "rf-qlrf-config")]["data"]
    assert overridden["QLRF_EVENTS_KAFKA_BOOTSTRAP"] == "rf-qlrf-kafka:9092"  # the in-chart broker wins


def test_the_wait_for_stores_script_waits_for_a_listening_port(rendered):
    job = rendered["all-in-one"][("Job", "rf-qlrf-migrate-1")]
    (wait,) = job["spec"]["template"]["spec"]["initContainers"]
    assert wait["command"][3:] == ["rf-qlrf-postgresql:5432", "rf-qlrf-redis:6379"]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", wait["command"][2], f"127.0.0.1:{port}"], capture_output=True, timeout=30
        )
    assert done.returncode == 0, done.stderr


# -- the values schema ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"web": {"replicaCount": "two"}}, "at '/web/replicaCount': got string, want integer"),
        ({"replicas": 3}, "additional properties 'replicas' not allowed"),
        ({"web": {"autoscaling": {"enabled": "yes"}}}, "at '/web/autoscaling/enabled': got string, want boolean"),
        ({"redis": {"enabled": True, "databse": 1}}, "additional properties 'databse' not allowed"),
        ({"config": {"QLRF_Q_WORKERS": [4]}}, "at '/config/QLRF_Q_WORKERS': got array, want"),
        ({"config": {"DEBUG": "true"}}, "invalid propertyName 'DEBUG'"),
        ({"secretKeys": {"databaseUrl": ""}}, "at '/secretKeys/databaseUrl': minLength: got 0, want 1"),
        ({"secretKeys": {"redisUrl": ""}}, "at '/secretKeys/redisUrl': minLength: got 0, want 1"),
        ({"config": {"QLRF_EVENTS_TRANSPORT": "kafka"}}, "missing property 'QLRF_EVENTS_KAFKA_BOOTSTRAP'"),
        ({"web": {"resources": {"requests": {"cpu": "lots", "memory": "1Gi"}, "limits": {}}}}, "/web/resources"),
        ({"worker": {"autoscaling": {"queueDepth": {"type": "Object"}}}}, "/worker/autoscaling/queueDepth/type"),
    ],
    ids=lambda item: item if isinstance(item, str) else None,
)
def test_the_schema_refuses_wrong_values_at_render(values, message):
    with pytest.raises(helm.HelmValuesError, match=re.escape(message)):
        render(values)


def test_config_takes_what_helm_set_makes_of_numbers_and_booleans_as_strings():
    data = objects(render({"config": {"QLRF_Q_WORKERS": 4, "QLRF_SECURE_SSL_REDIRECT": False}}))
    config = data[("ConfigMap", "rf-qlrf-config")]["data"]
    assert (config["QLRF_Q_WORKERS"], config["QLRF_SECURE_SSL_REDIRECT"]) == ("4", "false")


def test_in_chart_stores_do_not_need_the_external_url_keys():
    objs = objects(render({**POSTGRESQL, **REDIS, "secretKeys": {"databaseUrl": "", "redisUrl": ""}}))
    env = app_env(objs, "Deployment", "rf-qlrf-web")
    assert "value" in env["QLRF_DATABASE_URL"] and "value" in env["QLRF_REDIS_URL"]


@pytest.mark.parametrize("name", sorted(COMBINATIONS))
def test_every_pod_is_non_root_and_every_container_locked_down(name, rendered):
    for key, spec in pod_specs(rendered[name]).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, key
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, key
        assert spec["automountServiceAccountToken"] is False, key
        for item in [*spec.get("initContainers", []), *spec["containers"]]:
            context = item["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (key, item["name"])
            assert context["capabilities"] == {"drop": ["ALL"]}, (key, item["name"])
            # the one exception, documented: the Kafka image writes its generated broker configuration
            assert context["readOnlyRootFilesystem"] is (item["name"] != "kafka"), (key, item["name"])
