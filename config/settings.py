"""Settings for ml-connector, all read from the environment (see .env.example).

APP_ENV selects the posture: `development` (the demo; embedded defaults, SQLite allowed),
`test`, or `production` (refuses to start without real secrets).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

APP_ENV = env_choice("APP_ENV", "development", ("development", "test", "production"))
IS_PRODUCTION = APP_ENV == "production"

# Development-only fallbacks: obviously fake, never accepted in production.
_DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production"
_DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="

DEBUG = env_bool("DEBUG", default=not IS_PRODUCTION)
if IS_PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be false when APP_ENV=production.")

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when APP_ENV=production.")
    SECRET_KEY = _DEV_SECRET_KEY


def _fernet_keys(raw_keys: list[str]) -> list[str]:
    for index, key in enumerate(raw_keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {index} is not a Fernet key (32 url-safe base64 bytes). "
                "Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
    return raw_keys


# Newest key first; older keys only decrypt. Kept apart from SECRET_KEY so either can rotate alone.
FIELD_ENCRYPTION_KEYS = _fernet_keys(env_list("FIELD_ENCRYPTION_KEYS", env_secret("FIELD_ENCRYPTION_KEYS")))
if not FIELD_ENCRYPTION_KEYS:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is required when APP_ENV=production.")
    FIELD_ENCRYPTION_KEYS = [_DEV_ENCRYPTION_KEY]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
if IS_PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when APP_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_celery_beat",
    "accounts",
    "tenants",
    "mappings",
    "connector",
]

MIDDLEWARE = [
    "config.security_headers.SecurityHeadersMiddleware",  # CSP, Permissions-Policy (issue 12)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tenants.middleware.CurrentOrganisationMiddleware",
]

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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.organisations",
            ],
        },
    },
]

# SQLite is only the zero-install default of the demo; production and tests use PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'demo.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if IS_PRODUCTION and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL when APP_ENV=production.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the demo's web, worker and beat share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if APP_ENV == "test":
    # Parallel test processes share one Redis: keep their rate-limit counters apart.
    CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"
if IS_PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required when APP_ENV=production.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: e-mail only, verified before first login.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("LOGIN_RATE_LIMIT", "5/5m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
# Subjects are whole sentences naming the product (templates/account/email/*_subject.txt).
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_USER_DISPLAY = "accounts.display.user_display"  # e-mail addresses, never generated usernames
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "ml-connector"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ml-connector <noreply@localhost>")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production, whitenoise serves straight from the finders (no collectstatic needed for the demo).
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = not IS_PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security posture: strict in production (manage.py check --deploy is clean), relaxed for the local demo.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Celery: Redis when configured; otherwise kombu's filesystem transport so the demo needs nothing installed.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = BASE_DIR / "var" / "broker"
    # kombu creates none of these, and fails on the first message without them.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # default is ./control in whatever the cwd is
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another worker
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# "Sync now" and replays go ahead of scheduled backfills (connector/routing.py).
CELERY_TASK_ROUTES = ("connector.routing.route_task",)
CELERY_TIMEZONE = "UTC"
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 30, minimum=1)
# How long one run may spend paused on QuickBooks throttling before it fails with a sentence.
SYNC_THROTTLE_BUDGET_SECONDS = env_int("SYNC_THROTTLE_BUDGET_SECONDS", 900, minimum=60)
# A queued run of a connected organisation waits for a worker this long before it is abandoned.
SYNC_QUEUED_MAX_WAIT_HOURS = env_int("SYNC_QUEUED_MAX_WAIT_HOURS", 6, minimum=1)
# QuickBooks' per-company limits are shared by every worker through Redis keys under this prefix
# (connector/qbo/governor.py); the tests give each test its own.
QBO_GOVERNOR_PREFIX = env_str("QBO_GOVERNOR_PREFIX", "qbo:gov")
# Metered QuickBooks calls one organisation may use in a month before its owners are mailed (70% and 90%).
# Intuit's free tier is 500,000 a month for all tenants together (docs/scaling.md has the sums).
QBO_METERED_MONTHLY_BUDGET = env_int("QBO_METERED_MONTHLY_BUDGET", 5000, minimum=1)
# QuickBooks' reference lists (vendors, accounts, terms, settings) are re-read at least this often, and
# whenever something new needs them; an unchanged poll reads nothing metered (connector/sync/reference.py).
QBO_REFERENCE_REFRESH_HOURS = env_int("QBO_REFERENCE_REFRESH_HOURS", 24, minimum=1)
# A run works this many seconds, then stops at a durable checkpoint and queues its continuation, so
# one tenant's backfill never holds a worker while others wait (connector/tasks.py). 0: no slices.
SYNC_SLICE_SECONDS = env_int("SYNC_SLICE_SECONDS", 120, minimum=0)
# How the vendors, purchase orders and bills steps write to QuickBooks (connector/sync/lanes.py):
# "batch+single" batches and fills the requests the batch lane leaves with single writes (fastest, and the
# fewest metered calls per bill); "batch" only batches; "single" writes one request per record.
QBO_WRITE_LANES = env_choice("QBO_WRITE_LANES", "batch+single", ("batch+single", "batch", "single"))
# Merged into django-celery-beat's database schedule at beat start-up.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "connector.tasks.heartbeat", "schedule": WORKER_HEARTBEAT_SECONDS},
    "dispatch-due-syncs": {"task": "connector.tasks.dispatch_due_syncs", "schedule": 60.0},
    "reap-abandoned-runs": {"task": "connector.tasks.reap_abandoned_runs", "schedule": 300.0},
    # Keeps each QuickBooks refresh token's rolling 100-day window open; warns before hard expiry.
    "keep-qbo-tokens-alive": {"task": "tenants.tasks.keep_qbo_tokens_alive", "schedule": 24 * 60 * 60},
}

# External endpoints. Defaults are the real services; the demo points every one at the sandbox.
QBO_CLIENT_ID = env_str("QBO_CLIENT_ID")
QBO_CLIENT_SECRET = env_secret("QBO_CLIENT_SECRET")
QBO_ENVIRONMENT = env_choice("QBO_ENVIRONMENT", "sandbox", ("production", "sandbox"))
QBO_REDIRECT_URI = env_str("QBO_REDIRECT_URI", f"{SITE_URL}/connections/qbo/callback/")
QBO_AUTHORIZE_URL = env_str("QBO_AUTHORIZE_URL", "https://appcenter.intuit.com/connect/oauth2")
QBO_TOKEN_URL = env_str("QBO_TOKEN_URL", "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer")
QBO_REVOKE_URL = env_str("QBO_REVOKE_URL", "https://developer.api.intuit.com/v2/oauth2/tokens/revoke")
QBO_API_BASE = env_str(
    "QBO_API_BASE",
    "https://quickbooks.api.intuit.com"
    if QBO_ENVIRONMENT == "production"
    else "https://sandbox-quickbooks.api.intuit.com",
)
# Where people open a record in QuickBooks' own UI (record pages link there); empty hides the links.
QBO_APP_URL = env_str(
    "QBO_APP_URL",
    "https://app.qbo.intuit.com" if QBO_ENVIRONMENT == "production" else "https://app.sandbox.qbo.intuit.com",
).rstrip("/")
PROCURIFY_TOKEN_URL = env_str("PROCURIFY_TOKEN_URL")  # empty: the customer's own {site}/oauth/token
# Where tenant-typed Procurify addresses may lead (connector/netguard.py). Production: only
# https://<name>.procurify.com, plus these extra hosts ("host" or "host:port"; https and public
# addresses only). Off by default.
PROCURIFY_ALLOWED_HOSTS = [h.lower() for h in env_list("PROCURIFY_ALLOWED_HOSTS")]
# Loopback (127.0.0.1, localhost, *.localhost, *.test) for the local sandbox: development and tests only.
PROCURIFY_ALLOW_LOOPBACK = env_bool("PROCURIFY_ALLOW_LOOPBACK", default=not IS_PRODUCTION)
if IS_PRODUCTION and PROCURIFY_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("PROCURIFY_ALLOW_LOOPBACK must be false when APP_ENV=production.")
# Transient QuickBooks token-refresh failures for this many days in a row mark the connection as
# needing reconnection (and e-mail its admins once) instead of retrying forever.
QBO_REFRESH_FAIL_DAYS = env_int("QBO_REFRESH_FAIL_DAYS", 3, minimum=1)
if IS_PRODUCTION and not (QBO_CLIENT_ID and QBO_CLIENT_SECRET):
    raise ImproperlyConfigured("QBO_CLIENT_ID and QBO_CLIENT_SECRET are required when APP_ENV=production.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "config.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # runserver's request lines carry query strings (the QuickBooks callback's code and state):
        # through the redacting handler instead of Django's default, unfiltered one.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
