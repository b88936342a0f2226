"""The policy scan: checkov over the rendered overlays and every Dockerfile, with no
finding left unexplained. Accepted ones live, with their reasons, in
k8s/policy-exceptions.yaml."""

import json
import subprocess
from pathlib import Path

import yaml

from tests.k8s.manifests import OVERLAYS, Object
from tests.k8s.tools import ROOT, checkov

EXCEPTIONS = ROOT / "k8s" / "policy-exceptions.yaml"


def scan(targets: dict[str, Path]) -> set[tuple[str, str]]:
    """(check id, target name) for every failed check; a target is a file checkov reads."""
    names = {str(path): name for name, path in targets.items()}
    # --skip-download: checkov would otherwise fetch guidelines from its vendor's service.
    argv = [checkov(), "--quiet", "--compact", "--output", "json", "--skip-download",
            "--framework", "kubernetes", "dockerfile"]
    for path in targets.values():
        argv += ["--file", str(path)]
    # Not tools.run: checkov exits 1 when it finds anything, and the findings are judged below.
    done = subprocess.run([str(a) for a in argv], check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1) and done.stdout, done.stderr
    reports = json.loads(done.stdout)
    found = set()
    for report in reports if isinstance(reports, list) else [reports]:
        for failed in report["results"]["failed_checks"]:
            found.add((failed["check_id"], names[failed["file_abs_path"]]))
    return found


def test_every_finding_is_an_accepted_exception_and_every_exception_still_needed(
    rendered: dict[str, list[Object]],
    tmp_path: Path,
) -> None:
    targets: dict[str, Path] = {}
    for overlay in OVERLAYS:
        targets[overlay] = tmp_path / f"{overlay}.yaml"
        targets[overlay].write_text(yaml.safe_dump_all(rendered[overlay]))
    for dockerfile in sorted((ROOT / "apps").glob("*/Dockerfile")):
        targets[f"Dockerfile {dockerfile.parent.name}"] = dockerfile
    accepted = set()
    for entry in yaml.safe_load(EXCEPTIONS.read_text()):
        assert entry["reason"].strip(), f"{entry['check']} needs a reason"
        for where in entry["in"]:
            accepted |= {(entry["check"], name) for name in targets if name.split()[0] == where}
    found = scan(targets)
    assert found - accepted == set(), "findings without an exception"
    assert accepted - found == set(), "exceptions that match no finding any more"
