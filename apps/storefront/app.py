"""Assembly of the storefront app: the operator's dead-letter routes, the Dapr client."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from dapr.aio.clients import DaprClient
from fastapi import Body, Depends, FastAPI, HTTPException, Request, status

from common.apps import add_health_route
from common.delivery import DaprAnswer, Outcome
from common.logs import configure_logging
from common.state import DaprState
from contracts.names import STOREFRONT_STORE
from storefront.model import DeadLetter, Replay
from storefront.service import NotReplayable, StorefrontService
from storefront.settings import Settings
from storefront.store import DeadLetterStore


def create_app(settings: Settings | None = None, service: StorefrontService | None = None) -> FastAPI:
    """The storefront app. Without `service`, it builds one on the app's own sidecar."""
    settings = settings or Settings()
    configure_logging("storefront")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            app.state.service, app.state.ready = service, True
            yield
            return
        async with DaprClient(address=settings.dapr_grpc_address) as client:
            app.state.service = StorefrontService(DeadLetterStore(DaprState(client, STOREFRONT_STORE)), client)
            app.state.ready = True
            yield

    app = FastAPI(title="storefront", lifespan=lifespan)
    add_health_route(app)
    app.get("/deadletters")(list_dead_letters)
    app.post("/deadletters/{letter_id}/replay", status_code=status.HTTP_202_ACCEPTED)(replay_dead_letter)
    # The path named by the dead-letter subscription in components/subscriptions.yaml.
    app.post("/events/dead-letter")(receive_dead_letter)
    return app


def get_service(request: Request) -> StorefrontService:
    return request.app.state.service


Service = Annotated[StorefrontService, Depends(get_service)]


async def receive_dead_letter(delivery: Annotated[dict[str, Any], Body()], service: Service) -> DaprAnswer:
    # Whatever arrives is kept; only a failure to store it asks Dapr to deliver it again.
    await service.keep_dead_letter(delivery)
    return {"status": Outcome.SUCCESS}


async def list_dead_letters(service: Service) -> list[DeadLetter]:
    return await service.dead_letters()


async def replay_dead_letter(letter_id: str, service: Service, replay: Replay | None = None) -> DeadLetter:
    letter = await service.dead_letter(letter_id)
    if letter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no dead letter {letter_id}")
    try:
        return await service.replay(letter, replay.data if replay else None)
    except NotReplayable:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"dead letter {letter_id} is no CloudEvent: there is nothing to replay"
        ) from None
