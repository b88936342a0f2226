"""Pieces every app's assembly shares."""

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

from dapr.aio.clients import DaprClient
from fastapi import FastAPI, Response, status
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from common.metrics import add_metrics_route
from common.settings import DaprSettings
from common.tracing import dapr_client, trace_requests

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
S = TypeVar("S")

# Every app answers 413 to a request body over 2 MiB (FastAPI's max_body_size), before
# reading it whole; the sidecars take at most 1 MiB (dapr.yaml: maxBodySize), so every
# event they deliver fits, CloudEvent envelope and all.
MAX_BODY_BYTES = 2 * 1024 * 1024


def new_app(
    name: str, settings: DaprSettings, lifespan: Lifespan, public: Callable[[str], bool] = lambda _path: False
) -> FastAPI:
    """An eda-shop app before its routes: it bounds request bodies, traces every request,
    answers /healthz and /metrics, and takes calls from its sidecar alone (and on the
    paths `public` allows, from anyone)."""
    app = FastAPI(title=name, lifespan=lifespan, max_body_size=MAX_BODY_BYTES)
    trace_requests(app, name, settings.otel_exporter_zipkin_endpoint)
    add_health_route(app)
    add_metrics_route(app)
    only_from_the_sidecar(app, settings.app_api_token, public)
    return app


def serving(build: Callable[[DaprClient], S], settings: DaprSettings, given: S | None) -> Lifespan:
    """A lifespan that puts the app's service on `app.state.service`: `given` (a test's),
    or the one `build` makes on a client of the app's own sidecar. The app is ready then."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if given is not None:
            app.state.service, app.state.ready = given, True
            yield
            return
        async with dapr_client(settings.dapr_grpc_address) as client:
            app.state.service, app.state.ready = build(client), True
            yield

    return lifespan


def add_health_route(app: FastAPI) -> None:
    """GET /healthz: the sidecar's app health check; 503 until `app.state.ready` is set."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz(response: Response) -> dict[str, str]:
        if not getattr(app.state, "ready", False):
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            return {"status": "starting"}
        return {"status": "ok"}


def only_from_the_sidecar(
    app: FastAPI, token: SecretStr | None, public: Callable[[str], bool] = lambda _path: False
) -> None:
    """Refuse with 401 every call without the app API token (which the sidecar sends in
    the dapr-api-token header), but for the health check and the paths `public` allows.
    Without a token configured, every call passes."""
    if token is not None:
        app.add_middleware(SidecarOnly, expected=token.get_secret_value().encode(), public=public)


class SidecarOnly:
    """The check of `only_from_the_sidecar`, as plain ASGI middleware: it runs on every
    delivery, and FastAPI's `@app.middleware("http")` would wrap each request and
    response in extra objects and tasks for it."""

    def __init__(self, app: ASGIApp, expected: bytes, public: Callable[[str], bool]) -> None:
        self._app, self._expected, self._public = app, expected, public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            given = Headers(scope=scope).get("dapr-api-token", "").encode()
            if path != "/healthz" and not self._public(path) and not hmac.compare_digest(given, self._expected):
                refusal = JSONResponse({"detail": "only the sidecar may call this app"}, status.HTTP_401_UNAUTHORIZED)
                await refusal(scope, receive, send)
                return
        await self._app(scope, receive, send)
