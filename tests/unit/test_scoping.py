"""Who may publish and hear each topic, and where Redis's password comes from, as the
YAML says it: topic scopes that follow the contract's owners, every component but the
secret store (which every sidecar needs) scoped, every Redis component reading its
password from a secret store, and no password written in any file git keeps."""

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.names import PUBSUB, Topic
from storefront.app import create_app as create_storefront
from tests.support.scopes import scopes
from tests.support.subscriptions import served
from tests.support.system import APP_IDS
from tests.support.variants import VARIANTS, variant_components

ROOT = Path(__file__).resolve().parents[2]
# The operator console replays a dead letter to the topic it came from.
REPLAYER = "storefront"
# Every component file: local and the variants (each as laid over its default). The cluster
# uses the same files with its own secret store and namespace (tests/k8s/test_consistency.py).
COMPONENT_FILES = sorted(ROOT.glob("components/**/*.yaml"))
TEXT_SUFFIXES = {".yaml", ".yml", ".sh", ".py", ".js", ".go", ".env", ".json", ".conf", ".md", ""}
SECRET_REF = {"secretKeyRef": {"name": "redis", "key": "password"}}


def documents(path: Path) -> list[dict[str, Any]]:
    if path.is_relative_to(VARIANTS):
        return variant_components(path)
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def components(paths: list[Path] = COMPONENT_FILES) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in paths for doc in documents(path) if doc["kind"] == "Component"]


def metadata(component: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in component["spec"]["metadata"]}


def contract() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "apps" / "contracts" / "asyncapi.yaml").read_text())


def operations(action: str) -> dict[str, set[str]]:
    """The contract's operations of one action: app -> the topics it sends or receives."""
    found: dict[str, set[str]] = {}
    for name, operation in contract()["operations"].items():
        if operation["action"] == action:
            channel = operation["channel"]["$ref"].rsplit("/", 1)[1]
            found.setdefault(name.split(".")[0], set()).add(contract()["channels"][channel]["address"])
    return found


def declared_subscriptions() -> dict[str, set[str]]:
    """What each app subscribes to: the Subscription YAML, shipping's own (in code, which
    the contract describes) and the storefront's (in code, served at GET /dapr/subscribe)."""
    storefront = served(create_storefront())
    found: dict[str, set[str]] = {
        "shipping": operations("receive")["shipping"],
        "storefront": {subscription["topic"] for subscription in storefront},
    }
    for document in documents(ROOT / "components" / "subscriptions.yaml"):
        for app in document["scopes"]:
            found.setdefault(app, set()).add(document["spec"]["topic"])
    return found


def pubsubs() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, c) for path, c in components() if c["metadata"]["name"] == PUBSUB]


def label(item: tuple[Path, dict[str, Any]]) -> str:
    return f"{item[0].relative_to(ROOT)}:{item[1]['metadata']['name']}"


@pytest.mark.parametrize(("path", "component"), pubsubs(), ids=map(label, pubsubs()))
def test_only_a_topics_owner_publishes_it_and_the_storefront_replays_to_it(path: Path, component: dict[str, Any]) -> None:
    publishing = scopes(component, "publishingScopes")
    owners = operations("send")
    subscribers = set(declared_subscriptions())
    assert set(publishing) == set(APP_IDS) == set(component["scopes"])
    for app in APP_IDS:
        announced = owners.get(app, set())
        replayed = set(Topic) - {Topic.DEAD_LETTERS} if app == REPLAYER else set()
        dead_lettered = {Topic.DEAD_LETTERS} if app in subscribers else set()
        assert publishing[app] == announced | replayed | dead_lettered, app
    for topic in set(Topic) - {Topic.DEAD_LETTERS}:
        (owner,) = [app for app, topics in owners.items() if topic in topics]
        assert {app for app, topics in publishing.items() if topic in topics} == {owner, REPLAYER}


@pytest.mark.parametrize(("path", "component"), pubsubs(), ids=map(label, pubsubs()))
def test_an_app_hears_only_the_topics_it_subscribes_to(path: Path, component: dict[str, Any]) -> None:
    subscribed = declared_subscriptions()
    assert scopes(component, "subscriptionScopes") == subscribed
    for app, topics in operations("receive").items():
        assert topics == subscribed[app], app


@pytest.mark.parametrize(("path", "component"), components(), ids=map(label, components()))
def test_every_component_is_scoped_and_every_redis_one_reads_its_password_from_a_secret_store(
    path: Path, component: dict[str, Any]
) -> None:
    if component["spec"]["type"].startswith("secretstores."):
        return  # every app's components read it (the next test)
    assert component["scopes"], "a component without scopes is loaded by every app"
    if not component["spec"]["type"].endswith(".redis"):
        return
    assert metadata(component)["redisPassword"] == {"name": "redisPassword", **SECRET_REF}
    assert component["auth"] == {"secretStore": "local-secrets"}


def test_the_local_secret_store_reads_a_file_named_by_the_environment() -> None:
    ((_, store),) = [(p, c) for p, c in components() if c["spec"]["type"].startswith("secretstores.")]
    assert store["metadata"]["name"] == "local-secrets"
    assert metadata(store)["secretsFile"] == {"name": "secretsFile", "envRef": "SECRETS_FILE"}
    assert metadata(store)["multiValued"]["value"] == "true"  # {"redis": {"password": ...}}
    assert "scopes" not in store  # loaded by every sidecar, the apps denied its API (the next test)


def test_the_apps_may_not_read_secrets() -> None:
    config = yaml.safe_load((ROOT / "dapr-config" / "config.yaml").read_text())
    assert config["spec"]["secrets"]["scopes"] == [{"storeName": "local-secrets", "defaultAccess": "deny"}]


def test_no_password_is_written_in_any_file_git_keeps() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    texts = [ROOT / name for name in tracked.splitlines() if Path(name).suffix in TEXT_SUFFIXES]
    for path in texts:
        # Redis is handed its password by reference (a variable or a placeholder), never spelled out.
        for value in re.findall(r"requirepass\s+(?:-\s+)?(\S+)", path.read_text(errors="replace")):
            assert value.startswith(("$", '"$', "{")), f"{path}: requirepass {value}"
    for path, component in components():
        for item in component["spec"]["metadata"]:
            if "password" in item["name"].lower() or item["name"] == "connectionString":
                assert "value" not in item, f"{path}: {item['name']}"
    assert ".run/" in (ROOT / ".gitignore").read_text().splitlines()  # make run's secrets.json


def test_make_run_serves_the_dapr_api_on_loopback_only() -> None:
    run = yaml.safe_load((ROOT / "dapr.yaml").read_text())
    assert run["common"]["apiListenAddresses"] == "127.0.0.1"
