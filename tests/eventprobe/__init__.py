"""A test consumer of the order event log: it records every event it handles (so tests can
count handlings per event) and can be told, through the cache (Redis), to fail once or to stall
on an event. Installed by ``settings_test``; registered as a consumer by the ``probe`` fixture,
or at start-up when ``SC_EVENT_PROBE=1`` (a real Celery worker process started by a test)."""
