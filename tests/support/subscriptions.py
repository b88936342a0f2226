"""The subscriptions a Python app declares in code, as its sidecar asks for them."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient


def served(app: FastAPI) -> list[dict[str, Any]]:
    """What the app answers at GET /dapr/subscribe; none when it has no such route (404)."""
    answer = TestClient(app).get("/dapr/subscribe")
    return answer.json() if answer.status_code == 200 else []
