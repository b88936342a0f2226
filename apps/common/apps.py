"""Pieces every app's assembly shares."""

import hmac
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import SecretStr

# Every app answers 413 to a request body over 2 MiB (FastAPI's max_body_size), before
# reading it whole; the sidecars take at most 1 MiB (dapr.yaml: maxBodySize), so every
# event they deliver fits, CloudEvent envelope and all.
MAX_BODY_BYTES = 2 * 1024 * 1024


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
    if token is None:
        return
    expected = token.get_secret_value().encode()

    @app.middleware("http")
    async def check_token(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        given = request.headers.get("dapr-api-token", "").encode()
        if path != "/healthz" and not public(path) and not hmac.compare_digest(given, expected):
            return JSONResponse({"detail": "only the sidecar may call this app"}, status.HTTP_401_UNAUTHORIZED)
        return await call_next(request)
