"""Calling another app through the storefront's own sidecar (Dapr service invocation).

The storefront asks questions (stock, an order's history) and passes a customer's command
on to orders; it never asks another app to do its work for it.
"""

from collections.abc import Mapping
from typing import Any

import aiohttp
from pydantic import SecretStr

from common.tracing import trace_context


class Invoker:
    def __init__(self, session: aiohttp.ClientSession, sidecar_url: str, token: SecretStr | None) -> None:
        self._session = session
        self._sidecar_url = sidecar_url
        self._headers = {"dapr-api-token": token.get_secret_value()} if token else {}

    async def call(
        self, app_id: str, method: str, verb: str = "GET", body: Any = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        """The app's answer: its status code and its JSON body (None when it had none)."""
        url = f"{self._sidecar_url}/v1.0/invoke/{app_id}/method/{method}"
        # The trace context goes along: the order the page placed is one trace from here on.
        sent = {**self._headers, **trace_context(), **(headers or {})}
        async with self._session.request(verb, url, json=body, headers=sent) as response:
            answer = await response.json(content_type=None) if await response.read() else None
            return response.status, answer
