"""One hop, publisher to subscriber: eda-shop's path through two sidecars, and the
baselines (raw Redis Streams, Celery) on the same Redis with the same payload."""
