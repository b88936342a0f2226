"""Black holes on loopback: every TCP packet to or from some of the test's own ports is
dropped, not refused, so open connections hang and new ones never connect; timeouts
decide, as when Dapr's certification tests cut the network.

The rules live in a chain of our own, jumped to from INPUT for loopback only (a packet
between two local processes, either way, enters through INPUT on lo), and go however
the block ends. No other rule is touched, and iptables -w waits its turn for the lock
that others (tools/cluster.sh, kube-proxy) take too.
"""

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from tests.support.sidecars import require_tool

INSTALL = "sudo apt-get install -y iptables"  # tools/setup.sh --for-tests and --for-chaos do


def require_iptables() -> None:
    """Fail now, not in the middle of a run, where black holes cannot be made: no
    iptables, or no right to change its rules (it takes root)."""
    require_tool("iptables", INSTALL)
    _iptables("-S", "INPUT")


@contextmanager
def black_hole(ports: Sequence[int]) -> Iterator[None]:
    """Inside the block, every TCP packet on loopback to or from `ports` is dropped."""
    chain = _chain(ports[0])
    _remove(chain)  # left by a run of ours that was killed inside its hole
    try:
        _iptables("-N", chain)
        for port in ports:
            for direction in ("--dport", "--sport"):
                _iptables("-A", chain, "-p", "tcp", direction, str(port), "-j", "DROP")
        _iptables("-I", "INPUT", "1", "-i", "lo", "-j", chain)
        yield
    finally:
        _remove(chain)


def is_open(first_port: int) -> bool:
    """Whether the black hole whose first port is `first_port` is there."""
    return _iptables("-S", _chain(first_port), check=False).returncode == 0


def _chain(first_port: int) -> str:
    return f"EDA-SHOP-BLACKHOLE-{first_port}"


def _remove(chain: str) -> None:
    """The jump to `chain` and the chain itself, if there."""
    if _iptables("-S", chain, check=False).returncode != 0:
        return
    while _iptables("-C", "INPUT", "-i", "lo", "-j", chain, check=False).returncode == 0:
        _iptables("-D", "INPUT", "-i", "lo", "-j", chain)
    _iptables("-F", chain)
    _iptables("-X", chain)


def _iptables(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["iptables", "-w", *arguments], check=False, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"iptables {' '.join(arguments)} failed: {done.stderr.strip()} "
                           f"(black holes need root and iptables: `{INSTALL}`)")
    return done
