"""dapr.yaml, components/, dapr-config/ and k8s/ describe one system: the same apps,
ports, health paths, components and subscriptions. The cluster's Dapr resources are the
local files (k8s/base/dapr builds on them); what it changes in them is checked here."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.k8s.manifests import (
    OVERLAYS,
    Object,
    annotations,
    app_container,
    apps,
    local_resources,
    named,
    of_kind,
    pod_spec,
    run_template,
)
from tests.k8s.tools import ROOT, dapr_module_dir

# Where the sidecars find secrets: a local file, or the cluster's Secrets.
LOCAL_SECRET_STORE, CLUSTER_SECRET_STORE = "local-secrets", "kubernetes"


def services(objects: list[Object]) -> dict[str, Object]:
    """The app Deployments by name."""
    deployments = of_kind(objects, "Deployment")
    return {
        d["metadata"]["name"]: d
        for d in deployments
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == "service"
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_app_of_dapr_yaml_and_only_those_run_on_the_cluster(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    objects = rendered[overlay]
    assert set(services(objects)) == set(apps()), "add k8s/base/apps/<app-id>.yaml for every app"
    for app_id in apps():
        assert (ROOT / "k8s" / "base" / "apps" / f"{app_id}.yaml").is_file()
        for kind in ("Service", "ServiceAccount"):
            assert (
                named(objects, kind, app_id)["metadata"]["labels"]["app.kubernetes.io/name"]
                == app_id
            )


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("app_id", list(apps()))
def test_the_sidecar_and_the_app_are_configured_as_dapr_yaml_says(
    overlay: str,
    app_id: str,
    rendered: dict[str, list[Object]],
) -> None:
    common, app = run_template()["common"], apps()[app_id]
    deployment = named(rendered[overlay], "Deployment", app_id)
    notes, container = annotations(deployment), app_container(deployment)
    (configuration,) = local_resources("Configuration")
    assert notes["dapr.io/enabled"] == "true"
    assert notes["dapr.io/app-id"] == app_id
    assert notes["dapr.io/app-port"] == str(app["appPort"])
    assert notes["dapr.io/app-protocol"] == common["appProtocol"]
    assert notes["dapr.io/config"] == configuration["metadata"]["name"]
    assert notes["dapr.io/enable-app-health-check"] == str(common["enableAppHealthCheck"]).lower()
    assert notes["dapr.io/app-health-check-path"] == common["appHealthCheckPath"]
    assert notes["dapr.io/app-health-probe-timeout"] == str(common["appHealthProbeTimeout"])
    assert notes["dapr.io/app-health-threshold"] == str(common["appHealthThreshold"])
    assert notes["dapr.io/app-max-concurrency"] == str(common["appMaxConcurrency"])
    assert notes["dapr.io/max-body-size"] == common["maxBodySize"]
    assert container["ports"] == [{"name": "http", "containerPort": app["appPort"]}]
    for name, value in app.get("env", {}).items():
        assert {"name": name, "value": value} in container["env"], name
    # What every app is given; the values may differ (addresses on the cluster).
    for name in common.get("env", {}):
        assert name in {env["name"] for env in container["env"]}, name
    # The app listens on loopback, so each probe asks it from inside the container: with
    # bash's /dev/tcp (the Debian-based images) or busybox's wget (shipping's), at the
    # APP_PORT the kubelet puts in.
    port, path = app["appPort"], common["appHealthCheckPath"]
    assert {"name": "APP_PORT", "value": str(port)} in container["env"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        command = " ".join(container[probe]["exec"]["command"]).replace("$(APP_PORT)", str(port))
        assert f"http://127.0.0.1:{port}{path}" in command or (
            f"/dev/tcp/127.0.0.1/{port} " in command and f"GET {path} " in command
        ), probe
    service = named(rendered[overlay], "Service", app_id)
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    assert pod_spec(deployment)["serviceAccountName"] == app_id


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("app_id", list(apps()))
def test_every_app_is_hardened(
    overlay: str, app_id: str, rendered: dict[str, list[Object]]
) -> None:
    deployment = named(rendered[overlay], "Deployment", app_id)
    notes, spec = annotations(deployment), pod_spec(deployment)
    container = app_container(deployment)
    assert notes["dapr.io/app-token-secret"] == f"{app_id}-app-api-token"
    assert notes["dapr.io/api-token-secret"] == f"{app_id}-dapr-api-token"
    assert {
        "name": "DAPR_API_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": f"{app_id}-dapr-api-token", "key": "token"}},
    } in container["env"]
    assert notes["dapr.io/log-as-json"] == "true"
    # On SIGTERM the app outlives its sidecar's drain; the sidecar waits for it, then
    # shuts down within the grace period.
    app_stays = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    sidecar_waits = int(notes["dapr.io/block-shutdown-duration"].removesuffix("s"))
    shutdown = int(notes["dapr.io/graceful-shutdown-seconds"])
    assert app_stays < sidecar_waits
    assert sidecar_waits + shutdown <= spec["terminationGracePeriodSeconds"]
    assert notes["dapr.io/sidecar-seccomp-profile-type"] == "RuntimeDefault"
    for resource in ("cpu", "memory"):
        assert (
            notes[f"dapr.io/sidecar-{resource}-request"]
            and notes[f"dapr.io/sidecar-{resource}-limit"]
        )
        assert (
            container["resources"]["requests"][resource]
            and container["resources"]["limits"][resource]
        )
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in spec["volumes"]


def injector_annotations() -> set[str]:
    """Every dapr.io/ annotation the sidecar injector of the pinned Dapr reads."""
    source = (dapr_module_dir() / "pkg" / "injector" / "annotations" / "annotations.go").read_text()
    return set(re.findall(r'"(dapr\.io/[a-z0-9-]+)"', source))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_dapr_annotation_is_one_the_injector_reads(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    known = injector_annotations()
    for name, deployment in services(rendered[overlay]).items():
        unknown = {key for key in annotations(deployment) if key.startswith("dapr.io/")} - known
        assert not unknown, f"{name}: the injector ignores {sorted(unknown)}"


def without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key not in keys}


def cluster_resources(objects: list[Object], kind: str) -> dict[str, Object]:
    return {obj["metadata"]["name"]: obj for obj in of_kind(objects, kind)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_cluster_uses_the_local_components_with_its_own_secrets_and_namespace(
    overlay: str,
    rendered: dict[str, list[Object]],
) -> None:
    """k8s/base/dapr builds on components/ (all but the local secret store) and changes one
    thing: the secret store."""
    local = {
        c["metadata"]["name"]: c for c in local_resources("Component") if not c["spec"]["type"].startswith("secretstores.")
    }
    cluster = cluster_resources(rendered[overlay], "Component")
    assert set(cluster) == set(local)
    for name, component in cluster.items():
        here = local[name]
        assert here["auth"] == {"secretStore": LOCAL_SECRET_STORE}
        assert component["auth"] == {"secretStore": CLUSTER_SECRET_STORE}
        assert without(component, "metadata", "spec", "auth") == without(here, "metadata", "spec", "auth")
        assert without(component["spec"], "metadata") == without(here["spec"], "metadata")
        assert component["spec"]["metadata"] == here["spec"]["metadata"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_sidecar_finds_redis_where_the_components_look(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    """The components read Redis's address from the sidecar's environment, as locally."""
    variables = {m["envRef"] for c in local_resources("Component") for m in c["spec"]["metadata"] if m["name"] == "redisHost"}
    assert variables == {"REDIS_HOST"}
    redis = named(rendered[overlay], "Service", "redis")
    for app_id, deployment in services(rendered[overlay]).items():
        assert annotations(deployment)["dapr.io/env"] == f"REDIS_HOST=redis:{redis['spec']['ports'][0]['port']}", app_id


def spans_url(configuration: Object) -> str:
    """Where a Dapr Configuration sends the sidecars' spans."""
    return configuration["spec"]["tracing"]["zipkin"]["endpointAddress"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_configuration_is_the_local_one_with_access_control(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    (local,) = local_resources("Configuration")
    cluster = named(rendered[overlay], "Configuration", local["metadata"]["name"])
    # Alike but for where spans go (the cluster's tracing backend, not make run's Zipkin)
    # and which secret store the apps are denied.
    spans = spans_url(cluster)
    local_tracing = {**local["spec"]["tracing"], "zipkin": {"endpointAddress": spans}}
    assert without(cluster["spec"], "accessControl", "secrets") == {
        **without(local["spec"], "secrets"), "tracing": local_tracing
    }
    # The apps may read no secret: the sidecars resolve the components' references themselves.
    assert local["spec"]["secrets"] == {"scopes": [{"storeName": LOCAL_SECRET_STORE, "defaultAccess": "deny"}]}
    assert cluster["spec"]["secrets"] == {"scopes": [{"storeName": CLUSTER_SECRET_STORE, "defaultAccess": "deny"}]}
    # The saga runs on events alone: the one invocation allowed is the storefront's, which
    # passes a customer's order on and asks questions (apps/storefront/app.py).
    access = cluster["spec"]["accessControl"]
    assert without(access, "policies") == {"defaultAction": "deny", "trustDomain": "public"}
    (storefront,) = access["policies"]
    assert without(storefront, "operations") == {
        "appId": "storefront", "namespace": "eda-shop", "trustDomain": "public", "defaultAction": "deny",
    }
    assert [(op["name"], op["httpVerb"], op["action"]) for op in storefront["operations"]] == [
        ("/orders", ["POST", "GET"], "allow"), ("/stock", ["GET"], "allow"),
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_app_sends_its_spans_where_the_sidecars_do_and_may_reach_it(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    spans = spans_url(named(rendered[overlay], "Configuration", "eda-shop"))
    for app_id, deployment in services(rendered[overlay]).items():
        env = app_container(deployment)["env"]
        assert {"name": "OTEL_EXPORTER_ZIPKIN_ENDPOINT", "value": spans} in env, app_id
    backend = urlsplit(spans)
    namespace = str(backend.hostname).split(".")[1]  # service.namespace.svc.cluster.local
    policies = cluster_resources(rendered[overlay], "NetworkPolicy")
    assert {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}],
        "ports": [{"port": backend.port, "protocol": "TCP"}],
    } in policies["services-egress"]["spec"]["egress"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_all_but_the_flows_the_system_needs(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    policies = cluster_resources(rendered[overlay], "NetworkPolicy")
    assert set(policies) == {
        "default-deny", "services-egress", "redis-ingress",
        "storefront-invocation-egress", "storefront-invocation-ingress",
    }
    assert policies["default-deny"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    apps_selector = {"matchLabels": {"app.kubernetes.io/component": "service"}}
    (redis,) = pod_spec(named(rendered[overlay], "StatefulSet", "redis"))["containers"]
    redis_port = redis["ports"][0]["containerPort"]
    (from_apps,) = policies["redis-ingress"]["spec"]["ingress"]
    assert from_apps == {
        "from": [{"podSelector": apps_selector}],
        "ports": [{"port": redis_port, "protocol": "TCP"}],
    }
    egress = policies["services-egress"]["spec"]
    assert egress["podSelector"] == apps_selector
    assert {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}}}],
        "ports": [{"port": redis_port, "protocol": "TCP"}],
    } in egress["egress"]
    # The storefront's sidecar reaches the sidecars it invokes, on their internal gRPC port.
    invoked = {"matchExpressions": [
        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["orders", "inventory"]},
    ]}
    storefront = {"matchLabels": {"app.kubernetes.io/name": "storefront"}}
    internal_grpc = [{"port": 50002, "protocol": "TCP"}]
    calls_out = policies["storefront-invocation-egress"]["spec"]
    calls_in = policies["storefront-invocation-ingress"]["spec"]
    assert calls_out["podSelector"] == storefront
    assert calls_out["egress"] == [{"to": [{"podSelector": invoked}], "ports": internal_grpc}]
    assert calls_in["podSelector"] == invoked
    assert calls_in["ingress"] == [{"from": [{"podSelector": storefront}], "ports": internal_grpc}]
    # Each app reaches Redis only because its pods carry the label the policies select.
    for deployment in services(rendered[overlay]).values():
        assert (
            deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
            == "service"
        )


def consumers() -> set[str]:
    """Apps that a Subscription delivers events to."""
    return {app_id for s in local_resources("Subscription") for app_id in s["scopes"]}


def test_production_runs_three_replicas_of_every_consumer_with_a_budget_and_an_autoscaler(
    rendered: dict[str, list[Object]],
) -> None:
    objects = rendered["production"]
    assert consumers() <= set(services(objects))
    for app_id in consumers():
        replicas = named(objects, "Deployment", app_id)["spec"]["replicas"]
        assert replicas == 3
        budget = named(objects, "PodDisruptionBudget", app_id)["spec"]
        assert budget["selector"] == {"matchLabels": {"app.kubernetes.io/name": app_id}}
        assert 0 < budget["minAvailable"] < replicas
        autoscaler = named(objects, "HorizontalPodAutoscaler", app_id)["spec"]
        assert autoscaler["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": app_id,
        }
        assert autoscaler["minReplicas"] == replicas


def test_dev_runs_one_replica_of_everything_and_no_autoscaler(
    rendered: dict[str, list[Object]],
) -> None:
    objects = rendered["dev"]
    assert all(
        d["spec"]["replicas"] == 1
        for d in [*of_kind(objects, "Deployment"), *of_kind(objects, "StatefulSet")]
    )
    assert not of_kind(objects, "PodDisruptionBudget")
    assert not of_kind(objects, "HorizontalPodAutoscaler")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_redis_keeps_its_data_with_aof_behind_a_password(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    redis = named(rendered[overlay], "StatefulSet", "redis")
    (container,) = pod_spec(redis)["containers"]
    args = container["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    assert {
        "name": "REDIS_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "redis", "key": "password"}},
    } in container["env"]
    (claim,) = redis["spec"]["volumeClaimTemplates"]
    assert {
        "name": claim["metadata"]["name"],
        "mountPath": args[args.index("--dir") + 1],
    } in container["volumeMounts"]
