"""The images: one Dockerfile per app, linted by hadolint, each starting its app with
the very command dapr.yaml gives it, in a folder laid out as apps/ is.

No container engine runs here, so the last tests rebuild each image's contents by hand
from its Dockerfile (what its COPY instructions copy, and its dependencies installed
with the Dockerfile's own flags) and start the app from them."""

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.k8s.api_server import free_port
from tests.k8s.manifests import apps
from tests.k8s.tools import ROOT, run, venv_tool
from tests.support.processes import Process

DOCKERFILES = sorted((ROOT / "apps").glob("*/Dockerfile"))
# Which runtime an app is on, told by the file that declares its dependencies.
PYTHON_APPS = [app_id for app_id in apps() if (ROOT / "apps" / app_id / "app.py").is_file()]
GO_APPS = [app_id for app_id in apps() if (ROOT / "apps" / app_id / "go.mod").is_file()]
NODE_APPS = [app_id for app_id in apps() if (ROOT / "apps" / app_id / "package.json").is_file()]
PIP_FLAGS = ["--require-hashes", "--no-deps", "-r"]
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "Dockerfile", "node_modules", "bin")


def dockerfile(app_id: str) -> Path:
    return ROOT / "apps" / app_id / "Dockerfile"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    parsed = [tuple(line.split(None, 1)) for line in joined.splitlines() if line.strip()]
    last_from = max(i for i, (op, _) in enumerate(parsed) if op == "FROM")
    return [(op.upper(), args) for op, args in parsed[last_from:]]


def instruction(path: Path, name: str) -> str:
    (args,) = [args for op, args in instructions(path) if op == name]
    return args


def test_every_app_has_a_dockerfile() -> None:
    assert [path.parent.name for path in DOCKERFILES] == sorted(apps())
    assert sorted(PYTHON_APPS + GO_APPS + NODE_APPS) == sorted(apps())


def test_the_dockerfiles_pass_hadolint() -> None:
    run([venv_tool("hadolint"), "--no-color", *DOCKERFILES])


def test_hadolint_fails_an_unpinned_base(tmp_path: Path) -> None:
    """The lint has teeth: an untagged base image is a finding."""
    path = tmp_path / "Dockerfile"
    path.write_text('FROM python\nCMD ["python"]\n')
    hadolint = [venv_tool("hadolint"), "--no-color", path]
    lint = subprocess.run(hadolint, check=False, capture_output=True, text=True)
    assert lint.returncode != 0 and "DL3006" in lint.stdout


def test_the_python_dockerfiles_have_one_shape() -> None:
    """Each Python app's Dockerfile is the first one with its own name and port."""
    shapes = [
        dockerfile(app_id).read_text()
        .replace(app_id, "APP").replace(str(apps()[app_id]["appPort"]), "PORT")
        for app_id in PYTHON_APPS
    ]
    assert all(shape == shapes[0] for shape in shapes)
    assert " ".join(PIP_FLAGS) + " /tmp/requirements.lock" in shapes[0]


@pytest.mark.parametrize("app_id", list(apps()))
def test_the_image_starts_the_app_as_dapr_yaml_does(app_id: str) -> None:
    path, app = dockerfile(app_id), apps()[app_id]
    assert json.loads(instruction(path, "ENTRYPOINT")) == app["command"]
    assert instruction(path, "WORKDIR") == f"/app/{Path(app['appDirPath']).name}"
    assert instruction(path, "EXPOSE") == str(app["appPort"])
    user, _, group = instruction(path, "USER").partition(":")
    assert int(user) >= 10000 and int(group) >= 10000
    text = path.read_text()
    # A base may be a build argument (tools/images.sh passes local ones): its default counts.
    defaults = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.MULTILINE))
    for base in re.findall(r"^FROM (\S+)", text, re.MULTILINE):
        base = re.sub(r"\$\{(\w+)\}", lambda arg: defaults.get(arg[1], arg[0]), base)
        assert re.fullmatch(r"[a-z]+:\d+\.\d+\.\d+(-[a-z0-9-]+)?", base), f"pin {base} to a release"


def image_tree(path: Path, root: Path) -> Path:
    """What the final stage's COPY instructions put in the image, under `root`; its
    WORKDIR there. Files from earlier stages are the caller's to add."""
    for op, args in instructions(path):
        if op == "COPY" and not args.startswith("--from"):
            source, target = args.split()
            destination = root / target.lstrip("/")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, destination, ignore=IGNORED)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / source, destination)
    workdir = root / instruction(path, "WORKDIR").lstrip("/")
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def serve_health(argv: list[str | Path], workdir: Path, logs: Path) -> None:
    """Start the image's entrypoint on a free port; it must answer /healthz with 200."""
    port = free_port()
    # No sidecar: the app only has to come up, not reach one.
    env = {"APP_PORT": str(port), "DAPR_HTTP_PORT": "1"}
    app = Process("image-app", argv, logs, env=env, cwd=workdir)
    try:
        app.wait_ready(lambda: healthy(f"http://127.0.0.1:{port}/healthz"), timeout=30)
    finally:
        app.stop()


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment with the runtime lock alone, installed as the images do."""
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *PIP_FLAGS, ROOT / "requirements.lock"])
    yield venv


@pytest.mark.parametrize("app_id", PYTHON_APPS)
def test_the_python_image_holds_what_the_app_imports(
    app_id: str, runtime_venv: Path, tmp_path: Path
) -> None:
    path = dockerfile(app_id)
    workdir = image_tree(path, tmp_path)
    entrypoint = json.loads(instruction(path, "ENTRYPOINT"))
    app_dir = (workdir / entrypoint[entrypoint.index("--app-dir") + 1]).resolve()
    module, factory = entrypoint[entrypoint.index("--factory") + 1].split(":")
    # -I: nothing from this checkout or the environment on the path, only --app-dir.
    # (uvicorn itself would wait for the sidecar before it listens.)
    build = f"import sys; sys.path.insert(0, {str(app_dir)!r}); import {module} as m; m.{factory}()"
    run([runtime_venv / "bin" / "python", "-I", "-c", build], cwd=workdir)


@pytest.mark.parametrize("app_id", GO_APPS)
def test_the_go_image_builds_and_serves(app_id: str, tmp_path: Path) -> None:
    path = dockerfile(app_id)
    build = 'CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/'
    assert build in path.read_text()
    source = tmp_path / "src"
    shutil.copytree(ROOT / "apps" / app_id, source, ignore=IGNORED)
    workdir = image_tree(path, tmp_path / "image")
    binary = workdir / json.loads(instruction(path, "ENTRYPOINT"))[0]
    binary.parent.mkdir(parents=True, exist_ok=True)
    run(["go", "mod", "verify"], cwd=source)
    run(["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binary, "."], cwd=source,
        env={"CGO_ENABLED": "0"})
    serve_health([binary], workdir, tmp_path)


@pytest.mark.parametrize("app_id", NODE_APPS)
def test_the_node_image_starts_and_serves(app_id: str, tmp_path: Path) -> None:
    path = dockerfile(app_id)
    install = "npm ci --omit=dev --ignore-scripts --no-audit --no-fund"
    assert install in path.read_text()
    workdir = image_tree(path, tmp_path)
    # Stage 1, in the folder it installs into (the same path as the WORKDIR).
    shutil.copyfile(ROOT / "apps" / app_id / "package-lock.json", workdir / "package-lock.json")
    run(install.split(), cwd=workdir)
    serve_health(json.loads(instruction(path, "ENTRYPOINT")), workdir, tmp_path)


def test_the_build_context_leaves_out_everything_but_the_lock_and_the_apps() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[:3] == ["*", "!requirements.lock", "!apps/"]
