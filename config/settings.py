"""Undersigned settings: one file, read from the environment (12-factor).

Every value has a default that runs anywhere (SQLite, in-process tasks, a local
outbox for email).  Production sets the environment; nothing lives in a
production-only module.  The operator contract is documented in README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP  # type: ignore[import-untyped,unused-ignore]
from django.utils.translation import gettext_lazy as _

from config.auth import *  # noqa: F403  (AUTH_*, ACCOUNT_*, MFA_*, REQUIRE_ORGANISER_2FA)
from config.database import REPLICA, REPLICA_ROUTER, databases
from config.mail import mailer_from_url
from config.signer_keys import load_signer_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=False)

_DEV_SECRET = "django-insecure-undersigned-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY: str = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET
# Signers' addresses are sealed and hashed with keys outside the database
# (config/signer_keys.py says where they come from; docs/operations.md).
_signer = load_signer_keys(env, debug=DEBUG, var_dir=VAR_DIR)
SIGNER_HASH_KEY, SIGNER_SEAL_PUBLIC_KEY = _signer.hash_key, _signer.public
SIGNER_SEAL_PRIVATE_KEYS: list[str] = _signer.privates  # email-sending processes only

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "config.apps.UndersignedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "letters",
    "outbox",
]

MIDDLEWARE = [
    # Outermost: every answer is `private, no-store` unless it says `public`,
    # and HEAD answers lose their body (config/middleware.py).
    "config.middleware.private_by_default",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.require_second_factor",  # REQUIRE_ORGANISER_2FA
]

# Requests whose answer is the same for every visitor (the sign POST, the
# cached public pages) take this shorter chain; speed/public_chain.py says why.
_PUBLIC_CHAIN = {
    "config.middleware.private_by_default",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
}
PUBLIC_MIDDLEWARE = [m for m in MIDDLEWARE if m in _PUBLIC_CHAIN]  # in MIDDLEWARE's order

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Speed machinery (docs/speed.md: each trick, its measured gain, its switch)
SPEED: dict[str, bool] = {
    name: env.bool(name, default=True)
    for name in (
        "DATABASE_PREPARED_STATEMENTS",  # the sign INSERT and "sent" UPDATE prepared
        "DATABASE_POOL_SKIP_RECENT_CHECK",  # no health round trip for a busy connection
        "REDIS_CLIENT_SHARED",  # one redis.Redis per pool, not per cache call
        "REDIS_COUNTER_SCRIPT",  # rate-limit windows in one Lua call
        "PUBLIC_MIDDLEWARE_CHAIN",  # same-for-everyone requests skip session/auth/CSRF
        "PUBLIC_PAGE_LOCAL_TIER",  # public pages answered from process memory
        "EMAIL_HEADER_CLASSES_CACHED",  # one header class per name, not per header
    )
}
# Seconds a process reuses the letter row a sign POST is for (0: off).
SIGNING_LETTER_TTL: float = env.float("SIGNING_LETTER_TTL", default=2.0)

# --- Database (config/database.py) ----------------------------------------
# Unset DATABASE_URL: a SQLite file (the embedded default).  PostgreSQL goes
# through psycopg 3 with Django's connection pool.  DATABASE_PGBOUNCER: behind
# PgBouncer in transaction mode (no prepared statements, no server-side cursors).
DATABASE_PGBOUNCER: bool = env.bool("DATABASE_PGBOUNCER", default=False)
if DATABASE_PGBOUNCER:
    SPEED["DATABASE_PREPARED_STATEMENTS"] = False
DATABASES = databases(env, var_dir=VAR_DIR, speed=SPEED, pgbouncer=DATABASE_PGBOUNCER)
# DATABASE_REPLICA_URL: public reads may come from a replica, this stale at
# most (letters/replica.py): lag measured at most every REPLICA_CHECK_INTERVAL
# seconds, used only up to REPLICA_MAX_LAG, given up for REPLICA_RETRY after
# a failure.
DATABASE_ROUTERS = [REPLICA_ROUTER] if REPLICA in DATABASES else []
REPLICA_CHECK_INTERVAL: float = env.float("REPLICA_CHECK_INTERVAL", default=2.0)
REPLICA_MAX_LAG: float = env.float("REPLICA_MAX_LAG", default=5.0)
REPLICA_RETRY: float = env.float("REPLICA_RETRY", default=5.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker ---------------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")
CACHE_KEY_PREFIX: str = env.str("CACHE_KEY_PREFIX", default="us")
if REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "speed.redis_client.RedisCache"
            if SPEED["REDIS_CLIENT_SHARED"]
            else "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery ---------------------------------------------------------------
# REDIS_URL set: Redis is the broker.  Unset: tasks run in-process (eagerly),
# after the surrounding transaction commits, so the embedded default needs no
# other service.
CELERY_BROKER_URL: str = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER: bool = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message not acked within this many seconds is delivered again (worker
# killed mid-task).  Must exceed the longest task time limit plus its countdown.
CELERY_VISIBILITY_TIMEOUT: int = env.int("CELERY_VISIBILITY_TIMEOUT", default=900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # kombu looks for expired unacked messages only every interval × throttle
    # seconds (100 s by default); look often enough that a killed worker's
    # task comes back soon after the visibility timeout.
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}
CELERY_TASK_TIME_LIMIT: int = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT: int = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=90)
CELERY_TASK_DEFAULT_QUEUE: str = env.str("CELERY_QUEUE", default="undersigned")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Email ----------------------------------------------------------------
# One mailer, `default`, from EMAIL_URL (Django 6.1's MAILERS; the
# EMAIL_BACKEND/EMAIL_HOST... settings are deprecated and not set).
EMAIL_URL: str = env.str("EMAIL_URL", default="")
OUTBOX_ENABLED = bool(DEBUG and not EMAIL_URL)


if EMAIL_URL:
    MAILERS = {"default": mailer_from_url(EMAIL_URL, env.int("EMAIL_TIMEOUT", default=15))}
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "outbox.backends.OutboxBackend"}}
else:
    raise ImproperlyConfigured("EMAIL_URL must be set when DEBUG is off.")
DEFAULT_FROM_EMAIL: str = env.str(
    "DEFAULT_FROM_EMAIL", default="Undersigned <noreply@undersigned.invalid>"
)
SERVER_EMAIL: str = DEFAULT_FROM_EMAIL

# --- Auth (django-allauth, two-factor, passkeys): config/auth.py ------------
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"

# --- I18N -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # one date style, localised
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------
# Django's own CSP: no inline script anywhere; styles only from our origin.
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
_HTTPS = SITE_URL.startswith("https://")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_HTTPS)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS and not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's check speaks plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_HTTPS)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies in front of us append to X-Forwarded-For (0: use
# REMOTE_ADDR).  Used only for sign rate limits.
TRUSTED_PROXY_COUNT: int = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Letters --------------------------------------------------------------
# Counts are folded every COUNT_INTERVAL seconds; public pages are cached for
# as long, so what a visitor sees is exact within that bound.
COUNT_INTERVAL: int = env.int("COUNT_INTERVAL", default=5)
COUNT_RECOUNT_INTERVAL: int = env.int("COUNT_RECOUNT_INTERVAL", default=600)
# The signatures-over-time chart is rebuilt at most this often.
CHART_CACHE_SECONDS: int = env.int("CHART_CACHE_SECONDS", default=300)
# Moderation dry runs report exact numbers only from this many up.
MODERATION_MIN_REPORTED: int = env.int("MODERATION_MIN_REPORTED", default=5)
# Personal data of signatures is erased this many days after a letter is
# closed or delivered (counts are kept).
RETENTION_DAYS: int = env.int("RETENTION_DAYS", default=90)
# Counts by group (team, location, day) below this are suppressed.
EXPORT_MIN_GROUP: int = env.int("EXPORT_MIN_GROUP", default=5)
UPDATE_EMAIL_BATCH: int = env.int("UPDATE_EMAIL_BATCH", default=500)
SIGNATURE_CONFIRM_MAX_AGE: int = env.int("SIGNATURE_CONFIRM_MAX_AGE", default=3 * 86400)
SIGNATURE_WITHDRAW_MAX_AGE: int = env.int("SIGNATURE_WITHDRAW_MAX_AGE", default=400 * 86400)
# The sign form can make the site email an address: at most
# SIGNATURE_MAX_EMAILS confirmation requests and SIGNATURE_MAX_ALREADY_EMAILS
# "already signed" emails per signature per rolling SIGNATURE_EMAIL_WINDOW
# seconds, and a fresh withdraw link at most every
# SIGNATURE_WITHDRAW_LINK_INTERVAL seconds.
SIGNATURE_MAX_EMAILS: int = env.int("SIGNATURE_MAX_EMAILS", default=5)
SIGNATURE_MAX_ALREADY_EMAILS: int = env.int("SIGNATURE_MAX_ALREADY_EMAILS", default=1)
SIGNATURE_EMAIL_WINDOW: int = env.int("SIGNATURE_EMAIL_WINDOW", default=86400)
SIGNATURE_WITHDRAW_LINK_INTERVAL: int = env.int(
    "SIGNATURE_WITHDRAW_LINK_INTERVAL", default=7 * 86400
)
SIGNATURE_PENDING_MAX_AGE: int = env.int("SIGNATURE_PENDING_MAX_AGE", default=7 * 86400)
SIGNATURE_SWEEP_INTERVAL: int = env.int("SIGNATURE_SWEEP_INTERVAL", default=60)
# Confirmations per client address and letter (burst and sustained): over
# either, a confirmed signature is held (flagged), not counted.
SIGN_RATE_BURST: str = env.str("SIGN_RATE_BURST", default="10/60")
SIGN_RATE_SUSTAINED: str = env.str("SIGN_RATE_SUSTAINED", default="60/86400")
SIGN_RATE_ALLOWLIST: list[str] = env.list("SIGN_RATE_ALLOWLIST", default=[])
# The signature email outbox (letters.signature_outbox): a sender
# leases SIGNATURE_EMAIL_BATCH owed emails for SIGNATURE_EMAIL_LEASE seconds
# (shorter than the visibility timeout, so that a killed sender's emails are
# free again when the broker redelivers its task) and works for at most
# SIGNATURE_EMAIL_SENDER_BUDGET seconds before handing over to a fresh task.
SIGNATURE_EMAIL_BATCH: int = env.int("SIGNATURE_EMAIL_BATCH", default=50)
SIGNATURE_EMAIL_LEASE: int = env.int(
    "SIGNATURE_EMAIL_LEASE", default=max(2, min(300, CELERY_VISIBILITY_TIMEOUT // 2))
)
SIGNATURE_EMAIL_SENDER_BUDGET: int = env.int(
    "SIGNATURE_EMAIL_SENDER_BUDGET", default=max(1, min(60, SIGNATURE_EMAIL_LEASE // 2))
)
EMAIL_RETRY_MAX: int = env.int("EMAIL_RETRY_MAX", default=8)
EMAIL_RETRY_BACKOFF_MAX: int = env.int("EMAIL_RETRY_BACKOFF_MAX", default=600)

# PERIODIC_INTERVALS="letters_close_due=2,news_send_overdue=2" overrides any
# task's interval (the cluster tests shorten them).
_INTERVALS = {k: float(v) for k, v in env.dict("PERIODIC_INTERVALS", default={}).items()}
CELERY_BEAT_SCHEDULE = {
    name.replace("_", "-"): {
        "task": f"letters.tasks.{name}",
        "schedule": _INTERVALS.pop(name, float(seconds)),
    }
    for name, seconds in (
        ("counts_fold", COUNT_INTERVAL),
        ("counts_recount", COUNT_RECOUNT_INTERVAL),
        ("signatures_resend_unsent", SIGNATURE_SWEEP_INTERVAL),
        ("letters_close_due", 60),
        ("letters_mark_overdue", 300),
        ("news_send_overdue", 300),
        ("signatures_erase_retained", 3600),
        ("signatures_delete_stale", 3600),
    )
}
if _INTERVALS:
    raise ImproperlyConfigured(f"PERIODIC_INTERVALS names no periodic task: {sorted(_INTERVALS)}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
