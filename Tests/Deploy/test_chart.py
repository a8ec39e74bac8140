"""The Helm chart deploy/helm/orchestrator-dynamic, checked with Helm 4 (helm-python-sdk: lint and
render, no cluster) and the Kubernetes 1.33 OpenAPI schemas (kubernetes-validate, strict: unknown
fields are errors). Custom resources (ServiceMonitor, PrometheusRule) have no schema there and are
checked by hand. The rendered config.json is also fed to the real binary, which refuses unknown
keys, so a key the chart writes wrongly fails here rather than at a pod's start.
"""

import json
import os
import pathlib
import subprocess

import helm_python
import kubernetes_validate
import pytest
import yaml

from conftest import CHART, ROOT

K8S_VERSION = "1.33.0"
RELEASE = "orch"
NAMESPACE = "hive"
CI_FILES = sorted((CHART / "ci").glob("*.yaml"))
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "orchestrator-dynamic.json"
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule"}


def ci_values(name: str) -> dict:
    return yaml.safe_load((CHART / "ci" / name).read_text())


VALUE_SETS = {"defaults": {}} | {path.name: yaml.safe_load(path.read_text()) for path in CI_FILES}


@pytest.fixture(scope="session")
def chart():
    return helm_python.Chart.load(CHART)


def render(chart, values: dict) -> list[dict]:
    """The objects the chart renders with `values` (NOTES.txt left out)."""
    manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                document.setdefault("_template", path)
                objects.append(document)
    return objects


def strip(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "_template"}


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def one(objects, kind):
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {[o['metadata']['name'] for o in found]}"
    return found[0]


def workload(objects):
    found = [o for o in objects if o["kind"] in ("StatefulSet", "Deployment")]
    assert len(found) == 1, f"expected one workload, got {[o['kind'] for o in found]}"
    return found[0]


def config_json(objects) -> dict:
    configmaps = [o for o in by_kind(objects, "ConfigMap") if "config.json" in o.get("data", {})]
    assert len(configmaps) == 1
    return json.loads(configmaps[0]["data"]["config.json"])


# --- lint --------------------------------------------------------------------------------------


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_lint_strict_has_no_errors_or_warnings(values_name):
    report = helm_python.lint(CHART, VALUE_SETS[values_name], strict=True, namespace=NAMESPACE)
    assert report["errors"] == [], report
    severe = [m for m in report["messages"] if m["severity"] >= 2]
    assert severe == [], severe
    # The one informational message left: Chart.yaml has no icon (the project publishes none).
    assert all(m["error"] == "icon is recommended" for m in report["messages"]), report["messages"]


# --- every object is valid Kubernetes 1.33 ------------------------------------------------------


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_every_object_validates_strictly(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    assert objects
    checked = set()
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(strip(obj), K8S_VERSION, strict=True)
        checked.add(obj["kind"])
    assert {"ConfigMap", "Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"} <= checked


def test_strict_validation_can_fail():
    """The validator used above does refuse a wrong object (an unknown field, a string port)."""
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
           "spec": {"ports": [{"port": "eighty"}], "selectr": {"a": "b"}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_custom_resources_are_well_formed(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(strip(obj), K8S_VERSION, strict=True)
    monitor = one(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(monitor) - {"_template"} == {"apiVersion", "kind", "metadata", "spec"}
    spec = monitor["spec"]
    assert set(spec) <= {"jobLabel", "selector", "namespaceSelector", "endpoints"}
    assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert spec["endpoints"] and all(e["port"] == "metrics" and e["path"] == "/metrics" for e in spec["endpoints"])
    for endpoint in spec["endpoints"]:
        assert set(endpoint) <= {"port", "path", "scheme", "interval", "scrapeTimeout", "tlsConfig", "authorization"}
        assert endpoint["scheme"] in ("http", "https")
    rule = one(objects, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(rule["spec"]) == {"groups"}
    for group in rule["spec"]["groups"]:
        assert group["name"] and group["rules"]
        for r in group["rules"]:
            assert ("alert" in r) != ("record" in r) and r["expr"]


# --- what each mode renders ---------------------------------------------------------------------


def test_embedded_mode_is_one_statefulset_replica_with_a_claim(chart):
    objects = render(chart, ci_values("embedded-values.yaml"))
    sts = one(objects, "StatefulSet")
    assert not by_kind(objects, "Deployment") and not by_kind(objects, "HorizontalPodAutoscaler")
    assert sts["spec"]["replicas"] == 1
    claims = sts["spec"]["volumeClaimTemplates"]
    assert [c["metadata"]["name"] for c in claims] == ["data"]
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    container = sts["spec"]["template"]["spec"]["containers"][0]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/var/lib/orchestrator"] == "data"
    assert config_json(objects)["storage"]["data_dir"] == "/var/lib/orchestrator"
    # the governing headless Service exists and is not what the ServiceMonitor scrapes
    headless = [s for s in by_kind(objects, "Service") if s["spec"].get("clusterIP") == "None"]
    assert [s["metadata"]["name"] for s in headless] == [sts["spec"]["serviceName"]]
    # no replica id (SQLite), no database URL file
    names = {e["name"] for e in container["env"]}
    assert "ORCHESTRATOR_REPLICA_ID" not in names and "ORCHESTRATOR_DATABASE_URL_FILE" not in names


def test_postgres_mode_is_a_deployment_with_hpa_replica_id_and_database_secret(chart):
    values = ci_values("postgres-values.yaml")
    objects = render(chart, values)
    deployment = one(objects, "Deployment")
    assert not by_kind(objects, "StatefulSet")
    assert "replicas" not in deployment["spec"], "with the HPA on, the HPA owns the replica count"
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    pod = deployment["spec"]["template"]["spec"]
    for container in pod["containers"] + pod["initContainers"]:
        env = {e["name"]: e for e in container["env"]}
        assert env["ORCHESTRATOR_REPLICA_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
        url_file = env["ORCHESTRATOR_DATABASE_URL_FILE"]["value"]
        mount = [m for m in container["volumeMounts"] if url_file.startswith(m["mountPath"] + "/")]
        assert len(mount) == 1, f"{url_file} is not on a mounted volume"
        volume = next(v for v in pod["volumes"] if v["name"] == mount[0]["name"])
        assert volume["secret"]["secretName"] == "orchestrator-database"
        assert volume["secret"]["items"] == [{"key": "url", "path": pathlib.PurePath(url_file).name}]
        assert not any("postgres://" in json.dumps(e) for e in container["env"]), "the URL must stay in the Secret"
    # an HTTP worker keeps talking to the replica that leased its tickets
    main = [s for s in by_kind(objects, "Service") if s["spec"].get("clusterIP") != "None"]
    assert [s["spec"]["sessionAffinity"] for s in main] == ["ClientIP"]
    # the chart makes no Secret of its own when an existing one is named
    assert not by_kind(objects, "Secret")
    # without autoscaling, replicaCount sets the replicas
    plain = render(chart, values | {"autoscaling": {"enabled": False}, "replicaCount": 3})
    assert one(plain, "Deployment")["spec"]["replicas"] == 3
    assert not by_kind(plain, "HorizontalPodAutoscaler")


def test_postgres_mode_with_an_inline_url_makes_a_secret(chart):
    url = "postgres://orch:s3cret@db:5432/orch?sslmode=require"
    values = ci_values("postgres-values.yaml") | {"database": {"url": url}}
    objects = render(chart, values)
    secret = one(objects, "Secret")
    assert secret["stringData"] == {"url": url}
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "database-url")
    assert volume["secret"]["secretName"] == secret["metadata"]["name"]
    kubernetes_validate.validate(strip(secret), K8S_VERSION, strict=True)


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_migrations_run_in_an_init_container_before_serve(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    pod = workload(objects)["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    (server,) = pod["containers"]
    assert init["args"][0] == "migrate" and server["args"][0] == "serve"
    assert init["image"] == server["image"]
    for container in (init, server):
        args = container["args"]
        assert args[args.index("--config") + 1] == "/etc/orchestrator/config/config.json"
        assert args[args.index("--log-format") + 1] == "json"
    # the init container sees the same configuration, secrets and data as the server
    assert init["volumeMounts"] == server["volumeMounts"]
    assert init["env"] == server["env"]


# --- probes and security ------------------------------------------------------------------------


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_probes(chart, values_name):
    values = VALUE_SETS[values_name]
    objects = render(chart, values)
    (server,) = workload(objects)["spec"]["template"]["spec"]["containers"]
    scheme = "HTTPS" if values.get("tls", {}).get("enabled") else "HTTP"
    expected = {"readinessProbe": "/ready", "livenessProbe": "/health", "startupProbe": "/health"}
    for probe, path in expected.items():
        get = server[probe]["httpGet"]
        assert (get["path"], get["port"], get["scheme"]) == (path, "http", scheme), probe
    ports = {p["name"]: p["containerPort"] for p in server["ports"]}
    assert ports == {"http": 8000, "metrics": 9090}
    # the startup probe allows a slow first start; liveness only begins after it
    startup = server["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_security_context(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    pod = workload(objects)["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert isinstance(psc["runAsUser"], int) and psc["runAsUser"] > 0
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert psc["fsGroupChangePolicy"] == "OnRootMismatch"
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    for container in pod["containers"] + pod["initContainers"]:
        sc = container["securityContext"]
        assert sc["runAsNonRoot"] is True
        assert isinstance(sc["runAsUser"], int) and sc["runAsUser"] > 0
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts and "/var/lib/orchestrator" in mounts
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert "emptyDir" in tmp
    # secrets are mounted read-only and not world-readable
    for volume in pod["volumes"]:
        if "secret" in volume:
            assert volume["secret"]["defaultMode"] & 0o007 == 0, volume


# --- one source for the rules and the dashboard -------------------------------------------------


def test_alert_rules_and_dashboard_have_one_source():
    assert ALERTS.is_symlink() and DASHBOARD.is_symlink()
    assert ALERTS.resolve() == (CHART / "files" / "alerts.yml").resolve()
    assert DASHBOARD.resolve() == (CHART / "files" / "orchestrator-dynamic.json").resolve()
    # relative links: they survive a checkout elsewhere
    assert not os.readlink(ALERTS).startswith("/") and not os.readlink(DASHBOARD).startswith("/")


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_prometheus_rule_equals_alerts_yml(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    rule = one(objects, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load(ALERTS.read_text())
    labels = VALUE_SETS[values_name].get("prometheusRule", {}).get("labels", {})
    assert labels.items() <= rule["metadata"]["labels"].items()


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_service_monitor_scrapes_the_metrics_port_as_the_rules_job(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    monitor = one(objects, "ServiceMonitor")
    selected = [s for s in by_kind(objects, "Service")
                if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
    assert len(selected) == 1, "the ServiceMonitor must select exactly one Service (not the headless one)"
    service = selected[0]
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"http": 8000, "metrics": 9090}
    # alerts.yml's `up`-based rules select job="orchestrator-dynamic": the job label comes from
    # the Service label named by jobLabel.
    assert service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == "orchestrator-dynamic"
    assert 'job="orchestrator-dynamic"' in ALERTS.read_text()


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_dashboard_configmap_equals_the_json_file(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    dashboards = [c for c in by_kind(objects, "ConfigMap") if c["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert len(dashboards) == 1
    data = dashboards[0]["data"]
    assert list(data) == ["orchestrator-dynamic.json"]
    assert data["orchestrator-dynamic.json"] == DASHBOARD.read_text()
    assert json.loads(data["orchestrator-dynamic.json"]) == json.loads(DASHBOARD.read_text())


def test_dashboard_label_is_configurable(chart):
    objects = render(chart, {"grafanaDashboard": {"label": "grafana_dashboard_hive", "labelValue": "yes"}})
    labelled = [c for c in by_kind(objects, "ConfigMap") if c["metadata"]["labels"].get("grafana_dashboard_hive") == "yes"]
    assert len(labelled) == 1
    objects = render(chart, {"grafanaDashboard": {"enabled": False}, "prometheusRule": {"enabled": False},
                             "serviceMonitor": {"enabled": False}})
    assert not by_kind(objects, "PrometheusRule") and not by_kind(objects, "ServiceMonitor")
    assert len(by_kind(objects, "ConfigMap")) == 1


# --- the other objects ---------------------------------------------------------------------------


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_service_account_pdb_and_network_policy(chart, values_name):
    objects = render(chart, VALUE_SETS[values_name])
    pod = workload(objects)["spec"]["template"]["spec"]
    account = one(objects, "ServiceAccount")
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    selector = workload(objects)["spec"]["selector"]["matchLabels"]
    pod_labels = workload(objects)["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    policy = one(objects, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"] == selector
    container_ports = {p["name"] for p in pod["containers"][0]["ports"]}
    policy_ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert policy_ports == container_ports == {"http", "metrics"}


def test_secure_values_turn_on_kafka_tls_auth_and_tracing(chart):
    values = ci_values("secure-values.yaml")
    objects = render(chart, values)
    config = config_json(objects)
    assert config["http"]["tls_cert_file"] and config["http"]["tls_key_file"]
    assert config["auth"]["tokens_file"] and config["auth"]["jwks_file"]
    assert config["auth"]["anonymous_roles"] == ["read"]
    assert config["auth"]["metrics_need_token"] is True
    kafka = config["kafka"]
    assert kafka["bootstrap_servers"] == values["kafka"]["bootstrapServers"]
    assert (kafka["security_protocol"], kafka["sasl_mechanism"]) == ("sasl_ssl", "SCRAM-SHA-512")
    assert "sasl_password" not in kafka and kafka["sasl_password_file"]
    assert kafka["properties"]["ssl.ca.location"]
    assert config["outbox"]["sink"] == "kafka"
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == values["otel"]["endpoint"]
    assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert env["OTEL_BSP_SCHEDULE_DELAY"] == "2000"
    assert "k8s.pod.name=$(POD_NAME)" in env["OTEL_RESOURCE_ATTRIBUTES"]
    # $(POD_NAME) expands only when POD_NAME is defined before the variable using it
    names = [e["name"] for e in server["env"]]
    assert names.index("POD_NAME") < names.index("OTEL_RESOURCE_ATTRIBUTES")
    monitor = one(objects, "ServiceMonitor")["spec"]["endpoints"][0]
    assert monitor["scheme"] == "https" and monitor["authorization"]["credentials"]["name"]
    policy = one(objects, "NetworkPolicy")
    assert "Egress" in policy["spec"]["policyTypes"]


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_every_file_the_config_names_is_mounted(chart, values_name):
    """Each *_file setting and librdkafka *.location of config.json lies on a mounted volume with the
    matching item, so the server never starts looking for a file that is not there."""
    objects = render(chart, VALUE_SETS[values_name])
    config = config_json(objects)
    pod = workload(objects)["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    files = []

    def collect(node):
        for key, value in node.items():
            if isinstance(value, dict):
                collect(value)
            elif (key.endswith("_file") or key.endswith(".location")) and isinstance(value, str):
                files.append(value)

    collect(config)
    files += [e["value"] for e in server["env"] if e["name"].endswith("_FILE") and "value" in e]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for path in files:
        mounts = [m for m in server["volumeMounts"] if path.startswith(m["mountPath"] + "/")]
        assert len(mounts) == 1, f"{path} is not on exactly one mount"
        relative = path[len(mounts[0]["mountPath"]) + 1:]
        volume = volumes[mounts[0]["name"]]
        source = volume.get("secret") or volume.get("configMap")
        assert source, f"{path}: volume {mounts[0]['name']} is no Secret"
        assert relative in [item["path"] for item in source["items"]], f"{path} is not an item of its Secret"


# --- the configuration file against the real binary ---------------------------------------------


def check_config_with_binary(binary, config: dict, tmp_path) -> subprocess.CompletedProcess:
    """Runs `migrate` with `config` on a throw-away SQLite file; every file the config names is
    replaced by a temporary one (the real ones are mounted Secrets)."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)

    def replace(node):
        for key, value in node.items():
            if isinstance(value, dict):
                replace(value)
            elif (key.endswith("_file") or key.endswith(".location")) and isinstance(value, str):
                stand_in = secrets / key.replace(".", "_")
                stand_in.write_text("stand-in-for-a-mounted-secret\n")
                node[key] = str(stand_in)

    replace(config)
    config.setdefault("storage", {})["data_dir"] = str(tmp_path / "data")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ORCHESTRATOR_", "KAFKA_", "OTEL_"))}
    return subprocess.run(
        [str(binary), "migrate", "--config", str(path), "--database-url", f"sqlite:{tmp_path}/check.sqlite",
         "--log-format", "json"],
        capture_output=True, text=True, timeout=60, env=env,
    )


@pytest.mark.parametrize("values_name", list(VALUE_SETS))
def test_rendered_config_is_accepted_by_the_binary(chart, binary, values_name, tmp_path):
    config = config_json(render(chart, VALUE_SETS[values_name]))
    result = check_config_with_binary(binary, config, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "check.sqlite" in result.stdout


def test_the_binary_refuses_a_misspelt_config_key(chart, binary, tmp_path):
    """The check above can fail: a typo in `config` is refused, naming the key."""
    config = config_json(render(chart, {"config": {"engine": {"tick_intervall_ms": 5}}}))
    result = check_config_with_binary(binary, config, tmp_path)
    assert result.returncode != 0
    assert "engine.tick_intervall_ms" in result.stderr + result.stdout


def test_user_config_is_kept_and_chart_owned_keys_win(chart):
    objects = render(chart, {"config": {"http": {"port": 1234, "rate_limit_per_second": 100},
                                        "engine": {"max_batch": 64}}})
    config = config_json(objects)
    assert config["http"]["port"] == 8000, "the port must match the container port and the probes"
    assert config["http"]["rate_limit_per_second"] == 100
    assert config["engine"] == {"max_batch": 64}


# --- versions -------------------------------------------------------------------------------------


def test_app_version_equals_the_binary_version(chart, binary_version):
    metadata = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert metadata["apiVersion"] == "v2"
    assert str(metadata["appVersion"]) == binary_version
    image = workload(render(chart, {}))["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":" + binary_version), "the default image tag is the appVersion"


# --- the schema refuses bad values ---------------------------------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        ({"mode": "bogus"}, "/mode"),
        ({"modus": "embedded"}, "modus"),
        ({"auth": {"anonymousRoles": ["root"]}}, "anonymousRoles"),
        ({"auth": {"mode": "optional"}}, "/auth/mode"),
        ({"ports": {"http": 0, "metrics": 9090}}, "/ports/http"),
        ({"kafka": {"outboxSink": "files"}}, "outboxSink"),
        ({"otel": {"env": {"JAVA_OPTS": "-x"}}}, "JAVA_OPTS"),
        ({"securityContext": {"runAsNonRoot": False, "readOnlyRootFilesystem": True,
                              "allowPrivilegeEscalation": False}}, "runAsNonRoot"),
        ({"mode": "postgres", "auth": {"tokens": {"existingSecret": "t"}}}, "database"),
    ],
)
def test_schema_refuses_bad_values(chart, values, message):
    with pytest.raises(helm_python.HelmValuesError) as refused:
        chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    text = str(refused.value)
    # the schema names the value as /tls/existingSecret, the template's check as tls.existingSecret
    assert message in text or "/" + message.replace(".", "/") in text, text


def test_a_bogus_mode_values_file_is_refused(chart, tmp_path):
    bogus = tmp_path / "bogus-values.yaml"
    bogus.write_text("mode: bogus\n")
    with pytest.raises(helm_python.HelmValuesError):
        chart.render(yaml.safe_load(bogus.read_text()), name=RELEASE, namespace=NAMESPACE, is_install=True)
    report = helm_python.lint(CHART, yaml.safe_load(bogus.read_text()), strict=True)
    assert any(m["severity"] == 3 for m in report["messages"]) or report["errors"], report


@pytest.mark.parametrize(
    "values, message",
    [
        ({"mode": "postgres", "database": {"existingSecret": "db"}}, "admin.token"),
        ({"tls": {"enabled": True}}, "tls.existingSecret"),
        ({"kafka": {"enabled": True}}, "bootstrapServers"),
    ],
)
def test_half_configured_values_fail_with_the_fix(chart, values, message):
    with pytest.raises((helm_python.HelmRenderError, helm_python.HelmValuesError)) as refused:
        chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    text = str(refused.value)
    # the schema names the value as /tls/existingSecret, the template's check as tls.existingSecret
    assert message in text or "/" + message.replace(".", "/") in text, text
