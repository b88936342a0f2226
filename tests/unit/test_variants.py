"""The component variants (make test-brokers) differ from the default by YAML alone: each
component of a variant swaps the default component of its name for another, and takes
its scopes and topic scopes from the default."""

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from tests.support.variants import (
    COMPONENTS,
    FROM_THE_DEFAULT,
    ROOT,
    VARIANTS,
    Variant,
    laid_over,
    variant_components,
)

VARIANT_FILES = sorted(VARIANTS.glob("*/*.yaml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def component(path: Path, name: str) -> dict[str, Any]:
    (document,) = [d for d in documents(path) if d["metadata"]["name"] == name]
    return document


def metadata(document: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value") for item in document["spec"]["metadata"]}


VARIANT_COMPONENTS = [(path, d["metadata"]["name"]) for path in VARIANT_FILES for d in documents(path)]
LABELS = [f"{path.parent.name}:{name}" for path, name in VARIANT_COMPONENTS]


@pytest.mark.parametrize(("path", "name"), VARIANT_COMPONENTS, ids=LABELS)
def test_a_variant_component_replaces_the_default_of_its_name_and_keeps_its_scopes(path: Path, name: str) -> None:
    own, default = component(path, name), component(COMPONENTS / path.name, name)
    (variant,) = [c for c in variant_components(path) if c["metadata"]["name"] == name]

    assert variant["kind"] == default["kind"]
    assert variant["spec"]["type"].split(".")[0] == default["spec"]["type"].split(".")[0]  # pubsub for pubsub
    assert variant["scopes"] == default["scopes"]
    kept = {key: value for key, value in metadata(default).items() if key in FROM_THE_DEFAULT}
    assert {key: value for key, value in metadata(variant).items() if key in FROM_THE_DEFAULT} == kept
    assert "scopes" not in own and not FROM_THE_DEFAULT & set(metadata(own))


def test_a_variant_component_without_a_default_of_its_name_is_refused(tmp_path: Path) -> None:
    store = component(VARIANTS / "postgres" / "stores.yaml", "orders-store")
    (tmp_path / "stores.yaml").write_text(yaml.safe_dump({**store, "metadata": {"name": "ledger-store"}}))
    with pytest.raises(ValueError, match="ledger-store must replace"):
        variant_components(tmp_path / "stores.yaml")


def test_every_state_store_has_its_postgresql_variant() -> None:
    stores = {d["metadata"]["name"] for d in documents(COMPONENTS / "stores.yaml")}
    on_postgresql = {d["metadata"]["name"] for d in documents(VARIANTS / "postgres" / "stores.yaml")}
    assert on_postgresql == stores, "each store of components/stores.yaml, in components/variants/postgres/stores.yaml"


@pytest.mark.parametrize("repeated", ["scopes", "publishingScopes"])
def test_a_variant_file_that_repeats_what_comes_from_the_default_is_refused(tmp_path: Path, repeated: str) -> None:
    pubsub = component(VARIANTS / "rabbitmq" / "pubsub.yaml", "pubsub")
    if repeated == "scopes":
        pubsub["scopes"] = ["orders"]
    else:
        pubsub["spec"]["metadata"].append({"name": repeated, "value": "orders=orders"})
    with pytest.raises(ValueError, match=f"leave out {repeated}"):
        laid_over(pubsub, component(COMPONENTS / "pubsub.yaml", "pubsub"))


def test_a_variant_reads_its_connection_from_the_environment_never_from_the_yaml() -> None:
    secrets = {"connectionString", "url", "brokers", "redisPassword", "password"}
    for path in VARIANT_FILES:
        for item in (item for d in documents(path) for item in d["spec"]["metadata"]):
            if item["name"] in secrets:
                assert "envRef" in item and "value" not in item, f"{path}: {item['name']}"


def test_the_resources_of_a_variant_are_the_defaults_with_its_components_laid_over(tmp_path: Path) -> None:
    resources = Variant.parse("rabbitmq+postgres").resources(tmp_path)

    assert sorted(p.name for p in resources.iterdir()) == sorted(p.name for p in COMPONENTS.glob("*.yaml"))
    assert component(resources / "pubsub.yaml", "pubsub")["spec"]["type"] == "pubsub.rabbitmq"
    assert {d["spec"]["type"] for d in documents(resources / "stores.yaml")} == {"state.postgresql"}
    assert component(resources / "stores.yaml", "orders-store")["scopes"] == ["orders"]
    assert (resources / "subscriptions.yaml").read_text() == (COMPONENTS / "subscriptions.yaml").read_text()
    assert Variant.parse("redis").resources(tmp_path / "unused") == COMPONENTS


def test_on_kafka_each_app_reads_in_a_group_of_its_own() -> None:
    pubsub = metadata(component(VARIANTS / "kafka" / "pubsub.yaml", "pubsub"))

    assert pubsub["consumerGroup"] == "{appID}"
    assert pubsub["initialOffset"] == "oldest"  # nothing before a first join is skipped


def test_on_kafka_the_components_speak_the_version_of_the_broker_the_pom_fetches() -> None:
    pom = ElementTree.parse(ROOT / "tools" / "kafka" / "pom.xml")
    broker = pom.findtext("m:properties/m:kafka.version", namespaces={"m": "http://maven.apache.org/POM/4.0.0"})

    assert metadata(component(VARIANTS / "kafka" / "pubsub.yaml", "pubsub"))["version"] == broker


@pytest.mark.parametrize("name", ["nats", "rabbitmq+mqtt", "kafka+mqtt"])
def test_an_unknown_variant_or_two_brokers_at_once_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        Variant.parse(name)
