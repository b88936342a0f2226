"""The YAML, the contract and the code must name the same things; so must the pins."""

import re
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.routing import APIRoute

from common.apps import MAX_BODY_BYTES
from contracts.names import FACT_TOPICS, PUBSUB, EventType, Topic
from tests.support.sidecars import (
    APP_MAX_CONCURRENCY,
    HEALTH_PROBE_INTERVAL_S,
    HEALTH_PROBE_TIMEOUT_MS,
    HEALTH_THRESHOLD,
    MAX_BODY_SIZE,
    PYTHON_APPS,
    RUN,
    app_command,
)
from tests.support.subscriptions import served

ROOT = Path(__file__).resolve().parents[2]
# The Python apps by their factory, `<app-id>.app:create_app`.
APPS = {app_id: import_module(f"{app_id}.app").create_app for app_id in PYTHON_APPS}
POLYGLOT_APPS = [a["appID"] for a in RUN["apps"] if a["appID"] not in APPS]  # their own tests check their routes
# Each app has a state store of its own, named after it.
STORES = {f"{a['appID']}-store": a["appID"] for a in RUN["apps"]}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def resources(kind: str) -> list[dict[str, Any]]:
    found = [doc for path in (ROOT / "components").glob("*.yaml") for doc in documents(path)]
    return [doc for doc in found if doc["kind"] == kind]


def in_code(app_id: str) -> list[dict[str, Any]]:
    return served(APPS[app_id]())


def event_routes(app_id: str) -> set[str]:
    app = APPS[app_id]()
    return {r.path for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/events/")}


def metadata(component: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value") for item in component["spec"]["metadata"]}


def test_components_are_the_contracts_and_each_is_scoped() -> None:
    # The secret store is the sidecars' alone (tests/unit/test_scoping.py checks it).
    components = {
        c["metadata"]["name"]: c for c in resources("Component") if not c["spec"]["type"].startswith("secretstores.")
    }
    assert set(components) == {PUBSUB, *STORES}
    assert sorted(components[PUBSUB]["scopes"]) == sorted([*APPS, *POLYGLOT_APPS])
    for store, owner in STORES.items():
        assert components[store]["scopes"] == [owner]


def business_subscriptions() -> list[dict[str, Any]]:
    """The subscriptions of the Python apps that act on business events."""
    return [
        s for s in resources("Subscription")
        if s["spec"]["topic"] != Topic.DEAD_LETTERS and s["scopes"][0] in APPS and s["scopes"] != ["storefront"]
    ]


@pytest.mark.parametrize("subscription", business_subscriptions(), ids=lambda s: s["metadata"]["name"])
def test_subscriptions_route_contract_events_to_real_endpoints(subscription: dict[str, Any]) -> None:
    spec = subscription["spec"]
    (app_id,) = subscription["scopes"]
    assert spec["pubsubname"] == PUBSUB
    assert spec["topic"] in set(Topic)
    assert spec["deadLetterTopic"] == Topic.DEAD_LETTERS
    routes = event_routes(app_id)
    for rule in spec["routes"]["rules"]:
        (event_type,) = re.fullmatch(r'event\.type == "([a-z.]+)"', rule["match"]).groups()
        assert event_type in set(EventType)
        assert rule["path"] in routes
    assert spec["routes"]["default"] in routes


def test_every_event_route_of_an_app_is_subscribed() -> None:
    for app_id in APPS:
        declared = {
            path
            for s in resources("Subscription")
            if s["scopes"] == [app_id]
            for path in [*(r["path"] for r in s["spec"]["routes"].get("rules", [])), s["spec"]["routes"]["default"]]
        }
        assert event_routes(app_id) == declared | {s["route"] for s in in_code(app_id)}, app_id


def test_the_storefront_watches_every_business_topic_in_code() -> None:
    assert not [s for s in resources("Subscription") if s["scopes"] == ["storefront"]]
    watched = [s for s in in_code("storefront") if s["topic"] != Topic.DEAD_LETTERS]
    assert sorted(s["topic"] for s in watched) == sorted(FACT_TOPICS)
    for subscription in watched:
        assert subscription["pubsubname"] == PUBSUB
        assert subscription["route"] == f"/events/saga/{subscription['topic']}"
        assert subscription["deadLetterTopic"] == Topic.DEAD_LETTERS


def test_the_dead_letters_go_to_the_storefront_raw_and_nowhere_further() -> None:
    assert not [s for s in resources("Subscription") if s["spec"]["topic"] == Topic.DEAD_LETTERS]
    (subscription,) = [s for s in in_code("storefront") if s["topic"] == Topic.DEAD_LETTERS]
    assert subscription["pubsubname"] == PUBSUB
    assert subscription["metadata"] == {"rawPayload": "true"}
    assert "deadLetterTopic" not in subscription


def test_notifications_hears_every_business_topic_and_dead_letters() -> None:
    heard = [s for s in resources("Subscription") if s["scopes"] == ["notifications"]]
    assert sorted(s["spec"]["topic"] for s in heard) == sorted(FACT_TOPICS)
    for subscription in heard:
        assert subscription["spec"]["pubsubname"] == PUBSUB
        assert subscription["spec"]["routes"] == {"default": "/events"}
        assert subscription["spec"]["deadLetterTopic"] == Topic.DEAD_LETTERS


def test_dapr_yaml_runs_every_app_under_its_folder_name() -> None:
    apps = {app["appID"]: app for app in RUN["apps"]}
    folders = {p.name for p in (ROOT / "apps").iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert set(apps) == folders - {"common", "contracts"}
    for app_id, app in apps.items():
        assert Path(app["appDirPath"]).name == app_id
    for app_id in APPS:
        assert f"{app_id}.app:create_app" in apps[app_id]["command"]
        assert str(apps[app_id]["appPort"]) in apps[app_id]["command"]
        assert import_module(f"{app_id}.store").STORE == f"{app_id}-store"
    assert RUN["common"]["appHealthCheckPath"] == "/healthz"


def test_the_tests_run_apps_and_sidecars_as_dapr_yaml_does() -> None:
    apps = {app["appID"]: app for app in RUN["apps"]}
    for app_id in APPS:  # the same uvicorn options after the executable and the app folder
        assert app_command(app_id, apps[app_id]["appPort"])[3:] == [str(arg) for arg in apps[app_id]["command"][3:]]
    node = apps["notifications"]  # the same V8 options before the script, which runs from its folder
    assert app_command("notifications", node["appPort"])[1:-1] == node["command"][1:-1]
    assert app_command("notifications", node["appPort"])[-1].endswith(f"/apps/notifications/{node['command'][-1]}")
    assert RUN["common"]["appHealthProbeInterval"] == HEALTH_PROBE_INTERVAL_S
    assert RUN["common"]["appHealthProbeTimeout"] == HEALTH_PROBE_TIMEOUT_MS
    assert RUN["common"]["appHealthThreshold"] == HEALTH_THRESHOLD
    assert RUN["common"]["appMaxConcurrency"] == APP_MAX_CONCURRENCY


def test_the_sidecars_refuse_bodies_the_apps_could_not_take() -> None:
    assert RUN["common"]["maxBodySize"] == MAX_BODY_SIZE == "1Mi"  # the tests' sidecars too
    assert MAX_BODY_BYTES == 2 * 1024 * 1024  # room for the CloudEvent around a 1 MiB publish


def pinned() -> dict[str, str]:
    lines = (ROOT / "tools" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def required(go_mod: str, module: str) -> str:
    text = (ROOT / "tools" / go_mod / "go.mod").read_text()
    return re.search(rf"^\s*(?:require )?{re.escape(module)} v(\S+)", text, re.MULTILINE).group(1)


def test_the_go_modules_build_the_pinned_versions() -> None:
    assert required("dapr-runtime", "github.com/dapr/dapr") == pinned()["DAPR_RUNTIME_VERSION"]
    assert required("dapr-cli", "github.com/dapr/cli") == pinned()["DAPR_CLI_VERSION"]


def test_the_python_sdk_is_locked_at_the_runtimes_minor_version() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    sdk = re.search(r"^dapr==(\S+)", lock, re.MULTILINE).group(1)
    assert sdk == pinned()["DAPR_PYTHON_SDK_VERSION"]
    assert sdk.split(".")[:2] == pinned()["DAPR_RUNTIME_VERSION"].split(".")[:2]
