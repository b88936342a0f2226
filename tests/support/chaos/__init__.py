"""make chaos: orders at a steady rate while apps, sidecars and Redis are SIGKILLed and
restarted, and Redis and an app are cut off for 30 s by black holes, then an audit of
what became of every order (plan.py: what the run does; run.py: doing it; audit.py: the
figures and the report)."""
