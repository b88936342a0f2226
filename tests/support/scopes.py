"""A pub/sub component's topic scopes as daprd reads them."""

from typing import Any


def scopes(component: dict[str, Any], name: str) -> dict[str, set[str]]:
    """publishingScopes or subscriptionScopes (`app=topic,topic;app=…`): app -> topics."""
    (value,) = [item["value"] for item in component["spec"]["metadata"] if item["name"] == name]
    found: dict[str, set[str]] = {}
    for scope in value.split(";"):
        app, topics = scope.split("=")
        found[app] = {topic for topic in topics.split(",") if topic}
    return found
