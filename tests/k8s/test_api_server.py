"""The deployment on a real API server (kube-apiserver and etcd at the pinned release,
started privately on loopback): the Dapr CRDs installed from the pinned Dapr, the
docs/kubernetes.md's namespace and secrets created as written, and each of docs/kubernetes.md's
`kubectl apply -k` run as a server-side dry run, through validation and admission
(Pod Security at the namespace's `restricted` level) without a warning; and each app's
pod, with the sidecar that the pinned Dapr's injector adds when installed as docs/kubernetes.md
says, admitted too."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.k8s import readme
from tests.k8s.api_server import ApiServer, api_server, install_crds
from tests.k8s.manifests import (
    NAMESPACE,
    OVERLAYS,
    Object,
    annotations,
    app_container,
    documents,
    named,
    of_kind,
    pod_spec,
    render,
)
from tests.k8s.tools import ROOT, binary, dapr_module_dir, run


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The private API server with the Dapr CRDs and docs/kubernetes.md's step 3 done."""
    workdir, logs = tmp_path_factory.mktemp("apiserver"), tmp_path_factory.mktemp("logs")
    with api_server(workdir, logs) as server:
        install_crds(server, dapr_module_dir() / "charts" / "dapr" / "crds")
        run(["bash", "-euo", "pipefail", "-c", readme.block_with("create secret")], env=server.env)
        yield server


def secrets_used(objects: list[Object]) -> set[tuple[str, str]]:
    """(secret, key) for every Secret the objects read, directly or through Dapr."""
    used = set()
    for workload in [*of_kind(objects, "Deployment"), *of_kind(objects, "StatefulSet")]:
        for container in pod_spec(workload)["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    used.add((ref["name"], ref["key"]))
        notes = annotations(workload)
        # The injector reads key `token` of the Secrets these two annotations name.
        tokens = ("dapr.io/app-token-secret", "dapr.io/api-token-secret")
        used |= {(notes[token], "token") for token in tokens if token in notes}
    for component in of_kind(objects, "Component"):
        refs = [m["secretKeyRef"] for m in component["spec"]["metadata"] if "secretKeyRef" in m]
        used |= {(ref["name"], ref["key"]) for ref in refs}
    return used


def test_the_readme_creates_every_secret_the_deployment_reads(cluster: ApiServer) -> None:
    listed = cluster.kubectl("-n", NAMESPACE, "get", "secrets", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    secrets = json.loads(listed.stdout)["items"]
    created = {(secret["metadata"]["name"], key) for secret in secrets for key in secret["data"]}
    for overlay in OVERLAYS:
        assert secrets_used(render(ROOT / "k8s" / "overlays" / overlay)) == created


APPLY = readme.commands("kubectl apply -k")


def test_the_readme_applies_both_overlays() -> None:
    assert APPLY == ["kubectl apply -k k8s/", "kubectl apply -k k8s/overlays/production"]


@pytest.mark.parametrize("command", APPLY)
def test_the_api_server_accepts_every_object_without_a_warning(
    command: str, cluster: ApiServer
) -> None:
    path = command.split()[-1]
    done = run(["bash", "-euo", "pipefail", "-c", f"{command} --dry-run=server"], env=cluster.env)
    assert "Warning" not in done.stderr, done.stderr
    accepted = [line for line in done.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(accepted) == len(render(ROOT / path)), done.stdout


def test_admission_warns_about_a_pod_that_is_not_hardened(cluster: ApiServer) -> None:
    """The check above has teeth: Pod Security does look at the pods of this namespace."""
    deployment = named(render(ROOT / "k8s"), "Deployment", "orders")
    del app_container(deployment)["securityContext"]
    done = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(deployment))
    assert done.returncode == 0, done.stderr
    assert 'would violate PodSecurity "restricted' in done.stderr


def test_the_api_server_refuses_a_field_a_dapr_crd_does_not_know(cluster: ApiServer) -> None:
    """And the Dapr resources are checked field by field, not pruned in silence."""
    (component,) = documents((ROOT / "components" / "pubsub.yaml").read_text())
    component["metadata"]["namespace"] = NAMESPACE
    component["scope"] = component.pop("scopes")
    done = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=yaml.safe_dump(component))
    assert done.returncode != 0 and 'unknown field "scope"' in done.stderr


# The values of the Dapr chart's injector that shape the sidecar it adds to a pod.
SIDECAR_VALUES = (
    "sidecarRunAsNonRoot", "sidecarReadOnlyRootFilesystem", "sidecarDropALLCapabilities",
    "nativeSidecar", "sidecarImagePullPolicy",
)


def injector_values() -> dict[str, Any]:
    """The injector's Helm values as docs/kubernetes.md installs it: the pinned chart's defaults
    with docs/kubernetes.md's `--set dapr_sidecar_injector.*` on top."""
    chart = dapr_module_dir() / "charts" / "dapr" / "charts" / "dapr_sidecar_injector"
    values = yaml.safe_load((chart / "values.yaml").read_text())
    install = readme.block_with("helm upgrade --install dapr")
    for key, value in re.findall(r"--set dapr_sidecar_injector\.(\w+)=(\S+)", install):
        values[key] = yaml.safe_load(value)
    return values


def flag_value(value: Any) -> str:
    """A Helm value as a Go flag takes it: booleans in lower case, strings as they are."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def with_sidecar(deployment: Object, values: dict[str, Any]) -> str:
    """One pod of the Deployment, as the pinned Dapr's injector would let it through."""
    template = deployment["spec"]["template"]
    name = deployment["metadata"]["name"]
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {**template["metadata"], "name": f"{name}-0", "namespace": NAMESPACE},
        "spec": template["spec"],
    }
    flags = [f"-{key}={flag_value(values[key])}" for key in SIDECAR_VALUES]
    return run([binary("dapr-sidecar-injector"), *flags], stdin=json.dumps(pod)).stdout


def create_service_accounts(cluster: ApiServer, objects: list[Object]) -> None:
    """For real, not as a dry run: admission refuses a pod whose ServiceAccount is missing."""
    accounts = yaml.safe_dump_all(of_kind(objects, "ServiceAccount"))
    done = cluster.kubectl("apply", "-f", "-", stdin=accounts)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_with_its_sidecar_passes_admission(overlay: str, cluster: ApiServer) -> None:
    objects = render(ROOT / "k8s" / "overlays" / overlay)
    create_service_accounts(cluster, objects)
    for deployment in of_kind(objects, "Deployment"):
        pod = with_sidecar(deployment, injector_values())
        assert '"name":"daprd"' in pod
        done = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=pod)
        assert done.returncode == 0 and "Warning" not in done.stderr, done.stderr


def test_without_the_readmes_injector_setting_the_sidecar_is_refused(cluster: ApiServer) -> None:
    """Why docs/kubernetes.md sets sidecarDropALLCapabilities: the chart's default is refused."""
    objects = render(ROOT / "k8s")
    create_service_accounts(cluster, objects)
    values = {**injector_values(), "sidecarDropALLCapabilities": False}
    pod = with_sidecar(named(objects, "Deployment", "orders"), values)
    done = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=pod)
    assert done.returncode != 0
    assert 'container "daprd" must set securityContext.capabilities.drop=["ALL"]' in done.stderr
