"""Publishing contract events through the app's own sidecar."""

from dapr.aio.clients import DaprClient

from contracts.events import Event
from contracts.names import PUBSUB


class EventPublisher:
    def __init__(self, client: DaprClient) -> None:
        self._client = client

    async def publish(self, event: Event) -> None:
        """Publish `event` to its bounded context's topic; Dapr wraps it in a CloudEvent
        whose `type` names the fact and whose `id` is stable for the fact."""
        await self._client.publish_event(
            pubsub_name=PUBSUB,
            topic_name=event.topic,
            data=event.model_dump_json(),
            data_content_type="application/json",
            publish_metadata={"cloudevent.type": event.type, "cloudevent.id": event.event_id},
        )
