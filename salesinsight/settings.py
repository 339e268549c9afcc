"""Settings for Sales Insight, read from the environment.

A laptop needs nothing set: the app runs on an SQLite file, executes Celery tasks
in-process and prints mail to the console. Production sets DATABASE_URL,
REDIS_URL, SECRET_KEY and ALLOWED_HOSTS; `.env.example` documents every variable.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from unsubscribes.ratelimit import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _read(name, reader, default):
    """Read one variable, turning a malformed value into a readable error."""
    try:
        return reader(name, default=default)
    except (ValueError, TypeError, ImproperlyConfigured) as error:
        raise ImproperlyConfigured(
            f"The environment variable {name} is malformed: {error}"
        ) from error


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _strict_bool(name, default):
    """Read a boolean, refusing anything that is not plainly yes or no."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ValueError(f"{raw!r} is not one of {sorted(_TRUE | _FALSE)}")
    return raw in _TRUE


def _rate(name, default):
    """Read a request rate such as 30/m, refusing one the limiter cannot read."""
    raw = env.str(name, default=default)
    parse_rate(raw)
    return raw


def _database(name, default):
    """Read a database URL, refusing schemes Django has no backend for."""
    config = env.db_url(name, default=default)
    if not config.get("ENGINE", "").startswith("django.db.backends."):
        raise ValueError("use postgres://, sqlite:/// or another Django backend")
    return config


DEBUG = _read("DEBUG", _strict_bool, False)

SECRET_KEY = _read("SECRET_KEY", env.str, "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see .env.example)."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "insecure-development-key-never-used-when-debug-is-off"  # noqa: S105 # nosec B105
SECRET_KEY_FALLBACKS = _read("SECRET_KEY_FALLBACKS", env.list, [])

ALLOWED_HOSTS = _read(
    "ALLOWED_HOSTS", env.list, ["127.0.0.1", "localhost"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = _read("CSRF_TRUSTED_ORIGINS", env.list, [])

# Absolute links in emails (unsubscribe links) are built from this, never from
# the request's Host header, which a client controls.
SITE_URL = _read("SITE_URL", env.str, "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "salesinsight.apps.SalesInsightAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "import_export",
    "axes",
    "accounts",
    "contacts",
    "compliance",
    "unsubscribes",
    "exports",
    "salesforce_sync",
    "overview",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "salesinsight.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last: it reads the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salesinsight.urls"
WSGI_APPLICATION = "salesinsight.wsgi.application"

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
                "django.template.context_processors.i18n",
                "accounts.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": _read(
        "DATABASE_URL", _database, f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One Redis serves as Celery broker, result backend and the shared cache (rate
# limits and login lockouts must be shared between processes).
REDIS_URL = _read("REDIS_URL", env.str, "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without Redis there is no worker: tasks run in-process, as a laptop expects.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker died (kill -9, a lost machine) is handed to another
# worker this many seconds after delivery: late acknowledgement keeps its
# message in Redis until then. Retries back off well inside this window, so
# Redis never redelivers a task that is still waiting out its own backoff.
_VISIBILITY_TIMEOUT = _read("CELERY_VISIBILITY_TIMEOUT", env.int, 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    # Look for such abandoned messages every few seconds, not every 100 s.
    "unacked_restore_interval": max(1, min(10, _VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contacts:people"
LOGOUT_REDIRECT_URL = "login"

# Lock out by username and client together; the client address is the socket's,
# never a header a client can forge, unless a trusted proxy is declared.
AXES_FAILURE_LIMIT = _read("AXES_FAILURE_LIMIT", env.int, 5)
AXES_COOLOFF_TIME = _read("AXES_COOLOFF_HOURS", env.float, 1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Axes would otherwise log each failed username: personal data in the logs.
AXES_VERBOSE = False
# Attempts are counted where every process sees them: Redis when there is one,
# the database otherwise (a process-local cache would forget between workers).
AXES_HANDLER = (
    "axes.handlers.cache.AxesCacheHandler"
    if REDIS_URL
    else "axes.handlers.database.AxesDatabaseHandler"
)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language of the unsubscribe footer in every email. A recipient's own
# language is unknown (the browser tells it only once they follow the link), so
# the footer follows the language the team writes its emails in.
EMAIL_LANGUAGE = _read("EMAIL_LANGUAGE", env.str, "en")
if EMAIL_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        "The environment variable EMAIL_LANGUAGE must be one of "
        f"{', '.join(dict(LANGUAGES))}."
    )

TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = _read("STATIC_ROOT", env.path, BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded evidence (proof of consent) is personal data: it lives outside any
# public URL and is served only through views that check permissions.
MEDIA_ROOT = _read("MEDIA_ROOT", env.path, BASE_DIR / "var" / "private")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Room for a bulk selection one past its limit (contacts.selection.MAX_IDS,
# 1,000 ids) and its form's fields, so that the selection's own check can say
# why it is refused; Django's cap answers a bare 400 beyond this.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1100
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = _read("MAX_UPLOAD_BYTES", env.int, 20 * 1024 * 1024)


def _retention_months(name, default):
    """Read {"permission_type": months, ...}: whole months above zero."""
    value = env.json(name, default=default)
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and type(months) is int and months > 0
        for key, months in value.items()
    ):
        raise ValueError('expected JSON like {"legitimate_interest": 24}')
    return value


# Storage limitation: per Permission type, the months without activity after
# which a contact is flagged for review ("Needs review" on the People list).
# Types left out are never flagged: a contract or a legal obligation sets its
# own retention period. contacts.retention says what counts as activity.
RETENTION_REVIEW_MONTHS = _read(
    "RETENTION_REVIEW_MONTHS",
    _retention_months,
    {"not_set": 6, "consent": 24, "legitimate_interest": 24, "other": 24},
)

# A bulk action, import or import preview over more contacts (or file rows)
# than this runs as a Celery task with a progress bar; smaller ones finish
# inside the request.
BULK_TASK_THRESHOLD = _read("BULK_TASK_THRESHOLD", env.int, 5000)
# A bulk task that lost its database waits this long before its first retry,
# doubling each time.
BULK_RETRY_SECONDS = _read("BULK_RETRY_SECONDS", env.float, 5.0)
# Queue again the large jobs whose task message Redis lost or never took.
CELERY_BEAT_SCHEDULE["bulk-jobs-sweep"] = {
    "task": "contacts.tasks.bulk_jobs_sweep",
    "schedule": 5 * 60,
}

# A bulk export of all matching contacts on PostgreSQL runs its COPY on this
# many database connections at once, each over its own ranges of ids: rendering
# the cells takes PostgreSQL about twice as long as copying the raw columns, and
# a second connection wins back most of it on a machine with spare cores. Each
# running export holds this many connections; 1 turns the split off.
EXPORT_COPY_CONNECTIONS = _read("EXPORT_COPY_CONNECTIONS", env.int, 2)
if EXPORT_COPY_CONNECTIONS < 1:
    raise ImproperlyConfigured("EXPORT_COPY_CONNECTIONS must be 1 or more")

EMAIL_BACKEND = _read(
    "EMAIL_BACKEND", env.str, "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = _read("EMAIL_HOST", env.str, "localhost")
EMAIL_PORT = _read("EMAIL_PORT", env.int, 25)
EMAIL_HOST_USER = _read("EMAIL_HOST_USER", env.str, "")
EMAIL_HOST_PASSWORD = _read("EMAIL_HOST_PASSWORD", env.str, "")
EMAIL_USE_TLS = _read("EMAIL_USE_TLS", _strict_bool, False)
EMAIL_TIMEOUT = _read("EMAIL_TIMEOUT", env.int, 10)
DEFAULT_FROM_EMAIL = _read("DEFAULT_FROM_EMAIL", env.str, "sales@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The mailto: half of List-Unsubscribe; empty leaves only the one-click URL.
UNSUBSCRIBE_MAILTO = _read("UNSUBSCRIBE_MAILTO", env.str, "")
# Refuse to email contacts whose Permission type is "Not set".
SEND_REQUIRES_PERMISSION_TYPE = _read(
    "SEND_REQUIRES_PERMISSION_TYPE", _strict_bool, True
)
# Requests per client address to the public unsubscribe pages, such as "30/m"
# or "1000/5m" (unsubscribes/ratelimit.py), counted in the shared cache: Redis
# when REDIS_URL is set.
UNSUBSCRIBE_RATE_LIMIT = _read("UNSUBSCRIBE_RATE_LIMIT", _rate, "30/m")

# The Compliance overview's figures are recomputed this often (a full count of
# the contact table, so not on every page view).
OVERVIEW_REFRESH_MINUTES = _read("OVERVIEW_REFRESH_MINUTES", env.int, 10)
if OVERVIEW_REFRESH_MINUTES < 1:
    raise ImproperlyConfigured(
        "The environment variable OVERVIEW_REFRESH_MINUTES must be 1 or more."
    )
CELERY_BEAT_SCHEDULE["overview-refresh"] = {
    "task": "overview.tasks.summary_refresh",
    "schedule": OVERVIEW_REFRESH_MINUTES * 60,
}

# Salesforce sync stays off until credentials are given.
SALESFORCE_INSTANCE_URL = _read("SALESFORCE_INSTANCE_URL", env.str, "")
SALESFORCE_LOGIN_URL = _read(
    "SALESFORCE_LOGIN_URL", env.str, "https://login.salesforce.com"
)
SALESFORCE_API_VERSION = _read("SALESFORCE_API_VERSION", env.str, "62.0")
SALESFORCE_USERNAME = _read("SALESFORCE_USERNAME", env.str, "")
SALESFORCE_PASSWORD = _read("SALESFORCE_PASSWORD", env.str, "")
SALESFORCE_SECURITY_TOKEN = _read("SALESFORCE_SECURITY_TOKEN", env.str, "")
SALESFORCE_CLIENT_ID = _read("SALESFORCE_CLIENT_ID", env.str, "")
SALESFORCE_CLIENT_SECRET = _read("SALESFORCE_CLIENT_SECRET", env.str, "")
SALESFORCE_PRIVATE_KEY_FILE = _read("SALESFORCE_PRIVATE_KEY_FILE", env.str, "")
SALESFORCE_OPT_OUT_FIELD = _read(
    "SALESFORCE_OPT_OUT_FIELD", env.str, "HasOptedOutOfEmail"
)
SALESFORCE_SYNC_MINUTES = _read("SALESFORCE_SYNC_MINUTES", env.int, 15)
SALESFORCE_TIMEOUT_SECONDS = _read("SALESFORCE_TIMEOUT_SECONDS", env.float, 30.0)
SALESFORCE_BULK_THRESHOLD = _read("SALESFORCE_BULK_THRESHOLD", env.int, 2000)
SALESFORCE_CREATE_UNKNOWN_CONTACTS = _read(
    "SALESFORCE_CREATE_UNKNOWN_CONTACTS", _strict_bool, False
)
SALESFORCE_CA_BUNDLE = _read("SALESFORCE_CA_BUNDLE", env.str, "")
# Each request is tried this many times on 5xx, timeouts and resets, backing
# off exponentially from the base; a run that still fails is retried by Celery
# from SALESFORCE_TASK_RETRY_SECONDS, capped well under the visibility timeout.
SALESFORCE_RETRY_ATTEMPTS = _read("SALESFORCE_RETRY_ATTEMPTS", env.int, 3)
SALESFORCE_RETRY_BASE_SECONDS = _read("SALESFORCE_RETRY_BASE_SECONDS", env.float, 1.0)
SALESFORCE_TASK_RETRY_SECONDS = _read("SALESFORCE_TASK_RETRY_SECONDS", env.int, 60)
# After 403 REQUEST_LIMIT_EXCEEDED nothing talks to Salesforce for this long.
SALESFORCE_LIMIT_PAUSE_MINUTES = _read("SALESFORCE_LIMIT_PAUSE_MINUTES", env.int, 60)
CELERY_BEAT_SCHEDULE["salesforce-sync"] = {
    "task": "salesforce_sync.sync",
    "schedule": SALESFORCE_SYNC_MINUTES * 60,
}
# The sweep pushes what the on-commit relay could not queue (Redis was down).
CELERY_BEAT_SCHEDULE["salesforce-outbox-sweep"] = {
    "task": "salesforce_sync.relay_outbox",
    "schedule": 60,
}

# Security headers. Everything below is on whenever DEBUG is off; a deployment
# behind a TLS-terminating proxy declares it with SECURE_PROXY_SSL_HEADER.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = _read("SESSION_COOKIE_AGE", env.int, 60 * 60 * 12)
if not DEBUG:
    SECURE_SSL_REDIRECT = _read("SECURE_SSL_REDIRECT", _strict_bool, True)
    SECURE_HSTS_SECONDS = _read("SECURE_HSTS_SECONDS", env.int, 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _read(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", _strict_bool, True
    )
    SECURE_HSTS_PRELOAD = _read("SECURE_HSTS_PRELOAD", _strict_bool, True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if _read("SECURE_PROXY_SSL_HEADER", _strict_bool, False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A strict policy: no inline script or style anywhere, so an injected payload
# cannot run even if escaping were ever missed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# One line per event, module loggers, and no personal data in any message:
# loggers in this project log ids and counts only.
LOG_LEVEL = _read("LOG_LEVEL", env.str, "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "redact_unsubscribe_tokens": {
            "()": "unsubscribes.logfilters.RedactUnsubscribeTokens",
        },
        "redact_query_strings": {
            "()": "salesinsight.logfilters.RedactQueryStrings",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django logs the full request line of every 4xx, and unsubscribe
        # tokens live in paths; keep those out of the logs, and blank the
        # token in the server errors that are still logged.
        "django.request": {
            "level": "ERROR",
            "filters": ["redact_unsubscribe_tokens"],
        },
        "django.server": {
            "level": "ERROR",
            "filters": ["redact_unsubscribe_tokens"],
        },
        # Logger filters apply to the logger they sit on, not its children:
        # this is the logger that names each request's URL.
        "urllib3.connectionpool": {"filters": ["redact_query_strings"]},
        # Axes reports every login at INFO; failures are what matter here.
        "axes": {"level": "WARNING"},
    },
}
