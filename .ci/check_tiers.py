"""Fail unless every test of the tiers that run real sidecars or real tools was collected
and ran, none skipped.

Usage: check_tiers.py JUNIT_XML... (one report a pytest run: `make test`'s, `make
test-cluster`'s). The tiers' tests are collected afresh and compared with what the JUnit
reports say ran, so a module that silently stopped being collected, a
test deselected by options, or a skip all count as failures.
"""

import subprocess
import sys
from xml.etree import ElementTree

TIERS = ("tests/integration", "tests/reliability", "tests/browser", "tests/e2e", "tests/k8s", "tests/cluster")


def collected() -> set[str]:
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *TIERS],
        capture_output=True, text=True, check=True,
    ).stdout
    return {line for line in listing.splitlines() if "::" in line}


def ran(reports: list[str]) -> tuple[set[str], set[str]]:
    passed, skipped = set(), set()
    cases = (case for report in reports for case in ElementTree.parse(report).iter("testcase"))
    for case in cases:
        module = case.get("classname", "").replace(".", "/")
        node = f"{module}.py::{case.get('name')}"
        if not node.startswith(TIERS):
            continue
        (skipped if case.find("skipped") is not None else passed).add(node)
    return passed, skipped


def main(reports: list[str]) -> int:
    expected = collected()
    passed, skipped = ran(reports)
    missing = expected - passed - skipped
    for tier in TIERS:
        if not any(node.startswith(tier) for node in expected):
            print(f"tier check: no test collected in {tier}")
            return 1
    if skipped or missing:
        for node in sorted(skipped):
            print(f"tier check: skipped: {node}")
        for node in sorted(missing):
            print(f"tier check: did not run: {node}")
        return 1
    print(f"tier check: all {len(expected)} tests of {', '.join(TIERS)} ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
