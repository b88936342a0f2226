"""The Kubernetes steps of docs/kubernetes.md that no test here can run (no container engine, no
Helm, no cluster) still name exactly what the project has: every app's image and
Dockerfile, every app in each loop, and Helm settings the pinned Dapr chart has."""

import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.k8s import readme
from tests.k8s.manifests import OVERLAYS, app_container, apps, named, of_kind, render
from tests.k8s.tools import ROOT, dapr_module_dir, env_file


def loop_over_apps(command: str) -> tuple[list[str], str]:
    """The app-ids the loop of the block that runs `command` goes over, as its own
    command substitution lists them from the repository's root, and the loop's body."""
    (header, body) = re.findall(
        r"^for app in \$\((.*)\); do\n(.*?)^done$", readme.block_with(command), re.MULTILINE | re.DOTALL
    )[0]
    listed = subprocess.run(["bash", "-c", header], cwd=ROOT, check=True, capture_output=True, text=True)
    return listed.stdout.split(), body


@pytest.mark.parametrize("command", ["docker build", "docker push", "create secret"])
def test_every_loop_of_the_readme_runs_over_every_app_of_dapr_yaml(command: str) -> None:
    listed, _ = loop_over_apps(command)
    assert listed == list(apps())


def test_the_readme_builds_and_loads_every_image_the_deployment_runs() -> None:
    base = render(ROOT / "k8s" / "base")
    images = {app_container(named(base, "Deployment", app_id))["image"] for app_id in apps()}
    _, body = loop_over_apps("docker build")
    assert images == {f"eda-shop/{app_id}:0.1.0" for app_id in apps()}
    assert 'docker build -f "apps/$app/Dockerfile" -t "eda-shop/$app:0.1.0" .' in body
    assert 'kind load docker-image "eda-shop/$app:0.1.0"' in body


def test_the_readme_waits_for_everything_it_deploys() -> None:
    waits = readme.commands("kubectl -n eda-shop rollout status")
    assert waits[0].endswith(" statefulset/redis")
    (selector,) = re.findall(r" deployment -l (\S+)=(\S+)$", waits[1])
    assert len(waits) == 2
    for overlay in OVERLAYS:
        workloads = render(ROOT / "k8s" / "overlays" / overlay)
        assert [obj["metadata"]["name"] for obj in of_kind(workloads, "StatefulSet")] == ["redis"]
        deployments = of_kind(workloads, "Deployment")
        assert sorted(d["metadata"]["name"] for d in deployments) == sorted(apps())
        assert all(d["metadata"]["labels"].get(selector[0]) == selector[1] for d in deployments)


def value(values: dict[str, Any], dotted: str) -> Any:
    for key in dotted.split("."):
        values = values[key]
    return values


def test_the_readme_installs_the_pinned_dapr_with_settings_its_chart_has() -> None:
    (install,) = [b for b in readme.blocks() if "helm upgrade --install dapr" in b]
    assert f"--version {env_file('versions.env')['DAPR_RUNTIME_VERSION']} " in install
    chart = dapr_module_dir() / "charts" / "dapr"
    settings = re.findall(r"--set (\S+)=(\S+)", install)
    assert settings
    for dotted, setting in settings:
        # A subchart's values live in its own values.yaml, under the subchart's name.
        top, _, rest = dotted.partition(".")
        subchart = chart / "charts" / top / "values.yaml"
        values, key = (
            (yaml.safe_load(subchart.read_text()), rest)
            if subchart.exists()
            else (yaml.safe_load((chart / "values.yaml").read_text()), dotted)
        )
        assert isinstance(value(values, key), bool) and setting in ("true", "false"), dotted


def test_make_cluster_deploys_by_the_readmes_steps_as_written() -> None:
    """tools/cluster.sh runs steps 3 and 4 word for word, and step 2 with every setting the
    docs/kubernetes.md gives (plus what a cluster without a registry needs)."""
    script = (ROOT / "tools" / "cluster.sh").read_text()
    steps = [
        "kubectl apply -f k8s/base/namespace.yaml",
        *readme.commands("kubectl -n eda-shop create secret"),
        "kubectl apply -k k8s/",
        *readme.commands("kubectl -n eda-shop rollout status"),
    ]
    for command in steps:
        assert command in script, command
    install = readme.block_with("helm upgrade --install dapr")
    for setting in re.findall(r"--set \S+=\S+", install):
        assert setting in script, setting
