"""The one-hop subscriber: a FastAPI app behind its sidecar, built the way eda-shop's apps
are (common.delivery parses each CloudEvent into a typed, validated event and answers
Dapr), so the hop measured is the apps' own. Run by uvicorn with the apps' flags.

Routes are named by bench/components/subscriptions.yaml.
"""

from typing import Any

from fastapi import FastAPI, Request

from bench.probe import Probe, Recorder
from common.delivery import Outcome, event_endpoint
from common.metrics import add_metrics_route
from common.tracing import trace_requests
from contracts.events import CloudEvent

ENVELOPE = CloudEvent[Probe]


def create_app() -> FastAPI:
    app = FastAPI(title="bench-subscriber")
    add_metrics_route(app)  # event_endpoint counts each delivery, as in the apps
    trace_requests(app, "bench-subscriber", zipkin_endpoint=None)  # spans made, as in the apps; sent nowhere
    # event_endpoint hands each event to a method of app.state.service.
    app.state.service = Recorder.from_env()
    app.post("/events/probe")(event_endpoint(Probe, record))
    app.post("/events/probe-bulk")(record_bulk)
    return app


async def record(recorder: Recorder, event: CloudEvent[Probe]) -> Outcome:
    probe = event.data
    recorder.record(probe.run, probe.seq, probe.n, probe.sent_ns)
    return Outcome.SUCCESS


async def record_bulk(request: Request) -> dict[str, Any]:
    """Dapr's bulk subscribe: many CloudEvents in one request, one status per entry.
    Each event is validated as the single-event endpoint validates it."""
    recorder: Recorder = request.app.state.service
    statuses = []
    for entry in (await request.json())["entries"]:
        probe = ENVELOPE.model_validate(entry["event"]).data
        recorder.record(probe.run, probe.seq, probe.n, probe.sent_ns)
        statuses.append({"entryId": entry["entryId"], "status": Outcome.SUCCESS})
    return {"statuses": statuses}
