"""Thin subscription endpoints: parse the CloudEvent, hand it to a handler, tell Dapr.

Dapr reads the app's answer to a delivery from the body's `status`:
SUCCESS acknowledges, RETRY redelivers under the resiliency policy, DROP sends the
message to the subscription's dead-letter topic at once. An event that cannot be
parsed is poison, so it is dropped, never retried.
"""

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from time import perf_counter
from typing import Any, TypeVar

from fastapi import Request
from pydantic import ValidationError

from common.logs import event_context
from common.metrics import ERROR, UNKNOWN, metrics_of, type_label
from common.tracing import handling
from contracts.events import CloudEvent, Event

log = logging.getLogger("delivery")


class Outcome(StrEnum):
    SUCCESS = "SUCCESS"
    RETRY = "RETRY"
    DROP = "DROP"


DaprAnswer = dict[str, Outcome]
E = TypeVar("E", bound=Event)


def event_endpoint(
    model: type[E], handle: Callable[[Any, CloudEvent[E]], Awaitable[Outcome]]
) -> Callable[[Request], Awaitable[DaprAnswer]]:
    """An endpoint for one event type that hands each valid event to `handle`, a method
    of the app's service (found on `app.state.service`, built by the app's lifespan)."""
    envelope = CloudEvent[model]  # type: ignore[valid-type]

    async def endpoint(request: Request) -> DaprAnswer:
        started, metrics = perf_counter(), metrics_of(request)
        body = await request.body()
        try:
            event = envelope.model_validate_json(body)
        except ValidationError as error:
            log.warning(
                "dropping a malformed %s event to the dead letters",
                model.type,
                extra={"event_type": model.type, "reason": _summary(error)},
            )
            metrics.count(model.type, None, Outcome.DROP, started)
            return {"status": Outcome.DROP}
        context = event_context.set({"event_id": event.id, "event_type": event.type})
        try:
            with handling(request.app, event):
                outcome = await handle(request.app.state.service, event)
        except Exception:
            metrics.count(model.type, event.id, ERROR, started)
            raise
        finally:
            event_context.reset(context)
        metrics.count(model.type, event.id, outcome, started)
        return {"status": outcome}

    return endpoint


async def unrouted_event(request: Request) -> DaprAnswer:
    """The default route: a fact this app does not act on.

    Known event types are acknowledged (topics carry facts for other subscribers too);
    anything else comes from no producer in the contract and goes to the dead letters.
    """
    started = perf_counter()
    try:
        event = await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        event = None
    event_type = event.get("type") if isinstance(event, dict) else None
    label = type_label(event_type)  # the contract's name for it, or "unknown"
    if label != UNKNOWN:
        outcome = Outcome.SUCCESS
    else:
        log.warning("dropping an event of unknown type", extra={"event_type": str(event_type)})
        outcome = Outcome.DROP
    # Never a retry here, so no id is needed to tell a redelivery.
    metrics_of(request).count(label, None, outcome, started)
    return {"status": outcome}


def _summary(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()
    )
