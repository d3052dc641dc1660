"""Seller Center settings: one module, driven by the environment (django-environ).

With nothing set, the product runs on an embedded default: SQLite and a filesystem
Celery broker under ``var/``. Production sets DATABASE_URL, REDIS_URL (or
CELERY_BROKER_URL), DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DJANGO_DEBUG=false.

Every variable read here is listed in README's configuration table and in ``.env.example``
(tests/ops/test_configuration.py checks it).
"""

import os
import re
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# .env first (real environment variables win), so everything below, SC_VAR_DIR included,
# sees it. An empty value counts as unset: `cp .env.example .env` leaves every default alone.
environ.Env.read_env(BASE_DIR / ".env")
_OURS = ("DJANGO_", "SC_", "CELERY_", "DATABASE_URL", "REDIS_URL", "DB_", "PLATFORM_", "LOG_")
for _name in [n for n, v in os.environ.items() if v == "" and n.startswith(_OURS)]:
    del os.environ[_name]
env = environ.Env()

VAR_DIR = Path(env.str("SC_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
# The key `make run` generates once (bin/run-embedded, mode 0600). Read only when no
# DJANGO_SECRET_KEY is set, so every process of the local product (web, worker, beat and
# management commands typed later in another shell) signs with the same key. A deployment
# sets DJANGO_SECRET_KEY and has no such file: without the variable its servers refuse to start.
SECRET_KEY_FILE = VAR_DIR / "secret_key"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# `make run` (bin/run-embedded) serves the product as production does, but over plain HTTP on
# the loopback interface: only its cookie, redirect and host defaults differ.
EMBEDDED_RUN = env.bool("SC_EMBEDDED_RUN", default=False)
_LOCAL_HTTP = DEBUG or EMBEDDED_RUN


def _secret_key() -> str:
    if key := env.str("DJANGO_SECRET_KEY", default=""):
        return key
    try:
        key = SECRET_KEY_FILE.read_text().strip()
    except OSError:
        key = ""
    # No production default. Management commands that need no secret (migrations, checks)
    # run without one; every server refuses to start without it (sellercenter.startup), and
    # Django itself refuses any signing with an empty key.
    return key or ("dev-insecure-key" if DEBUG else "")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if _LOCAL_HTTP else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves /api/v1/docs from its own static files (no CDN)
    "core",
    "shops",
    "buyers",
    "integrations",
    "orders",
    "coins",
    "affiliate",
    "mailing",
    "activities",
    "demo",  # floor 4: seed_demo, simulate, bulk seeding; calls each app's demo hook
    "sellercenter",
    "sellercenter.constance_app.RuleNumbersConfig",  # django-constance: rule numbers, below
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # SPEC A-4: the click redirect answers here, before the session and everything after it.
    "affiliate.redirect.ClickRedirectMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "shops.middleware.CurrentShopMiddleware",
]

ROOT_URLCONF = "sellercenter.urls"
WSGI_APPLICATION = "sellercenter.wsgi.application"
ASGI_APPLICATION = "sellercenter.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shops.context_processors.tenancy",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sellercenter.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves web + worker + beat from one file: WAL and a busy
    # timeout let them take turns instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Argon2 first (buyer and staff passwords); older hashes still verify and are upgraded on login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 6},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# SPEC §0: "natural day" is a calendar day in the platform time zone.
PLATFORM_TIME_ZONE = env.str("PLATFORM_TIME_ZONE", default="Asia/Shanghai")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# Security. Production (DEBUG off) gets HSTS, secure cookies and a strict CSP; `make run`
# (plain HTTP on loopback, SC_EMBEDDED_RUN) keeps debug off but drops the HTTPS-only parts.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not _LOCAL_HTTP)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not _LOCAL_HTTP)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not _LOCAL_HTTP)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if _LOCAL_HTTP else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

from django.utils.csp import CSP  # noqa: E402

# Product pictures from the marketplace's image hosts (product.upserted image_url): CSP
# host-sources such as https://ae01.alicdn.com or https://*.alicdn.com, added to img-src. Empty
# (the default): only local pictures show; any other image_url shows the neutral placeholder.
SC_PRODUCT_IMAGE_HOSTS = env.list("SC_PRODUCT_IMAGE_HOSTS", default=[])
for _host in SC_PRODUCT_IMAGE_HOSTS:
    if not re.fullmatch(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?", _host):
        raise ImproperlyConfigured(
            f"SC_PRODUCT_IMAGE_HOSTS: {_host!r} is not a host-source like https://img.example.com"
            " or https://*.example.com"
        )

# Django 6's built-in CSP. Every asset is vendored, so 'self' is all a page needs;
# inline scripts carry the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", *SC_PRODUCT_IMAGE_HOSTS],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}

# The embedded run (`make run`) has no mail server: its mail is written under var/mail/ (one
# file per connection) instead of failing against localhost:25.
EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.filebased.EmailBackend"
    if EMBEDDED_RUN
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="Seller Center <no-reply@sellercenter.local>"
)

# Celery. Redis when a broker URL is set; otherwise kombu's filesystem transport under
# var/, so `make run` brings up a real worker and beat with no server at all.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# Not a CELERY_ setting name: Celery reads it from the transport options below.
SC_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=600)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # exchange tables (kombu's default is ./control, wherever the process was started)
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # kombu waits this long between looks at the folder (its default is 1 s): at 1 s a
        # worker got through about 2 tasks a second, and the demo's seeding leaves a few
        # thousand queued, so beat's first tasks ran a quarter of an hour after start-up.
        "polling_interval": 0.1,
    }
else:
    # DESIGN §4: a task whose worker died (kill -9) is redelivered after this many seconds,
    # so it is minutes, not an hour; every hard time limit fits under it (sellercenter.checks).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": SC_BROKER_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule is code, reviewed like code (DESIGN §4).
CELERY_BEAT_SCHEDULE = {
    "orders-rebuild-today-stats": {
        "task": "orders.tasks.daily_stats_reconcile_task",
        "schedule": crontab(minute="*/15"),
    },
    # DESIGN §1b: what a lost task or a killed worker left undelivered, within a minute.
    "orders-events-catch-up": {
        "task": "orders.tasks.order_events_catch_up_task",
        "schedule": 60.0,
    },
    "orders-events-prune": {
        "task": "orders.tasks.order_events_prune_task",
        "schedule": crontab(minute=17, hour=3),
    },
    # SPEC C-6: the daily expiry (UTC 16:05 = 00:05 in Asia/Shanghai, just past midnight).
    "coins-expire": {
        "task": "coins.tasks.coins_expire_task",
        "schedule": crontab(minute=5, hour=16),
    },
    # SPEC M-2, M-10: own sender domains re-checked by DNS (mailing.services.setup).
    "mailing-domains-reverify": {
        "task": "mailing.tasks.sender_domains_reverify_task",
        "schedule": crontab(minute="*/15"),
    },
    # SPEC M-5, M-6, M-8, M-10: recover dead workers' claims, decide A/B tests, send what is due.
    "mailing-dispatch-tick": {
        "task": "mailing.tasks.dispatch_tick_task",
        "schedule": 60.0,
    },
    # SPEC M-12: yesterday's sending health (UTC 16:10 = 00:10 in Asia/Shanghai).
    "mailing-health": {
        "task": "mailing.tasks.health_evaluate_task",
        "schedule": crontab(minute=10, hour=16),
    },
    # SPEC M-9: last month's statements, charged to the shop balances (and retries).
    "mailing-statements": {
        "task": "mailing.tasks.statements_close_task",
        "schedule": crontab(minute=20, hour=16),
    },
    # SPEC M-13: a CSV import whose worker died continues after its last committed chunk.
    "mailing-imports-resume": {
        "task": "mailing.tasks.contact_imports_resume_task",
        "schedule": 120.0,
    },
    # SPEC A-4: the Redis click buffer into PostgreSQL (affiliate.services.clicks).
    "affiliate-clicks-flush": {
        "task": "affiliate.tasks.affiliate_clicks_flush_task",
        "schedule": 5.0,
    },
    # SPEC A-6: paid commissions pre-issued within the hour (target p99 < 1 h).
    "affiliate-pre-issue": {
        "task": "affiliate.tasks.affiliate_pre_issue_task",
        "schedule": 120.0,
    },
    "affiliate-settle": {
        "task": "affiliate.tasks.affiliate_settle_task",
        "schedule": crontab(minute=25),
    },
    # SPEC A-3: daily, just past midnight in Asia/Shanghai (UTC 16:10).
    "affiliate-pids-freeze": {
        "task": "affiliate.tasks.affiliate_pids_freeze_task",
        "schedule": crontab(minute=10, hour=16),
    },
    # SPEC C-5: nightly proof that the coin ledger sums to every cached balance.
    "coins-reconcile": {
        "task": "coins.tasks.coins_reconcile_task",
        "schedule": crontab(minute=35, hour=19),
    },
    # SPEC C-10: last month's coin grade, on the 1st at 02:10 UTC (10:10 in Asia/Shanghai, so
    # the platform's month has ended everywhere).
    "coins-grade": {
        "task": "coins.tasks.coins_grade_task",
        "schedule": crontab(minute=10, hour=2, day_of_month=1),
    },
    # SPEC E-3/E-5: every shop's activity metrics, hourly (and the forced exits they decide).
    # Minute 7: past the quarter-hourly daily-figures reconcile at minute 0.
    "activities-metrics-evaluate": {
        "task": "activities.tasks.metrics_evaluate_task",
        "schedule": crontab(minute=7),
    },
    # SPEC E-6 layer 1: activity orders' price and units against the enrolment, every 15 min.
    "activities-consistency-check": {
        "task": "activities.tasks.consistency_check_task",
        "schedule": crontab(minute="3,18,33,48"),
    },
    # SPEC E-6 layer 3: review reports of ended activities (final 72 h after the end).
    "activities-reports": {
        "task": "activities.tasks.reports_generate_task",
        "schedule": crontab(minute=37),
    },
    # Metric snapshots past ACTIVITIES_SNAPSHOT_RETENTION_DAYS (exits' evidence kept).
    "activities-snapshots-prune": {
        "task": "activities.tasks.snapshots_prune_task",
        "schedule": crontab(minute=47, hour=3),
    },
    # SPEC B-6: buyers without a first payment 72 h after registration.
    "buyers-low-activity": {
        "task": "buyers.tasks.buyers_low_activity_task",
        "schedule": crontab(minute="*/10"),
    },
}

# Each record is written once, by the root handler: Django's own "django" console handler
# (debug only) is dropped, or every request error would be printed twice under `make dev`.
# Production logs one JSON object per line (core.logging); make run / make dev stay readable.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if _LOCAL_HTTP else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Marketplace integration (SPEC §0).
SC_SIGNATURE_MAX_SKEW_SECONDS = 300
SC_EVENTS_MAX_BATCH = 500
# After a secret rotation the previous secret stays valid this long, so senders can switch.
SC_INTEGRATION_ROTATION_GRACE_HOURS = env.int("SC_INTEGRATION_ROTATION_GRACE_HOURS", default=24)
SC_EVENTS_MAX_BODY_BYTES = env.int("SC_EVENTS_MAX_BODY_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = SC_EVENTS_MAX_BODY_BYTES

# The order event log (DESIGN §1b). A consumer's cursor passes an event only once it is older
# than the settle time: longer than any transaction may stay open, since ids commit out of order.
SC_ORDER_EVENTS_SETTLE_SECONDS = env.int("SC_ORDER_EVENTS_SETTLE_SECONDS", default=600)
# Handled events older than this are pruned (days).
SC_ORDER_EVENTS_RETENTION_DAYS = env.int("SC_ORDER_EVENTS_RETENTION_DAYS", default=30)

# Affiliate click redirect (SPEC A-4): the only hosts a tracking link may lead to.
SC_AFFILIATE_REDIRECT_HOSTS = env.list(
    "SC_AFFILIATE_REDIRECT_HOSTS",
    default=["www.aliexpress.com", "aliexpress.com", "m.aliexpress.com"],
)
# Clicks answered per flush of the Redis click buffer into PostgreSQL (affiliate.clicks).
SC_AFFILIATE_CLICK_FLUSH_BATCH = env.int("SC_AFFILIATE_CLICK_FLUSH_BATCH", default=5000)

# Marketing email (SPEC M-11): the only hosts a click redirect in an email may lead to, and the
# secret an ESP signs its bounce/complaint webhooks with (X-SC-Signature, core.signing).
SC_MAILING_LINK_HOSTS = env.list(
    "SC_MAILING_LINK_HOSTS",
    default=["www.aliexpress.com", "aliexpress.com", "m.aliexpress.com"],
)
SC_MAILING_WEBHOOK_SECRET = env.str("SC_MAILING_WEBHOOK_SECRET", default="")

# Pagination of seller lists.
SC_PAGE_SIZE = 25

# Web hardening (core.ratelimit, core.auth, core.uploads). Rates are "N/period" (django-ratelimit:
# s, m, h, d with a multiplier, e.g. "5/15m"); counters live in the default cache.
SC_LOGIN_FAILURES_PER_ACCOUNT = env.str("SC_LOGIN_FAILURES_PER_ACCOUNT", default="5/15m")
SC_LOGIN_FAILURES_PER_IP = env.str("SC_LOGIN_FAILURES_PER_IP", default="30/15m")
# Behind a reverse proxy REMOTE_ADDR is the proxy: name the META key that holds the client's
# address (e.g. HTTP_X_REAL_IP, set by the proxy) or every client shares one IP counter.
SC_CLIENT_IP_META_KEY = env.str("SC_CLIENT_IP_META_KEY", default="")
RATELIMIT_IP_META_KEY = "core.ratelimit.client_ip"
# Private uploads: outside every public URL, served only through permission-checked views.
SC_PRIVATE_UPLOADS_DIR = Path(env.str("SC_PRIVATE_UPLOADS_DIR", default=str(VAR_DIR / "private")))
SC_UPLOAD_MAX_BYTES = env.int("SC_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
SC_UPLOAD_ALLOWED_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/webp")
# S3-compatible storage (django-storages) when a bucket is named; local disk otherwise.
SC_PRIVATE_UPLOADS_BUCKET = env.str("SC_PRIVATE_UPLOADS_BUCKET", default="")
if SC_PRIVATE_UPLOADS_BUCKET:
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": SC_PRIVATE_UPLOADS_BUCKET,
            "endpoint_url": env.str("SC_PRIVATE_UPLOADS_ENDPOINT_URL", default="") or None,
            "region_name": env.str("SC_PRIVATE_UPLOADS_REGION", default="") or None,
            "access_key": env.str("SC_PRIVATE_UPLOADS_ACCESS_KEY", default="") or None,
            "secret_key": env.str("SC_PRIVATE_UPLOADS_SECRET_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,  # never a public URL
            "file_overwrite": False,
        },
    }
else:
    STORAGES["private"] = {
        "BACKEND": "core.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(SC_PRIVATE_UPLOADS_DIR)},
    }

# Admin-changeable rule numbers (DESIGN §7, SPEC "defaults a platform admin can change"): one
# registry, django-constance on its database backend, edited in Django admin ("Rule numbers"),
# read only through each module's rules.py. No cache: one indexed read per value, always current
# in every process and inside test transactions (a shared cache would outlive their rollback).
CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"
from .rule_numbers import (  # noqa: E402, F401 - the registry: defaults, units, SPEC ids
    CONSTANCE_ADDITIONAL_FIELDS,
    CONSTANCE_CONFIG,
    CONSTANCE_CONFIG_FIELDSETS,
)

# Buyer accounts (SPEC B-1 … B-7; README "Buyer accounts"). Rates are core.ratelimit "N/period".
SC_BUYER_CODES_PER_CONTACT = env.str("SC_BUYER_CODES_PER_CONTACT", default="5/h")
SC_BUYER_CODES_PER_IP = env.str("SC_BUYER_CODES_PER_IP", default="30/h")
SC_BUYER_CODE_FAILURES_PER_IP = env.str("SC_BUYER_CODE_FAILURES_PER_IP", default="30/h")
# SMS: a dotted path to a buyers.sms backend (file: written under SC_VAR_DIR/sms; http: POSTs
# {"to", "text"} as JSON to SC_BUYER_SMS_HTTP_URL with a bearer token).
SC_BUYER_SMS_BACKEND = env.str("SC_BUYER_SMS_BACKEND", default="buyers.sms.FileSmsBackend")
SC_BUYER_SMS_HTTP_URL = env.str("SC_BUYER_SMS_HTTP_URL", default="")
SC_BUYER_SMS_HTTP_TOKEN = env.str("SC_BUYER_SMS_HTTP_TOKEN", default="")
# SPEC B-4: the request's country, set by a trusted edge (CDN / proxy), as a META key such as
# HTTP_CF_IPCOUNTRY; or a local GeoIP2 country database file (needs the geoip2 package).
SC_BUYER_COUNTRY_HEADER = env.str("SC_BUYER_COUNTRY_HEADER", default="")
SC_BUYER_GEOIP_DATABASE = env.str("SC_BUYER_GEOIP_DATABASE", default="")
# Absolute base of links in buyer messages (the "report this change" link, SPEC B-7).
SC_BUYER_PUBLIC_URL = env.str("SC_BUYER_PUBLIC_URL", default="http://localhost:8000")
SC_BUYER_API_MAX_BODY_BYTES = 16 * 1024

# Marketing email set-up (SPEC M-2; README "Marketing email"). The default sender domain of a
# shop is <shop>.mail.<SC_MAILING_PLATFORM_DOMAIN>; an own subdomain's SPF record must include
# SC_MAILING_SPF_INCLUDE. DNS look-ups ask SC_MAILING_DNS_NAMESERVERS (comma-separated IPs; the
# system's resolvers when empty) on SC_MAILING_DNS_PORT.
SC_MAILING_PLATFORM_DOMAIN = env.str("SC_MAILING_PLATFORM_DOMAIN", default="sellercenter.example")
SC_MAILING_SPF_INCLUDE = env.str(
    "SC_MAILING_SPF_INCLUDE", default=f"_spf.{SC_MAILING_PLATFORM_DOMAIN}"
)
SC_MAILING_DNS_NAMESERVERS = env.list("SC_MAILING_DNS_NAMESERVERS", default=[])
SC_MAILING_DNS_PORT = env.int("SC_MAILING_DNS_PORT", default=53)
SC_MAILING_DNS_TIMEOUT = env.float("SC_MAILING_DNS_TIMEOUT", default=3.0)
# The local part of the From address (news@<sender domain>).
SC_MAILING_FROM_LOCAL_PART = env.str("SC_MAILING_FROM_LOCAL_PART", default="news")
# Absolute base of links in marketing email (brand logo, tracking, unsubscribe).
SC_MAILING_PUBLIC_URL = env.str("SC_MAILING_PUBLIC_URL", default="http://localhost:8000")
