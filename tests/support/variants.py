"""The system on other brokers and state stores, by YAML alone (make test-brokers).

`components/` is the default: Redis Streams for pub/sub, Redis for state. A variant is a
folder under `components/variants/` holding only the components that differ, each with
the name of the default component it replaces; a run's resources folder is `components/`
with those files laid over it. Variants combine with `+` (`rabbitmq+postgres`).
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ROOT / "components"
VARIANTS = COMPONENTS / "variants"

# What each variant folder needs running besides Redis (tests/support/brokers.py), and
# whether it replaces the pub/sub broker (Redis Streams) or only state stores.
SERVERS = {"rabbitmq": "rabbitmq", "mqtt": "mosquitto", "postgres": "postgres", "kafka": "kafka"}
REPLACES_PUBSUB = {"rabbitmq", "mqtt", "kafka"}

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
        copy of it in `into` with each variant file laid over the file it replaces."""
        if self.default:
            return COMPONENTS
        into.mkdir(parents=True, exist_ok=True)
        for path in COMPONENTS.glob("*.yaml"):
            shutil.copy(path, into / path.name)
        for folder in self.folders:
            for path in sorted((VARIANTS / folder).glob("*.yaml")):
                _check_replaces(path, COMPONENTS / path.name)
                shutil.copy(path, into / path.name)
        return into


def _check_replaces(variant: Path, default: Path) -> None:
    """A variant file only swaps a default component for another of the same name."""
    names = lambda path: [d["metadata"]["name"] for d in yaml.safe_load_all(path.read_text()) if d]
    if not default.exists() or names(variant) != names(default):
        raise ValueError(f"{variant.relative_to(ROOT)} must replace the component(s) of the same name in "
                         f"{default.relative_to(ROOT)}")
