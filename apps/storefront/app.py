"""Assembly of the storefront app: the web page, its API, the live saga streams, the
operator console (dead letters and their replay, every order's saga), and the Dapr client."""

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from time import perf_counter
from typing import Annotated, Any
from uuid import uuid4

import aiohttp
from dapr.ext.fastapi import DaprApp
from fastapi import Body, Depends, FastAPI, Header, HTTPException, Query, Request, status
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import StringConstraints

from common.apps import new_app
from common.delivery import DaprAnswer, Outcome
from common.logs import configure_logging
from common.metrics import metrics_of, type_label
from common.state import DaprState
from common.tracing import dapr_client
from contracts.names import FACT_TOPICS, PUBSUB, Topic
from storefront import decisions
from storefront.invoke import Invoker
from storefront.model import DeadLetter, Replay
from storefront.operators import Operator
from storefront.saga import SagaFeed, summary
from storefront.service import NotReplayable, StorefrontService
from storefront.settings import Settings
from storefront.store import STORE, DeadLetterStore

STATIC = Path(__file__).with_name("static")
log = logging.getLogger("storefront")


def create_app(
    settings: Settings | None = None, service: StorefrontService | None = None, invoker: Invoker | None = None
) -> FastAPI:
    """The storefront app. Without `service`, it builds it, and the invoker, on its own sidecar."""
    settings = settings or Settings()
    configure_logging("storefront")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.saga = SagaFeed()
        app.state.operator_token = settings.operator_token
        if service is not None:
            app.state.service, app.state.invoker, app.state.ready = service, invoker, True
            yield
            return
        async with dapr_client(settings.dapr_grpc_address) as client, aiohttp.ClientSession() as session:
            app.state.service = StorefrontService(DeadLetterStore(DaprState(client, STORE)), client)
            app.state.invoker = Invoker(session, settings.dapr_http_url, settings.dapr_api_token)
            app.state.ready = True
            yield

    # The page and its API are the shop's front door, for browsers (the operator console
    # wants the operator token besides); only the event deliveries, the subscriptions and
    # the metrics must come from the sidecar.
    app = new_app(
        "storefront", settings, lifespan,
        public=lambda path: not path.startswith("/events/") and path not in {"/dapr/subscribe", "/metrics"},
    )
    app.get("/", include_in_schema=False)(page)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.get("/api/products")(list_products)
    app.post("/api/orders")(place_order)
    app.get("/api/orders/live")(watch_orders)
    app.get("/api/orders/{order_id}/events")(order_events)
    app.get("/api/saga")(watch_saga)
    app.get("/deadletters")(list_dead_letters)
    app.post("/deadletters/{letter_id}/replay", status_code=status.HTTP_202_ACCEPTED)(replay_dead_letter)
    subscribe(DaprApp(app))
    return app


def subscribe(dapr: DaprApp) -> None:
    """The storefront's subscriptions, served to its sidecar at GET /dapr/subscribe (the
    other Python apps declare theirs in components/subscriptions.yaml): every fact of every
    business topic to the live saga, and the dead letters to be kept. They come raw, so
    that even bytes that were never a CloudEvent arrive, and have no dead-letter topic of
    their own: the storefront keeps whatever it is given."""
    for topic in sorted(FACT_TOPICS):
        dapr.subscribe(PUBSUB, topic, route=f"/events/saga/{topic}", dead_letter_topic=Topic.DEAD_LETTERS)(
            hear_saga_event
        )
    dapr.subscribe(PUBSUB, Topic.DEAD_LETTERS, metadata={"rawPayload": "true"}, route="/events/dead-letter")(
        receive_dead_letter
    )


async def get_service(request: Request) -> StorefrontService:
    return request.app.state.service


async def get_invoker(request: Request) -> Invoker:
    return request.app.state.invoker


Service = Annotated[StorefrontService, Depends(get_service)]
Apps = Annotated[Invoker, Depends(get_invoker)]
# Passed on into the path of a call to orders: only characters that cannot leave that
# path segment (no "/", ".", "?", "#" or "%"). Orders' own ids are 32 hex digits.
ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
OrderId = Annotated[str, PathParameter(pattern=ORDER_ID_PATTERN)]
# The orders one page watches: those it placed (their ids are 128 random bits, known
# only to the browser that placed them).
WATCHED_LIMIT = 50
WatchedOrders = Annotated[
    list[Annotated[str, StringConstraints(pattern=ORDER_ID_PATTERN)]],
    Query(alias="order", max_length=WATCHED_LIMIT, default_factory=list),
]


async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html")


async def list_products(apps: Apps) -> JSONResponse:
    return _passed_on(*await apps.call("inventory", "stock"))


async def place_order(
    command: Annotated[dict[str, Any], Body()],
    apps: Apps,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=128)] = None,
) -> JSONResponse:
    # The orders service validates the command; its 202 or its 422 goes back as it is.
    # The key goes with it, so a client that sends its order again after a lost answer,
    # or a retried invocation, places one order; without one, this request gets its own.
    key = {"Idempotency-Key": idempotency_key or uuid4().hex}
    return _passed_on(*await apps.call("orders", "orders", "POST", command, key))


async def order_events(order_id: OrderId, apps: Apps) -> JSONResponse:
    return _passed_on(*await apps.call("orders", f"orders/{order_id}/events"))


async def watch_orders(request: Request, orders: WatchedOrders) -> StreamingResponse:
    """The saga of the orders a customer's page placed, live."""
    return StreamingResponse(request.app.state.saga.watch(frozenset(orders)), media_type="text/event-stream")


async def watch_saga(request: Request, _: Operator) -> StreamingResponse:
    """Every order's saga, live: the operator's view."""
    return StreamingResponse(request.app.state.saga.watch(), media_type="text/event-stream")


async def hear_saga_event(request: Request) -> DaprAnswer:
    # Only shown, never acted on: every event is acknowledged, even one that is no JSON
    # object; poison is the business subscribers' to dead-letter.
    started = perf_counter()
    try:
        event = json.loads(await request.body())
    except (ValueError, RecursionError):
        event = None
    if isinstance(event, dict):
        shown = summary(event)
        request.app.state.saga.publish(shown)
        about = {"event_id": shown["id"], "event_type": shown["type"], "order_id": shown["order_id"]}
        log.info("shown on the live saga", extra=about)
    event_type = event.get("type") if isinstance(event, dict) else None
    metrics_of(request).count(type_label(event_type), None, Outcome.SUCCESS, started)
    return {"status": Outcome.SUCCESS}


async def receive_dead_letter(delivery: Annotated[dict[str, Any], Body()], service: Service) -> DaprAnswer:
    # Whatever arrives is kept; only a failure to store it asks Dapr to deliver it again.
    await service.keep_dead_letter(delivery)
    return {"status": Outcome.SUCCESS}


async def list_dead_letters(service: Service, _: Operator) -> list[DeadLetter]:
    return await service.dead_letters()


async def replay_dead_letter(
    letter_id: str, service: Service, operator: Operator, replay: Replay | None = None
) -> DeadLetter:
    letter = await service.dead_letter(letter_id)
    if letter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dead letter {letter_id}")
    data = replay.data if replay else None
    if data is not None and (errors := decisions.correction_errors(letter.type, data)):
        raise RequestValidationError([{**error, "loc": ("body", "data", *error["loc"])} for error in errors])
    try:
        return await service.replay(letter, data, operator)
    except NotReplayable:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"dead letter {letter_id} is no CloudEvent: there is nothing to replay"
        ) from None


def _passed_on(status_code: int, body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status_code)
