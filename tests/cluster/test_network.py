"""The cluster keeps to the machine: its daemons listen on loopback or on its own bridge,
and nothing is forwarded between that bridge and any other interface."""

import re
import subprocess

BRIDGE, NODE_IP = "eda-shop0", "10.217.0.1"  # tools/cluster.sh
# The daemons tools/cluster.sh starts, as `ss` names them (cut at 15 characters).
DAEMONS = {
    "containerd", "etcd", "kube-apiserver", "kube-controller", "kube-scheduler", "kubelet", "kube-proxy",
    "kube-router",
}
LISTENER = re.compile(r'^\S+\s+\S+\s+\d+\s+\d+\s+(\S+):\d+\s+\S+\s+users:\(\("([^"]+)"')


def host_command(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout


def test_the_daemons_listen_on_loopback_or_the_bridge_only() -> None:
    listening = [LISTENER.match(line) for line in host_command("ss", "-Hltunp").splitlines()]
    addresses = {(m.group(2), m.group(1)) for m in listening if m and m.group(2) in DAEMONS}
    assert {"etcd", "kube-apiserver", "kubelet", "kube-proxy"} <= {name for name, _ in addresses}
    assert {(name, address) for name, address in addresses if address not in {"127.0.0.1", "[::1]", NODE_IP}} == set()


def test_nothing_is_forwarded_between_the_bridge_and_another_interface() -> None:
    # kube-proxy's rules before it accept only what it marked for a Service, or what is
    # already established: every new connection off the bridge meets these.
    assert "-A FORWARD -j EDA-SHOP-ISOLATION" in host_command("iptables", "-w", "-S", "FORWARD").splitlines()
    assert host_command("iptables", "-w", "-S", "EDA-SHOP-ISOLATION").splitlines()[1:] == [
        f"-A EDA-SHOP-ISOLATION -i {BRIDGE} -o {BRIDGE} -j RETURN",
        f"-A EDA-SHOP-ISOLATION -i {BRIDGE} -j DROP",
        f"-A EDA-SHOP-ISOLATION -o {BRIDGE} -j DROP",
    ]
