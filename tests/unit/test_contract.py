"""The Python event models, the JSON Schemas and the AsyncAPI document are one contract."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from contracts.events import EVENTS
from contracts.names import EventType, Topic

CONTRACTS = Path(__file__).resolve().parents[2] / "apps" / "contracts"
SCHEMA = json.loads((CONTRACTS / "schemas" / "events.schema.json").read_text())
EXAMPLES = json.loads((CONTRACTS / "schemas" / "examples.json").read_text())
ASYNCAPI = yaml.safe_load((CONTRACTS / "asyncapi.yaml").read_text())


def validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{event_type}"})


def examples(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(event_type, data) for event_type, cases in EXAMPLES[kind].items() for data in cases]


def test_the_schema_is_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_type_has_a_schema_with_the_models_fields(event_type: EventType) -> None:
    schema, model = SCHEMA["$defs"][event_type], EVENTS[event_type]
    assert set(schema["properties"]) == set(model.model_fields)
    assert set(schema["required"]) == {name for name, f in model.model_fields.items() if f.is_required()}
    assert EXAMPLES["valid"][event_type] and EXAMPLES["invalid"][event_type]


@pytest.mark.parametrize(("event_type", "data"), examples("valid"))
def test_valid_examples_pass_both_schema_and_model(event_type: str, data: dict[str, Any]) -> None:
    validator(event_type).validate(data)
    assert EVENTS[EventType(event_type)].model_validate(data).model_dump(mode="json") == data


@pytest.mark.parametrize(("event_type", "data"), examples("invalid"))
def test_invalid_examples_fail_both_schema_and_model(event_type: str, data: dict[str, Any]) -> None:
    assert not validator(event_type).is_valid(data)
    with pytest.raises(ValidationError):
        EVENTS[EventType(event_type)].model_validate(data)


def test_asyncapi_puts_every_event_on_its_models_topic() -> None:
    on_channel = {
        message: channel["address"]
        for channel in ASYNCAPI["channels"].values()
        for message in channel["messages"]
    }
    assert on_channel == {event_type: model.topic for event_type, model in EVENTS.items()}
    assert set(on_channel.values()) == set(Topic) - {Topic.DEAD_LETTERS}
    for name, message in ASYNCAPI["components"]["messages"].items():
        assert message["payload"]["$ref"] == f"schemas/events.schema.json#/$defs/{name}"
