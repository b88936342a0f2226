"""k8s/base/network-policies.yaml, enforced (kube-router's controller, on `make cluster`): a
pod outside the allowed set reaches neither Redis nor an app's pod, though it reaches what
no policy guards. The flows the policies allow carry the saga in the other tests."""

import json
from uuid import uuid4

import yaml

from tests.cluster.shop import NAMESPACE, kubectl, pods

OUTSIDER_NAMESPACE = "eda-shop-outsider"
# Tries each host:port once, for 3 s, and prints which answered.
PROBE = """
import json, socket, sys
def answers(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        return True
    except OSError:
        return False
print(json.dumps({target: answers(target) for target in sys.argv[1:]}))
"""


def reachable(*targets: str) -> dict[str, bool]:
    """What a pod of another namespace, with no policy of its own, can connect to."""
    name = f"probe-{uuid4().hex[:8]}"
    restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": OUTSIDER_NAMESPACE},
        "spec": {
            "restartPolicy": "Never", "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "probe", "image": "eda-shop/orders:0.1.0", "imagePullPolicy": "Never",
                "command": ["python", "-c", PROBE, *targets], "securityContext": restricted,
            }],
        },
    }
    kubectl("create", "namespace", OUTSIDER_NAMESPACE)
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(pod))
    try:
        kubectl(
            "-n", OUTSIDER_NAMESPACE, "wait", f"pod/{name}", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s",
            timeout=120,
        )
        return json.loads(kubectl("-n", OUTSIDER_NAMESPACE, "logs", name))
    finally:
        kubectl("delete", "namespace", OUTSIDER_NAMESPACE, "--wait=false")


def cluster_ip(namespace: str, service: str) -> str:
    return kubectl("-n", namespace, "get", "service", service, "-o", "jsonpath={.spec.clusterIP}")


def test_a_pod_outside_the_allowed_set_reaches_neither_redis_nor_an_app() -> None:
    dns = f"{cluster_ip('kube-system', 'kube-dns')}:53"
    redis = f"{cluster_ip(NAMESPACE, 'redis')}:6379"
    orders_pod = kubectl("-n", NAMESPACE, "get", "pod", pods("orders")[0], "-o", "jsonpath={.status.podIP}")
    # The orders sidecar's internal gRPC port: open to the storefront's sidecar alone.
    orders = f"{orders_pod}:50002"

    assert reachable(dns, redis, orders) == {dns: True, redis: False, orders: False}
