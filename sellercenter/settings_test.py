"""Test settings: real PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaulting to
127.0.0.1). Only what tests need is overridden."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sellercenter")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# Under pytest-xdist every worker has its own test database (pytest-django adds the worker's
# suffix) and, here, its own Redis database: worker gwN uses the given number minus N (wrapping
# within Redis's 16), so one worker's cache, rate limits and broker queues never meet another's.
# The environment variable itself changes, so processes a test starts inherit the worker's db.
# A process a test starts inherits both variables: the marker keeps it from shifting twice.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_shifted = os.environ.get("SC_TEST_REDIS_SHIFTED_FOR") == _worker
if _worker.startswith("gw") and _worker[2:].isdigit() and not _shifted:
    _base, _, _db = os.environ["REDIS_URL"].rpartition("/")
    if _db.isdigit():
        os.environ["REDIS_URL"] = f"{_base}/{(int(_db) - int(_worker[2:])) % 16}"
        os.environ["SC_TEST_REDIS_SHIFTED_FOR"] = _worker
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("DJANGO_DEBUG", "false")
# Private uploads of a test run go to a scratch directory, never into var/.
os.environ.setdefault("SC_PRIVATE_UPLOADS_DIR", tempfile.mkdtemp(prefix="sc-private-"))

from .settings import *  # noqa: E402, F403

ALLOWED_HOSTS = ["*"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    **STORAGES,  # noqa: F405  (keeps "private": core.uploads)
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in-process in unit tests; tests/test_celery_worker.py runs a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# WhiteNoise looks for STATIC_ROOT at start-up; tests serve static files through finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# A test consumer of the order event log (tests/eventprobe); its table is created for tests only.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.eventprobe.apps.EventProbeConfig"]  # noqa: F405
# Buyer SMS go to an in-memory outbox (buyers.sms.outbox), like mail.outbox.
SC_BUYER_SMS_BACKEND = "buyers.sms.LocmemSmsBackend"
