"""The system on other brokers and state stores, by YAML alone (make test-brokers).

`components/` is the default: Redis Streams for pub/sub, Redis for state. A variant is a
folder under `components/variants/` holding only the components that differ, each with
the name of the default component it replaces, and of it only its type and connection:
who loads it and who may publish and hear each topic come from the default, so an app or a
topic is named in `components/` alone. A run's resources folder is `components/` with
those components laid over it. Variants combine with `+` (`rabbitmq+postgres`).
"""

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ROOT / "components"
VARIANTS = COMPONENTS / "variants"

# What each variant folder needs running besides Redis (tests/support/brokers.py), and
# whether it replaces the pub/sub broker (Redis Streams) or only state stores.
SERVERS = {"rabbitmq": "rabbitmq", "mqtt": "mosquitto", "postgres": "postgres", "kafka": "kafka"}
REPLACES_PUBSUB = {"rabbitmq", "mqtt", "kafka"}
# The metadata a variant file leaves out and takes from the default component.
FROM_THE_DEFAULT = {"publishingScopes", "subscriptionScopes"}

# Saga tests that need to see how far a subscriber has read a topic: on Redis Streams and
# Kafka, its consumer group's position; on RabbitMQ, whether its queue is drained. MQTT has
# no such view (a client's session is inside the broker and Mosquitto shows none of it), so
# these do not run on MQTT; every other saga test runs on every variant.
NEEDS_CONSUMER_POSITIONS = {
    "test_an_event_published_twice_with_one_id_has_one_effect":
        "waits until inventory has read the orders topic up to the republished event, and an MQTT "
        "broker does not show how far a subscriber has read",
}
# Pub/sub variants that cannot show a subscriber's position.
NO_CONSUMER_POSITIONS = {"mqtt"}


@dataclass(frozen=True)
class Variant:
    name: str  # "redis" for the default, else folder names joined by "+"
    folders: tuple[str, ...]

    @classmethod
    def parse(cls, name: str) -> "Variant":
        """A variant by its name; `redis` (or nothing) is the default components."""
        if name in ("", "redis"):
            return cls("redis", ())
        folders = tuple(name.split("+"))
        unknown = [f for f in folders if not (VARIANTS / f).is_dir()]
        if unknown:
            known = sorted(p.name for p in VARIANTS.iterdir() if p.is_dir())
            raise ValueError(f"no component variant {', '.join(unknown)} in {VARIANTS}; known: {', '.join(known)}")
        pubsubs = [f for f in folders if f in REPLACES_PUBSUB]
        if len(pubsubs) > 1:
            raise ValueError(f"{name}: one pub/sub broker at a time, not {' and '.join(pubsubs)}")
        return cls(name, folders)

    @property
    def default(self) -> bool:
        return not self.folders

    @property
    def redis_streams(self) -> bool:
        """True when events travel on Redis Streams, which the tests can read directly."""
        return not any(f in REPLACES_PUBSUB for f in self.folders)

    @property
    def consumer_positions(self) -> bool:
        """True when the tests can see how far each subscriber has read a topic."""
        return not any(f in NO_CONSUMER_POSITIONS for f in self.folders)

    @property
    def servers(self) -> tuple[str, ...]:
        return tuple(SERVERS[f] for f in self.folders if f in SERVERS)

    def resources(self, into: Path) -> Path:
        """The resources folder for daprd: `components/` itself for the default, else a
        copy of it in `into` with each variant component in place of its default."""
        if self.default:
            return COMPONENTS
        into.mkdir(parents=True, exist_ok=True)
        for path in COMPONENTS.glob("*.yaml"):
            shutil.copy(path, into / path.name)
        for folder in self.folders:
            for path in sorted((VARIANTS / folder).glob("*.yaml")):
                made = {c["metadata"]["name"]: c for c in variant_components(path)}
                documents = [made.get(d["metadata"]["name"], d) for d in _documents(into / path.name)]
                (into / path.name).write_text(yaml.safe_dump_all(documents, sort_keys=False))
        return into


def variant_components(path: Path) -> list[dict[str, Any]]:
    """The components a variant file makes, each laid over the default component of its
    name, which the file of the same name in components/ holds."""
    default = COMPONENTS / path.name
    found = _documents(default) if default.exists() else []
    defaults = {d["metadata"]["name"]: d for d in found if d["kind"] == "Component"}
    made = []
    for component in _documents(path):
        name = component["metadata"]["name"]
        if name not in defaults:
            raise ValueError(f"{path}: {name} must replace the component of its name in {default}")
        made.append(laid_over(component, defaults[name]))
    return made


def laid_over(component: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    """A variant component as daprd gets it: its own type and connection, with the scopes
    and topic scopes of the default it replaces."""
    repeated = [item["name"] for item in component["spec"]["metadata"] if item["name"] in FROM_THE_DEFAULT]
    if "scopes" in component or repeated:
        name = component["metadata"]["name"]
        raise ValueError(f"{name}: leave out {', '.join(repeated or ['scopes'])}; it comes from components/")
    kept = [item for item in default["spec"]["metadata"] if item["name"] in FROM_THE_DEFAULT]
    spec = {**component["spec"], "metadata": [*component["spec"]["metadata"], *kept]}
    return {**component, "spec": spec, "scopes": default["scopes"]}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]
