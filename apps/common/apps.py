"""Pieces every app's assembly shares."""

from fastapi import FastAPI, Response, status


def add_health_route(app: FastAPI) -> None:
    """GET /healthz: the sidecar's app health check; 503 until `app.state.ready` is set."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz(response: Response) -> dict[str, str]:
        if not getattr(app.state, "ready", False):
            response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
            return {"status": "starting"}
        return {"status": "ok"}
