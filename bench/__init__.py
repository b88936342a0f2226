"""eda-shop's benchmark: one hop through Dapr against raw Redis Streams and Celery, the
saga end to end, and what every process costs. `make bench`; never part of the tests."""
