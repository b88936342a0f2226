"""The component variants (make test-brokers) differ from the default by YAML alone: each
file swaps one default component for another of the same name, and takes its scopes, topic
scopes and, for a state store, the outbox from the default."""

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from tests.support.variants import COMPONENTS, FROM_THE_DEFAULT, ROOT, VARIANTS, Variant, laid_over

VARIANT_FILES = sorted(VARIANTS.glob("*/*.yaml"))


def component(path: Path) -> dict[str, Any]:
    (document,) = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return document


def metadata(document: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value") for item in document["spec"]["metadata"]}


@pytest.mark.parametrize("path", VARIANT_FILES, ids=lambda p: str(p.relative_to(VARIANTS)))
def test_a_variant_file_replaces_the_default_component_of_its_name_and_keeps_its_scopes(path: Path) -> None:
    variant, default = laid_over(path), component(COMPONENTS / path.name)

    assert (variant["kind"], variant["metadata"]["name"]) == (default["kind"], default["metadata"]["name"])
    assert variant["spec"]["type"].split(".")[0] == default["spec"]["type"].split(".")[0]  # pubsub for pubsub
    assert variant["scopes"] == default["scopes"]
    kept = {key: value for key, value in metadata(default).items() if key in FROM_THE_DEFAULT}
    assert {key: value for key, value in metadata(variant).items() if key in FROM_THE_DEFAULT} == kept
    assert "scopes" not in component(path) and not FROM_THE_DEFAULT & set(metadata(component(path)))


@pytest.mark.parametrize("repeated", ["scopes", "publishingScopes"])
def test_a_variant_file_that_repeats_what_comes_from_the_default_is_refused(tmp_path: Path, repeated: str) -> None:
    pubsub = component(VARIANTS / "rabbitmq" / "pubsub.yaml")
    if repeated == "scopes":
        pubsub["scopes"] = ["orders"]
    else:
        pubsub["spec"]["metadata"].append({"name": repeated, "value": "orders=orders"})
    (tmp_path / "variants" / "copy").mkdir(parents=True)
    path = tmp_path / "variants" / "copy" / "pubsub.yaml"
    path.write_text(yaml.safe_dump(pubsub))
    with pytest.raises(ValueError, match=f"leave out {repeated}"):
        laid_over(path)


def test_a_variant_reads_its_connection_from_the_environment_never_from_the_yaml() -> None:
    secrets = {"connectionString", "url", "brokers", "redisPassword", "password"}
    for path in VARIANT_FILES:
        for item in component(path)["spec"]["metadata"]:
            if item["name"] in secrets:
                assert "envRef" in item and "value" not in item, f"{path}: {item['name']}"


def test_the_resources_of_a_variant_are_the_defaults_with_its_files_laid_over(tmp_path: Path) -> None:
    resources = Variant.parse("rabbitmq+postgres").resources(tmp_path)

    assert sorted(p.name for p in resources.iterdir()) == sorted(p.name for p in COMPONENTS.glob("*.yaml"))
    assert component(resources / "pubsub.yaml")["spec"]["type"] == "pubsub.rabbitmq"
    assert component(resources / "orders-store.yaml")["spec"]["type"] == "state.postgresql"
    assert (resources / "subscriptions.yaml").read_text() == (COMPONENTS / "subscriptions.yaml").read_text()
    assert Variant.parse("redis").resources(tmp_path / "unused") == COMPONENTS


def test_on_kafka_each_app_reads_in_a_group_of_its_own() -> None:
    pubsub = metadata(component(VARIANTS / "kafka" / "pubsub.yaml"))

    assert pubsub["consumerGroup"] == "{appID}"
    assert pubsub["initialOffset"] == "oldest"  # nothing before a first join is skipped


def test_on_kafka_the_components_speak_the_version_of_the_broker_the_pom_fetches() -> None:
    pom = ElementTree.parse(ROOT / "tools" / "kafka" / "pom.xml")
    broker = pom.findtext("m:properties/m:kafka.version", namespaces={"m": "http://maven.apache.org/POM/4.0.0"})

    assert metadata(component(VARIANTS / "kafka" / "pubsub.yaml"))["version"] == broker


@pytest.mark.parametrize("name", ["nats", "rabbitmq+mqtt", "kafka+mqtt"])
def test_an_unknown_variant_or_two_brokers_at_once_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        Variant.parse(name)
