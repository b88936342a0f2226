"""Who may do what, on real sidecars and a real Redis: an app publishes only to its own
topics and hears only those it subscribes to, Redis wants its password (which no process
shows in its arguments), the apps may not read secrets, every app wants the app API
token on every route but its health check, and the saga runs with all of it in place."""

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
import requests
import yaml

from contracts.names import PUBSUB, Topic
from tests.integration.flows import TIMEOUT, TO_APP, TO_SIDECAR, place_order, settled
from tests.support.credentials import REDIS_PASSWORD, redis_client, secrets_file
from tests.support.scopes import scopes
from tests.support.system import APP_IDS, System
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SECRET_STORE = "local-secrets"  # components/secretstore.yaml


def pubsub_scopes(name: str) -> dict[str, set[str]]:
    """A scope of components/pubsub.yaml: app -> topics."""
    return scopes(yaml.safe_load((ROOT / "components" / "pubsub.yaml").read_text()), name)


def publish(system: System, app_id: str, pubsub: str, topic: str, event_id: str) -> requests.Response:
    return requests.post(
        f"{system[app_id].dapr_url}/v1.0/publish/{pubsub}/{topic}",
        json={"order_id": f"o-{uuid4().hex}"},
        params={"metadata.cloudevent.type": "order.placed", "metadata.cloudevent.id": event_id},
        headers=TO_SIDECAR, timeout=TIMEOUT,
    )


def routes(system: System, app_id: str) -> list[tuple[str, str]]:
    """Every route of an app, as (method, path) with its path parameters filled in."""
    spec = requests.get(f"{system[app_id].url}/openapi.json", headers=TO_APP, timeout=TIMEOUT).json()
    found = [("GET", "/openapi.json"), ("GET", "/docs")]  # FastAPI's, which its document leaves out
    for path, methods in spec["paths"].items():
        filled = "/".join("x" if part.startswith("{") else part for part in path.split("/"))
        found += [(method.upper(), filled) for method in methods]
    return found


def consumer_groups(client: redis.Redis, topic: str) -> set[str]:
    return {group["name"] for group in client.xinfo_groups(topic)} if client.exists(topic) else set()


@pytest.mark.parametrize(("app_id", "topic"), [("payments", Topic.ORDERS), ("shipping", Topic.INVENTORY),
                                               ("inventory", Topic.SHIPPING), ("payments", Topic.ORDER_REQUESTS)])
def test_an_app_publishing_a_topic_it_does_not_own_is_refused_by_its_sidecar(
    system: System, app_id: str, topic: Topic
) -> None:
    event_id = f"forged-{uuid4().hex}"

    refused = publish(system, app_id, PUBSUB, topic, event_id)

    assert refused.status_code == 403, refused.text
    assert refused.json()["errorCode"] == "ERR_PUBSUB_FORBIDDEN"
    assert all(event["id"] != event_id for event in system.broker.events(topic))


def test_an_app_that_announces_nothing_may_publish_nowhere_but_to_the_dead_letters(system: System) -> None:
    for topic in set(Topic) - {Topic.DEAD_LETTERS}:
        refused = publish(system, "notifications", PUBSUB, topic, f"forged-{uuid4().hex}")
        assert refused.status_code == 403, f"{topic}: {refused.text}"


def test_each_app_hears_only_the_topics_its_scopes_allow(system: System) -> None:
    client = redis_client(system.redis_port, decode_responses=True)
    heard = pubsub_scopes("subscriptionScopes")
    for topic in Topic:
        wanted = {app for app, topics in heard.items() if topic in topics}
        wait_until(lambda t=topic, w=wanted: consumer_groups(client, t) == w or None, TIMEOUT)


def test_redis_refuses_a_client_without_the_password_which_no_process_shows(system: System) -> None:
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=system.redis_port).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=system.redis_port, password="not-the-password").ping()
    assert redis_client(system.redis_port).ping()

    processes = [system.redis, *(app.sidecar for app in system.apps.values()), *(app.app for app in system.apps.values())]
    for process in processes:
        assert REDIS_PASSWORD not in Path(f"/proc/{process.pid}/cmdline").read_text(), process.name
    assert secrets_file().stat().st_mode & 0o777 == 0o600


def test_the_apps_may_not_read_the_secrets_their_sidecars_use(system: System) -> None:
    for app_id in APP_IDS:
        sidecar = system[app_id].dapr_url
        one = requests.get(f"{sidecar}/v1.0/secrets/{SECRET_STORE}/redis", headers=TO_SIDECAR, timeout=TIMEOUT)
        assert one.status_code == 403, f"{app_id}: {one.status_code} {one.text}"
        bulk = requests.get(f"{sidecar}/v1.0/secrets/{SECRET_STORE}/bulk", headers=TO_SIDECAR, timeout=TIMEOUT)
        assert REDIS_PASSWORD not in bulk.text, app_id


def test_every_app_wants_the_app_token_on_every_route_but_its_health_check(system: System) -> None:
    for app_id in APP_IDS:
        app = system[app_id]
        assert requests.get(f"{app.url}/healthz", timeout=TIMEOUT).status_code == 200, app_id
        for method, path in routes(system, app_id):
            if path == "/healthz":
                continue  # open to all, above (shipping's and notifications' documents list it)
            if app_id == "storefront" and not path.startswith("/events/") and path != "/metrics":
                continue  # the shop's front door (docs/security.md)
            for headers in ({}, {"dapr-api-token": "x" * 64}):
                answer: Any = requests.request(method, f"{app.url}{path}", headers=headers, timeout=TIMEOUT)
                assert answer.status_code == 401, f"{app_id} {method} {path}: {answer.status_code}"


def test_the_saga_completes_with_every_guard_in_place(system: System) -> None:
    order_id = place_order(system, ("tea-sencha", 1))

    assert settled(system, order_id)["status"] == "shipped"
