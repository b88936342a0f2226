"""The images: one Dockerfile per app, linted by hadolint, starting the app the way
dapr.yaml does, and holding everything the app imports and nothing it does not.

No container engine runs here, so the last test rebuilds the image's contents by hand:
a virtual environment from the runtime lock with the Dockerfile's own pip flags, and
only the folders the Dockerfile copies."""

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.k8s.manifests import apps
from tests.k8s.tools import ROOT, run, venv_tool

DOCKERFILES = sorted((ROOT / "apps").glob("*/Dockerfile"))
PYTHON_APPS = [app_id for app_id in apps() if (ROOT / "apps" / app_id / "app.py").is_file()]
PIP_FLAGS = ["--require-hashes", "--no-deps", "-r"]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    lines = [
        line for line in dockerfile.read_text().splitlines() if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    parsed = [tuple(line.split(None, 1)) for line in joined.splitlines() if line.strip()]
    last_from = max(i for i, (op, _) in enumerate(parsed) if op == "FROM")
    return [(op.upper(), args) for op, args in parsed[last_from:]]


def instruction(dockerfile: Path, name: str) -> str:
    (args,) = [args for op, args in instructions(dockerfile) if op == name]
    return args


def test_every_app_has_a_dockerfile() -> None:
    assert [path.parent.name for path in DOCKERFILES] == sorted(apps())


def test_the_dockerfiles_pass_hadolint() -> None:
    run([venv_tool("hadolint"), "--no-color", *DOCKERFILES])


def test_hadolint_fails_an_unpinned_base(tmp_path: Path) -> None:
    """The lint has teeth: an untagged base image is a finding."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM python\nCMD ["python"]\n')
    hadolint = [venv_tool("hadolint"), "--no-color", dockerfile]
    lint = subprocess.run(hadolint, capture_output=True, text=True)
    assert lint.returncode != 0 and "DL3006" in lint.stdout


def test_the_python_dockerfiles_have_one_shape() -> None:
    """Each Python app's Dockerfile is the first one with its own name and port."""
    shapes = {
        app_id: (ROOT / "apps" / app_id / "Dockerfile")
        .read_text()
        .replace(app_id, "APP")
        .replace(str(apps()[app_id]["appPort"]), "PORT")
        for app_id in PYTHON_APPS
    }
    first = shapes[PYTHON_APPS[0]]
    assert all(shape == first for shape in shapes.values())


@pytest.mark.parametrize("app_id", PYTHON_APPS)
def test_the_image_starts_the_app_as_dapr_yaml_does(app_id: str) -> None:
    dockerfile = ROOT / "apps" / app_id / "Dockerfile"
    local = list(apps()[app_id]["command"])
    image = json.loads(instruction(dockerfile, "ENTRYPOINT"))
    # Only where the code lives and which interface it listens on differ.
    for flag, value in (("--app-dir", "/app"), ("--host", "0.0.0.0")):
        local[local.index(flag) + 1] = value
    assert image == local
    assert instruction(dockerfile, "EXPOSE") == str(apps()[app_id]["appPort"])
    user, _, group = instruction(dockerfile, "USER").partition(":")
    assert int(user) >= 10000 and int(group) >= 10000
    bases = re.findall(r"^FROM (\S+)", dockerfile.read_text(), re.MULTILINE)
    assert len(set(bases)) == 1 and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", bases[0])
    assert " ".join(PIP_FLAGS) + " /tmp/requirements.lock" in dockerfile.read_text()


@pytest.fixture(scope="session")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment with the runtime lock alone, installed as the images do."""
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *PIP_FLAGS, ROOT / "requirements.lock"])
    yield venv


def image_tree(dockerfile: Path, root: Path) -> Path:
    """The final stage's WORKDIR with what its COPY instructions put there."""
    workdir = root / instruction(dockerfile, "WORKDIR").lstrip("/")
    for op, args in instructions(dockerfile):
        if op == "COPY" and not args.startswith("--from"):
            source, target = args.split()
            shutil.copytree(
                ROOT / source,
                workdir / target,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "Dockerfile"),
            )
    return workdir


@pytest.mark.parametrize("app_id", PYTHON_APPS)
def test_the_image_holds_what_the_app_imports(
    app_id: str, runtime_venv: Path, tmp_path: Path
) -> None:
    dockerfile = ROOT / "apps" / app_id / "Dockerfile"
    app_dir = image_tree(dockerfile, tmp_path)
    entrypoint = json.loads(instruction(dockerfile, "ENTRYPOINT"))
    module, factory = entrypoint[entrypoint.index("--factory") + 1].split(":")
    # -I: nothing from this checkout or the environment on the path, only --app-dir.
    build = f"import sys; sys.path.insert(0, {str(app_dir)!r}); import {module} as m; m.{factory}()"
    run([runtime_venv / "bin" / "python", "-I", "-c", build], cwd=tmp_path)


def test_the_build_context_leaves_out_everything_but_the_lock_and_the_apps() -> None:
    rules = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert rules[:3] == ["*", "!requirements.lock", "!apps/"]
